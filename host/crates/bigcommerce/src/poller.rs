//! The order poller, the backstop for missed webhooks: lists orders modified since a stored
//! watermark and stores one event per (order, date_modified) in the same inbox as webhooks.
//!
//! Dedupe keys: a webhook is keyed by its `hash`, a polled change by
//! `order:<id>:<date_modified>:<digest>`, where the digest covers the order as listed:
//! `date_modified` has one-second precision, so two changes within one second would otherwise
//! share a key and the second would be dropped as a duplicate. The two cannot be made equal without fetching the order
//! inside the webhook request (which must do nothing but store), so one change seen by both
//! sources is stored twice, as two events with the same `subject` (`order:<id>`). Both mean
//! "bring order <id> to its current state": the consumer fetches the order and compares
//! `date_modified` with the version it last synced, so the second one is a cheap no-op.
//! Repeated polls of the same version (overlap, restarts) are exact duplicates and are
//! dropped by the inbox.

use crate::client::Client;
use crate::de::format_v2_date;
use crate::error::Error;
use crate::models::{Order, OrderFilter};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use ledgerlink_core::{EventSink, InboundEvent, SinkError, StoreOutcome, Watermarks};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PollerConfig {
    /// `InboundEvent::source`; must equal the webhook receiver's so both share one inbox.
    pub source: String,
    /// Watermark name, e.g. `bigcommerce:<store_hash>:orders`.
    pub watermark: String,
    /// Re-read this much before the watermark to cover clock skew and late commits.
    pub overlap: Duration,
    /// Where to start when no watermark is stored yet: this long before now.
    pub initial_lookback: Duration,
    pub page_limit: u32,
}

impl PollerConfig {
    pub fn new(source: impl Into<String>, watermark: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            watermark: watermark.into(),
            overlap: Duration::from_secs(120),
            initial_lookback: Duration::from_secs(24 * 3600),
            page_limit: 250,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("listing orders failed: {0}")]
    Api(#[from] Error),
    #[error(transparent)]
    Store(#[from] SinkError),
    #[error("stored watermark {0:?} is not an RFC-3339 date")]
    BadWatermark(String),
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollReport {
    pub since: Option<DateTime<Utc>>,
    pub seen: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// The watermark after the pass.
    pub watermark: Option<DateTime<Utc>>,
}

pub struct OrderPoller {
    client: Client,
    sink: Arc<dyn EventSink>,
    marks: Arc<dyn Watermarks>,
    cfg: PollerConfig,
}

/// The event a polled order change becomes; shaped like a webhook so consumers treat both
/// alike.
pub fn order_event(source: &str, order: &Order) -> InboundEvent {
    let modified = order.date_modified.to_rfc3339();
    // Serialising the typed order is deterministic (fields in declaration order, `extra`
    // sorted by key), so an unchanged order always yields the same digest.
    let json = serde_json::to_vec(order).unwrap_or_default();
    let digest = hex_prefix(&Sha256::digest(&json), 8);
    InboundEvent {
        source: source.to_owned(),
        dedupe_key: format!("order:{}:{}:{}", order.id, modified, digest),
        scope: "store/order/updated".to_owned(),
        subject: format!("order:{}", order.id),
        payload: serde_json::json!({
            "scope": "store/order/updated",
            "data": {"type": "order", "id": order.id.0},
            "producer": "ledgerlink/poller",
            "date_modified": format_v2_date(&order.date_modified),
            "status_id": order.status_id,
        }),
        received_at: Utc::now(),
    }
}

fn hex_prefix(bytes: &[u8], n: usize) -> String {
    bytes.iter().take(n).map(|b| format!("{b:02x}")).collect()
}

impl OrderPoller {
    pub fn new(
        client: Client,
        sink: Arc<dyn EventSink>,
        marks: Arc<dyn Watermarks>,
        cfg: PollerConfig,
    ) -> Self {
        Self {
            client,
            sink,
            marks,
            cfg,
        }
    }

    async fn watermark(&self) -> Result<Option<DateTime<Utc>>, PollError> {
        match self.marks.get(&self.cfg.watermark).await? {
            None => Ok(None),
            Some(s) => DateTime::parse_from_rfc3339(&s)
                .map(|d| Some(d.with_timezone(&Utc)))
                .map_err(|_| PollError::BadWatermark(s)),
        }
    }

    /// One pass: every order modified since (watermark − overlap), oldest id first. The
    /// watermark moves to the newest `date_modified` seen, and only after every event of
    /// the pass was stored; a failure leaves it where it was so the next pass re-reads.
    pub async fn poll_once(&self) -> Result<PollReport, PollError> {
        let stored_mark = self.watermark().await?;
        let since = match stored_mark {
            Some(m) => m - self.cfg.overlap,
            None => Utc::now() - self.cfg.initial_lookback,
        };
        let filter = OrderFilter {
            min_date_modified: Some(since),
            // Id order is stable while orders change during the pass (a date sort would
            // move a modified order to the end and shift the pages under us).
            sort: Some("id:asc".to_owned()),
            ..Default::default()
        };
        let mut report = PollReport {
            since: Some(since),
            ..Default::default()
        };
        let mut newest = stored_mark;
        let mut pages = self.client.orders(&filter, self.cfg.page_limit);
        while let Some(page) = pages.try_next().await? {
            for order in page {
                report.seen += 1;
                match self
                    .sink
                    .store(order_event(&self.cfg.source, &order))
                    .await?
                {
                    StoreOutcome::Stored => report.stored += 1,
                    StoreOutcome::Duplicate => report.duplicates += 1,
                }
                if newest.is_none_or(|n| order.date_modified > n) {
                    newest = Some(order.date_modified);
                }
            }
        }
        if newest != stored_mark
            && let Some(n) = newest
        {
            self.marks.set(&self.cfg.watermark, &n.to_rfc3339()).await?;
        }
        report.watermark = newest;
        Ok(report)
    }

    /// Polls every `interval` until `shutdown` resolves. A failed pass is logged and retried
    /// at the next tick; it never stops the loop.
    pub async fn run(self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {
                    match self.poll_once().await {
                        Ok(r) => tracing::debug!(seen = r.seen, stored = r.stored, "order poll done"),
                        Err(e) => tracing::warn!(error = %e, "order poll failed"),
                    }
                }
            }
        }
    }
}
