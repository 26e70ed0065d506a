//! Admin API (not part of BigCommerce): fault injection and statistics. Needs the same
//! `X-Auth-Token` as the store API and is exempt from the quota and from injected faults.
//!
//! - `GET /__admin/faults` → current settings
//! - `POST /__admin/faults` with `{latency_ms, error_ratio, burst_429, drop_webhooks_ratio,
//!   duplicate_webhooks_ratio, reset_ratio}` (all optional, default 0) → replaces the settings
//! - `DELETE /__admin/faults` → clears them
//! - `GET /__admin/stats` → request, 429 and webhook counters
//! - `PUT /__admin/quota` with `{quota: n | null, window_ms?}` → changes the store quota at
//!   run time (the current window restarts)
//! - `POST /__admin/orders/generate` with `{count, status_id?, channel_id?}` → creates `count`
//!   orders (custom product, 2 × 125.00 incl. VAT + 49.00 shipping) without using the quota;
//!   fires `store/order/created` for each, like `POST /v2/orders`
//! - `POST /__admin/orders/checkout` with a `POST /v2/orders` body plus an optional
//!   `coupon_code` → places the order as the storefront checkout would: the coupon (one the
//!   merchant set up, see `GET /__admin/coupons`) is redeemed and spread over the lines like
//!   production does, `order_source` is `www`; answers the v2 order (201) and fires the same
//!   webhooks as `POST /v2/orders`. Not part of BigCommerce's API: its order API cannot
//!   redeem coupons (NOTES §6.4). Counts against no quota.
//! - `GET /__admin/coupons` → the coupons set up in the store (code, name, type, amount)
//! - `POST /__admin/accounts` → a second API account `{auth_token, client_id}` on the same
//!   store (shares the quota; owns its own hooks and metafields)

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

use super::AppState;
use super::http::*;
use super::limits::Faults;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/__admin/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/__admin/stats", get(stats))
        .route("/__admin/accounts", axum::routing::post(create_account))
        .route("/__admin/quota", axum::routing::put(set_quota))
        .route(
            "/__admin/orders/generate",
            axum::routing::post(generate_orders),
        )
        .route(
            "/__admin/orders/checkout",
            axum::routing::post(checkout_order),
        )
        .route("/__admin/coupons", get(list_coupons))
}

async fn checkout_order(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let mut body = parse_body(Api::V2, &body)?;
    let code = match body.as_object_mut().and_then(|o| o.remove("coupon_code")) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(c)) => Some(c),
        Some(_) => {
            return Err(
                ApiError::bad_request(Api::V2, "coupon_code must be a string.")
                    .field("coupon_code", "expected a string"),
            );
        }
    };
    let mut store = s.data.lock();
    let mut events = super::orders::Events::new();
    let id = super::orders::checkout(
        &mut store,
        &body,
        code.as_deref(),
        chrono::Utc::now(),
        &mut events,
    )?;
    let resp = json_body(
        StatusCode::CREATED,
        &super::views::order_v2(&store.orders[&id], &s.base_url),
    );
    drop(store);
    super::orders::emit_all(&s, events);
    Ok(resp)
}

async fn list_coupons(State(s): State<AppState>) -> ApiResult {
    let store = s.data.lock();
    let list: Vec<serde_json::Value> = store
        .coupons
        .iter()
        .map(|c| {
            json!({"id": c.id, "name": c.name, "code": c.code, "type": c.kind,
                   "amount": money2(c.amount), "enabled": c.enabled})
        })
        .collect();
    Ok(json_response(StatusCode::OK, json!(list)))
}

async fn get_faults(State(s): State<AppState>) -> ApiResult {
    let f = s.faults.lock().clone();
    Ok(json_response(StatusCode::OK, json!(f)))
}

async fn set_faults(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let v = parse_body(Api::V3, &body)?;
    let f: Faults = serde_json::from_value(v)
        .map_err(|e| ApiError::unprocessable(Api::V3, format!("Invalid faults: {e}")))?;
    f.validate()
        .map_err(|e| ApiError::unprocessable(Api::V3, e))?;
    *s.faults.lock() = f.clone();
    Ok(json_response(StatusCode::OK, json!(f)))
}

