//! Admin API (not part of BigCommerce): fault injection and statistics. Needs the same
//! `X-Auth-Token` as the store API and is exempt from the quota and from injected faults.
//!
//! - `GET /__admin/faults` → current settings
//! - `POST /__admin/faults` with `{latency_ms, error_ratio, burst_429, drop_webhooks_ratio,
//!   duplicate_webhooks_ratio, reset_ratio}` (all optional, default 0) → replaces the settings
//! - `DELETE /__admin/faults` → clears them
//! - `GET /__admin/stats` → request, 429 and webhook counters
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
