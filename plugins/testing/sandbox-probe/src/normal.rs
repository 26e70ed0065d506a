//! A small but honest mapping shared by the test guests: one document line per order line, VAT
//! category through `lookup`, errors with field paths. Enough work per call for the runtime's
//! tests and benchmark to mean something; the real mapping lives in `plugins/standard`.

use crate::ledgerlink::mapping::host::{self, LogLevel};
use crate::ledgerlink::mapping::types::*;

fn setting<'a>(ctx: &'a Context, key: &str) -> Option<&'a str> {
    ctx.settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn error(path: String, code: &str, message: String) -> MappingError {
    MappingError {
        path,
        code: code.to_string(),
        message,
    }
}

fn minor_to_decimal(amount: i64) -> Decimal {
    Decimal {
        digits: amount,
        scale: 2,
    }
}

fn address(a: &Address) -> VismaAddress {
    VismaAddress {
        line1: a.street_1.clone(),
        line2: a.street_2.clone(),
        line3: String::new(),
        postal_code: a.zip.clone(),
        city: a.city.clone(),
        country_id: a.country_iso2.clone(),
        county_id: None,
    }
}

fn contact(a: &Address) -> VismaContact {
    VismaContact {
        name: format!("{} {}", a.first_name, a.last_name),
        attention: a.company.clone(),
        email: a.email.clone(),
        phone: a.phone.clone(),
    }
}

