//! The audit log's SQL (see `crate::audit`).

use super::Backend;
use super::dialect::Db;
use super::rows_per_statement;
use crate::audit::{
    AuditAction, AuditAttempt, AuditExchange, AuditTrail, PluginInfo, PreparedAudit, StoredBody,
    body_from, headers_from,
};
use crate::error::StoreError;
use crate::jobs::Finish;
use crate::time::{dur_us, from_us, to_us};
use crate::types::JobId;
use sqlx::{QueryBuilder, Row, Transaction};
use std::collections::HashMap;

/// Writes the audit rows of a batch of attempts: `outcomes[i]` is the outcome label of
/// `finishes[i]`. One multi-row statement per table (per chunk) for the whole batch instead of
/// one per attempt: each statement is a round trip to the database thread. The (job, attempt)
/// pairs of a batch must be distinct: the attempts' new ids are matched to them by that pair.
pub(crate) async fn insert_attempts(
    tx: &mut Transaction<'_, Db>,
    finishes: &[&Finish],
    prepared: &[&PreparedAudit],
    outcomes: &[&str],
) -> Result<(), StoreError> {
    let mut ids: HashMap<(i64, i64), i64> = HashMap::with_capacity(finishes.len());
    let rows: Vec<usize> = (0..finishes.len()).collect();
    for chunk in rows.chunks(rows_per_statement(16)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO audit_attempts (job_id, attempt, kind, subject, worker, started_at, duration_us,
                 replay_mode, plugin_name, plugin_version, plugin_hash, outcome, error_class, error_code,
                 error_message, error_field_path) ",
        );
        qb.push_values(chunk, |mut b, &i| {
            let finish = finishes[i];
            let a = &finish.audit;
            let error = finish.outcome.error();
            b.push_bind(finish.job_id.0)
                .push_bind(finish.attempt as i64)
                .push_bind(a.kind.as_str())
                .push_bind(a.subject.as_str())
                .push_bind(a.worker.as_str())
                .push_bind(to_us(a.started_at))
                .push_bind(dur_us(a.duration))
                .push_bind(a.replay_mode.as_str())
                .push_bind(a.plugin.as_ref().map(|p| p.name.as_str()))
                .push_bind(a.plugin.as_ref().map(|p| p.version.as_str()))
                .push_bind(a.plugin.as_ref().map(|p| p.hash.as_str()))
                .push_bind(outcomes[i])
                .push_bind(error.map(|e| e.class.as_str()))
                .push_bind(error.map(|e| e.code.as_str()))
                .push_bind(prepared[i].error_message.as_deref())
                .push_bind(error.and_then(|e| e.field_path.as_deref()));
        });
        qb.push(" RETURNING id, job_id, attempt");
        for row in qb.build().fetch_all(&mut **tx).await? {
            ids.insert(
                (row.try_get("job_id")?, row.try_get("attempt")?),
                row.try_get("id")?,
            );
        }
    }
    let attempt_id = |f: &Finish| -> Result<i64, StoreError> {
        ids.get(&(f.job_id.0, f.attempt as i64))
            .copied()
            .ok_or(StoreError::Corrupt {
                what: "audit_attempts.id",
                value: format!("no id returned for job {} attempt {}", f.job_id, f.attempt),
            })
    };

    let mut exchanges = Vec::new();
    let mut refs = Vec::new();
    for (finish, prepared) in finishes.iter().zip(prepared) {
        let id = attempt_id(finish)?;
        exchanges.extend(
            finish
                .audit
                .exchanges
                .iter()
                .zip(&prepared.exchanges)
                .enumerate()
                .map(|(seq, (x, p))| (id, seq, x, p)),
        );
        refs.extend(prepared.refs.iter().map(|(kind, value)| (id, kind, value)));
    }
    for chunk in exchanges.chunks(rows_per_statement(14)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO audit_exchanges (attempt_id, seq, at, system, method, url, request_headers,
                 request_body, request_body_packed, status, response_headers, response_body,
                 response_body_packed, duration_us) ",
        );
        qb.push_values(chunk, |mut b, &(id, seq, x, p)| {
            b.push_bind(id)
                .push_bind(seq as i64)
                .push_bind(to_us(x.at))
                .push_bind(x.system.as_str())
                .push_bind(x.method.as_str())
                .push_bind(p.url.as_str())
                .push_bind(p.request_headers.as_deref())
                .push_bind(StoredBody::text(p.request_body.as_ref()))
                .push_bind(StoredBody::packed(p.request_body.as_ref()))
                .push_bind(x.status.map(i64::from))
                .push_bind(p.response_headers.as_deref())
                .push_bind(StoredBody::text(p.response_body.as_ref()))
                .push_bind(StoredBody::packed(p.response_body.as_ref()))
                .push_bind(dur_us(x.duration));
        });
        qb.build().execute(&mut **tx).await?;
    }
    for chunk in refs.chunks(rows_per_statement(3)) {
        let mut qb =
            QueryBuilder::<Db>::new("INSERT INTO audit_refs (attempt_id, ref_kind, ref_value) ");
        qb.push_values(chunk, |mut b, &(id, kind, value)| {
            b.push_bind(id)
                .push_bind(kind.as_str())
                .push_bind(value.as_str());
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

impl Backend {
    pub async fn audit_search(&self, query: &str) -> Result<AuditTrail, StoreError> {
        let query = query.trim();
        let job_rows = sqlx::query(
            "SELECT DISTINCT a.job_id FROM audit_refs r JOIN audit_attempts a ON a.id = r.attempt_id
             WHERE r.ref_value = $1 ORDER BY a.job_id",
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

    pub async fn attempts_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAttempt>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(
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
            let refs = sqlx::query("SELECT ref_kind, ref_value FROM audit_refs WHERE attempt_id = $1 ORDER BY ref_kind, ref_value")
                .bind(id)
                .fetch_all(&self.reader)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("ref_kind")?, r.try_get("ref_value")?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            let exchanges = sqlx::query(
                "SELECT seq, at, system, method, url, request_headers, request_body,
                     request_body_packed, status, response_headers, response_body,
                     response_body_packed, duration_us
                 FROM audit_exchanges WHERE attempt_id = $1 ORDER BY seq",
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
                    request_body: body_from(
                        r.try_get("request_body")?,
                        r.try_get("request_body_packed")?,
                        "audit_exchanges.request_body_packed",
                    )?,
                    status: r.try_get::<Option<i64>, _>("status")?.map(|s| s as u16),
                    response_headers: headers_from(r.try_get("response_headers")?),
                    response_body: body_from(
                        r.try_get("response_body")?,
                        r.try_get("response_body_packed")?,
                        "audit_exchanges.response_body_packed",
                    )?,
                    duration_ms: r.try_get::<i64, _>("duration_us")? as f64 / 1000.0,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
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

    pub async fn actions_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAction>, StoreError> {
        if job_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new(
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
