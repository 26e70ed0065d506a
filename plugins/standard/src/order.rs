//! `map-order`: a BigCommerce order (or one shipment of it) → a Visma customer invoice or
//! sales order.

use crate::common::*;
use ledgerlink_sdk::tax::allocate;
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Decimal, Errors, Host, LogLevel, Settings, money};

/// What the document is made of, before it becomes an invoice or a sales order.
struct Body {
    customer_number: String,
    lines: Vec<DocumentLine>,
    expected_total: Minor,
    expected_vat: Minor,
    exchange_rate: Option<ledgerlink_sdk::types::Decimal>,
    payment_method: Option<String>,
    credit_terms: Option<String>,
    external_reference: String,
    inclusive: bool,
}

pub fn map_order(
    host: &impl Host,
    ctx: &Context,
    order: &Order,
    shipment: Option<&Shipment>,
) -> Result<SalesDocument, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();
    let doc_type = settings.choice(
        "document-type",
        &["invoice", "sales-order"],
        "invoice",
        &mut errors,
    );
    let body = body(host, ctx, &settings, order, shipment, &mut errors);
    let billing = visma_address(&order.billing_address);
    let shipping = order.shipping_addresses.first();
    let delivery_address = shipping
        .map(|s| visma_address(&s.address))
        .or_else(|| Some(billing.clone()));
    let delivery_contact = shipping.map(|s| visma_contact(&s.address));
    let description = match shipment {
        Some(s) => format!("BigCommerce order {} shipment {}", order.id, s.id),
        None => format!("BigCommerce order {}", order.id),
    };
    let po = order.po_number.clone().filter(|p| !p.trim().is_empty());
    let mut body = body;
    if doc_type == "sales-order" {
        charge_items(&settings, &mut body.lines, &mut errors);
    }
    let document = match doc_type {
        "sales-order" => SalesDocument::SalesOrder(SalesOrder {
            order_type: settings.get_or("order-type", "SO").to_owned(),
            customer_number: body.customer_number,
            date: date_of(&order.created_at),
            request_date: None,
            currency_id: order.currency.clone(),
            exchange_rate: body.exchange_rate,
            branch_number: ctx.branch.clone(),
            external_reference: body.external_reference,
            customer_order: po.clone().unwrap_or_else(|| order.id.to_string()),
            customer_ref_number: order.id.to_string(),
            description,
            vat_inclusive: body.inclusive,
            payment_method_id: body.payment_method,
            credit_terms_id: body.credit_terms,
            ship_via: shipping.and_then(|s| host.lookup("ship-via", &s.shipping_method)),
            preferred_warehouse: settings.get("default-warehouse").map(str::to_owned),
            billing_address: Some(billing),
            billing_contact: Some(visma_contact(&order.billing_address)),
            shipping_address: delivery_address,
            shipping_contact: delivery_contact,
            lines: body.lines,
            expected_total: body.expected_total,
            expected_vat: body.expected_vat,
            note: order.customer_message.clone(),
        }),
        _ => SalesDocument::Invoice(CustomerInvoice {
            customer_number: body.customer_number,
            document_date: date_of(
                shipment
                    .map(|s| s.created_at.as_str())
                    .unwrap_or(&order.created_at),
            ),
            due_date: None,
            currency_id: order.currency.clone(),
            exchange_rate: body.exchange_rate,
            branch_number: ctx.branch.clone(),
            external_reference: body.external_reference,
            customer_ref_number: po.unwrap_or_else(|| order.id.to_string()),
            description,
            vat_inclusive: body.inclusive,
            payment_method_id: body.payment_method,
            credit_terms_id: body.credit_terms,
            invoice_address: Some(billing),
            invoice_contact: Some(visma_contact(&order.billing_address)),
            delivery_address,
            lines: body.lines,
            expected_total: body.expected_total,
            expected_vat: body.expected_vat,
            note: order.customer_message.clone(),
        }),
    };
    errors.finish(document)
}

