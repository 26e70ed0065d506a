//! Orders v3: refund quotes, refunds (per order and store-wide), transactions and order
//! metafields.
//!
//! Refund amounts are validated against what is still refundable: product lines by quantity
//! (at the discounted, tax-inclusive unit price), shipping and handling per order address,
//! gift wrapping per line, and `ORDER` amounts against the order's remaining total. Payments
//! must add up to the refund total (422 otherwise). A refund moves the order to Refunded (4)
//! when nothing is left, otherwise Partially Refunded (14). Items go back to stock only through
//! the status rule (full refund with `refund_order_stock_adjustment`), never on partial
//! refunds (NOTES §7.3, §9.4). `refunded_amount` on the v2 order is kept up to date here,
//! although production documents it as always 0 (NOTES §17.3).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::http::*;
use super::orders::{Events, emit_all, set_status};
use super::state::*;
use super::{AppState, ClientId};

const V3: Api = Api::V3;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v3/orders/{id}/payment_actions/refund_quotes", post(quote))
        .route(
            "/v3/orders/{id}/payment_actions/refunds",
            get(list_for_order).post(create_refund),
        )
        .route("/v3/orders/payment_actions/refunds", get(list_all))
        .route("/v3/orders/payment_actions/refunds/{rid}", get(get_refund))
        .route("/v3/orders/{id}/transactions", get(transactions))
        .route(
            "/v3/orders/{id}/metafields",
            get(list_metafields).post(create_metafield),
        )
        .route(
            "/v3/orders/{id}/metafields/{mid}",
            get(get_metafield)
                .put(update_metafield)
                .delete(delete_metafield),
        )
}

fn order_id(store: &Store, id: &str) -> ApiResult<u64> {
    id.parse::<u64>()
        .ok()
        .filter(|id| store.orders.get(id).is_some_and(|o| !o.is_deleted))
        .ok_or_else(|| ApiError::not_found(V3, "order"))
}

/// A validated refund request: total, tax part and normalized items.
struct Computed {
    total: Decimal,
    tax: Decimal,
    order_level: Decimal,
    items: Vec<Value>,
    /// (order product id, quantity) to mark refunded.
    lines: Vec<(u64, u32, Decimal)>,
}

fn refunded_of(store: &Store, order: u64, kind: &str, item: u64) -> (Decimal, u32) {
    let mut amount = Decimal::ZERO;
    let mut qty = 0u32;
    for r in store.refunds.values().filter(|r| r.order_id == order) {
        for it in &r.items {
            if it["item_type"] == kind && it["item_id"].as_u64() == Some(item) {
                amount += parse_money(&it["requested_amount"]).unwrap_or_default();
                qty += it["quantity"].as_u64().unwrap_or(0) as u32;
            }
        }
    }
    (amount, qty)
}

