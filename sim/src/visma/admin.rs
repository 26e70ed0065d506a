//! Operator and test endpoints (no token needed; the simulator only listens locally):
//! - `POST /__admin/faults` with a [`FaultConfig`] JSON body replaces the fault settings;
//!   `DELETE /__admin/faults` clears them; `GET /__admin/faults` shows them.
//! - `GET /__admin/stats`: request, 429 and fault counters and document counts per company.
//! - `GET /__admin/documents[?tenant_id=…]`: every document of a company (all companies
//!   without the parameter), so tests can count duplicates.
//! - `POST /__admin/salesorders/{type}/{id}/invoice?tenant_id=…[&release=false]`: what an
//!   accountant does in the ERP when an order is to be billed: the order's invoice is
//!   prepared (and, unless `release=false`, released); answers `{"invoice": "<number>"}`.

use std::sync::Arc;

use axum::extract::{Path, Query as QueryExtract, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};

use super::Sim;
use super::faults::{FaultConfig, Faults};
use super::state::{ArKind, Company};
use super::wire::{self, Query};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            "/__admin/faults",
            get(show_faults).post(set_faults).delete(clear_faults),
        )
        .route("/__admin/stats", get(stats))
        .route("/__admin/documents", get(documents))
        .route(
            "/__admin/salesorders/{order_type}/{order_id}/invoice",
            post(invoice_sales_order),
        )
}

async fn invoice_sales_order(
    State(sim): State<Arc<Sim>>,
    Path((order_type, order_id)): Path<(String, String)>,
    QueryExtract(q): QueryExtract<Query>,
) -> Response {
    let Some(tenant) = q.get("tenant_id") else {
        return bad_request("tenant_id is required".into());
    };
    let release = match q.get("release").map(String::as_str) {
        None | Some("true") | Some("1") => true,
        Some("false") | Some("0") => false,
        Some(other) => return bad_request(format!("release must be true or false, not {other:?}")),
    };
    let now = sim.clock.now();
    let mut state = sim.state.lock();
    let Some(c) = state
        .companies
        .iter_mut()
        .find(|c| c.tenant_id.eq_ignore_ascii_case(tenant))
    else {
        return bad_request(format!("unknown tenant_id {tenant:?}"));
    };
    match super::so_invoice::invoice_order(c, &order_type, &order_id, release, now) {
        Ok(number) => Json(json!({"invoice": number})).into_response(),
        Err(e) => (e.status, Json(json!({"error": e.message}))).into_response(),
    }
}

fn bad_request(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

async fn show_faults(State(sim): State<Arc<Sim>>) -> Response {
    let faults = sim.faults.lock();
    Json(json!({"config": faults.config, "burst_429_left": faults.burst_left()})).into_response()
}

async fn set_faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let config: FaultConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return bad_request(format!("invalid fault configuration: {e}")),
    };
    if let Err(e) = config.validate() {
        return bad_request(e);
    }
    *sim.faults.lock() = Faults::new(config.clone());
    Json(json!({"config": config})).into_response()
}

async fn clear_faults(State(sim): State<Arc<Sim>>) -> Response {
    *sim.faults.lock() = Faults::default();
    StatusCode::NO_CONTENT.into_response()
}

fn counts(c: &Company) -> Value {
    let invoices = c
        .ar_docs
        .keys()
        .filter(|(k, _)| *k == ArKind::Invoice)
        .count();
    json!({
        "tenant_id": c.tenant_id,
        "company": c.name,
        "customers": c.customers.len(),
        "items": c.items.len(),
        "invoices": invoices,
        "credit_notes": c.ar_docs.len() - invoices,
        "payments": c.payments.len(),
        "sales_orders": c.sales_orders.len(),
        "inventory_documents": c.inv_docs.len(),
    })
}

async fn stats(State(sim): State<Arc<Sim>>) -> Response {
    let mut body = sim.stats.snapshot();
    let state = sim.state.lock();
    body["companies"] = Value::Array(state.companies.iter().map(counts).collect());
    Json(body).into_response()
}

fn company_documents(c: &Company) -> Vec<Value> {
    let mut out = Vec::new();
    for d in c.ar_docs.values() {
        out.push(json!({
            "tenant_id": c.tenant_id,
            "kind": match d.kind { ArKind::Invoice => "customer_invoice", ArKind::CreditNote => "customer_credit_note" },
            "number": d.number,
            "customer": d.customer,
            "external_reference": d.external_reference,
            "customer_ref_number": d.customer_ref_number,
            "currency": d.currency,
            "amount": wire::num(d.amount),
            "balance": wire::num(d.balance),
            "status": d.status,
            "created": wire::fmt_dt(&d.created),
        }));
    }
    for p in c.payments.values() {
        out.push(json!({
            "tenant_id": c.tenant_id,
            "kind": "customer_payment",
            "number": p.number,
            "customer": p.customer,
            "external_reference": p.payment_ref,
            "currency": p.currency,
            "amount": wire::num(p.amount),
            "status": p.status,
        }));
    }
    for o in c.sales_orders.values() {
        out.push(json!({
            "tenant_id": c.tenant_id,
            "kind": "sales_order",
            "number": format!("{}/{}", o.order_type, o.order_id),
            "customer": o.customer,
            "external_reference": o.customer_ref_no,
            "customer_order": o.customer_order,
            "invoice": o.invoice_nbr,
            "currency": o.currency,
            "amount": wire::num(o.order_total),
            "status": o.status,
            "created": wire::fmt_dt(&o.created),
        }));
    }
    for d in c.inv_docs.values() {
        out.push(json!({
            "tenant_id": c.tenant_id,
            "kind": format!("inventory_{:?}", d.kind).to_lowercase(),
            "number": d.number,
            "external_reference": d.external_reference,
            "status": d.status,
        }));
    }
    out
}

async fn documents(State(sim): State<Arc<Sim>>, QueryExtract(q): QueryExtract<Query>) -> Response {
    let state = sim.state.lock();
    let tenant = q.get("tenant_id").or_else(|| q.get("tenant"));
    let mut docs = Vec::new();
    let mut found = tenant.is_none();
    for c in &state.companies {
        if tenant.is_none_or(|t| t.eq_ignore_ascii_case(&c.tenant_id)) {
            found = true;
            docs.extend(company_documents(c));
        }
    }
    if !found {
        return bad_request(format!("unknown tenant_id {:?}", tenant));
    }
    Json(wire::prune(Value::Array(docs))).into_response()
}
