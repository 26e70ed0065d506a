//! The job queue: enqueue, lease (with per-subject ordering), renew, finish and release.

use crate::audit::{AttemptRecord, PreparedAudit, insert_attempt, prepare_audit};
use crate::db::Store;
use crate::echo::{EchoMarker, insert_echoes};
use crate::error::StoreError;
use crate::redact::redact_json;
use crate::time::{dur_us, from_us, now_us, to_us};
use crate::types::{
    ErrorRecord, Job, JobId, JobState, NewJob, ReplayMode, StateCounts, parse_json,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};
use std::time::Duration;

pub(crate) const JOB_COLUMNS: &str = "id, kind, subject, source, payload, event_id, parent_job_id, state, \
    attempts, next_run_at, lease_owner, lease_expires_at, replay_mode, snapshot, error_class, \
    error_code, error_message, error_field_path, error_payloads, exhausted, resolution, \
    created_at, updated_at, finished_at";

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum FinishOutcome {
    Done,
    /// The handler decided there is nothing to do (e.g. our own echo, not eligible).
    Skipped {
        reason: String,
    },
    /// Try again at `at`; the error is kept on the job for operators to see.
    Retry {
        at: DateTime<Utc>,
        error: ErrorRecord,
    },
    /// Into the error queue.
    Failed {
        error: ErrorRecord,
    },
    /// Shutdown before the attempt finished: back to pending, the attempt not counted.
    Released,
}

