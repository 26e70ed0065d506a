//! The boundary between sources (webhook receiver, poller) and the durable inbox. Sources
//! only know this trait; the store implements it. An event is acknowledged to its sender only
//! after `EventSink::store` returned `Ok`, so nothing acknowledged can be lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::pin::Pin;

/// One incoming event, as received, before any interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboundEvent {
    /// Where it came from, e.g. `bigcommerce:<store_hash>` or `visma:<tenant>`.
    pub source: String,
    /// Unique per source: the webhook `hash`, or a poller-made key such as
    /// `order:<id>:<date_modified>`. A second event with the same (source, key) is a duplicate.
    pub dedupe_key: String,
    /// The event kind, e.g. `store/order/created`.
    pub scope: String,
    /// The resource the event is about, used to order events of one resource (e.g. `order:123`).
    pub subject: String,
    /// The event body as received (for webhooks the thin payload, secrets removed).
    pub payload: serde_json::Value,
    pub received_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreOutcome {
    Stored,
    Duplicate,
}

#[derive(Debug, thiserror::Error)]
#[error("could not store event: {0}")]
pub struct SinkError(pub String);

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Durable storage of incoming events. Implementations must have persisted the event
/// (or found it already there) before returning `Ok`.
pub trait EventSink: Send + Sync + 'static {
    fn store(&self, event: InboundEvent) -> BoxFuture<'_, Result<StoreOutcome, SinkError>>;
}

/// Durable named watermarks (e.g. the poller's "orders modified since").
pub trait Watermarks: Send + Sync + 'static {
    fn get(&self, name: &str) -> BoxFuture<'_, Result<Option<String>, SinkError>>;
    fn set(&self, name: &str, value: &str) -> BoxFuture<'_, Result<(), SinkError>>;
}
