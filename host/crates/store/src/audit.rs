//! The append-only audit log: one row per attempt, its HTTP exchanges (secrets redacted on the
//! way in, so nothing unredacted ever reaches the disk) and the references it is found by.

/// Packing of large text for the disk; usable for other large JSON columns too (the job
/// snapshot is the next largest: ~4.2 kB per order, ~1.4 kB packed with this dictionary).
pub(crate) mod codec;

use crate::error::StoreError;
use crate::jobs::Finish;
use crate::redact::{redact_body, redact_headers, redact_text, redact_url};
use crate::types::{JobId, ReplayMode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::time::Duration;

/// Bodies longer than this are cut (with a marker) so one huge response cannot bloat the log.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Reference kinds the audit search knows.
pub const REF_BC_ORDER: &str = "bc_order";
pub const REF_VISMA_DOCUMENT: &str = "visma_document";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub hash: String,
}

/// One HTTP exchange as a handler saw it, before redaction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExchange {
    /// `bigcommerce` or `visma` (or any other system name).
    pub system: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    /// `None` when no response arrived (timeout, connection error).
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    pub at: DateTime<Utc>,
    pub duration: Duration,
}

/// The audit part of an attempt, gathered by the engine while the handler runs.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub kind: String,
    pub subject: String,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub replay_mode: ReplayMode,
    pub plugin: Option<PluginInfo>,
    pub exchanges: Vec<NewExchange>,
    /// (kind, value) pairs to find this attempt by, e.g. (`bc_order`, `123`).
    pub refs: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditExchange {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub system: String,
    pub method: String,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    pub request_body: Option<String>,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditAttempt {
    pub id: i64,
    pub job_id: JobId,
    pub attempt: u32,
    pub kind: String,
    pub subject: String,
    pub worker: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: f64,
    pub replay_mode: String,
    pub plugin: Option<PluginInfo>,
    /// done, skipped, retry, failed, exhausted, released or lease_lost.
    pub outcome: String,
    pub error_class: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_field_path: Option<String>,
    pub refs: Vec<(String, String)>,
    pub exchanges: Vec<AuditExchange>,
}

/// An operator action (replay, skip) on a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditAction {
    pub at: DateTime<Utc>,
    pub job_id: JobId,
    pub action: String,
    pub actor: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

/// Everything recorded about the jobs a search matched, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditTrail {
    pub query: String,
    pub job_ids: Vec<JobId>,
    pub attempts: Vec<AuditAttempt>,
    pub actions: Vec<AuditAction>,
}

/// A body as it is stored: redacted, capped, and packed (see [`codec`]) when that pays.
fn store_body(body: &str) -> StoredBody {
    let redacted = redact_body(body);
    let capped = cap_body(redacted);
    match codec::pack(&capped) {
        Some(packed) => StoredBody::Packed(packed),
        None => StoredBody::Text(capped.into_owned()),
    }
}

fn cap_body(redacted: Cow<'_, str>) -> Cow<'_, str> {
    if redacted.len() <= MAX_BODY_BYTES {
        return redacted;
    }
    let mut cut = MAX_BODY_BYTES;
    while !redacted.is_char_boundary(cut) {
        cut -= 1;
    }
    Cow::Owned(format!(
        "{}…[truncated {} bytes]",
        &redacted[..cut],
        redacted.len() - cut
    ))
}

/// A stored body's text, from its text column or its packed column (one of them is set;
/// rows written before packing existed have only text). `column` names the packed column
/// for the error.
pub(crate) fn body_from(
    text: Option<String>,
    packed: Option<Vec<u8>>,
    column: &'static str,
) -> Result<Option<String>, StoreError> {
    match packed {
        Some(packed) => codec::unpack(&packed)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: column,
                value: e.to_string(),
            }),
        None => Ok(text),
    }
}

fn headers_json(headers: &[(String, String)]) -> Option<String> {
    if headers.is_empty() {
        return None;
    }
    serde_json::to_string(&redact_headers(headers)).ok()
}

pub(crate) fn headers_from(s: Option<String>) -> Vec<(String, String)> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// An attempt's audit rows, redacted and encoded: built before the write transaction opens,
/// so the single writer connection is not held while bodies are scanned for secrets.
pub(crate) struct PreparedAudit {
    pub(crate) exchanges: Vec<PreparedExchange>,
    pub(crate) refs: Vec<(String, String)>,
    pub(crate) error_message: Option<String>,
}

/// What redaction and encoding made of an exchange; the rest (system, method, status, times)
/// is bound straight from the [`NewExchange`] it belongs to, without a copy.
pub(crate) struct PreparedExchange {
    pub(crate) url: String,
    pub(crate) request_headers: Option<String>,
    pub(crate) request_body: Option<StoredBody>,
    pub(crate) response_headers: Option<String>,
    pub(crate) response_body: Option<StoredBody>,
}

/// A body for its two columns: `<name>` (text) or `<name>_packed` (binary).
pub(crate) enum StoredBody {
    Text(String),
    Packed(Vec<u8>),
}

impl StoredBody {
    pub(crate) fn text(body: Option<&Self>) -> Option<&str> {
        match body {
            Some(StoredBody::Text(t)) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn packed(body: Option<&Self>) -> Option<&[u8]> {
        match body {
            Some(StoredBody::Packed(p)) => Some(p),
            _ => None,
        }
    }
}

pub(crate) fn prepare_audit(finish: &Finish) -> PreparedAudit {
    let a = &finish.audit;
    let exchanges = a
        .exchanges
        .iter()
        .map(|x| PreparedExchange {
            url: redact_url(&x.url),
            request_headers: headers_json(&x.request_headers),
            request_body: x.request_body.as_deref().map(store_body),
            response_headers: headers_json(&x.response_headers),
            response_body: x.response_body.as_deref().map(store_body),
        })
        .collect();
    let mut refs = a.refs.clone();
    refs.sort();
    refs.dedup();
    PreparedAudit {
        exchanges,
        refs,
        error_message: finish.outcome.error().map(|e| redact_text(&e.message)),
    }
}