impl FinishOutcome {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            FinishOutcome::Done => "done",
            FinishOutcome::Skipped { .. } => "skipped",
            FinishOutcome::Retry { .. } => "retry",
            FinishOutcome::Failed { error } if error.exhausted => "exhausted",
            FinishOutcome::Failed { .. } => "failed",
            FinishOutcome::Released => "released",
        }
    }

    pub(crate) fn error(&self) -> Option<&ErrorRecord> {
        match self {
            FinishOutcome::Retry { error, .. } | FinishOutcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// Everything an attempt produced, written in one transaction: the job's new state, the
/// follow-up jobs it asked for (only kept when it succeeded), the snapshot and the audit rows.
#[derive(Debug, Clone)]
pub struct Finish {
    pub job_id: JobId,
    /// The lease this attempt held: owner and attempt number. A finish whose lease was lost
    /// (expired and taken by another worker) changes nothing but the audit log.
    pub owner: String,
    pub attempt: u32,
    pub outcome: FinishOutcome,
    pub follow_ups: Vec<NewJob>,
    /// Echo markers of writes this attempt made, recorded (like the follow-ups) only when
    /// it succeeded. A marker must be visible before the webhook it stands for is handled:
    /// that holds for jobs of the same subject, which run only after this one finished.
    pub echoes: Vec<EchoMarker>,
    pub snapshot: Option<serde_json::Value>,
    pub audit: AttemptRecord,
}

impl Store {
    /// Adds a job outside any event (e.g. from a handler or an operator).
    pub async fn enqueue(&self, job: &NewJob) -> Result<JobId, StoreError> {
        let mut tx = self.writer.begin().await?;
        let id = insert_job(&mut tx, job, None, now_us()).await?;
        tx.commit().await?;
        self.signal_ready();
        Ok(id)
    }

    pub async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&self.writer)
            .await?
            .ok_or(StoreError::JobNotFound(id))?;
        job_from_row(&row)
    }

    /// Leases up to `limit` runnable jobs for `owner` until now + `lease_for`, each attempt
    /// counted. Runnable: a running job whose lease expired (its worker died), or a pending
    /// job that is due, has no earlier pending/failed job of its subject and no running job of
    /// its subject. The result is in id order and never holds two jobs of one subject.
    ///
    /// SQLite runs this on its single writer connection, so leases cannot overlap. On
    /// PostgreSQL the same statements must run under a transaction-scoped advisory lock
    /// (`pg_advisory_xact_lock`), because `FOR UPDATE SKIP LOCKED` alone would let two hosts
    /// lease two jobs of one subject at once.
    pub async fn lease(
        &self,
        owner: &str,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<Job>, StoreError> {
        self.lease_with(owner, limit, lease_for, true).await
    }

    /// [`Store::lease`], optionally without looking for expired leases: they cannot become
    /// due faster than a lease lasts, so a busy engine checks for them only now and then and
    /// leases fresh jobs with a single statement.
    pub async fn lease_with(
        &self,
        owner: &str,
        limit: usize,
        lease_for: Duration,
        reclaim_expired: bool,
    ) -> Result<Vec<Job>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = now_us();
        let expires = now.saturating_add(dur_us(lease_for));
        // The ordering check must read only the unfinished jobs of a subject. Left to itself
        // SQLite (no statistics) picks the plain subject index, which holds every job the
        // subject ever had: a subject with a long history (or many queued events) then costs
        // a scan per candidate, quadratic in a backlog. (PostgreSQL: a partial index on the
        // same columns and condition is chosen on its own.)
        let fresh_sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires_at = ?,
                 attempts = attempts + 1, updated_at = ?
             WHERE id IN (
                 SELECT j.id FROM jobs j
                 WHERE j.state = 'pending' AND j.next_run_at <= ?
                   AND NOT EXISTS (
                       SELECT 1 FROM jobs e INDEXED BY jobs_open_subject
                       WHERE e.subject = j.subject
                         AND e.state IN ('pending', 'running', 'failed')
                         AND e.id <> j.id
                         AND (e.id < j.id OR e.state = 'running'))
                 ORDER BY j.id LIMIT ?)
             RETURNING {JOB_COLUMNS}"
        );
        let fresh = |n: usize| {
            sqlx::query(&fresh_sql)
                .bind(owner)
                .bind(expires)
                .bind(now)
                .bind(now)
                .bind(n as i64)
        };
        let rows = if reclaim_expired {
            let reclaim_sql = format!(
                "UPDATE jobs SET lease_owner = ?, lease_expires_at = ?, attempts = attempts + 1, updated_at = ?
                 WHERE id IN (
                     SELECT id FROM jobs
                     WHERE state = 'running' AND lease_expires_at <= ?
                     ORDER BY lease_expires_at LIMIT ?)
                 RETURNING {JOB_COLUMNS}"
            );
            let mut tx = self.writer.begin().await?;
            let mut rows = sqlx::query(&reclaim_sql)
                .bind(owner)
                .bind(expires)
                .bind(now)
                .bind(now)
                .bind(limit as i64)
                .fetch_all(&mut *tx)
                .await?;
            let left = limit - rows.len();
            if left > 0 {
                rows.extend(fresh(left).fetch_all(&mut *tx).await?);
            }
            tx.commit().await?;
            rows
        } else {
            fresh(limit).fetch_all(&self.writer).await?
        };
        let mut jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    /// Extends the leases `owner` still holds on `ids`; returns how many it still held.
    pub async fn renew_leases(
        &self,
        owner: &str,
        ids: &[JobId],
        lease_for: Duration,
    ) -> Result<u64, StoreError> {
        let expires = now_us().saturating_add(dur_us(lease_for));
        let mut tx = self.writer.begin().await?;
        let mut held = 0;
        for id in ids {
            held += sqlx::query(
                "UPDATE jobs SET lease_expires_at = ?
                 WHERE id = ? AND state = 'running' AND lease_owner = ?",
            )
            .bind(expires)
            .bind(id.0)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        Ok(held)
    }

    /// Puts jobs `owner` holds back to pending without counting the attempt (shutdown).
    pub async fn release_leases(&self, owner: &str, ids: &[JobId]) -> Result<u64, StoreError> {
        let now = now_us();
        let mut tx = self.writer.begin().await?;
        let mut released = 0;
        for id in ids {
            released += sqlx::query(
                "UPDATE jobs SET state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                     attempts = MAX(attempts - 1, 0), next_run_at = ?, updated_at = ?
                 WHERE id = ? AND state = 'running' AND lease_owner = ?",
            )
            .bind(now)
            .bind(now)
            .bind(id.0)
            .bind(owner)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        tx.commit().await?;
        if released > 0 {
            self.signal_ready();
        }
        Ok(released)
    }

    /// Records the end of an attempt. Returns `false` when the lease had been lost, in which
    /// case only the audit row was written.
    pub async fn finish(&self, finish: &Finish) -> Result<bool, StoreError> {
        let prepared = prepare_finish(finish);
        let mut tx = self.writer.begin().await?;
        let updated = finish_in(&mut tx, finish, &prepared).await?;
        tx.commit().await?;
        if updated && !matches!(finish.outcome, FinishOutcome::Retry { .. }) {
            self.signal_ready();
        }
        Ok(updated)
    }

    /// Records several attempts in one transaction (one commit instead of many: the engine
    /// batches results this way under load); the result of each, in order. If one fails,
    /// the rest are still written.
    pub async fn finish_many(
        &self,
        finishes: &[Finish],
    ) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
        let prepared: Vec<PreparedFinish> = finishes.iter().map(prepare_finish).collect();
        let batch: Result<Vec<bool>, StoreError> = async {
            let mut tx = self.writer.begin().await?;
            let mut results = Vec::with_capacity(finishes.len());
            for (finish, prepared) in finishes.iter().zip(&prepared) {
                results.push(finish_in(&mut tx, finish, prepared).await?);
            }
            tx.commit().await?;
            Ok(results)
        }
        .await;
        let results = match batch {
            Ok(results) => results.into_iter().map(Ok).collect::<Vec<_>>(),
            // One of them failed and rolled the batch back: write them one by one, so only
            // the failing one fails.
            Err(_) if finishes.len() > 1 => {
                let mut results = Vec::with_capacity(finishes.len());
                for finish in finishes {
                    results.push(self.finish(finish).await);
                }
                return Ok(results);
            }
            Err(e) => return Err(e),
        };
        let unblocked = finishes.iter().zip(&results).any(|(f, r)| {
            matches!(r, Ok(true)) && !matches!(f.outcome, FinishOutcome::Retry { .. })
        });
        if unblocked {
            self.signal_ready();
        }
        Ok(results)
    }

    /// Jobs pending or running: what is still to do. Answered from the partial indexes of
    /// those states alone, so it stays cheap however many finished jobs the table holds
    /// (unlike [`Store::state_counts`], which reads every job).
    pub async fn open_job_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'pending')
                  + (SELECT COUNT(*) FROM jobs WHERE state = 'running') AS n",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }

    /// Jobs per state.
    pub async fn state_counts(&self) -> Result<StateCounts, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.reader)
            .await?;
        let mut counts = StateCounts::default();
        for row in rows {
            let n = row.try_get::<i64, _>("n")? as u64;
            match parse_state(&row.try_get::<String, _>("state")?)? {
                JobState::Pending => counts.pending = n,
                JobState::Running => counts.running = n,
                JobState::Done => counts.done = n,
                JobState::Failed => counts.failed = n,
                JobState::Skipped => counts.skipped = n,
            }
        }
        Ok(counts)
    }
}