fn compute(store: &Store, o: &Order, body: &Value) -> ApiResult<Computed> {
    let mut c = Computed {
        total: Decimal::ZERO,
        tax: Decimal::ZERO,
        order_level: Decimal::ZERO,
        items: vec![],
        lines: vec![],
    };
    let remaining = o.total().inc_tax - o.refunded_amount;
    if let Some(t) = body.get("tax_adjustment_amount") {
        let amt = parse_money(t)
            .filter(|a| *a > Decimal::ZERO)
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "tax_adjustment_amount must be a positive amount.")
                    .field("tax_adjustment_amount", "invalid")
            })?;
        if amt > remaining {
            return Err(ApiError::unprocessable(
                V3,
                format!("The refund of {amt} exceeds the refundable {remaining}."),
            )
            .field("tax_adjustment_amount", "exceeds refundable amount"));
        }
        c.total = amt;
        c.tax = amt;
        c.items.push(json!({"item_type": "TAX", "item_id": o.id, "quantity": 0, "requested_amount": amt.round_dp(2).to_string(), "reason": ""}));
        return Ok(c);
    }
    let items = body
        .get("items")
        .and_then(Value::as_array)
        .filter(|i| !i.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(V3, "items is required and must be a non-empty array.")
                .field("items", "required")
        })?;
    let mut seen_qty: HashMap<u64, u32> = HashMap::new();
    let mut seen_amt: HashMap<(String, u64), Decimal> = HashMap::new();
    for (i, it) in items.iter().enumerate() {
        let at = |k: &str| format!("items.{i}.{k}");
        let kind = str_field(it, "item_type").ok_or_else(|| {
            ApiError::unprocessable(V3, "Each item needs item_type.")
                .field(&at("item_type"), "required")
        })?;
        let item_id = it
            .get("item_id")
            .and_then(|v| {
                v.as_u64().or_else(|| {
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                        .map(|f| f as u64)
                })
            })
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each item needs item_id.")
                    .field(&at("item_id"), "required")
            })?;
        let reason = str_field(it, "reason").unwrap_or_default();
        if reason.chars().count() > 1000 {
            return Err(
                ApiError::unprocessable(V3, "reason may be at most 1000 characters.")
                    .field(&at("reason"), "too long"),
            );
        }
        match kind {
            "PRODUCT" | "GIFT_WRAPPING" => {
                let q = it
                    .get("quantity")
                    .and_then(Value::as_u64)
                    .filter(|q| *q > 0)
                    .ok_or_else(|| {
                        ApiError::unprocessable(
                            V3,
                            "A quantity-bound item needs a positive quantity.",
                        )
                        .field(&at("quantity"), "required")
                    })? as u32;
                let line = o.lines.iter().find(|l| l.id == item_id).ok_or_else(|| {
                    ApiError::unprocessable(
                        V3,
                        format!("Order product {item_id} is not on order {}.", o.id),
                    )
                    .field(&at("item_id"), "invalid")
                })?;
                let (amount, tax) = if kind == "PRODUCT" {
                    let prior =
                        line.quantity_refunded + seen_qty.get(&item_id).copied().unwrap_or(0);
                    if prior + q > line.quantity {
                        return Err(ApiError::unprocessable(
                            V3,
                            format!(
                                "Only {} of order product {item_id} can still be refunded.",
                                line.quantity - prior.min(line.quantity)
                            ),
                        )
                        .field(&at("quantity"), "exceeds refundable quantity"));
                    }
                    *seen_qty.entry(item_id).or_default() += q;
                    let per_inc = line.discounted.inc_tax / Decimal::from(line.quantity);
                    let per_tax = line.discounted.tax / Decimal::from(line.quantity);
                    let mut amount = (per_inc * Decimal::from(q)).round_dp(2);
                    let tax = (per_tax * Decimal::from(q)).round_dp(2);
                    // Adjustments are negative amounts taken off the line's refund.
                    if let Some(adjs) = it.get("adjustments").and_then(Value::as_array) {
                        for (j, a) in adjs.iter().enumerate() {
                            let v = a
                                .get("amount")
                                .and_then(parse_money)
                                .filter(|v| *v < Decimal::ZERO)
                                .ok_or_else(|| {
                                    ApiError::unprocessable(
                                        V3,
                                        "Adjustments must be negative amounts.",
                                    )
                                    .field(
                                        &format!("items.{i}.adjustments.{j}.amount"),
                                        "must be < 0",
                                    )
                                })?;
                            amount += v;
                        }
                        if amount < Decimal::ZERO {
                            return Err(ApiError::unprocessable(
                                V3,
                                "Adjustments exceed the line refund.",
                            )
                            .field(&at("adjustments"), "too large"));
                        }
                    }
                    c.lines.push((item_id, q, amount));
                    (amount, tax)
                } else {
                    let (done, done_q) = refunded_of(store, o.id, "GIFT_WRAPPING", item_id);
                    let _ = done;
                    if line.wrapping.inc_tax.is_zero() || done_q + q > line.quantity {
                        return Err(ApiError::unprocessable(
                            V3,
                            format!("No refundable gift wrapping left on order product {item_id}."),
                        )
                        .field(&at("quantity"), "exceeds refundable quantity"));
                    }
                    let per = line.wrapping.inc_tax / Decimal::from(line.quantity);
                    let per_tax = line.wrapping.tax / Decimal::from(line.quantity);
                    (
                        (per * Decimal::from(q)).round_dp(2),
                        (per_tax * Decimal::from(q)).round_dp(2),
                    )
                };
                c.total += amount;
                c.tax += tax;
                c.items.push(json!({"item_type": kind, "item_id": item_id, "quantity": q, "requested_amount": amount.to_string(), "reason": reason}));
            }
            "SHIPPING" | "HANDLING" | "ORDER" => {
                let amount = it
                    .get("amount")
                    .and_then(parse_money)
                    .filter(|a| *a > Decimal::ZERO)
                    .ok_or_else(|| {
                        ApiError::unprocessable(V3, "An amount-bound item needs a positive amount.")
                            .field(&at("amount"), "required")
                    })?;
                let pending = seen_amt.entry((kind.to_string(), item_id)).or_default();
                let (cap, tax) = match kind {
                    "ORDER" => {
                        if item_id != o.id {
                            return Err(ApiError::unprocessable(
                                V3,
                                "An ORDER item's item_id must be the order id.",
                            )
                            .field(&at("item_id"), "invalid"));
                        }
                        // Tax-exempt order-level amount; tax is not recalculated.
                        (remaining, Decimal::ZERO)
                    }
                    _ => {
                        let a = o
                            .shipping_addresses
                            .iter()
                            .find(|a| a.id == item_id)
                            .ok_or_else(|| {
                                ApiError::unprocessable(
                                    V3,
                                    format!("Order address {item_id} is not on order {}.", o.id),
                                )
                                .field(&at("item_id"), "invalid")
                            })?;
                        let charge = if kind == "SHIPPING" {
                            a.cost
                        } else {
                            a.handling
                        };
                        let done = refunded_of(store, o.id, kind, item_id).0;
                        let tax = if charge.inc_tax.is_zero() {
                            Decimal::ZERO
                        } else {
                            (charge.tax * amount / charge.inc_tax).round_dp(2)
                        };
                        (charge.inc_tax - done, tax)
                    }
                };
                if *pending + amount > cap {
                    return Err(ApiError::unprocessable(
                        V3,
                        format!(
                            "The {kind} refund of {amount} exceeds the refundable {}.",
                            cap - *pending
                        ),
                    )
                    .field(&at("amount"), "exceeds refundable amount"));
                }
                *pending += amount;
                if kind == "ORDER" {
                    c.order_level += amount;
                }
                c.total += amount;
                c.tax += tax;
                c.items.push(json!({"item_type": kind, "item_id": item_id, "quantity": 0, "requested_amount": amount.to_string(), "reason": reason}));
            }
            "FEE" | "TAX" => {
                return Err(ApiError::unprocessable(
                    V3,
                    format!("The order has no refundable {kind} items."),
                )
                .field(&at("item_type"), "nothing to refund"));
            }
            other => {
                return Err(
                    ApiError::unprocessable(V3, format!("Unknown item_type {other}."))
                        .field(&at("item_type"), "invalid"),
                );
            }
        }
    }
    if c.total > remaining {
        return Err(ApiError::unprocessable(
            V3,
            format!(
                "The refund of {} exceeds the refundable {remaining}.",
                c.total
            ),
        )
        .field("items", "exceeds refundable amount"));
    }
    Ok(c)
}

