//! Customer payments (`POST /v1/customerPayment`, `GET /v1/customerPayment[/{paymentNumber}]`,
//! `…/action/release`). Releasing a payment applies its `paymentLines` to invoices: their
//! balances drop and they close at zero, so payment status can be read back from the invoice.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::Sim;
use super::ar;
use super::auth::Ctx;
use super::error::{ErpError, ErpResult};
use super::state::{Application, ArKind, Company, Payment, PaymentLine};
use super::wire::{self, Dto, Query, num};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v1/customerPayment", get(list).post(create))
        .route("/v1/customerPayment/{number}", get(get_one))
        .route("/v1/customerPayment/{number}/action/release", post(release))
}

fn etag(p: &Payment) -> String {
    wire::etag("payment", &p.number, p.version)
}

fn dto(c: &Company, p: &Payment) -> Value {
    let applied: Decimal = p.lines.iter().map(|l| l.amount).sum();
    let lines: Vec<Value> = p
        .lines
        .iter()
        .map(|l| {
            let doc = c.ar_docs.get(&(ArKind::Invoice, l.ref_nbr.clone()));
            json!({
                "documentType": l.doc_type,
                "refNbr": l.ref_nbr,
                "amountPaid": num(l.amount),
                "balance": doc.map(|d| num(d.balance)),
                "date": doc.map(|d| wire::fmt_dt(&d.document_date)),
                "dueDate": doc.map(|d| wire::fmt_dt(&d.due_date)),
                "currency": p.currency,
            })
        })
        .collect();
    json!({
        "type": p.payment_type,
        "refNbr": p.number,
        "status": p.status,
        "hold": p.hold,
        "applicationDate": wire::fmt_dt(&p.application_date),
        "paymentRef": p.payment_ref,
        "customer": {"number": p.customer, "name": c.customers.get(&p.customer).map(|x| x.name.clone())},
        "paymentMethod": p.payment_method.as_ref().map(|m| json!({
            "id": m, "description": c.payment_method(m).map(|x| x.description.clone()),
        })),
        "currency": p.currency,
        "paymentAmount": num(p.amount),
        "paymentAmountInCurrency": num(p.amount),
        "appliedToDocuments": num(applied),
        "availableBalance": num(p.amount - applied),
        "availableBalanceInCurrency": num(p.amount - applied),
        "branch": p.branch,
        "lastModifiedDateTime": wire::fmt_dt(&p.modified),
        "paymentLines": lines,
    })
}

