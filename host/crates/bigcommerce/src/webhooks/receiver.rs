//! The webhook receiver: authenticate, parse, store durably, answer. Nothing else happens in
//! the request, so BigCommerce gets its 2xx quickly, and only once the event is safe.

use crate::models::WebhookPayload;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use ledgerlink_core::{EventSink, InboundEvent, StoreOutcome};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Thin payloads are a few hundred bytes; anything near this is not BigCommerce.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

#[derive(Clone)]
pub struct ReceiverConfig {
    /// Route the router serves (POST), e.g. `/webhooks/bigcommerce`.
    pub path: String,
    /// The custom header registered with each hook, and its secret value.
    pub secret_header: String,
    pub secret: String,
    /// `InboundEvent::source`, e.g. `bigcommerce:<store_hash>`.
    pub source: String,
    pub max_body_bytes: usize,
}

impl ReceiverConfig {
    pub fn new(
        secret_header: impl Into<String>,
        secret: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Self {
            path: "/webhooks/bigcommerce".to_owned(),
            secret_header: secret_header.into(),
            secret: secret.into(),
            source: source.into(),
            max_body_bytes: DEFAULT_MAX_BODY,
        }
    }
}

impl std::fmt::Debug for ReceiverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverConfig")
            .field("path", &self.path)
            .field("secret_header", &self.secret_header)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

struct ReceiverState {
    cfg: ReceiverConfig,
    secret_digest: [u8; 32],
    sink: Arc<dyn EventSink>,
}

/// An axum router that accepts BigCommerce deliveries at `cfg.path`.
pub fn webhook_router(cfg: ReceiverConfig, sink: Arc<dyn EventSink>) -> Router {
    let secret_digest = Sha256::digest(cfg.secret.as_bytes()).into();
    let path = cfg.path.clone();
    let state = Arc::new(ReceiverState {
        cfg,
        secret_digest,
        sink,
    });
    Router::new().route(&path, post(receive)).with_state(state)
}

fn status(code: StatusCode) -> Response {
    // BigCommerce wants no response body.
    code.into_response()
}

/// What makes a delivery a copy of one already stored. Copies of one event (retries, or one
/// event sent to an exact hook and a wildcard hook of ours) carry the same `hash`
/// (NOTES §5.2). The hash is documented as the SHA-1 of the payload *data*, and an order's
/// `store/order/updated` data is only `{type, id}`: two different updates of one order may
/// carry the same hash, so the scope and the event time are part of the key too.
fn dedupe_key(payload: &WebhookPayload) -> String {
    format!(
        "{}|{}|{}",
        payload.hash,
        payload.scope,
        payload.created_at.unwrap_or_default()
    )
}

async fn receive(State(st): State<Arc<ReceiverState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    // Comparing digests keeps the comparison constant-time in the length too.
    let presented = parts
        .headers
        .get(st.cfg.secret_header.as_str())
        .map(|v| Sha256::digest(v.as_bytes()));
    let authorised = presented
        .map(|d| bool::from(d.as_slice().ct_eq(&st.secret_digest)))
        .unwrap_or(false);
    if !authorised {
        tracing::warn!(
            header = %st.cfg.secret_header,
            present = parts.headers.contains_key(st.cfg.secret_header.as_str()),
            "webhook refused: missing or wrong secret header"
        );
        return status(StatusCode::UNAUTHORIZED);
    }
    let declared_len = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared_len.is_some_and(|n| n > st.cfg.max_body_bytes) {
        tracing::warn!(len = ?declared_len, "webhook refused: body too large");
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let bytes = match axum::body::to_bytes(body, st.cfg.max_body_bytes).await {
        Ok(b) => b,
        Err(e) => {
            // Fails on the limit (a chunked body without length) or a broken connection;
            // both store nothing.
            let too_large = format!("{e:?} {e}").contains("length limit");
            tracing::warn!(error = %e, too_large, "webhook refused: body not read");
            return status(if too_large {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            });
        }
    };
    let raw: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            tracing::warn!(error = %e, len = bytes.len(), "webhook refused: malformed JSON");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    let payload: WebhookPayload = match serde_json::from_value(raw.clone()) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "webhook refused: not a BigCommerce callback");
            return status(StatusCode::BAD_REQUEST);
        }
    };
    if payload.hash.trim().is_empty() || payload.scope.trim().is_empty() {
        tracing::warn!("webhook refused: empty hash or scope");
        return status(StatusCode::BAD_REQUEST);
    }
    let event = InboundEvent {
        source: st.cfg.source.clone(),
        dedupe_key: dedupe_key(&payload),
        scope: payload.scope.clone(),
        subject: payload.subject(),
        // The body only: the secret travels in a header and is never stored.
        payload: raw,
        received_at: Utc::now(),
    };
    match st.sink.store(event).await {
        Ok(StoreOutcome::Stored) => {
            tracing::debug!(scope = %payload.scope, hash = %payload.hash, "webhook stored");
            status(StatusCode::OK)
        }
        Ok(StoreOutcome::Duplicate) => {
            tracing::debug!(scope = %payload.scope, hash = %payload.hash, "duplicate webhook");
            status(StatusCode::OK)
        }
        Err(e) => {
            // 5xx makes BigCommerce deliver again later.
            tracing::error!(error = %e, scope = %payload.scope, "webhook not stored");
            status(StatusCode::SERVICE_UNAVAILABLE)
        }
    }
}

#[cfg(test)]
mod dedupe_tests {
    use super::*;

    fn payload(scope: &str, created_at: i64) -> WebhookPayload {
        serde_json::from_value(serde_json::json!({
            "scope": scope, "store_id": "1025646", "producer": "stores/abc",
            "hash": "352e4afc6dd3fc85ea26bfdf3f91852604d57528", "created_at": created_at,
            "data": {"type": "order", "id": 250},
        }))
        .unwrap()
    }

    #[test]
    fn copies_of_one_event_share_a_key_and_later_events_with_the_same_data_do_not() {
        let first = payload("store/order/updated", 1_561_482_670);
        assert_eq!(dedupe_key(&first), dedupe_key(&first.clone()));
        // The same data hashed alike: a later update, or another event of the order.
        assert_ne!(
            dedupe_key(&first),
            dedupe_key(&payload("store/order/updated", 1_561_482_671))
        );
        assert_ne!(
            dedupe_key(&first),
            dedupe_key(&payload("store/order/archived", 1_561_482_670))
        );
    }
}