/// The refund total BigCommerce would quote for `body` (used by the demo seed).
pub fn quote_total(store: &Store, order: u64, body: &Value) -> ApiResult<Decimal> {
    let o = store
        .orders
        .get(&order)
        .ok_or_else(|| ApiError::not_found(V3, "order"))?;
    Ok(compute(store, o, body)?.total)
}

fn quote_json(o: &Order, c: &Computed) -> Value {
    let method = |provider: &str, desc: &str, offline: bool| {
        json!([{"provider_id": provider, "provider_description": desc, "amount": num3(c.total),
                "offline": offline, "offline_provider": offline, "offline_reason": if offline { "This is an offline payment provider." } else { "" }}])
    };
    json!({
        "order_id": o.id,
        "total_refund_amount": num3(c.total),
        "total_refund_tax_amount": num3(c.tax),
        "order_level_refund_amount": num3(c.order_level),
        "rounding": 0,
        "adjustment": 0,
        "tax_inclusive": true,
        "refund_methods": [method(&provider_of(o), &o.payment_method, false), method("custom", "Custom", true)],
    })
}

fn provider_of(o: &Order) -> String {
    let p = o.payment_method.to_lowercase().replace(' ', "");
    if p.is_empty() { "custom".into() } else { p }
}

async fn quote(State(s): State<AppState>, Path(id): Path<String>, body: Bytes) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let store = s.data.lock();
    let id = order_id(&store, &id)?;
    let o = &store.orders[&id];
    let c = compute(&store, o, &body)?;
    Ok(json_response(
        StatusCode::CREATED,
        v3_one(quote_json(o, &c)),
    ))
}