type Query<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

fn bind_error<'q>(q: Query<'q>, e: &ErrorRecord) -> Query<'q> {
    let mut payloads = e.payloads.clone();
    redact_json(&mut payloads);
    q.bind(e.class.clone())
        .bind(e.code.clone())
        .bind(e.message.clone())
        .bind(e.field_path.clone())
        .bind(payloads.to_string())
        .bind(e.exhausted)
}

pub(crate) async fn insert_job(
    tx: &mut Transaction<'_, Sqlite>,
    job: &NewJob,
    parent: Option<JobId>,
    now: i64,
) -> Result<JobId, StoreError> {
    insert_job_with(tx, job, &job.payload.to_string(), parent, now).await
}

/// [`insert_job`] with the payload already encoded.
async fn insert_job_with(
    tx: &mut Transaction<'_, Sqlite>,
    job: &NewJob,
    payload: &str,
    parent: Option<JobId>,
    now: i64,
) -> Result<JobId, StoreError> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, subject, source, payload, parent_job_id, state, next_run_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.subject)
    .bind(&job.source)
    .bind(payload)
    .bind(parent.map(|p| p.0))
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(JobId(row.try_get("id")?))
}

fn parse_state(s: &str) -> Result<JobState, StoreError> {
    s.parse().map_err(|_| StoreError::Corrupt {
        what: "jobs.state",
        value: s.to_owned(),
    })
}

