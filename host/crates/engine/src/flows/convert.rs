//! Plugin output (WIT records) → Visma request bodies. Plain field copies plus the two
//! things the ERP needs that the plugin does not say: VAT codes for VAT categories, and
//! ex-VAT amounts when the plugin produced a VAT-inclusive document.

use super::canonical::{digits_of, from_wit_decimal};
use crate::error::JobError;
use chrono::{DateTime, NaiveDate, Utc};
use ledgerlink_core::money::minor_to_decimal;
use ledgerlink_runtime::types as wit;
use ledgerlink_visma::dto::{
    AddressUpdate, ContactUpdate, CreditNoteLineUpdate, CreditNoteUpdate, CustomerStatus,
    CustomerUpdate, InvoiceLineUpdate, InvoiceUpdate, LineOperation,
};
use rust_decimal::Decimal;
use std::collections::HashMap;

pub type VatCodes = HashMap<String, (String, Decimal)>;

fn opt(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

pub fn date(s: &str) -> Option<DateTime<Utc>> {
    if s.trim().is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

pub fn address(a: &wit::VismaAddress) -> AddressUpdate {
    AddressUpdate {
        address_line1: opt(&a.line1),
        address_line2: opt(&a.line2),
        address_line3: opt(&a.line3),
        postal_code: opt(&a.postal_code),
        city: opt(&a.city),
        country_id: opt(&a.country_id),
        county: a.county_id.clone(),
    }
}

pub fn contact(c: &wit::VismaContact) -> ContactUpdate {
    ContactUpdate {
        name: opt(&c.name),
        attention: opt(&c.attention),
        email: opt(&c.email),
        phone1: opt(&c.phone),
        ..Default::default()
    }
}

pub fn customer(c: &wit::VismaCustomer) -> CustomerUpdate {
    let status = match c.status.to_ascii_lowercase().as_str() {
        "onhold" | "on-hold" => Some(CustomerStatus::OnHold),
        "inactive" => Some(CustomerStatus::Inactive),
        "onetime" | "one-time" => Some(CustomerStatus::OneTime),
        _ => Some(CustomerStatus::Active),
    };
    CustomerUpdate {
        number: c.number.clone(),
        name: opt(&c.name),
        status,
        currency_id: opt(&c.currency_id),
        customer_class_id: c.customer_class_id.clone(),
        credit_terms_id: c.credit_terms_id.clone(),
        vat_registration_id: c.vat_registration_id.clone(),
        corporate_id: c.corporate_id.clone(),
        vat_zone_id: c.vat_zone_id.clone(),
        note: opt(&c.note),
        main_address: Some(address(&c.main_address)),
        main_contact: Some(contact(&c.main_contact)),
        invoice_address: c.invoice_address.as_ref().map(address),
        delivery_address: c.delivery_address.as_ref().map(address),
        price_class_id: c.price_class_id.clone(),
        ..Default::default()
    }
}

/// One line's Visma fields, ex VAT.
struct Line {
    inventory_number: Option<String>,
    description: Option<String>,
    quantity: Decimal,
    unit_price: Decimal,
    discount: Decimal,
    amount: Decimal,
    account: Option<String>,
    vat_code: Option<String>,
    uom: Option<String>,
    note: Option<String>,
}

fn line(
    l: &wit::DocumentLine,
    i: usize,
    vat_inclusive: bool,
    digits: u32,
    vat: &VatCodes,
) -> Result<Line, JobError> {
    let path = format!("lines[{i}]");
    let (vat_code, rate) = match vat.get(&l.vat_category_id) {
        Some((code, rate)) => (Some(code.clone()), *rate),
        None if l.vat_category_id.trim().is_empty() => (None, Decimal::ZERO),
        None => {
            return Err(JobError::permanent(
                "missing_mapping",
                format!(
                    "VAT category {:?} does not exist in this Visma company",
                    l.vat_category_id
                ),
            )
            .at(format!("{path}.vat-category-id")));
        }
    };
    let quantity = from_wit_decimal(&l.quantity);
    let mut unit_price = from_wit_decimal(&l.unit_price);
    let (mut discount, mut amount) = (l.discount_amount, l.line_amount);
    if vat_inclusive && !rate.is_zero() {
        // Visma documents are ex VAT: each amount loses the VAT it contains, rounded per line
        // exactly as the SDK's `tax::net_of` does, so the plugin's VAT summary (and its
        // rounding line) predicts Visma's total to the cent.
        let factor = Decimal::ONE + rate / Decimal::ONE_HUNDRED;
        unit_price = (unit_price / factor)
            .round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        discount = net_of(discount, rate);
        amount = net_of(amount, rate);
    }
    let discount = minor_to_decimal(discount, digits);
    let amount = minor_to_decimal(amount, digits);
    Ok(Line {
        inventory_number: l.item_number.clone().filter(|n| !n.trim().is_empty()),
        description: opt(&l.description),
        quantity,
        unit_price,
        discount,
        amount,
        account: l.account.clone(),
        vat_code,
        uom: l.uom.clone(),
        note: opt(&l.note),
    })
}

pub fn invoice(inv: &wit::CustomerInvoice, vat: &VatCodes) -> Result<InvoiceUpdate, JobError> {
    let digits = digits_of(&inv.currency_id);
    let mut lines = Vec::with_capacity(inv.lines.len());
    for (i, l) in inv.lines.iter().enumerate() {
        let l = line(l, i, inv.vat_inclusive, digits, vat)?;
        lines.push(InvoiceLineUpdate {
            operation: LineOperation::Insert,
            inventory_number: l.inventory_number,
            description: l.description,
            quantity: Some(l.quantity),
            unit_price_in_currency: Some(l.unit_price),
            manual_amount_in_currency: Some(l.amount),
            account_number: l.account,
            vat_code_id: l.vat_code,
            uom: l.uom,
            discount_amount_in_currency: (!l.discount.is_zero()).then_some(l.discount),
            manual_discount: (!l.discount.is_zero()).then_some(true),
            note: l.note,
            ..Default::default()
        });
    }
    Ok(InvoiceUpdate {
        customer_number: Some(inv.customer_number.clone()),
        document_date: date(&inv.document_date),
        document_due_date: inv.due_date.as_deref().and_then(date),
        currency_id: Some(inv.currency_id.clone()),
        exchange_rate: inv.exchange_rate.as_ref().map(from_wit_decimal),
        credit_terms_id: inv.credit_terms_id.clone(),
        payment_method_id: inv.payment_method_id.clone(),
        external_reference: Some(inv.external_reference.clone()),
        customer_ref_number: opt(&inv.customer_ref_number),
        invoice_text: opt(&inv.description),
        note: opt(&inv.note),
        branch_number: inv.branch_number.clone(),
        billing_address: inv.invoice_address.as_ref().map(address),
        invoice_contact: inv.invoice_contact.as_ref().map(contact),
        invoice_lines: lines,
        ..Default::default()
    })
}

/// A mapped sales order → a SalesOrders v3 order, created on hold (the flow opens it once
/// its totals are verified). Freight lines become the order's `freight`; every other line
/// needs an item (the plugin names a charge item for handling, fees and rounding). The v3
/// service computes each line as `round(quantity × unitPrice) − discount`, so the unit price
/// is the one that gives the mapped line amount; a negative non-item line (a rounding of
/// -0.01) is posted as a `Receipt` of its absolute amount.
pub fn sales_order(
    so: &wit::SalesOrder,
    vat: &VatCodes,
) -> Result<ledgerlink_visma::dto::NewSalesOrder, JobError> {
    use ledgerlink_visma::dto::{
        Freight, NewOrderLine, NewSalesOrder, OrderCustomer, PaymentSettings,
    };
    let digits = digits_of(&so.currency_id);
    let mut lines = Vec::with_capacity(so.lines.len());
    let mut freight: Option<Freight> = None;
    for (i, l) in so.lines.iter().enumerate() {
        let category = opt(&l.vat_category_id);
        let c = line(l, i, so.vat_inclusive, digits, vat)?;
        if l.kind == wit::LineKind::Freight && l.item_number.is_none() {
            let f = freight.get_or_insert_with(|| Freight {
                tax_category_id: category.clone(),
                ..Default::default()
            });
            f.cost += c.amount;
            continue;
        }
        let Some(item) = c.inventory_number else {
            return Err(JobError::permanent(
                "missing_mapping",
                format!(
                    "sales order line {i} ({}) has no item; a SalesOrders v3 line needs one (set the plugin's charge-item)",
                    l.description
                ),
            )
            .at(format!("lines[{i}].item-number")));
        };
        let negative = c.amount < Decimal::ZERO;
        let (quantity, amount, discount) = if negative {
            (c.quantity.abs(), -c.amount, Decimal::ZERO)
        } else {
            (c.quantity, c.amount, c.discount)
        };
        let gross = amount + discount;
        let listed = c.unit_price.abs();
        let unit_price = if quantity.is_zero() || (listed * quantity).round_dp(digits) == gross {
            listed
        } else {
            (gross / quantity).round_dp(6)
        };
        lines.push(NewOrderLine {
            inventory_id: item,
            quantity,
            unit_price: Some(unit_price),
            has_manual_price: Some(true),
            discount_amount: (!discount.is_zero()).then_some(discount),
            has_manual_discount: (!discount.is_zero()).then_some(true),
            tax_category_id: category,
            warehouse_id: l.warehouse_id.clone(),
            unit_of_measure: c.uom,
            description: c.description,
            note: c.note,
            operation: Some(if negative { "Receipt" } else { "Issue" }.to_owned()),
            ..Default::default()
        });
    }
    Ok(NewSalesOrder {
        order_type: so.order_type.clone(),
        customer: OrderCustomer {
            id: so.customer_number.clone(),
            order: opt(&so.customer_order),
            terms_id: so.credit_terms_id.clone(),
            ..Default::default()
        },
        date: date(&so.date).map(|d| d.date_naive()),
        request_on: so
            .request_date
            .as_deref()
            .and_then(date)
            .map(|d| d.date_naive()),
        currency_id: Some(so.currency_id.clone()),
        description: opt(&so.description),
        note: opt(&so.note),
        status: Some("Hold".to_owned()),
        branch_id: so.branch_number.clone(),
        freight,
        payment_settings: so.payment_method_id.clone().map(|m| PaymentSettings {
            payment_method_id: Some(m),
            ..Default::default()
        }),
        order_lines: lines,
        ..Default::default()
    })
}

pub fn credit_note(
    cn: &wit::CreditNote,
    vat: &VatCodes,
    apply_amount: Option<Decimal>,
) -> Result<CreditNoteUpdate, JobError> {
    let digits = digits_of(&cn.currency_id);
    let mut lines = Vec::with_capacity(cn.lines.len());
    for (i, l) in cn.lines.iter().enumerate() {
        let l = line(l, i, cn.vat_inclusive, digits, vat)?;
        lines.push(CreditNoteLineUpdate {
            operation: LineOperation::Insert,
            inventory_number: l.inventory_number,
            description: l.description,
            quantity: Some(l.quantity),
            unit_price_in_currency: Some(l.unit_price),
            manual_amount_in_currency: Some(l.amount),
            account_number: l.account,
            vat_code_id: l.vat_code,
            uom: l.uom,
            discount_amount_in_currency: (!l.discount.is_zero()).then_some(l.discount),
            manual_discount: (!l.discount.is_zero()).then_some(true),
            note: l.note,
            ..Default::default()
        });
    }
    let application_lines = match apply_amount {
        Some(a) if !cn.original_invoice_number.is_empty() => {
            vec![ledgerlink_visma::dto::ApplicationLineUpdate::to_invoice(
                cn.original_invoice_number.clone(),
                a,
            )]
        }
        _ => Vec::new(),
    };
    Ok(CreditNoteUpdate {
        customer_number: Some(cn.customer_number.clone()),
        document_date: date(&cn.document_date),
        currency_id: Some(cn.currency_id.clone()),
        external_reference: Some(cn.external_reference.clone()),
        customer_ref_number: opt(&cn.customer_ref_number),
        invoice_text: opt(&cn.description),
        note: opt(&cn.note),
        branch_number: cn.branch_number.clone(),
        lines,
        application_lines,
        ..Default::default()
    })
}

/// A gross amount (minor units) without the VAT it contains at `rate` percent: the VAT is
/// rounded half away from zero, the same formula as `ledgerlink_sdk::tax::net_of`.
pub fn net_of(gross: i64, rate: Decimal) -> i64 {
    let vat = (Decimal::from(gross) * (rate / (Decimal::ONE_HUNDRED + rate)))
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    gross - i64::try_from(vat).unwrap_or(0)
}

/// Minor units of a Visma amount, for comparing with what BigCommerce says.
pub fn to_minor(d: Decimal, currency: &str) -> Option<i64> {
    ledgerlink_core::money::decimal_to_minor(d, digits_of(currency))
}