/// Create a refund on `order`; used by the route and the demo seed.
pub fn refund(
    store: &mut Store,
    order: u64,
    body: &Value,
    now: DateTime<Utc>,
    events: &mut Events,
) -> ApiResult<u64> {
    let o = store
        .orders
        .get(&order)
        .filter(|o| !o.is_deleted)
        .ok_or_else(|| ApiError::not_found(V3, "order"))?;
    if matches!(o.status_id, 0 | 1 | 5 | 6 | 7) && o.payment_status != "captured" {
        return Err(ApiError::unprocessable(
            V3,
            format!(
                "Order {order} has no captured payment to refund (status {}).",
                status_name(o.status_id)
            ),
        ));
    }
    let mut c = compute(store, o, body)?;
    let mut overridden = false;
    if let Some(m) = body.get("merchant_calculated_override") {
        let total = m
            .get("total_amount")
            .and_then(parse_money)
            .filter(|t| *t > Decimal::ZERO)
            .ok_or_else(|| {
                ApiError::unprocessable(
                    V3,
                    "merchant_calculated_override needs total_amount and total_tax.",
                )
                .field("merchant_calculated_override.total_amount", "required")
            })?;
        let tax = m.get("total_tax").and_then(parse_money).ok_or_else(|| {
            ApiError::unprocessable(V3, "merchant_calculated_override needs total_tax.")
                .field("merchant_calculated_override.total_tax", "required")
        })?;
        if total > o.total().inc_tax - o.refunded_amount {
            return Err(ApiError::unprocessable(
                V3,
                "The override total exceeds the refundable amount.",
            )
            .field("merchant_calculated_override.total_amount", "too large"));
        }
        c.total = total;
        c.tax = tax;
        overridden = true;
    }
    let payments = body
        .get("payments")
        .and_then(Value::as_array)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable(
                V3,
                "payments is required: take one refund method from a refund quote.",
            )
            .field("payments", "required")
        })?;
    let mut parsed = Vec::new();
    for (i, p) in payments.iter().enumerate() {
        let provider = str_field(p, "provider_id")
            .filter(|x| !x.is_empty())
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each payment needs provider_id.")
                    .field(&format!("payments.{i}.provider_id"), "required")
            })?;
        let amount = p
            .get("amount")
            .and_then(parse_money)
            .filter(|a| *a > Decimal::ZERO)
            .ok_or_else(|| {
                ApiError::unprocessable(V3, "Each payment needs a positive amount.")
                    .field(&format!("payments.{i}.amount"), "required")
            })?;
        let offline = p.get("offline").and_then(Value::as_bool).unwrap_or(false);
        if !offline && provider != provider_of(o) {
            return Err(ApiError::unprocessable(V3, format!("Provider {provider} did not take part in this order; refund offline or with {}.", provider_of(o))).field(&format!("payments.{i}.provider_id"), "invalid"));
        }
        parsed.push((provider.to_string(), amount, offline));
    }
    let paid: Decimal = parsed.iter().map(|p| p.1).sum();
    if paid.round_dp(2) != c.total.round_dp(2) {
        return Err(ApiError::unprocessable(
            V3,
            format!(
                "The payments add up to {paid}, but the refund total is {}.",
                c.total.round_dp(2)
            ),
        )
        .field("payments", "amounts must match the refund total"));
    }
    let rid = store.next_id("refund", 1);
    let mut pays = Vec::new();
    for (provider, amount, offline) in parsed {
        let pid = store.next_id("refund_payment", 1);
        let tid = store.next_id("transaction", 1);
        store.transactions.insert(
            tid,
            Transaction {
                id: tid,
                order_id: order,
                event: "refund".into(),
                method: if offline {
                    "offline".into()
                } else {
                    "custom".into()
                },
                amount,
                currency: store.orders[&order].currency_code.clone(),
                // The spec's `gateway` is an enum of real gateways; the simulator's are all "custom".
                gateway: "custom".into(),
                gateway_transaction_id: format!("sim-refund-{rid}"),
                status: "ok".into(),
                date_created: now,
            },
        );
        pays.push((pid, provider, amount, offline));
    }
    let o = store.orders.get_mut(&order).expect("checked");
    for (line, q, amount) in &c.lines {
        if let Some(l) = o.lines.iter_mut().find(|l| l.id == *line) {
            l.quantity_refunded += q;
            l.refund_amount += amount;
        }
    }
    o.refunded_amount += c.total;
    o.date_modified = now;
    let full = o.refunded_amount >= o.total().inc_tax;
    o.payment_status = if full {
        "refunded"
    } else {
        "partially refunded"
    }
    .into();
    store.refunds.insert(
        rid,
        Refund {
            id: rid,
            order_id: order,
            reason: str_field(body, "reason").unwrap_or_default().into(),
            total_amount: c.total,
            total_tax: c.tax,
            uses_merchant_override_values: overridden,
            items: c.items,
            payments: pays,
            created: now,
        },
    );
    events.push((
        "store/order/refund/created".into(),
        json!({"type": "order", "id": order, "refund": {"refund_id": rid}}),
    ));
    set_status(store, order, if full { 4 } else { 14 }, now, events)?;
    events.push((
        "store/order/updated".into(),
        json!({"type": "order", "id": order}),
    ));
    Ok(rid)
}