fn body(
    host: &impl Host,
    ctx: &Context,
    settings: &Settings,
    order: &Order,
    shipment: Option<&Shipment>,
    errors: &mut Errors,
) -> Body {
    let inclusive = settings.flag("invoice-vat-inclusive", order.prices_include_tax, errors);
    let customer_number = customer_number(settings, order, errors);
    let payment_method = payment_method(host, settings, order, errors);
    let credit_terms = order
        .customer
        .customer_group_id
        .and_then(|g| host.lookup("credit-terms", &g.to_string()))
        .or_else(|| settings.get("default-credit-terms").map(str::to_owned));
    let exchange_rate = exchange_rate(host, ctx, order);

    let shipped = shipment.map(|s| shipped_quantities(order, s, errors));
    let mut doc = DocLines::new(inclusive);
    item_lines(host, settings, order, shipped.as_deref(), &mut doc, errors);
    let charges = match shipment {
        None => true,
        Some(s) => {
            let mode = settings.choice("shipment-charges", &["first", "none"], "first", errors);
            mode == "first" && first_shipment(order, shipped.as_deref().unwrap_or(&[]), s)
        }
    };
    if charges {
        charge_lines(host, settings, order, &mut doc, errors);
    }
    // A document for the whole order must come to the order's total; one for part of it (a
    // shipment) to what its own lines come to.
    let whole = shipped.as_deref().is_none_or(|q| covers_order(order, q)) && charges;
    let target = whole.then_some(order.total_inc_tax);
    let tol = tolerance(settings, doc.lines.len(), errors);
    let (expected_total, expected_vat) =
        doc.balance(host, settings, &order.currency, target, tol, errors);
    let external_reference = match shipment {
        Some(s) => format!("bc:{}:order:{}:shipment:{}", ctx.store_hash, order.id, s.id),
        None => format!("bc:{}:order:{}", ctx.store_hash, order.id),
    };
    Body {
        customer_number,
        lines: doc.lines,
        expected_total,
        expected_vat,
        exchange_rate,
        payment_method,
        credit_terms,
        external_reference,
        inclusive,
    }
}

/// SalesOrders v3 lines all need an item: handling, gift wrapping, fees, discounts and the
/// rounding line go on the entity's `charge-item` (a non-stock charge item). Freight stays an
/// item-less line; the host posts it as the order's freight.
fn charge_items(settings: &Settings, lines: &mut [DocumentLine], errors: &mut Errors) {
    if !lines
        .iter()
        .any(|l| l.item_number.is_none() && l.kind != LineKind::Freight)
    {
        return;
    }
    let Some(item) = settings
        .require(
            "charge-item",
            "for sales-order lines without an item",
            errors,
        )
        .map(str::to_owned)
    else {
        return;
    };
    for l in lines
        .iter_mut()
        .filter(|l| l.item_number.is_none() && l.kind != LineKind::Freight)
    {
        l.item_number = Some(item.clone());
    }
}

pub(crate) fn customer_number(settings: &Settings, order: &Order, errors: &mut Errors) -> String {
    if let Some(n) = order
        .customer
        .visma_customer_number
        .as_deref()
        .filter(|n| !n.trim().is_empty())
    {
        return n.to_owned();
    }
    if order.customer.bc_customer_id == 0
        && let Some(n) = settings.get("guest-customer-number")
    {
        return n.to_owned();
    }
    errors.push(
        "customer.visma-customer-number",
        "missing-customer-number",
        if order.customer.bc_customer_id == 0 {
            "guest order without a Visma customer: create one with map-customer first or set guest-customer-number"
                .to_owned()
        } else {
            format!(
                "BigCommerce customer {} has no Visma customer yet: create it with map-customer first",
                order.customer.bc_customer_id
            )
        },
    );
    String::new()
}

fn payment_method(
    host: &impl Host,
    settings: &Settings,
    order: &Order,
    errors: &mut Errors,
) -> Option<String> {
    let method = order.payment_method.trim();
    if method.is_empty() {
        return settings.get("default-payment-method").map(str::to_owned);
    }
    if let Some(v) = host.lookup("payment-method", method) {
        return Some(v);
    }
    if let Some(v) = settings.get("default-payment-method") {
        return Some(v.to_owned());
    }
    errors.push(
        "payment-method",
        "missing-payment-method-mapping",
        format!("no Visma payment method for {method:?}: add it to mapping table payment-method or set default-payment-method"),
    );
    None
}

