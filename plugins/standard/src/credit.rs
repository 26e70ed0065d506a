//! `map-credit-note`: a BigCommerce refund, a cancellation or a return → a Visma credit note
//! linked to the original invoice.

use crate::common::*;
use crate::order::{charge_lines, customer_number, discounts_by_line, exchange_rate, is_eligible};
use ledgerlink_sdk::types::*;
use ledgerlink_sdk::{Decimal, Errors, Host, Settings, money};

pub fn map_credit_note(
    host: &impl Host,
    ctx: &Context,
    refund: &Refund,
) -> Result<CreditNote, Vec<MappingError>> {
    let settings = Settings::of(ctx);
    let mut errors = Errors::new();
    let order = &refund.order;
    let original = match &refund.original_document {
        Some(d) if d.document_type == "invoice" && !d.number.trim().is_empty() => d.number.clone(),
        Some(d) => {
            errors.push(
                "original-document",
                "original-not-invoiced",
                format!(
                    "order {} has {} {:?} but no invoice to credit",
                    order.id, d.document_type, d.number
                ),
            );
            String::new()
        }
        None => {
            errors.push(
                "original-document",
                "missing-original-document",
                format!("order {} has no Visma invoice yet, so there is nothing to link the credit note to", order.id),
            );
            String::new()
        }
    };
    let customer = customer_number(&settings, order, &mut errors);
    let inclusive = settings.flag(
        "invoice-vat-inclusive",
        order.prices_include_tax,
        &mut errors,
    );
    let mut doc = DocLines::new(inclusive);

    let target = match refund.kind {
        RefundKind::Cancellation => {
            cancellation_lines(host, &settings, refund, &mut doc, &mut errors);
            charge_lines(host, &settings, order, &mut doc, &mut errors);
            // A cancellation with nothing credited before reverses the whole order exactly.
            refund
                .already_credited
                .is_empty()
                .then_some(order.total_inc_tax)
        }
        RefundKind::Refund | RefundKind::Return => {
            refund_lines(host, &settings, refund, &mut doc, &mut errors);
            Some(refund.total)
        }
    };
    let tol = tolerance(&settings, doc.lines.len(), &mut errors);
    let (expected_total, expected_vat) =
        doc.balance(host, &settings, &refund.currency, target, tol, &mut errors);
    let (external_reference, description) = match refund.kind {
        RefundKind::Cancellation => (
            format!("bc:{}:order:{}:cancellation", ctx.store_hash, order.id),
            format!("Cancellation of BigCommerce order {}", order.id),
        ),
        RefundKind::Refund => (
            format!("bc:{}:refund:{}", ctx.store_hash, refund.id),
            format!("BigCommerce refund {} of order {}", refund.id, order.id),
        ),
        RefundKind::Return => (
            format!("bc:{}:refund:{}", ctx.store_hash, refund.id),
            format!("BigCommerce return {} of order {}", refund.id, order.id),
        ),
    };
    let note = CreditNote {
        customer_number: customer,
        document_date: date_of(&refund.created_at),
        currency_id: refund.currency.clone(),
        exchange_rate: exchange_rate(host, ctx, order),
        branch_number: ctx.branch.clone(),
        external_reference,
        original_invoice_number: original,
        customer_ref_number: if refund.id == 0 {
            order.id.to_string()
        } else {
            refund.id.to_string()
        },
        description,
        vat_inclusive: inclusive,
        lines: doc.lines,
        expected_total,
        expected_vat,
        note: refund.reason.clone(),
    };
    errors.finish(note)
}

fn credited(refund: &Refund, line_id: u64) -> Decimal {
    refund
        .already_credited
        .iter()
        .filter(|(id, _)| *id == line_id)
        .map(|(_, q)| dec(q))
        .sum()
}