pub(crate) fn job_from_row(row: &SqliteRow) -> Result<Job, StoreError> {
    let replay: String = row.try_get("replay_mode")?;
    let replay_mode: ReplayMode = replay.parse().map_err(|_| StoreError::Corrupt {
        what: "jobs.replay_mode",
        value: replay.clone(),
    })?;
    let error = match row.try_get::<Option<String>, _>("error_code")? {
        None => None,
        Some(code) => Some(ErrorRecord {
            class: row
                .try_get::<Option<String>, _>("error_class")?
                .unwrap_or_default(),
            code,
            message: row
                .try_get::<Option<String>, _>("error_message")?
                .unwrap_or_default(),
            field_path: row.try_get("error_field_path")?,
            payloads: match row.try_get::<Option<String>, _>("error_payloads")? {
                Some(s) => parse_json("jobs.error_payloads", &s)?,
                None => serde_json::Value::Null,
            },
            exhausted: row.try_get("exhausted")?,
        }),
    };
    Ok(Job {
        id: JobId(row.try_get("id")?),
        kind: row.try_get("kind")?,
        subject: row.try_get("subject")?,
        source: row.try_get("source")?,
        payload: parse_json("jobs.payload", &row.try_get::<String, _>("payload")?)?,
        event_id: row.try_get("event_id")?,
        parent_job_id: row.try_get::<Option<i64>, _>("parent_job_id")?.map(JobId),
        state: parse_state(&row.try_get::<String, _>("state")?)?,
        attempts: row.try_get::<i64, _>("attempts")? as u32,
        next_run_at: from_us(row.try_get("next_run_at")?),
        lease_owner: row.try_get("lease_owner")?,
        lease_expires_at: row
            .try_get::<Option<i64>, _>("lease_expires_at")?
            .map(from_us),
        replay_mode,
        snapshot: row
            .try_get::<Option<String>, _>("snapshot")?
            .map(|s| parse_json("jobs.snapshot", &s))
            .transpose()?,
        error,
        resolution: row.try_get("resolution")?,
        created_at: from_us(row.try_get("created_at")?),
        updated_at: from_us(row.try_get("updated_at")?),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(from_us),
    })
}

/// What a finish writes, encoded before the transaction opens (serialising and redacting
/// is the slow part, and the writer connection is shared by everything that writes).
struct PreparedFinish {
    snapshot: Option<String>,
    follow_ups: Vec<String>,
    audit: PreparedAudit,
}

fn prepare_finish(finish: &Finish) -> PreparedFinish {
    PreparedFinish {
        snapshot: finish.snapshot.as_ref().map(|s| s.to_string()),
        follow_ups: finish
            .follow_ups
            .iter()
            .map(|j| j.payload.to_string())
            .collect(),
        audit: prepare_audit(finish),
    }
}

/// Applies one attempt's result inside `tx`; `false` when the lease was lost.
async fn finish_in(
    tx: &mut Transaction<'_, Sqlite>,
    finish: &Finish,
    prepared: &PreparedFinish,
) -> Result<bool, StoreError> {
    let now = now_us();
    let set = match &finish.outcome {
        FinishOutcome::Done => {
            "state = 'done', error_class = NULL, error_code = NULL, error_message = NULL,
             error_field_path = NULL, error_payloads = NULL, exhausted = 0, finished_at = ?"
        }
        FinishOutcome::Skipped { .. } => "state = 'skipped', resolution = ?, finished_at = ?",
        FinishOutcome::Retry { .. } => {
            "state = 'pending', next_run_at = ?, error_class = ?, error_code = ?,
             error_message = ?, error_field_path = ?, error_payloads = ?, exhausted = ?"
        }
        FinishOutcome::Failed { .. } => {
            "state = 'failed', error_class = ?, error_code = ?, error_message = ?,
             error_field_path = ?, error_payloads = ?, exhausted = ?"
        }
        FinishOutcome::Released => {
            "state = 'pending', attempts = MAX(attempts - 1, 0), next_run_at = ?"
        }
    };
    // The fence: only the holder of this attempt's lease may finish it.
    let sql = format!(
        "UPDATE jobs SET {set}, snapshot = COALESCE(?, snapshot), lease_owner = NULL,
             lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?"
    );
    let query = sqlx::query(&sql);
    let query = match &finish.outcome {
        FinishOutcome::Done => query.bind(now),
        FinishOutcome::Skipped { reason } => query.bind(reason.clone()).bind(now),
        FinishOutcome::Retry { at, error } => bind_error(query.bind(to_us(*at)), error),
        FinishOutcome::Failed { error } => bind_error(query, error),
        FinishOutcome::Released => query.bind(now),
    };
    let updated = query
        .bind(prepared.snapshot.as_deref())
        .bind(now)
        .bind(finish.job_id.0)
        .bind(&finish.owner)
        .bind(finish.attempt as i64)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1;

    if updated
        && matches!(
            finish.outcome,
            FinishOutcome::Done | FinishOutcome::Skipped { .. }
        )
    {
        for (job, payload) in finish.follow_ups.iter().zip(&prepared.follow_ups) {
            insert_job_with(tx, job, payload, Some(finish.job_id), now).await?;
        }
        insert_echoes(tx, &finish.echoes, now).await?;
    }
    let label = if updated {
        finish.outcome.label()
    } else {
        "lease_lost"
    };
    insert_attempt(tx, finish, &prepared.audit, label).await?;
    Ok(updated)
}
