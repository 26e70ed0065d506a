//! The append-only audit log: one row per attempt, its HTTP exchanges (secrets redacted on the
//! way in, so nothing unredacted ever reaches the disk) and the references it is found by.

use crate::db::Store;
use crate::error::StoreError;
use crate::jobs::Finish;
use crate::redact::{redact_body, redact_headers, redact_text, redact_url};
use crate::time::{dur_us, from_us, to_us};
use crate::types::{JobId, ReplayMode};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
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

fn cap_body(body: &str) -> String {
    let redacted = redact_body(body);
    if redacted.len() <= MAX_BODY_BYTES {
        return redacted;
    }
    let mut cut = MAX_BODY_BYTES;
    while !redacted.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}…[truncated {} bytes]",
        &redacted[..cut],
        redacted.len() - cut
    )
}

fn headers_json(headers: &[(String, String)]) -> Option<String> {
    if headers.is_empty() {
        return None;
    }
    serde_json::to_string(&redact_headers(headers)).ok()
}

fn headers_from(s: Option<String>) -> Vec<(String, String)> {
    s.and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default()
}

/// An attempt's audit rows, redacted and encoded: built before the write transaction opens,
/// so the single writer connection is not held while bodies are scanned for secrets.
pub(crate) struct PreparedAudit {
    exchanges: Vec<PreparedExchange>,
    refs: Vec<(String, String)>,
    error_message: Option<String>,
}

struct PreparedExchange {
    at: i64,
    system: String,
    method: String,
    url: String,
    request_headers: Option<String>,
    request_body: Option<String>,
    status: Option<i64>,
    response_headers: Option<String>,
    response_body: Option<String>,
    duration_us: i64,
}

/// Rows per multi-row INSERT: far below SQLite's bound-parameter limit at 12 columns.
const INSERT_CHUNK: usize = 64;