/// BigCommerce gives the rate store default → transactional (1 SEK = 0.087 EUR); Visma's
/// document rate converts the document currency into the base currency (1 EUR = 11.49 SEK),
/// so it is the inverse, known when the store's default currency is the entity's base.
pub(crate) fn exchange_rate(
    host: &impl Host,
    ctx: &Context,
    order: &Order,
) -> Option<ledgerlink_sdk::types::Decimal> {
    if order.currency.eq_ignore_ascii_case(&ctx.base_currency) {
        return None;
    }
    if order
        .default_currency
        .eq_ignore_ascii_case(&ctx.base_currency)
        && dec(&order.exchange_rate) > Decimal::ZERO
    {
        let rate = (Decimal::ONE / dec(&order.exchange_rate)).round_dp(8);
        return Some(wit(rate));
    }
    host.log(
        LogLevel::Warn,
        &format!(
            "order {} is in {} from store currency {}, not base currency {}: Visma's own rate applies",
            order.id, order.currency, order.default_currency, ctx.base_currency
        ),
    );
    None
}

/// The shipped quantity of each order line (same order as `order.lines`).
fn shipped_quantities(order: &Order, shipment: &Shipment, errors: &mut Errors) -> Vec<Decimal> {
    let mut q = vec![Decimal::ZERO; order.lines.len()];
    for (i, item) in shipment.items.iter().enumerate() {
        match order.lines.iter().position(|l| l.id == item.order_line_id) {
            Some(at) => q[at] += dec(&item.quantity),
            None => errors.push(
                format!("shipment.items[{i}].order-line-id"),
                "unknown-order-line",
                format!(
                    "shipment {} ships order line {} which order {} does not have",
                    shipment.id, item.order_line_id, order.id
                ),
            ),
        }
    }
    for (at, line) in order.lines.iter().enumerate() {
        if q[at] > dec(&line.quantity) {
            errors.push(
                format!("shipment.items[{at}].quantity"),
                "over-shipped",
                format!(
                    "shipment {} ships {} of line {} which has {}",
                    shipment.id,
                    q[at],
                    line.id,
                    dec(&line.quantity)
                ),
            );
        }
    }
    q
}

/// Nothing of the order had shipped before this shipment (by the order's shipped quantities
/// as fetched with the shipment), so the order's charges go on it.
fn first_shipment(order: &Order, shipped: &[Decimal], _s: &Shipment) -> bool {
    order
        .lines
        .iter()
        .zip(shipped)
        .all(|(l, q)| dec(&l.quantity_shipped) - *q <= Decimal::ZERO)
}

fn covers_order(order: &Order, shipped: &[Decimal]) -> bool {
    order
        .lines
        .iter()
        .zip(shipped)
        .all(|(l, q)| l.parent_line_id.is_some() || *q == dec(&l.quantity))
}