/// A credit line for `quantity` units of order line `index`, at what each unit was invoiced
/// for (after its discounts).
#[allow(clippy::too_many_arguments)]
fn unit_credit(
    host: &impl Host,
    settings: &Settings,
    refund: &Refund,
    index: usize,
    quantity: Decimal,
    discounts: &[Minor],
    warehouse: Option<String>,
    doc: &mut DocLines,
    errors: &mut Errors,
) {
    let order = &refund.order;
    let line = &order.lines[index];
    let qty = dec(&line.quantity);
    let rate = rate_of(line.tax_rate.as_ref(), line.total_ex_tax, line.total_tax);
    let category = vat_category(
        host,
        line.tax_class_id,
        rate,
        || format!("order.lines[{index}].tax-class-id"),
        errors,
    );
    let number = item_number(
        host,
        &line.sku,
        || format!("order.lines[{index}].sku"),
        errors,
    );
    let (unit, gross) = if doc.inclusive {
        (line.unit_price_inc_tax, line.total_inc_tax)
    } else {
        (line.unit_price_ex_tax, line.total_ex_tax)
    };
    // Units credited before this note: the cumulative shares make all notes add up exactly.
    let before = credited(refund, line.id);
    let discount = share_of_range(
        on_basis(
            discounts[index],
            order.prices_include_tax,
            doc.inclusive,
            rate,
        ),
        before,
        quantity,
        qty,
    );
    let gross = share_of_range(gross, before, quantity, qty);
    doc.push(
        DocumentLine {
            kind: LineKind::Item,
            item_number: number.clone(),
            description: line.name.clone(),
            quantity: wit(quantity),
            uom: number
                .as_deref()
                .and_then(|n| host.lookup("uom", n))
                .or_else(|| settings.get("default-uom").map(str::to_owned)),
            unit_price: money::to_wit(unit, &order.currency),
            discount_amount: discount,
            line_amount: gross - discount,
            vat_category_id: category,
            warehouse_id: warehouse,
            account: None,
            subaccount: None,
            bc_line_id: Some(line.id),
            note: String::new(),
        },
        rate,
    );
}

fn cancellation_lines(
    host: &impl Host,
    settings: &Settings,
    refund: &Refund,
    doc: &mut DocLines,
    errors: &mut Errors,
) {
    let order = &refund.order;
    let (discounts, _) = discounts_by_line(order);
    for (i, line) in order.lines.iter().enumerate() {
        if !is_eligible(line) {
            continue;
        }
        let remaining = dec(&line.quantity) - credited(refund, line.id);
        if remaining > Decimal::ZERO {
            unit_credit(
                host, settings, refund, i, remaining, &discounts, None, doc, errors,
            );
        }
    }
}