/// `string_amounts`: `GET /v3/orders/payment_actions/refunds/{id}` (`RefundID_Get`) types
/// `items[].requested_amount` as a decimal string, while the list and create responses
/// (`RefundItem` → `Amount`) type it as a number; each endpoint answers as its schema says.
fn refund_json(r: &Refund, string_amounts: bool) -> Value {
    json!({
        "id": r.id, "order_id": r.order_id, "user_id": 0, "created": rfc3339(&r.created), "reason": r.reason,
        "total_amount": num3(r.total_amount), "total_tax": num3(r.total_tax),
        "uses_merchant_override_values": r.uses_merchant_override_values,
        "items": r.items.iter().map(|it| json!({
            "item_type": it["item_type"], "item_id": it["item_id"], "quantity": it["quantity"],
            "requested_amount": parse_money(&it["requested_amount"]).map(|a| if string_amounts { Value::String(format!("{:.2}", a)) } else { num3(a) }).unwrap_or(Value::Null), "reason": it["reason"],
        })).collect::<Vec<_>>(),
        "payments": r.payments.iter().map(|(id, provider, amount, offline)| json!({
            "id": id, "provider_id": provider, "amount": num3(*amount), "offline": offline,
            "is_declined": false, "declined_message": "",
        })).collect::<Vec<_>>(),
    })
}

async fn create_refund(
    State(s): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let mut store = s.data.lock();
    let id = order_id(&store, &id)?;
    let mut events = Events::new();
    let rid = refund(&mut store, id, &body, Utc::now(), &mut events)?;
    let v = refund_json(&store.refunds[&rid], false);
    emit_all(&s, events);
    Ok(json_response(StatusCode::CREATED, v3_one(v)))
}

async fn list_for_order(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let (page, limit) = Q::new(V3, &q).paging(50)?;
    let store = s.data.lock();
    let id = order_id(&store, &id)?;
    let hits: Vec<&Refund> = store
        .refunds
        .values()
        .filter(|r| r.order_id == id)
        .collect();
    Ok(v3_paged(&hits, page, limit, |r| refund_json(r, false)))
}