/// Item lines, with BigCommerce line discounts and any order-level discount not already on
/// the lines, as line discounts or separate discount lines per VAT category.
fn item_lines(
    host: &impl Host,
    settings: &Settings,
    order: &Order,
    shipped: Option<&[Decimal]>,
    doc: &mut DocLines,
    errors: &mut Errors,
) {
    let separate = settings.choice("discount-mode", &["line", "separate-line"], "line", errors)
        == "separate-line";
    let store_inc = order.prices_include_tax;
    let eligible: Vec<usize> = (0..order.lines.len())
        .filter(|&i| is_eligible(&order.lines[i]))
        .collect();
    let (per_line, spread) = discounts_by_line(order);
    let warehouse = settings.get("default-warehouse").map(str::to_owned);
    let mut discount_groups: Vec<(String, Decimal, Minor, Vec<String>)> = Vec::new();

    for &i in &eligible {
        let line = &order.lines[i];
        let qty = dec(&line.quantity);
        let part = shipped.map(|s| s[i]).unwrap_or(qty);
        if part.is_zero() {
            continue;
        }
        let rate = rate_of(line.tax_rate.as_ref(), line.total_ex_tax, line.total_tax);
        let category = vat_category(
            host,
            line.tax_class_id,
            rate,
            || format!("lines[{i}].tax-class-id"),
            errors,
        );
        let number = item_number(host, &line.sku, || format!("lines[{i}].sku"), errors);
        let (unit, gross) = if doc.inclusive {
            (line.unit_price_inc_tax, line.total_inc_tax)
        } else {
            (line.unit_price_ex_tax, line.total_ex_tax)
        };
        // Units shipped before this shipment (by the order's shipped quantities fetched with it).
        let before = match shipped {
            Some(_) => (dec(&line.quantity_shipped) - part).max(Decimal::ZERO),
            None => Decimal::ZERO,
        };
        let discount_store = per_line[i];
        let discount = share_of_range(
            on_basis(discount_store, store_inc, doc.inclusive, rate),
            before,
            part,
            qty,
        );
        let gross = share_of_range(gross, before, part, qty);
        let mut names: Vec<String> = line
            .discounts
            .iter()
            .map(|d| d.code.clone().unwrap_or_else(|| d.name.clone()))
            .collect();
        if spread[i] != 0 {
            names.push("Order discount".into());
        }
        let (line_discount, amount) = if separate {
            (0, gross)
        } else {
            (discount, gross - discount)
        };
        if separate && discount != 0 {
            match discount_groups.iter_mut().find(|g| g.0 == category) {
                Some(g) => {
                    g.2 += discount;
                    g.3.extend(names.iter().cloned());
                }
                None => discount_groups.push((category.clone(), rate, discount, names.clone())),
            }
        }
        doc.push(
            DocumentLine {
                kind: LineKind::Item,
                item_number: number.clone(),
                description: line_description(&line.name, &line.options),
                quantity: wit(part),
                uom: number
                    .as_deref()
                    .and_then(|n| host.lookup("uom", n))
                    .or_else(|| settings.get("default-uom").map(str::to_owned)),
                unit_price: money::to_wit(unit, &order.currency),
                discount_amount: line_discount,
                line_amount: amount,
                vat_category_id: category,
                warehouse_id: warehouse.clone(),
                account: None,
                subaccount: None,
                bc_line_id: Some(line.id),
                note: if separate || names.is_empty() {
                    String::new()
                } else {
                    format!("Discount: {}", names.join(", "))
                },
            },
            rate,
        );
    }

    if !discount_groups.is_empty() {
        let account = settings
            .require(
                "discount-account",
                "for discount-mode separate-line",
                errors,
            )
            .map(str::to_owned);
        for (category, rate, amount, mut names) in discount_groups {
            names.dedup();
            let mut l = account_line(
                LineKind::Discount,
                format!("Discount {}", names.join(", ")).trim().to_owned(),
                -amount,
                &order.currency,
                category,
                account.as_deref(),
                None,
            );
            l.description = l.description.trim_end().to_owned();
            doc.push(l, rate);
        }
    }
}

/// `name (key: value, key: value)`, or just `name` without options. Built in one buffer: a
/// `format!` per option, a join and a `format!` per line cost ~36 k instructions (a tenth of
/// the guest's work) on the 20-line fixture order.
fn line_description(name: &str, options: &[(String, String)]) -> String {
    if options.is_empty() {
        return name.to_owned();
    }
    let len = options
        .iter()
        .map(|(k, v)| k.len() + v.len() + 4)
        .sum::<usize>();
    let mut text = String::with_capacity(name.len() + 3 + len);
    text.push_str(name);
    text.push_str(" (");
    for (n, (k, v)) in options.iter().enumerate() {
        if n > 0 {
            text.push_str(", ");
        }
        text.push_str(k);
        text.push_str(": ");
        text.push_str(v);
    }
    text.push(')');
    text
}