pub fn map_order(
    ctx: &Context,
    order: &Order,
    label: &str,
) -> Result<SalesDocument, Vec<MappingError>> {
    let mut errors = Vec::new();
    let mut lines = Vec::with_capacity(order.lines.len() + 1);
    for (i, line) in order.lines.iter().enumerate() {
        if line.parent_line_id.is_some() {
            continue;
        }
        let tax_class = line.tax_class_id.unwrap_or(0).to_string();
        let vat = host::lookup("tax-class→vat-category", &tax_class);
        let Some(vat) = vat else {
            errors.push(error(
                format!("lines[{i}].tax-class-id"),
                "missing-vat-mapping",
                format!("no VAT category for tax class {tax_class}"),
            ));
            continue;
        };
        let discount: i64 = line.discounts.iter().map(|d| d.amount).sum();
        lines.push(DocumentLine {
            kind: LineKind::Item,
            item_number: Some(line.sku.clone()),
            description: line.name.clone(),
            quantity: line.quantity,
            uom: None,
            unit_price: minor_to_decimal(line.unit_price_ex_tax),
            discount_amount: discount,
            line_amount: line.total_ex_tax - discount,
            vat_category_id: vat,
            warehouse_id: None,
            account: None,
            subaccount: None,
            bc_line_id: Some(line.id),
            note: String::new(),
        });
    }
    if order.shipping.ex_tax != 0 {
        lines.push(DocumentLine {
            kind: LineKind::Freight,
            item_number: None,
            description: "Shipping".to_string(),
            quantity: Decimal {
                digits: 1,
                scale: 0,
            },
            uom: None,
            unit_price: minor_to_decimal(order.shipping.ex_tax),
            discount_amount: 0,
            line_amount: order.shipping.ex_tax,
            vat_category_id: host::lookup("tax-class→vat-category", "shipping")
                .unwrap_or_else(|| "standard".to_string()),
            warehouse_id: None,
            account: host::lookup("gl-account", "freight"),
            subaccount: None,
            bc_line_id: None,
            note: String::new(),
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    host::log(
        LogLevel::Debug,
        &format!("mapped order {} with {} lines", order.id, lines.len()),
    );
    let customer_number = order
        .customer
        .visma_customer_number
        .clone()
        .unwrap_or_else(|| "GUEST".to_string());
    // Follow the entity's posting rule like the standard plugin does, so hosts that book
    // invoices can swap to this guest too.
    if setting(ctx, "document-type") == Some("invoice") {
        return Ok(SalesDocument::Invoice(CustomerInvoice {
            customer_number,
            document_date: order.created_at.clone(),
            due_date: None,
            currency_id: order.currency.clone(),
            exchange_rate: Some(order.exchange_rate),
            branch_number: ctx.branch.clone(),
            external_reference: format!("bc:{}:order:{}", ctx.store_hash, order.id),
            customer_ref_number: order.id.to_string(),
            description: label.to_string(),
            vat_inclusive: order.prices_include_tax,
            payment_method_id: host::lookup("payment-method", &order.payment_method),
            credit_terms_id: None,
            invoice_address: Some(address(&order.billing_address)),
            invoice_contact: Some(contact(&order.billing_address)),
            delivery_address: order
                .shipping_addresses
                .first()
                .map(|s| address(&s.address)),
            lines,
            expected_total: order.total_inc_tax,
            expected_vat: order.total_tax,
            note: order.customer_message.clone(),
        }));
    }
    Ok(SalesDocument::SalesOrder(SalesOrder {
        order_type: setting(ctx, "order-type").unwrap_or("SO").to_string(),
        customer_number,
        date: order.created_at.clone(),
        request_date: None,
        currency_id: order.currency.clone(),
        exchange_rate: Some(order.exchange_rate),
        branch_number: ctx.branch.clone(),
        external_reference: format!("bc:{}:order:{}", ctx.store_hash, order.id),
        customer_order: order.po_number.clone().unwrap_or_default(),
        customer_ref_number: order.id.to_string(),
        description: label.to_string(),
        vat_inclusive: order.prices_include_tax,
        payment_method_id: host::lookup("payment-method", &order.payment_method),
        credit_terms_id: None,
        ship_via: None,
        preferred_warehouse: None,
        billing_address: Some(address(&order.billing_address)),
        billing_contact: Some(contact(&order.billing_address)),
        shipping_address: order
            .shipping_addresses
            .first()
            .map(|s| address(&s.address)),
        shipping_contact: order
            .shipping_addresses
            .first()
            .map(|s| contact(&s.address)),
        lines,
        expected_total: order.total_inc_tax,
        expected_vat: order.total_tax,
        note: order.customer_message.clone(),
    }))
}

pub fn map_customer(_ctx: &Context, order: &Order) -> Result<VismaCustomer, Vec<MappingError>> {
    let c = &order.customer;
    if c.email.is_empty() {
        return Err(vec![error(
            "customer.email".to_string(),
            "missing-email",
            "the customer has no e-mail address".to_string(),
        )]);
    }
    Ok(VismaCustomer {
        number: c.visma_customer_number.clone(),
        name: format!("{} {}", c.first_name, c.last_name),
        status: "Active".to_string(),
        main_address: address(&order.billing_address),
        main_contact: contact(&order.billing_address),
        delivery_address: None,
        invoice_address: None,
        corporate_id: None,
        vat_registration_id: None,
        currency_id: order.currency.clone(),
        credit_terms_id: None,
        customer_class_id: None,
        price_class_id: None,
        vat_zone_id: None,
        external_reference: c.email.clone(),
        note: String::new(),
    })
}

pub fn map_credit_note(
    ctx: &Context,
    refund: &Refund,
    label: &str,
) -> Result<CreditNote, Vec<MappingError>> {
    let Some(original) = &refund.original_document else {
        return Err(vec![error(
            "original-document".to_string(),
            "missing-original-invoice",
            "the refunded order has no Visma invoice".to_string(),
        )]);
    };
    Ok(CreditNote {
        customer_number: refund
            .order
            .customer
            .visma_customer_number
            .clone()
            .unwrap_or_else(|| "GUEST".to_string()),
        document_date: refund.created_at.clone(),
        currency_id: refund.currency.clone(),
        exchange_rate: None,
        branch_number: ctx.branch.clone(),
        external_reference: format!("bc:{}:refund:{}", ctx.store_hash, refund.id),
        original_invoice_number: original.number.clone(),
        customer_ref_number: refund.order.id.to_string(),
        description: label.to_string(),
        vat_inclusive: true,
        lines: vec![DocumentLine {
            kind: LineKind::Item,
            item_number: None,
            description: refund.reason.clone(),
            quantity: Decimal {
                digits: 1,
                scale: 0,
            },
            uom: None,
            unit_price: minor_to_decimal(refund.total),
            discount_amount: 0,
            line_amount: refund.total,
            vat_category_id: "standard".to_string(),
            warehouse_id: None,
            account: None,
            subaccount: None,
            bc_line_id: None,
            note: String::new(),
        }],
        expected_total: refund.total,
        expected_vat: 0,
        note: String::new(),
    })
}

pub fn map_item(_ctx: &Context, product: &Product) -> Result<InventoryItem, Vec<MappingError>> {
    if product.sku.is_empty() {
        return Err(vec![error(
            "sku".to_string(),
            "missing-sku",
            format!("product {} has no SKU", product.product_id),
        )]);
    }
    Ok(InventoryItem {
        number: product.sku.clone(),
        description: product.name.clone(),
        status: "Active".to_string(),
        item_type: "stock".to_string(),
        item_class_id: None,
        base_uom: "PCS".to_string(),
        sales_uom: "PCS".to_string(),
        purchase_uom: "PCS".to_string(),
        vat_category_id: host::lookup("tax-class→vat-category", &product.tax_class_id.to_string())
            .unwrap_or_else(|| "standard".to_string()),
        default_price: minor_to_decimal(product.price),
        currency_id: product.currency.clone(),
        cost_price: None,
        price_class_prices: Vec::new(),
        weight: product.weight,
        gtin: product.gtin.clone(),
        external_reference: format!("bc:product:{}", product.product_id),
        note: String::new(),
    })
}

pub fn map_stock(
    _ctx: &Context,
    levels: &[StockLevel],
) -> Result<Vec<BcInventoryAdjustment>, Vec<MappingError>> {
    let mut out = Vec::new();
    for level in levels {
        let Some(location) = host::lookup("warehouse→location", &level.warehouse) else {
            continue;
        };
        let location_id = location.parse().map_err(|_| {
            vec![error(
                "warehouse".to_string(),
                "bad-location",
                format!("location {location:?} is not a number"),
            )]
        })?;
        let scale = 10i64.pow(u32::from(level.available.scale));
        out.push(BcInventoryAdjustment {
            location_id,
            product_id: level.bc_product_id,
            variant_id: level.bc_variant_id,
            sku: None,
            quantity: level.available.digits / scale,
        });
    }
    Ok(out)
}