async fn list_all(
    State(s): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let orders = q.nums("order_id:in")?;
    let ids = q.nums("id:in")?;
    let min = q.date("created:min")?;
    let max = q.date("created:max")?;
    let store = s.data.lock();
    let hits: Vec<&Refund> = store
        .refunds
        .values()
        .filter(|r| orders.as_ref().is_none_or(|o| o.contains(&r.order_id)))
        .filter(|r| ids.as_ref().is_none_or(|i| i.contains(&r.id)))
        .filter(|r| min.is_none_or(|d| r.created >= d))
        .filter(|r| max.is_none_or(|d| r.created <= d))
        .collect();
    Ok(v3_paged(&hits, page, limit, |r| refund_json(r, false)))
}

async fn get_refund(State(s): State<AppState>, Path(rid): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let r = rid
        .parse::<u64>()
        .ok()
        .and_then(|r| store.refunds.get(&r))
        .ok_or_else(|| ApiError::not_found(V3, "refund"))?;
    Ok(json_response(StatusCode::OK, v3_one(refund_json(r, true))))
}

/// Transactions answer 204 when there are none (NOTES §7.1).
async fn transactions(State(s): State<AppState>, Path(id): Path<String>) -> ApiResult {
    let store = s.data.lock();
    let id = order_id(&store, &id)?;
    let list: Vec<Value> = store
        .transactions
        .values()
        .filter(|t| t.order_id == id)
        .map(|t| {
            json!({"id": t.id, "order_id": t.order_id.to_string(), "event": t.event, "method": t.method, "amount": num3(t.amount),
                   "currency": t.currency, "gateway": t.gateway, "gateway_transaction_id": t.gateway_transaction_id,
                   "status": t.status, "test": true, "fraud_review": false,
                   "date_created": rfc3339(&t.date_created), "avs_result": {}, "cvv_result": {},
                   "offline": {"display_name": t.gateway}})
        })
        .collect();
    if list.is_empty() {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let n = list.len();
    Ok(json_response(StatusCode::OK, v3_page(list, n, 1, n.max(1))))
}

fn metafield_json(m: &Metafield) -> Value {
    json!({
        "id": m.id, "key": m.key, "value": m.value, "namespace": m.namespace, "permission_set": m.permission_set,
        "resource_type": "order", "resource_id": m.resource_id, "description": m.description,
        "date_created": rfc3339(&m.date_created), "date_modified": rfc3339(&m.date_modified), "owner_client_id": m.owner_client_id,
    })
}

const PERMISSIONS: [&str; 5] = [
    "app_only",
    "read",
    "write",
    "read_and_sf_access",
    "write_and_sf_access",
];

async fn list_metafields(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let q = Q::new(V3, &q);
    let (page, limit) = q.paging(50)?;
    let key = q.str("key");
    let ns = q.str("namespace");
    let store = s.data.lock();
    let id = order_id(&store, &id)?;
    let hits: Vec<&Metafield> = store
        .metafields
        .of_order(id)
        .filter(|m| key.is_none_or(|k| m.key == k))
        .filter(|m| ns.is_none_or(|n| m.namespace == n))
        .collect();
    Ok(v3_paged(&hits, page, limit, metafield_json))
}

fn check_len(body: &Value, k: &str, max: usize, required: bool) -> ApiResult<Option<String>> {
    match body.get(k) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(s)) if !s.is_empty() || !required => {
            if s.chars().count() > max {
                Err(
                    ApiError::unprocessable(V3, format!("{k} may be at most {max} characters."))
                        .field(k, "too long"),
                )
            } else {
                Ok(Some(s.clone()))
            }
        }
        _ => Err(
            ApiError::unprocessable(V3, format!("{k} is required and must be a string."))
                .field(k, "required"),
        ),
    }
}

