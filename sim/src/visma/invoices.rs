//! Customer invoices (`POST /v2/customerinvoice`, deprecated `POST /v1/customerinvoice`,
//! `GET|PUT|DELETE /v1/customerinvoice/{invoiceNumber}`, `GET /v1/customerinvoice`,
//! `…/action/release`) and customer credit notes (`POST /v2/customerCreditNote`,
//! `GET|PUT|DELETE /v1/customerCreditNote/{creditNoteNumber}`, `GET /v1/customerCreditNote`,
//! `…/action/release`). A credit note's `applicationLines` link it to invoices; releasing it
//! applies the amounts and reduces the invoices' balances.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::{HeaderMap, StatusCode};
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
use super::state::{Application, ArDoc, ArKind, Company};
use super::wire::{self, Dto, Query};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/v2/customerinvoice", post(create_invoice))
        .route(
            "/v1/customerinvoice",
            get(list_invoices).post(create_invoice),
        )
        .route(
            "/v1/customerinvoice/{number}",
            get(get_invoice).put(update_invoice).delete(delete_invoice),
        )
        .route(
            "/v1/customerinvoice/{number}/action/release",
            post(release_invoice),
        )
        .route("/v2/customerCreditNote", post(create_credit_note))
        .route(
            "/v1/customerCreditNote",
            get(list_credit_notes).post(create_credit_note),
        )
        .route(
            "/v1/customerCreditNote/{number}",
            get(get_credit_note)
                .put(update_credit_note)
                .delete(delete_credit_note),
        )
        .route(
            "/v1/customerCreditNote/{number}/action/release",
            post(release_credit_note),
        )
}

pub(super) fn next_number(company: &mut Company, kind: ArKind) -> String {
    loop {
        let counter = match kind {
            ArKind::Invoice => &mut company.series.invoice,
            ArKind::CreditNote => &mut company.series.credit_note,
        };
        let n = format!("{:06}", *counter);
        *counter += 1;
        if !company.ar_docs.contains_key(&(kind, n.clone())) {
            return n;
        }
    }
}

/// Reads `applicationLines` of a credit note: each links an invoice of the same customer and
/// currency with the amount to apply on release.
fn read_applications(
    company: &Company,
    d: &Dto,
    doc: &mut ArDoc,
    now: chrono::DateTime<chrono::Utc>,
) -> ErpResult<()> {
    for line in d.array("applicationLines")? {
        let op = line
            .plain_string("operation")?
            .unwrap_or_else(|| "Insert".into());
        let doc_type = line
            .text("documentType")?
            .unwrap_or_else(|| "Invoice".into());
        if doc_type != "Invoice" && doc_type != "DebitNote" {
            return Err(ErpError::validation(format!(
                "A credit note can only be applied to an Invoice or DebitNote, not '{doc_type}'."
            )));
        }
        let ref_nbr = line.text("refNbr")?.ok_or_else(|| {
            ErpError::validation(format!("'{}' is required.", line.field_name("refNbr")))
        })?;
        if op == "Delete" {
            doc.applications
                .retain(|a| a.released || a.ref_nbr != ref_nbr);
            continue;
        }
        if op != "Insert" && op != "Update" {
            return Err(ErpError::validation(format!(
                "'{op}' is not a valid operation: use Insert, Update or Delete."
            )));
        }
        let invoice = company
            .ar_docs
            .get(&(ArKind::Invoice, ref_nbr.clone()))
            .ok_or_else(|| ErpError::unknown("Invoice", &ref_nbr))?;
        if invoice.customer != doc.customer {
            return Err(ErpError::validation(format!(
                "Invoice '{ref_nbr}' belongs to customer '{}', not '{}'.",
                invoice.customer, doc.customer
            )));
        }
        if invoice.currency != doc.currency {
            return Err(ErpError::validation(format!(
                "Invoice '{ref_nbr}' is in {}, the credit note in {}.",
                invoice.currency, doc.currency
            )));
        }
        let amount = match line.decimal("amountPaid")? {
            Some(a) if a <= Decimal::ZERO => {
                return Err(ErpError::validation(format!(
                    "'{}' must be positive.",
                    line.field_name("amountPaid")
                )));
            }
            Some(a) => a,
            None => invoice.balance.min(doc.amount),
        };
        if amount > invoice.balance {
            return Err(ErpError::validation(format!(
                "The amount to apply ({amount}) exceeds the balance of invoice '{ref_nbr}' ({}).",
                invoice.balance
            )));
        }
        doc.applications
            .retain(|a| a.released || a.ref_nbr != ref_nbr);
        doc.applications.push(Application {
            doc_type: doc_type.clone(),
            ref_nbr,
            amount,
            date: now,
            released: false,
        });
    }
    let pending: Decimal = doc.applications.iter().map(|a| a.amount).sum();
    if pending > doc.amount {
        return Err(ErpError::validation(format!(
            "The application lines ({pending}) exceed the credit note amount ({}).",
            doc.amount
        )));
    }
    Ok(())
}

