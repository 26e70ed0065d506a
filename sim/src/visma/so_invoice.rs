//! Invoicing a sales order, as Visma does when someone prepares the invoice of an order in
//! the ERP (`POST /v2/salesorder/{orderType}/{orderNumber}/action/prepareInvoice`, spec
//! `SalesOrderV2_PrepareInvoiceActionByorderTypeorderNumber`, answered `204` as declared).
//! The SalesOrders v3 service has no invoicing endpoint of its own; the admin API offers the
//! same as an operator action that can also release the invoice
//! (`POST /__admin/salesorders/{type}/{id}/invoice?tenant_id=…&release=true`).
//!
//! The invoice is a customer invoice like any other, except that its lines carry the order
//! they came from (`soOrderType`/`soOrderNbr`, as `CustomerInvoiceLineDto` has them) and it has
//! no external reference of ours. The order becomes `Completed` and points at its invoice
//! (v3 `financialInformation.invoiceId`); the stock it booked leaves the warehouse.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::Sim;
use super::ar;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{ArDoc, ArKind, ArLine, Company};
use super::wire;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route(
        "/v2/salesorder/{order_type}/{order_number}/action/prepareInvoice",
        post(prepare_invoice),
    )
}

/// Makes the invoice of an open order; with `release` it is released (posted) too. Returns
/// the invoice number.
pub fn invoice_order(
    c: &mut Company,
    order_type: &str,
    order_id: &str,
    release: bool,
    now: DateTime<Utc>,
) -> ErpResult<String> {
    let key = (order_type.to_string(), order_id.to_string());
    let order = c.sales_orders.get(&key).cloned().ok_or_else(|| {
        ErpError::not_found(format!("Sales order {order_type} {order_id} not found."))
    })?;
    if let Some(n) = &order.invoice_nbr {
        return Err(ErpError::validation(format!(
            "Sales order {order_type} {order_id} has already been invoiced (invoice {n})."
        )));
    }
    if order.status != "Open" {
        return Err(ErpError::validation(format!(
            "Sales order {order_type} {order_id} is {} and cannot be invoiced; only open orders can.",
            order.status
        )));
    }
    let customer = c
        .customers
        .get(&order.customer)
        .cloned()
        .ok_or_else(|| ErpError::unknown("Customer", &order.customer))?;
    let date = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc())
        .unwrap_or(now);
    let rate = c
        .rate_to_base(&order.currency, date.date_naive())
        .ok_or_else(|| {
            ErpError::validation(format!(
                "No exchange rate from {} to {} is effective on {}.",
                order.currency,
                c.base_currency,
                date.date_naive()
            ))
        })?;
    let vat_of = |c: &Company, category: &str| {
        c.vat_category(category)
            .map(|cat| cat.vat_id.clone())
            .unwrap_or_default()
    };
    let mut lines: Vec<ArLine> = Vec::new();
    for l in &order.lines {
        let sign = if l.operation == "Receipt" {
            Decimal::NEGATIVE_ONE
        } else {
            Decimal::ONE
        };
        lines.push(ArLine {
            line_number: lines.len() as i32 + 1,
            inventory_number: Some(l.inventory_id.clone()),
            description: l.description.clone(),
            quantity: sign * l.quantity,
            unit_price: l.unit_price,
            discount_percent: l.discount_percent,
            discount_amount: l.discount_amount,
            manual_discount: !l.discount_amount.is_zero(),
            amount: sign * l.amount,
            vat_id: vat_of(c, &l.tax_category),
            uom: Some(l.uom.clone()),
            note: None,
            branch: order.branch.clone(),
            so_order_type: Some(order.order_type.clone()),
            so_order_nbr: Some(order.order_id.clone()),
        });
    }
    if !order.freight_cost.is_zero() {
        lines.push(ArLine {
            line_number: lines.len() as i32 + 1,
            inventory_number: None,
            description: Some("Freight".into()),
            quantity: Decimal::ONE,
            unit_price: order.freight_cost,
            discount_percent: Decimal::ZERO,
            discount_amount: Decimal::ZERO,
            manual_discount: false,
            amount: order.freight_cost,
            vat_id: order
                .freight_tax_category
                .as_deref()
                .map(|cat| vat_of(c, cat))
                .unwrap_or_default(),
            uom: None,
            note: None,
            branch: order.branch.clone(),
            so_order_type: Some(order.order_type.clone()),
            so_order_nbr: Some(order.order_id.clone()),
        });
    }
    let due_days = c
        .credit_term(&customer.credit_terms)
        .map(|t| t.due_days)
        .unwrap_or(0);
    let mut doc = ArDoc {
        kind: ArKind::Invoice,
        number: String::new(),
        customer: order.customer.clone(),
        status: "Balanced".into(),
        hold: false,
        released: false,
        document_date: date,
        due_date: date + chrono::Duration::days(due_days),
        orig_invoice_date: None,
        currency: order.currency.clone(),
        exchange_rate: rate,
        credit_terms: customer.credit_terms.clone(),
        payment_method: order
            .payment_method
            .clone()
            .or(customer.default_payment_method.clone()),
        external_reference: None,
        customer_ref_number: order.customer_order.clone(),
        payment_reference: order.payment_reference.clone(),
        invoice_text: order.description.clone(),
        note: order.note.clone(),
        branch: order.branch.clone(),
        vat_zone: customer.vat_zone.clone(),
        lines,
        tax: Vec::new(),
        detail_total: Decimal::ZERO,
        discount_total: Decimal::ZERO,
        vat_total: Decimal::ZERO,
        rounding_diff: Decimal::ZERO,
        amount: Decimal::ZERO,
        balance: Decimal::ZERO,
        applications: Vec::new(),
        created: now,
        modified: now,
        version: 1,
    };
    ar::compute_totals(c, &mut doc);
    if release {
        doc.released = true;
        doc.balance = doc.amount;
        ar::settle_status(&mut doc);
    }
    let number = super::invoices::next_number(c, ArKind::Invoice);
    doc.number = number.clone();
    c.ar_docs.insert((ArKind::Invoice, number.clone()), doc);

    // The goods the order booked leave the warehouse with the invoice.
    super::salesorders::book(c, &order, Decimal::NEGATIVE_ONE, now);
    for l in order.lines.iter().filter(|l| l.operation == "Issue") {
        let Some(w) = &l.warehouse else { continue };
        if !c.items.get(&l.inventory_id).is_some_and(|i| i.is_stock()) {
            continue;
        }
        let s = c
            .stock
            .entry((l.inventory_id.clone(), w.clone()))
            .or_default();
        s.on_hand -= l.quantity;
        s.modified = Some(now);
    }
    let o = c.sales_orders.get_mut(&key).expect("read above");
    o.status = "Completed".into();
    o.invoice_nbr = Some(number.clone());
    o.modified = now;
    o.version += 1;
    Ok(number)
}

/// The spec declares `204 NoContent` (with a `PrepareInvoiceActionResultDto` schema that a 204
/// cannot carry): the invoice is found through the order afterwards.
async fn prepare_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path((order_type, order_number)): Path<(String, String)>,
) -> ErpResult<Response> {
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    invoice_order(c, &order_type, &order_number, false, now)?;
    Ok(wire::no_content(None))
}