async fn create_metafield(
    State(s): State<AppState>,
    Extension(client): Extension<ClientId>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let namespace = check_len(&body, "namespace", 64, true)?.expect("required");
    let key = check_len(&body, "key", 64, true)?.expect("required");
    let value = check_len(&body, "value", 65535, true)?.expect("required");
    let description = check_len(&body, "description", 255, false)?.unwrap_or_default();
    let permission = str_field(&body, "permission_set").ok_or_else(|| {
        ApiError::unprocessable(V3, "permission_set is required.")
            .field("permission_set", "required")
    })?;
    if !PERMISSIONS.contains(&permission) {
        return Err(ApiError::unprocessable(V3, "permission_set is invalid.")
            .field("permission_set", "invalid"));
    }
    let mut store = s.data.lock();
    let oid = order_id(&store, &id)?;
    if store
        .metafields
        .of_order(oid)
        .any(|m| m.owner_client_id == client.0 && m.namespace == namespace && m.key == key)
    {
        return Err(ApiError::conflict(
            V3,
            "A metafield with this namespace and key exists on the order.",
        )
        .field("key", "duplicate"));
    }
    if store
        .metafields
        .of_order(oid)
        .filter(|m| m.owner_client_id == client.0)
        .count()
        >= 250
    {
        return Err(ApiError::unprocessable(
            V3,
            "At most 250 metafields per order and client.",
        ));
    }
    let mid = store.next_id("metafield", 1);
    let now = Utc::now();
    let m = Metafield {
        id: mid,
        resource_id: oid,
        namespace,
        key,
        value,
        permission_set: permission.into(),
        description,
        owner_client_id: client.0.clone(),
        date_created: now,
        date_modified: now,
    };
    let v = metafield_json(&m);
    store.metafields.insert(m);
    s.webhooks.emit(
        "store/order/metafield/created",
        json!({"metafield_id": mid, "resource_id": oid.to_string()}),
    );
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

fn metafield_id(store: &Store, oid: u64, mid: &str) -> ApiResult<u64> {
    mid.parse::<u64>()
        .ok()
        .filter(|m| {
            store
                .metafields
                .get(m)
                .is_some_and(|m| m.resource_id == oid)
        })
        .ok_or_else(|| ApiError::not_found(V3, "metafield"))
}

async fn get_metafield(
    State(s): State<AppState>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let store = s.data.lock();
    let oid = order_id(&store, &id)?;
    let mid = metafield_id(&store, oid, &mid)?;
    Ok(json_response(
        StatusCode::OK,
        v3_one(metafield_json(&store.metafields[&mid])),
    ))
}

async fn update_metafield(
    State(s): State<AppState>,
    Path((id, mid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = parse_body(V3, &body)?;
    let value = check_len(&body, "value", 65535, false)?;
    let description = check_len(&body, "description", 255, false)?;
    let permission = match str_field(&body, "permission_set") {
        Some(p) if PERMISSIONS.contains(&p) => Some(p.to_string()),
        Some(_) => {
            return Err(ApiError::unprocessable(V3, "permission_set is invalid.")
                .field("permission_set", "invalid"));
        }
        None => None,
    };
    let mut store = s.data.lock();
    let oid = order_id(&store, &id)?;
    let mid = metafield_id(&store, oid, &mid)?;
    let m = store.metafields.get_mut(&mid).expect("checked");
    if let Some(v) = value {
        m.value = v;
    }
    if let Some(d) = description {
        m.description = d;
    }
    if let Some(p) = permission {
        m.permission_set = p;
    }
    m.date_modified = Utc::now();
    let v = metafield_json(m);
    s.webhooks.emit(
        "store/order/metafield/updated",
        json!({"metafield_id": mid, "resource_id": oid.to_string()}),
    );
    Ok(json_response(StatusCode::OK, v3_one(v)))
}

async fn delete_metafield(
    State(s): State<AppState>,
    Path((id, mid)): Path<(String, String)>,
) -> ApiResult {
    let mut store = s.data.lock();
    let oid = order_id(&store, &id)?;
    let mid = metafield_id(&store, oid, &mid)?;
    store.metafields.remove(&mid);
    s.webhooks.emit(
        "store/order/metafield/deleted",
        json!({"metafield_id": mid, "resource_id": oid.to_string()}),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