fn create(sim: &Sim, ctx: &Ctx, kind: ArKind, body: &[u8]) -> ErpResult<Response> {
    let body = wire::parse_body(body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let mut doc = ar::new_doc(company, kind, &d, now)?;
    ar::apply(company, &d, &mut doc, true)?;
    if kind == ArKind::CreditNote {
        read_applications(company, &d, &mut doc, now)?;
    }
    let manual = d.boolean("overrideNumberSeries")?.unwrap_or(false);
    doc.number = match (manual, d.text("referenceNumber")?) {
        (true, Some(n)) => {
            if company.ar_docs.contains_key(&(kind, n.clone())) {
                return Err(ErpError::validation(format!(
                    "{} '{n}' already exists.",
                    ar::label(kind)
                )));
            }
            n
        }
        (true, None) => {
            return Err(ErpError::validation(
                "'referenceNumber' is required with overrideNumberSeries.",
            ));
        }
        (false, _) => next_number(company, kind),
    };
    let tag = ar::etag(&doc);
    let location = sim.erp_url(&ar::path(kind, &doc.number));
    company.ar_docs.insert((kind, doc.number.clone()), doc);
    Ok(wire::created(&location, Some(&tag)))
}

fn find<'a>(company: &'a Company, kind: ArKind, number: &str) -> ErpResult<&'a ArDoc> {
    company
        .ar_docs
        .get(&(kind, number.to_string()))
        .ok_or_else(|| ErpError::not_found(format!("{} '{number}' not found.", ar::label(kind))))
}

fn get_one(sim: &Sim, ctx: &Ctx, kind: ArKind, number: &str) -> ErpResult<Response> {
    let state = sim.state.lock();
    let company = &state.companies[ctx.company];
    let doc = find(company, kind, number)?;
    Ok(wire::typed_response(
        StatusCode::OK,
        &ar::dto(company, doc, true, true),
        Some(&ar::etag(doc)),
    ))
}

