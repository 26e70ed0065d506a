//! Visma Connect `client_credentials` token endpoint and bearer-token checks. A token is bound
//! to the one company (tenant) it was requested for and to the client that requested it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;

use super::Sim;
use super::error::ErpError;

const SERVICE_SCOPES: [&str; 4] = [
    "vismanet_erp_service_api:read",
    "vismanet_erp_service_api:create",
    "vismanet_erp_service_api:update",
    "vismanet_erp_service_api:delete",
];

#[derive(Debug, Clone)]
pub struct Token {
    pub company: usize,
    pub client_id: String,
    pub expires_at: Instant,
    pub scopes: Vec<String>,
}

/// Who is calling: the company the token is bound to and the client application.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub company: usize,
    pub client_id: String,
}

pub fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/connect/token", post(token))
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /connect/token` with a form body: `grant_type=client_credentials`, `client_id`,
/// `client_secret` (or HTTP Basic), `scope` (optional), `tenant_id` (required).
async fn token(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: String) -> Response {
    sim.stats.count_token_request();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the token request must be application/x-www-form-urlencoded",
        );
    }
    let form: HashMap<String, String> = form_urlencoded(&body);
    let (mut client_id, mut client_secret) = (
        form.get("client_id").cloned(),
        form.get("client_secret").cloned(),
    );
    if let Some((id, secret)) = basic_auth(&headers) {
        client_id = Some(id);
        client_secret = Some(secret);
    }
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other:?} is not supported here; use client_credentials"),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is missing",
            );
        }
    }
    let (Some(client_id), Some(client_secret)) = (client_id, client_secret) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "client_id and client_secret are required",
        );
    };
    let known = sim.clients.iter().any(|c| {
        c.client_id == client_id && subtle_eq(c.client_secret.as_bytes(), client_secret.as_bytes())
    });
    if !known {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "unknown client or wrong secret",
        );
    }
    let Some(tenant_id) = form.get("tenant_id").filter(|t| !t.is_empty()) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "tenant_id is required for service integrations",
        );
    };
    let company = {
        let state = sim.state.lock();
        state
            .companies
            .iter()
            .position(|c| c.tenant_id.eq_ignore_ascii_case(tenant_id))
    };
    let Some(company) = company else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            &format!("tenant {tenant_id} is unknown or has not activated this application"),
        );
    };
    let requested: Vec<String> = form
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let scopes: Vec<String> = if requested.is_empty() {
        SERVICE_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        requested
    };
    if let Some(bad) = scopes.iter().find(|s| !is_known_scope(s)) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("scope {bad:?} is not configured for this application"),
        );
    }
    let access_token = format!(
        "vsim.{}",
        uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string()
    );
    let expires_in = sim.token_ttl.as_secs().max(1);
    sim.tokens.lock().insert(
        access_token.clone(),
        Token {
            company,
            client_id,
            expires_at: Instant::now() + sim.token_ttl,
            scopes: scopes.clone(),
        },
    );
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scopes.join(" "),
    }))
    .into_response()
}

fn is_known_scope(s: &str) -> bool {
    SERVICE_SCOPES.contains(&s)
        || s.starts_with("vismanet_erp_interactive_api:")
        || s.starts_with("visma.net.erp.salesorder")
}

/// Secret comparison. A simulator needs no constant-time compare; plain equality is enough.
fn subtle_eq(a: &[u8], b: &[u8]) -> bool {
    a == b
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((percent_decode(id), percent_decode(secret)))
}

fn form_urlencoded(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'+' {
            out.push(b' ');
        } else if b == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(hi * 16 + lo);
            i += 2;
        } else {
            out.push(b);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Which scope an ERP call needs.
fn needed_scope(method: &Method) -> &'static str {
    match *method {
        Method::GET | Method::HEAD => "read",
        Method::POST => "create",
        Method::PUT | Method::PATCH => "update",
        Method::DELETE => "delete",
        _ => "read",
    }
}

/// Checks the bearer token of an API request.
pub fn authenticate(
    sim: &Sim,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Ctx, ErpError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            ErpError::unauthorized(
                "Authorization has been denied for this request: no bearer token.",
            )
        })?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| {
            ErpError::unauthorized(
                "Authorization has been denied for this request: expected a Bearer token.",
            )
        })?
        .trim();
    // Checked under the lock: no copy of the token's scopes per request.
    let tokens = sim.tokens.lock();
    let entry = tokens.get(token).ok_or_else(|| {
        ErpError::unauthorized("Authorization has been denied for this request: unknown token.")
    })?;
    if Instant::now() >= entry.expires_at {
        return Err(ErpError::unauthorized(
            "Authorization has been denied for this request: the access token has expired.",
        ));
    }
    // SalesOrders v3 has its own scopes; only the ERP monolith's service scopes are enforced.
    if !path.starts_with("/salesorder/") {
        let action = needed_scope(method);
        let ok = entry.scopes.iter().any(|s| {
            s.rsplit_once(':').map(|(_, a)| a) == Some(action)
                && (s.starts_with("vismanet_erp_service_api:")
                    || s.starts_with("vismanet_erp_interactive_api:"))
        });
        if !ok {
            return Err(ErpError::new(
                StatusCode::FORBIDDEN,
                "12028",
                format!("The access token lacks the '{action}' scope needed for {method} {path}."),
            ));
        }
    }
    Ok(Ctx {
        company: entry.company,
        client_id: entry.client_id.clone(),
    })
}