pub(crate) fn prepare_audit(finish: &Finish) -> PreparedAudit {
    let a = &finish.audit;
    let exchanges = a
        .exchanges
        .iter()
        .map(|x| PreparedExchange {
            at: to_us(x.at),
            system: x.system.clone(),
            method: x.method.clone(),
            url: redact_url(&x.url),
            request_headers: headers_json(&x.request_headers),
            request_body: x.request_body.as_deref().map(cap_body),
            status: x.status.map(i64::from),
            response_headers: headers_json(&x.response_headers),
            response_body: x.response_body.as_deref().map(cap_body),
            duration_us: dur_us(x.duration),
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

pub(crate) async fn insert_attempt(
    tx: &mut Transaction<'_, Sqlite>,
    finish: &Finish,
    prepared: &PreparedAudit,
    outcome: &str,
) -> Result<(), StoreError> {
    let a = &finish.audit;
    let error = finish.outcome.error();
    let row = sqlx::query(
        "INSERT INTO audit_attempts (job_id, attempt, kind, subject, worker, started_at, duration_us,
             replay_mode, plugin_name, plugin_version, plugin_hash, outcome, error_class, error_code,
             error_message, error_field_path)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(finish.job_id.0)
    .bind(finish.attempt as i64)
    .bind(&a.kind)
    .bind(&a.subject)
    .bind(&a.worker)
    .bind(to_us(a.started_at))
    .bind(dur_us(a.duration))
    .bind(a.replay_mode.as_str())
    .bind(a.plugin.as_ref().map(|p| p.name.as_str()))
    .bind(a.plugin.as_ref().map(|p| p.version.as_str()))
    .bind(a.plugin.as_ref().map(|p| p.hash.as_str()))
    .bind(outcome)
    .bind(error.map(|e| e.class.as_str()))
    .bind(error.map(|e| e.code.as_str()))
    .bind(prepared.error_message.as_deref())
    .bind(error.and_then(|e| e.field_path.as_deref()))
    .fetch_one(&mut **tx)
    .await?;
    let attempt_id: i64 = row.try_get("id")?;
    // One statement per chunk instead of one per row: an attempt has several exchanges and
    // refs, and each statement is a round trip to the database thread.
    for (chunk_no, chunk) in prepared.exchanges.chunks(INSERT_CHUNK).enumerate() {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_exchanges (attempt_id, seq, at, system, method, url, request_headers,
                 request_body, status, response_headers, response_body, duration_us) ",
        );
        qb.push_values(chunk.iter().enumerate(), |mut b, (i, x)| {
            b.push_bind(attempt_id)
                .push_bind((chunk_no * INSERT_CHUNK + i) as i64)
                .push_bind(x.at)
                .push_bind(x.system.as_str())
                .push_bind(x.method.as_str())
                .push_bind(x.url.as_str())
                .push_bind(x.request_headers.as_deref())
                .push_bind(x.request_body.as_deref())
                .push_bind(x.status)
                .push_bind(x.response_headers.as_deref())
                .push_bind(x.response_body.as_deref())
                .push_bind(x.duration_us);
        });
        qb.build().execute(&mut **tx).await?;
    }
    for chunk in prepared.refs.chunks(INSERT_CHUNK) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO audit_refs (attempt_id, ref_kind, ref_value) ",
        );
        qb.push_values(chunk, |mut b, (kind, value)| {
            b.push_bind(attempt_id)
                .push_bind(kind.as_str())
                .push_bind(value.as_str());
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

impl Store {
    /// The audit trail for a BigCommerce order id or a Visma document number: every attempt
    /// of every job that was tagged with it (all attempts of those jobs, not only the tagged
    /// ones), with exchanges, plus operator actions on those jobs.
    pub async fn audit_search(&self, query: &str) -> Result<AuditTrail, StoreError> {
        let query = query.trim();
        let job_rows = sqlx::query(
            "SELECT DISTINCT a.job_id FROM audit_refs r JOIN audit_attempts a ON a.id = r.attempt_id
             WHERE r.ref_value = ? ORDER BY a.job_id",
        )
        .bind(query)
        .fetch_all(&self.reader)
        .await?;
        let job_ids = job_rows
            .iter()
            .map(|r| r.try_get::<i64, _>("job_id").map(JobId))
            .collect::<Result<Vec<_>, _>>()?;
        let attempts = self.attempts_of(&job_ids).await?;
        let actions = self.actions_of(&job_ids).await?;
        Ok(AuditTrail {
            query: query.to_owned(),
            job_ids,
            attempts,
            actions,
        })
    }

    /// All audit attempts of the given jobs, oldest first.
    pub async fn attempts_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAttempt>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT id, job_id, attempt, kind, subject, worker, started_at, duration_us, replay_mode,
                 plugin_name, plugin_version, plugin_hash, outcome, error_class, error_code,
                 error_message, error_field_path
             FROM audit_attempts WHERE job_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in job_ids {
            sep.push_bind(id.0);
        }
        qb.push(") ORDER BY id");
        let rows = qb.build().fetch_all(&self.reader).await?;
        let mut attempts = Vec::with_capacity(rows.len());
        for row in rows {
            let id: i64 = row.try_get("id")?;
            let plugin = match row.try_get::<Option<String>, _>("plugin_name")? {
                Some(name) => Some(PluginInfo {
                    name,
                    version: row
                        .try_get::<Option<String>, _>("plugin_version")?
                        .unwrap_or_default(),
                    hash: row
                        .try_get::<Option<String>, _>("plugin_hash")?
                        .unwrap_or_default(),
                }),
                None => None,
            };
            let refs = sqlx::query("SELECT ref_kind, ref_value FROM audit_refs WHERE attempt_id = ? ORDER BY ref_kind, ref_value")
                .bind(id)
                .fetch_all(&self.reader)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("ref_kind")?, r.try_get("ref_value")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let exchanges = sqlx::query(
                "SELECT seq, at, system, method, url, request_headers, request_body, status,
                     response_headers, response_body, duration_us
                 FROM audit_exchanges WHERE attempt_id = ? ORDER BY seq",
            )
            .bind(id)
            .fetch_all(&self.reader)
            .await?
            .into_iter()
            .map(|r| {
                Ok(AuditExchange {
                    seq: r.try_get("seq")?,
                    at: from_us(r.try_get("at")?),
                    system: r.try_get("system")?,
                    method: r.try_get("method")?,
                    url: r.try_get("url")?,
                    request_headers: headers_from(r.try_get("request_headers")?),
                    request_body: r.try_get("request_body")?,
                    status: r.try_get::<Option<i64>, _>("status")?.map(|s| s as u16),
                    response_headers: headers_from(r.try_get("response_headers")?),
                    response_body: r.try_get("response_body")?,
                    duration_ms: r.try_get::<i64, _>("duration_us")? as f64 / 1000.0,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
            attempts.push(AuditAttempt {
                id,
                job_id: JobId(row.try_get("job_id")?),
                attempt: row.try_get::<i64, _>("attempt")? as u32,
                kind: row.try_get("kind")?,
                subject: row.try_get("subject")?,
                worker: row.try_get("worker")?,
                started_at: from_us(row.try_get("started_at")?),
                duration_ms: row.try_get::<i64, _>("duration_us")? as f64 / 1000.0,
                replay_mode: row.try_get("replay_mode")?,
                plugin,
                outcome: row.try_get("outcome")?,
                error_class: row.try_get("error_class")?,
                error_code: row.try_get("error_code")?,
                error_message: row.try_get("error_message")?,
                error_field_path: row.try_get("error_field_path")?,
                refs,
                exchanges,
            });
        }
        Ok(attempts)
    }

    /// Operator actions on the given jobs, oldest first.
    pub async fn actions_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAction>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT at, job_id, action, actor, reason, detail FROM job_actions WHERE job_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in job_ids {
            sep.push_bind(id.0);
        }
        qb.push(") ORDER BY id");
        let rows = qb.build().fetch_all(&self.reader).await?;
        rows.iter()
            .map(|r| {
                Ok(AuditAction {
                    at: from_us(r.try_get("at")?),
                    job_id: JobId(r.try_get("job_id")?),
                    action: r.try_get("action")?,
                    actor: r.try_get("actor")?,
                    reason: r.try_get("reason")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}