/// Shipping (freight), handling, gift wrapping and fees as account lines.
pub(crate) fn charge_lines(
    host: &impl Host,
    settings: &Settings,
    order: &Order,
    doc: &mut DocLines,
    errors: &mut Errors,
) {
    let costs: [(&Cost, LineKind, &str, &str, &str, &str); 3] = [
        (
            &order.shipping,
            LineKind::Freight,
            "shipping",
            "freight-account",
            "Shipping",
            "shipping.tax-class-id",
        ),
        (
            &order.handling,
            LineKind::Handling,
            "handling",
            "handling-account",
            "Handling",
            "handling.tax-class-id",
        ),
        (
            &order.wrapping,
            LineKind::GiftWrapping,
            "gift-wrapping",
            "gift-wrapping-account",
            "Gift wrapping",
            "wrapping.tax-class-id",
        ),
    ];
    for (cost, kind, tax_type, account_key, label, path) in costs {
        if cost.ex_tax == 0 && cost.inc_tax == 0 {
            continue;
        }
        let rate =
            charge_rate(order, tax_type).unwrap_or_else(|| rate_of(None, cost.ex_tax, cost.tax));
        let category = vat_category(host, cost.tax_class_id, rate, path, errors);
        let account = settings.require(
            account_key,
            &format!("to book {}", label.to_lowercase()),
            errors,
        );
        let amount = if doc.inclusive {
            cost.inc_tax
        } else {
            cost.ex_tax
        };
        let description = match (kind, order.shipping_addresses.first()) {
            (LineKind::Freight, Some(a)) if !a.shipping_method.is_empty() => {
                format!("Shipping: {}", a.shipping_method)
            }
            _ => label.to_owned(),
        };
        doc.push(
            account_line(
                kind,
                description,
                amount,
                &order.currency,
                category,
                account,
                None,
            ),
            rate,
        );
    }
    for (i, fee) in order.fees.iter().enumerate() {
        if fee.ex_tax == 0 && fee.inc_tax == 0 {
            continue;
        }
        let rate = rate_of(None, fee.ex_tax, fee.tax);
        let category = vat_category(
            host,
            fee.tax_class_id,
            rate,
            || format!("fees[{i}].tax-class-id"),
            errors,
        );
        let account = host
            .lookup("gl-account", &format!("fee:{}", fee.name))
            .or_else(|| {
                settings
                    .require("fee-account", "to book fees", errors)
                    .map(str::to_owned)
            });
        let amount = if doc.inclusive {
            fee.inc_tax
        } else {
            fee.ex_tax
        };
        doc.push(
            account_line(
                LineKind::Fee,
                fee.name.clone(),
                amount,
                &order.currency,
                category,
                account.as_deref(),
                Some(fee.id),
            ),
            rate,
        );
    }
}

/// Bundle children are priced in their parent; zero-quantity lines were removed from the order.
pub(crate) fn is_eligible(line: &OrderLine) -> bool {
    line.parent_line_id.is_none() && !dec(&line.quantity).is_zero()
}

/// Each line's whole discount on the store's price basis (its own discounts plus its share of
/// any order-level discount not already on the lines), and that share alone; zero for lines
/// that are not posted.
pub(crate) fn discounts_by_line(order: &Order) -> (Vec<Minor>, Vec<Minor>) {
    let eligible: Vec<usize> = (0..order.lines.len())
        .filter(|&i| is_eligible(&order.lines[i]))
        .collect();
    let own = |l: &OrderLine| l.discounts.iter().map(|d| d.amount).sum::<Minor>();
    let on_lines: Minor = eligible.iter().map(|&i| own(&order.lines[i])).sum();
    // BigCommerce's discount_amount includes what its lines already carry.
    let residual = (order.discount_amount - on_lines).max(0);
    let weights: Vec<Minor> = eligible
        .iter()
        .map(|&i| {
            if order.prices_include_tax {
                order.lines[i].total_inc_tax
            } else {
                order.lines[i].total_ex_tax
            }
        })
        .collect();
    let parts = allocate(residual, &weights);
    let mut spread = vec![0; order.lines.len()];
    for (k, &i) in eligible.iter().enumerate() {
        spread[i] = parts[k];
    }
    let total = order
        .lines
        .iter()
        .zip(&spread)
        .map(|(l, s)| if is_eligible(l) { own(l) + s } else { 0 })
        .collect();
    (total, spread)
}