fn refund_lines(
    host: &impl Host,
    settings: &Settings,
    refund: &Refund,
    doc: &mut DocLines,
    errors: &mut Errors,
) {
    let order = &refund.order;
    let (discounts, _) = discounts_by_line(order);
    let restock_returns = settings.flag("restock-returns", true, errors);
    let return_warehouse = settings
        .get("return-warehouse")
        .or_else(|| settings.get("default-warehouse"))
        .map(str::to_owned);
    if refund.items.is_empty() {
        errors.push(
            "items",
            "empty-refund",
            format!("refund {} has no items", refund.id),
        );
    }
    for (k, item) in refund.items.iter().enumerate() {
        let path = format!("items[{k}]");
        match item.item_type {
            RefundItemType::Product => {
                let Some(i) = order.lines.iter().position(|l| l.id == item.item_id) else {
                    errors.push(
                        format!("{path}.item-id"),
                        "unknown-order-line",
                        format!(
                            "refund item {} is not a line of order {}",
                            item.item_id, order.id
                        ),
                    );
                    continue;
                };
                let line = &order.lines[i];
                match item.quantity.as_ref().map(dec).filter(|q| !q.is_zero()) {
                    Some(q) => {
                        let before = credited(refund, line.id);
                        if q + before > dec(&line.quantity) {
                            errors.push(
                                format!("{path}.quantity"),
                                "over-credit",
                                format!(
                                    "refunding {q} of line {} would credit {} of {} units",
                                    line.id,
                                    q + before,
                                    dec(&line.quantity)
                                ),
                            );
                            continue;
                        }
                        let restock =
                            refund.kind == RefundKind::Return && item.restock && restock_returns;
                        let warehouse = if restock {
                            return_warehouse.clone()
                        } else {
                            None
                        };
                        unit_credit(
                            host, settings, refund, i, q, &discounts, warehouse, doc, errors,
                        );
                    }
                    None => {
                        let rate =
                            rate_of(line.tax_rate.as_ref(), line.total_ex_tax, line.total_tax);
                        let category = vat_category(
                            host,
                            line.tax_class_id,
                            rate,
                            || format!("order.lines[{i}].tax-class-id"),
                            errors,
                        );
                        let account = settings.require(
                            "refund-account",
                            "to book refunds of amounts",
                            errors,
                        );
                        let amount = on_basis(item.amount, true, doc.inclusive, rate);
                        doc.push(
                            account_line(
                                LineKind::Item,
                                format!("Refund on {}", line.name),
                                amount,
                                &refund.currency,
                                category,
                                account,
                                Some(line.id),
                            ),
                            rate,
                        );
                    }
                }
            }
            RefundItemType::Shipping | RefundItemType::Handling | RefundItemType::GiftWrapping => {
                let (kind, tax_type, cost, key, label, cost_path) = match item.item_type {
                    RefundItemType::Shipping => (
                        LineKind::Freight,
                        "shipping",
                        &order.shipping,
                        "freight-account",
                        "Shipping",
                        "order.shipping.tax-class-id",
                    ),
                    RefundItemType::Handling => (
                        LineKind::Handling,
                        "handling",
                        &order.handling,
                        "handling-account",
                        "Handling",
                        "order.handling.tax-class-id",
                    ),
                    _ => (
                        LineKind::GiftWrapping,
                        "gift-wrapping",
                        &order.wrapping,
                        "gift-wrapping-account",
                        "Gift wrapping",
                        "order.wrapping.tax-class-id",
                    ),
                };
                let rate = charge_rate(order, tax_type)
                    .unwrap_or_else(|| rate_of(None, cost.ex_tax, cost.tax));
                let category = vat_category(host, cost.tax_class_id, rate, cost_path, errors);
                let account = settings.require(
                    key,
                    &format!("to book refunded {}", label.to_lowercase()),
                    errors,
                );
                let amount = on_basis(item.amount, true, doc.inclusive, rate);
                doc.push(
                    account_line(
                        kind,
                        format!("Refund of {}", label.to_lowercase()),
                        amount,
                        &refund.currency,
                        category,
                        account,
                        Some(item.item_id),
                    ),
                    rate,
                );
            }
            RefundItemType::Fee => {
                let Some(f) = order.fees.iter().position(|f| f.id == item.item_id) else {
                    errors.push(
                        format!("{path}.item-id"),
                        "unknown-fee",
                        format!(
                            "refund item {} is not a fee of order {}",
                            item.item_id, order.id
                        ),
                    );
                    continue;
                };
                let fee = &order.fees[f];
                let rate = rate_of(None, fee.ex_tax, fee.tax);
                let category = vat_category(
                    host,
                    fee.tax_class_id,
                    rate,
                    || format!("order.fees[{f}].tax-class-id"),
                    errors,
                );
                let account = host
                    .lookup("gl-account", &format!("fee:{}", fee.name))
                    .or_else(|| {
                        settings
                            .require("fee-account", "to book fees", errors)
                            .map(str::to_owned)
                    });
                let amount = on_basis(item.amount, true, doc.inclusive, rate);
                doc.push(
                    account_line(
                        LineKind::Fee,
                        format!("Refund of {}", fee.name),
                        amount,
                        &refund.currency,
                        category,
                        account.as_deref(),
                        Some(fee.id),
                    ),
                    rate,
                );
            }
            RefundItemType::Order => {
                // BigCommerce does not recalculate tax on an order-level amount: it is VAT-free.
                let category = match settings.get("order-refund-vat-category") {
                    Some(c) => c.to_owned(),
                    None => vat_category(
                        host,
                        None,
                        Decimal::ZERO,
                        "settings.order-refund-vat-category",
                        errors,
                    ),
                };
                let account =
                    settings.require("refund-account", "to book refunds of amounts", errors);
                let description = if item.reason.is_empty() {
                    "Refund".to_owned()
                } else {
                    format!("Refund: {}", item.reason)
                };
                doc.push(
                    account_line(
                        LineKind::Item,
                        description,
                        item.amount,
                        &refund.currency,
                        category,
                        account,
                        None,
                    ),
                    Decimal::ZERO,
                );
            }
        }
    }
}