async fn clear_faults(State(s): State<AppState>) -> StatusCode {
    *s.faults.lock() = Faults::default();
    StatusCode::NO_CONTENT
}

async fn stats(State(s): State<AppState>) -> ApiResult {
    Ok(json_response(StatusCode::OK, s.stats.snapshot()))
}

async fn create_account(State(s): State<AppState>) -> ApiResult {
    let mut accounts = s.accounts.lock();
    let n = accounts.len() + 1;
    let token = format!("{}{n}", uuid::Uuid::new_v4().simple());
    let client_id = format!("simclient{n}");
    accounts.push(super::Account {
        token: token.clone(),
        client_id: client_id.clone(),
    });
    Ok(json_response(
        StatusCode::CREATED,
        json!({"auth_token": token, "client_id": client_id}),
    ))
}

async fn set_quota(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let v = parse_body(Api::V3, &body)?;
    let quota = match v.get("quota") {
        Some(serde_json::Value::Null) => None,
        Some(q) => Some(
            q.as_u64()
                .filter(|q| *q > 0 && *q <= u64::from(u32::MAX))
                .ok_or_else(|| {
                    ApiError::unprocessable(Api::V3, "quota must be a positive integer or null.")
                        .field("quota", "invalid")
                })? as u32,
        ),
        None => {
            return Err(
                ApiError::unprocessable(Api::V3, "quota is required (null = unlimited).")
                    .field("quota", "required"),
            );
        }
    };
    let mut w = s.window.lock();
    let window = match v.get("window_ms") {
        None => w.length,
        Some(ms) => {
            std::time::Duration::from_millis(ms.as_u64().filter(|m| *m > 0).ok_or_else(|| {
                ApiError::unprocessable(Api::V3, "window_ms must be a positive integer.")
                    .field("window_ms", "invalid")
            })?)
        }
    };
    *w = super::limits::Window::new(quota, window);
    Ok(json_response(
        StatusCode::OK,
        json!({"quota": quota, "window_ms": window.as_millis() as u64}),
    ))
}

async fn generate_orders(State(s): State<AppState>, body: Bytes) -> ApiResult {
    let v = parse_body(Api::V3, &body)?;
    let count = v
        .get("count")
        .and_then(serde_json::Value::as_u64)
        .filter(|c| *c > 0 && *c <= 100_000)
        .ok_or_else(|| {
            ApiError::unprocessable(Api::V3, "count must be between 1 and 100000.")
                .field("count", "invalid")
        })?;
    let status = v
        .get("status_id")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(11);
    let channel = v
        .get("channel_id")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(1);
    let mut store = s.data.lock();
    let mut ids = Vec::new();
    let mut events = super::orders::Events::new();
    for i in 0..count {
        let addr = json!({"first_name": "Gen", "last_name": format!("Buyer {i}"), "street_1": "Testgatan 1", "city": "Stockholm",
                          "zip": "11122", "country": "Sweden", "country_iso2": "SE", "email": format!("gen{i}@example.se")});
        let order = json!({"status_id": status, "channel_id": channel, "billing_address": addr, "shipping_addresses": [addr],
                           "products": [{"name": "Generated item", "sku": "GEN-1", "quantity": 2, "price_inc_tax": "125.00", "price_ex_tax": "100.00"}],
                           "shipping_cost_inc_tax": "49.00", "shipping_cost_ex_tax": "39.20"});
        ids.push(
            super::orders::create(&mut store, &order, chrono::Utc::now(), &mut events)
                .map_err(|e| ApiError::unprocessable(Api::V3, format!("order {i}: {}", e.title)))?,
        );
    }
    drop(store);
    super::orders::emit_all(&s, events);
    Ok(json_response(
        StatusCode::CREATED,
        json!({"count": ids.len(), "first_id": ids.first(), "last_id": ids.last()}),
    ))
}