async fn create(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    let body = wire::parse_body(&body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let payment_type = d.text("type")?.unwrap_or_else(|| "Payment".into());
    if payment_type != "Payment" && payment_type != "Prepayment" {
        return Err(ErpError::validation(format!(
            "Payment type '{payment_type}' is not supported: use Payment or Prepayment."
        )));
    }
    let customer = d
        .text("customer")?
        .ok_or_else(|| ErpError::validation("'customer' is required."))?;
    let cust = c
        .customers
        .get(&customer)
        .ok_or_else(|| ErpError::unknown("Customer", &customer))?;
    let currency = d.text("currency")?.unwrap_or_else(|| cust.currency.clone());
    if c.currency(&currency).is_none() {
        return Err(ErpError::unknown("Currency", &currency));
    }
    let payment_method = d.text("paymentMethod")?;
    if let Some(m) = &payment_method
        && c.payment_method(m).is_none()
    {
        return Err(ErpError::unknown("Payment method", m));
    }
    let branch = d
        .text("branch")?
        .unwrap_or_else(|| c.main_branch().number.clone());
    if c.branch(&branch).is_none() {
        return Err(ErpError::unknown("Branch", &branch));
    }
    let mut lines = Vec::new();
    for l in d.array("paymentLines")? {
        let doc_type = l.text("documentType")?.unwrap_or_else(|| "Invoice".into());
        if doc_type != "Invoice" {
            return Err(ErpError::validation(format!(
                "Payments can be applied to invoices here, not to '{doc_type}'."
            )));
        }
        let ref_nbr = l.text("refNbr")?.ok_or_else(|| {
            ErpError::validation(format!("'{}' is required.", l.field_name("refNbr")))
        })?;
        let invoice = c
            .ar_docs
            .get(&(ArKind::Invoice, ref_nbr.clone()))
            .ok_or_else(|| ErpError::unknown("Invoice", &ref_nbr))?;
        if invoice.customer != customer {
            return Err(ErpError::validation(format!(
                "Invoice '{ref_nbr}' belongs to customer '{}'.",
                invoice.customer
            )));
        }
        if invoice.currency != currency {
            return Err(ErpError::validation(format!(
                "Invoice '{ref_nbr}' is in {}, the payment in {currency}.",
                invoice.currency
            )));
        }
        let amount = l.decimal("amountPaid")?.unwrap_or(invoice.balance);
        if amount <= Decimal::ZERO {
            return Err(ErpError::validation(format!(
                "'{}' must be positive.",
                l.field_name("amountPaid")
            )));
        }
        if amount > invoice.balance {
            return Err(ErpError::validation(format!(
                "The amount paid ({amount}) exceeds the balance of invoice '{ref_nbr}' ({}).",
                invoice.balance
            )));
        }
        lines.push(PaymentLine {
            doc_type,
            ref_nbr,
            amount,
        });
    }
    let applied: Decimal = lines.iter().map(|l| l.amount).sum();
    let amount = d.decimal("paymentAmount")?.unwrap_or(applied);
    if amount <= Decimal::ZERO {
        return Err(ErpError::validation("'paymentAmount' must be positive."));
    }
    if applied > amount {
        return Err(ErpError::validation(format!(
            "The payment lines ({applied}) exceed the payment amount ({amount})."
        )));
    }
    let hold = d.boolean("hold")?.unwrap_or(false);
    let number = format!("{:06}", c.series.payment);
    c.series.payment += 1;
    let payment = Payment {
        number: number.clone(),
        payment_type,
        customer,
        status: if hold { "Hold" } else { "Balanced" }.into(),
        hold,
        released: false,
        application_date: d.date_time("applicationDate")?.unwrap_or(now),
        payment_ref: d.string("paymentRef")?,
        payment_method,
        currency,
        amount,
        branch,
        lines,
        modified: now,
        version: 1,
    };
    let tag = etag(&payment);
    c.payments.insert(number.clone(), payment);
    Ok(wire::created(
        &sim.erp_url(&format!("/v1/customerPayment/{number}")),
        Some(&tag),
    ))
}

async fn get_one(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let p = c
        .payments
        .get(&number)
        .ok_or_else(|| ErpError::not_found(format!("Payment '{number}' not found.")))?;
    Ok(wire::json_response(
        StatusCode::OK,
        dto(c, p),
        Some(&etag(p)),
    ))
}

async fn list(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    let modified = wire::date_filter(&q, "lastModifiedDateTime")?;
    let state = sim.state.lock();
    let c = &state.companies[ctx.company];
    let items: Vec<&Payment> = c
        .payments
        .values()
        .filter(|p| q.get("customer").is_none_or(|x| &p.customer == x))
        .filter(|p| q.get("status").is_none_or(|x| &p.status == x))
        .filter(|p| q.get("paymentType").is_none_or(|x| &p.payment_type == x))
        .filter(|p| q.get("paymentNbr").is_none_or(|x| &p.number == x))
        .filter(|p| {
            q.get("invoiceRefNbr")
                .is_none_or(|x| p.lines.iter().any(|l| &l.ref_nbr == x))
        })
        .filter(|p| modified.is_none_or(|(cond, at)| cond.holds(&p.modified, &at)))
        .collect();
    wire::list_response(items, &q, sim.max_page_size, |p| dto(c, p))
}

async fn release(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let c = &mut state.companies[ctx.company];
    let p = c
        .payments
        .get(&number)
        .cloned()
        .ok_or_else(|| ErpError::not_found(format!("Payment '{number}' not found.")))?;
    if p.released {
        return Err(ErpError::validation(format!(
            "Payment '{number}' is already released."
        )));
    }
    if p.hold {
        return Err(ErpError::validation(format!(
            "Payment '{number}' is on hold."
        )));
    }
    for l in &p.lines {
        let inv = c
            .ar_docs
            .get(&(ArKind::Invoice, l.ref_nbr.clone()))
            .ok_or_else(|| {
                ErpError::validation(format!("Invoice '{}' no longer exists.", l.ref_nbr))
            })?;
        if !inv.released {
            return Err(ErpError::validation(format!(
                "Invoice '{}' is not released; release it before applying a payment.",
                l.ref_nbr
            )));
        }
        if l.amount > inv.balance {
            return Err(ErpError::validation(format!(
                "The amount paid ({}) exceeds the balance of invoice '{}' ({}).",
                l.amount, l.ref_nbr, inv.balance
            )));
        }
    }
    for l in &p.lines {
        let inv = c
            .ar_docs
            .get_mut(&(ArKind::Invoice, l.ref_nbr.clone()))
            .expect("checked above");
        inv.balance -= l.amount;
        inv.applications.push(Application {
            doc_type: "Payment".into(),
            ref_nbr: number.clone(),
            amount: l.amount,
            date: now,
            released: true,
        });
        ar::settle_status(inv);
        inv.modified = now;
        inv.version += 1;
    }
    let applied: Decimal = p.lines.iter().map(|l| l.amount).sum();
    let p = c.payments.get_mut(&number).expect("present");
    p.released = true;
    p.status = if applied == p.amount {
        "Closed"
    } else {
        "Open"
    }
    .into();
    p.modified = now;
    p.version += 1;
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"actionId": uuid::Uuid::new_v4(), "actionResult": "Done"}),
        None,
    ))
}