fn update(
    sim: &Sim,
    ctx: &Ctx,
    kind: ArKind,
    number: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> ErpResult<Response> {
    let body = wire::parse_body(body)?;
    let d = Dto::new(&body);
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let mut doc = find(company, kind, number)?.clone();
    wire::check_if_match(headers, &ar::etag(&doc))?;
    if doc.released {
        return Err(ErpError::validation(format!(
            "{} '{number}' is released and cannot be changed.",
            ar::label(kind)
        )));
    }
    ar::apply(company, &d, &mut doc, false)?;
    if kind == ArKind::CreditNote {
        read_applications(company, &d, &mut doc, now)?;
    }
    doc.modified = now;
    doc.version += 1;
    let tag = ar::etag(&doc);
    company.ar_docs.insert((kind, number.to_string()), doc);
    Ok(wire::no_content(Some(&tag)))
}

fn delete(
    sim: &Sim,
    ctx: &Ctx,
    kind: ArKind,
    number: &str,
    headers: &HeaderMap,
) -> ErpResult<Response> {
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let doc = find(company, kind, number)?;
    wire::check_if_match(headers, &ar::etag(doc))?;
    if doc.released {
        return Err(ErpError::validation(format!(
            "{} '{number}' is released and cannot be deleted.",
            ar::label(kind)
        )));
    }
    company.ar_docs.remove(&(kind, number.to_string()));
    Ok(wire::no_content(None))
}

/// Releases a document. A credit note's pending applications are applied: each linked
/// invoice's balance drops by the applied amount and it closes at zero.
fn release(sim: &Sim, ctx: &Ctx, kind: ArKind, number: &str) -> ErpResult<Response> {
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let company = &mut state.companies[ctx.company];
    let mut doc = find(company, kind, number)?.clone();
    if doc.released {
        return Err(ErpError::validation(format!(
            "{} '{number}' is already released.",
            ar::label(kind)
        )));
    }
    if doc.hold {
        return Err(ErpError::validation(format!(
            "{} '{number}' is on hold: remove the hold before releasing it.",
            ar::label(kind)
        )));
    }
    // Check every application first so a failure changes nothing.
    let mut invoices = Vec::new();
    for app in doc.applications.iter().filter(|a| !a.released) {
        let invoice = company
            .ar_docs
            .get(&(ArKind::Invoice, app.ref_nbr.clone()))
            .ok_or_else(|| {
                ErpError::validation(format!(
                    "Invoice '{}' cannot be found in the system.",
                    app.ref_nbr
                ))
            })?;
        if !invoice.released {
            return Err(ErpError::validation(format!(
                "Invoice '{}' is not released; only released invoices can be credited.",
                app.ref_nbr
            )));
        }
        if app.amount > invoice.balance {
            return Err(ErpError::validation(format!(
                "The amount to apply ({}) exceeds the balance of invoice '{}' ({}).",
                app.amount, app.ref_nbr, invoice.balance
            )));
        }
        invoices.push((app.ref_nbr.clone(), app.amount));
    }
    doc.released = true;
    doc.balance = doc.amount;
    for (ref_nbr, amount) in invoices {
        let invoice = company
            .ar_docs
            .get_mut(&(ArKind::Invoice, ref_nbr.clone()))
            .expect("checked above");
        invoice.balance -= amount;
        invoice.applications.push(Application {
            doc_type: kind.document_type().into(),
            ref_nbr: doc.number.clone(),
            amount,
            date: now,
            released: true,
        });
        ar::settle_status(invoice);
        invoice.modified = now;
        invoice.version += 1;
        doc.balance -= amount;
    }
    for app in &mut doc.applications {
        app.released = true;
    }
    ar::settle_status(&mut doc);
    doc.modified = now;
    doc.version += 1;
    company.ar_docs.insert((kind, number.to_string()), doc);
    Ok(wire::json_response(
        StatusCode::OK,
        json!({"actionId": uuid::Uuid::new_v4(), "actionResult": "Done"}),
        None,
    ))
}

fn list(sim: &Sim, ctx: &Ctx, kind: ArKind, q: &Query) -> ErpResult<Response> {
    let modified = wire::date_filter(q, "lastModifiedDateTime")?;
    let created = wire::date_filter(q, "createdDateTime")?;
    let doc_date = wire::date_filter(q, "documentDate")?;
    let due_date = wire::date_filter(q, "documentDueDate")?;
    let released = match q.get("released").map(String::as_str) {
        None | Some("") => None,
        Some("1") | Some("true") => Some(true),
        Some("0") | Some("false") => Some(false),
        Some(other) => {
            return Err(ErpError::validation(format!(
                "'{other}' is not a valid value for released: use 1 or 0."
            )));
        }
    };
    if let Some(t) = q.get("documentType")
        && t != kind.document_type()
    {
        // The list endpoint of one document kind never returns the other kind.
        return wire::list_response(Vec::<Value>::new(), q, sim.max_page_size, |v| v);
    }
    let expand_apps = wire::query_bool(q, "expandApplications")?;
    let expand_tax = wire::query_bool(q, "expandTaxDetails")?;
    let state = sim.state.lock();
    let company = &state.companies[ctx.company];
    let eq = |param: &str, value: &Option<String>| {
        q.get(param)
            .is_none_or(|f| value.as_deref() == Some(f.as_str()))
    };
    let items: Vec<&ArDoc> = company
        .ar_docs
        .range((kind, String::new())..)
        .take_while(|((k, _), _)| *k == kind)
        .map(|(_, d)| d)
        .filter(|d| eq("externalReference", &d.external_reference))
        .filter(|d| eq("customerRefNumber", &d.customer_ref_number))
        .filter(|d| eq("paymentReference", &d.payment_reference))
        .filter(|d| q.get("customer").is_none_or(|c| &d.customer == c))
        .filter(|d| q.get("branch").is_none_or(|b| &d.branch == b))
        .filter(|d| q.get("status").is_none_or(|s| &d.status == s))
        .filter(|d| released.is_none_or(|r| d.released == r))
        .filter(|d| {
            q.get("greaterThanValue")
                .is_none_or(|g| d.number.as_str() > g.as_str())
        })
        .filter(|d| modified.is_none_or(|(c, at)| c.holds(&d.modified, &at)))
        .filter(|d| created.is_none_or(|(c, at)| c.holds(&d.created, &at)))
        .filter(|d| doc_date.is_none_or(|(c, at)| c.holds(&d.document_date, &at)))
        .filter(|d| due_date.is_none_or(|(c, at)| c.holds(&d.due_date, &at)))
        .collect();
    wire::list_response(items, q, sim.max_page_size, |d| {
        ar::dto_value(company, d, expand_apps, expand_tax)
    })
}

async fn create_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    create(&sim, &ctx, ArKind::Invoice, &body)
}

async fn create_credit_note(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    body: Bytes,
) -> ErpResult<Response> {
    create(&sim, &ctx, ArKind::CreditNote, &body)
}

async fn get_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    get_one(&sim, &ctx, ArKind::Invoice, &number)
}

async fn get_credit_note(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    get_one(&sim, &ctx, ArKind::CreditNote, &number)
}

async fn update_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    update(&sim, &ctx, ArKind::Invoice, &number, &headers, &body)
}

async fn update_credit_note(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ErpResult<Response> {
    update(&sim, &ctx, ArKind::CreditNote, &number, &headers, &body)
}

async fn delete_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> ErpResult<Response> {
    delete(&sim, &ctx, ArKind::Invoice, &number, &headers)
}

async fn delete_credit_note(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> ErpResult<Response> {
    delete(&sim, &ctx, ArKind::CreditNote, &number, &headers)
}

async fn release_invoice(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    release(&sim, &ctx, ArKind::Invoice, &number)
}

async fn release_credit_note(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    Path(number): Path<String>,
) -> ErpResult<Response> {
    release(&sim, &ctx, ArKind::CreditNote, &number)
}

async fn list_invoices(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    list(&sim, &ctx, ArKind::Invoice, &q)
}

async fn list_credit_notes(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<Ctx>,
    QueryExtract(q): QueryExtract<Query>,
) -> ErpResult<Response> {
    list(&sim, &ctx, ArKind::CreditNote, &q)
}
