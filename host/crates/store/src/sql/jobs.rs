//! The job queue's SQL: enqueue, lease (with per-subject ordering), renew, finish and release.

use super::audit::insert_attempts;
use super::dialect::{Db, DbRow, INSERT_LOCK, LEASE_LOCK, OPEN_SUBJECT_INDEX};
use super::echo::insert_echoes;
use super::identity::write_identities;
use super::{Backend, numbered, rows_per_statement, take_lock};
use crate::audit::PreparedAudit;
use crate::echo::EchoMarker;
use crate::error::StoreError;
use crate::jobs::{
    Finish, FinishOutcome, JOB_COLUMNS, PreparedFinish, parse_state, prepare_finish,
};
use crate::redact::redact_json;
use crate::time::{dur_us, from_us, now_us, to_us};
use crate::types::{
    ErrorRecord, Job, JobId, JobState, NewJob, ReplayMode, StateCounts, parse_json,
};
use sqlx::Connection;
use sqlx::{QueryBuilder, Row, Transaction};
use std::collections::HashSet;
use std::time::Duration;

impl Backend {
    pub async fn enqueue(&self, job: &NewJob) -> Result<JobId, StoreError> {
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        take_lock(&mut tx, INSERT_LOCK).await?;
        let id = insert_job(&mut tx, job, None, now_us()).await?;
        tx.commit().await?;
        self.signal_ready();
        Ok(id)
    }

    pub async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id.0)
            .fetch_optional(&mut *self.writer.conn().await?)
            .await?
            .ok_or(StoreError::JobNotFound(id))?;
        job_from_row(&row)
    }

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
        // a scan per candidate, quadratic in a backlog; OPEN_SUBJECT_INDEX names the partial
        // index there. PostgreSQL chooses the partial index on its own.
        //
        // The outer `state = 'pending'` repeats the inner one on purpose: PostgreSQL rechecks
        // the outer condition on the newest row version when a concurrent transaction (a skip,
        // a replay) changed the row after this statement's snapshot.
        let fresh_sql = format!(
            "UPDATE jobs SET state = 'running', lease_owner = $1, lease_expires_at = $2,
                 attempts = attempts + 1, updated_at = $3
             WHERE state = 'pending' AND id IN (
                 SELECT j.id FROM jobs j
                 WHERE j.state = 'pending' AND j.next_run_at <= $3
                   AND NOT EXISTS (
                       SELECT 1 FROM jobs e {OPEN_SUBJECT_INDEX}
                       WHERE e.subject = j.subject
                         AND e.state IN ('pending', 'running', 'failed')
                         AND e.id <> j.id
                         AND (e.id < j.id OR e.state = 'running'))
                 ORDER BY j.id LIMIT $4)
             RETURNING {JOB_COLUMNS}"
        );
        let fresh = |n: usize| {
            sqlx::query(&fresh_sql)
                .bind(owner)
                .bind(expires)
                .bind(now)
                .bind(n as i64)
        };
        // SQLite has one writer connection, so leases never overlap and a lease without the
        // reclaim is one statement. Several PostgreSQL clients lease at once: LEASE_LOCK makes
        // them take turns (see `dialect`), which needs a transaction.
        let rows = if !reclaim_expired && LEASE_LOCK.is_none() {
            fresh(limit)
                .fetch_all(&mut *self.writer.conn().await?)
                .await?
        } else {
            let mut conn = self.writer.conn().await?;
            let mut tx = conn.begin().await?;
            take_lock(&mut tx, LEASE_LOCK).await?;
            let mut rows = Vec::new();
            if reclaim_expired {
                let reclaim_sql = format!(
                    "UPDATE jobs SET lease_owner = $1, lease_expires_at = $2,
                         attempts = attempts + 1, updated_at = $3
                     WHERE state = 'running' AND lease_expires_at <= $3 AND id IN (
                         SELECT id FROM jobs
                         WHERE state = 'running' AND lease_expires_at <= $3
                         ORDER BY lease_expires_at LIMIT $4)
                     RETURNING {JOB_COLUMNS}"
                );
                rows = sqlx::query(&reclaim_sql)
                    .bind(owner)
                    .bind(expires)
                    .bind(now)
                    .bind(limit as i64)
                    .fetch_all(&mut *tx)
                    .await?;
            }
            let left = limit - rows.len();
            if left > 0 {
                rows.extend(fresh(left).fetch_all(&mut *tx).await?);
            }
            tx.commit().await?;
            rows
        };
        let mut jobs = rows
            .iter()
            .map(job_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.id);
        Ok(jobs)
    }

    pub async fn renew_leases(
        &self,
        owner: &str,
        ids: &[JobId],
        lease_for: Duration,
    ) -> Result<u64, StoreError> {
        let expires = now_us().saturating_add(dur_us(lease_for));
        self.update_held(owner, ids, |qb| {
            qb.push("lease_expires_at = ").push_bind(expires);
        })
        .await
    }

    pub async fn release_leases(&self, owner: &str, ids: &[JobId]) -> Result<u64, StoreError> {
        let now = now_us();
        let released = self
            .update_held(owner, ids, |qb| {
                qb.push(
                    "state = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                     attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, next_run_at = ",
                )
                .push_bind(now)
                .push(", updated_at = ")
                .push_bind(now);
            })
            .await?;
        if released > 0 {
            self.signal_ready();
        }
        Ok(released)
    }

    /// `UPDATE jobs SET <set> WHERE` the job is running under `owner`'s lease and among
    /// `ids`, a chunk of ids per statement; `set` pushes the assignments (and their binds).
    /// Returns how many jobs changed.
    async fn update_held(
        &self,
        owner: &str,
        ids: &[JobId],
        set: impl Fn(&mut QueryBuilder<'_, Db>),
    ) -> Result<u64, StoreError> {
        let mut changed = 0;
        for chunk in ids.chunks(rows_per_statement(1)) {
            let mut qb = QueryBuilder::<Db>::new("UPDATE jobs SET ");
            set(&mut qb);
            qb.push(" WHERE state = 'running' AND lease_owner = ")
                .push_bind(owner)
                .push(" AND id IN (");
            let mut list = qb.separated(", ");
            for id in chunk {
                list.push_bind(id.0);
            }
            qb.push(")");
            changed += qb
                .build()
                .execute(&mut *self.writer.conn().await?)
                .await?
                .rows_affected();
        }
        Ok(changed)
    }

    pub async fn finish(&self, finish: &Finish) -> Result<bool, StoreError> {
        let prepared = prepare_finish(finish);
        let updated = self
            .finish_batch(
                std::slice::from_ref(finish),
                std::slice::from_ref(&prepared),
            )
            .await?;
        Ok(updated.first().copied().unwrap_or(false))
    }

    pub async fn finish_many(
        &self,
        finishes: &[Finish],
    ) -> Result<Vec<Result<bool, StoreError>>, StoreError> {
        let prepared: Vec<PreparedFinish> = finishes.iter().map(prepare_finish).collect();
        match self.finish_batch(finishes, &prepared).await {
            Ok(results) => Ok(results.into_iter().map(Ok).collect()),
            // One of them failed and rolled the batch back: write them one by one, so only
            // the failing one fails.
            Err(_) if finishes.len() > 1 => {
                let mut results = Vec::with_capacity(finishes.len());
                for (finish, prepared) in finishes.iter().zip(&prepared) {
                    results.push(
                        self.finish_batch(
                            std::slice::from_ref(finish),
                            std::slice::from_ref(prepared),
                        )
                        .await
                        .map(|r| r.first().copied().unwrap_or(false)),
                    );
                }
                Ok(results)
            }
            Err(e) => Err(e),
        }
    }

    /// Writes a batch of results in one transaction; whether each still held its lease.
    async fn finish_batch(
        &self,
        finishes: &[Finish],
        prepared: &[PreparedFinish],
    ) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        if finishes.iter().any(|f| !f.follow_ups.is_empty()) {
            take_lock(&mut tx, INSERT_LOCK).await?;
        }
        let results = finish_in(&mut tx, finishes, prepared).await?;
        tx.commit().await?;
        let unblocked = finishes
            .iter()
            .zip(&results)
            .any(|(f, updated)| *updated && !matches!(f.outcome, FinishOutcome::Retry { .. }));
        if unblocked {
            self.signal_ready();
        }
        Ok(results)
    }

    pub async fn open_job_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM jobs WHERE state = 'pending')
                  + (SELECT COUNT(*) FROM jobs WHERE state = 'running') AS n",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }

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

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

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
    tx: &mut Transaction<'_, Db>,
    job: &NewJob,
    parent: Option<JobId>,
    now: i64,
) -> Result<JobId, StoreError> {
    let row = sqlx::query(
        "INSERT INTO jobs (kind, subject, source, payload, parent_job_id, state, next_run_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8) RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.subject)
    .bind(&job.source)
    .bind(job.payload.to_string())
    .bind(parent.map(|p| p.0))
    .bind(now)
    .bind(now)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    Ok(JobId(row.try_get("id")?))
}

/// Adds follow-up jobs `(job, encoded payload, parent)`, one statement per chunk; their ids
/// follow the order given.
async fn insert_follow_ups(
    tx: &mut Transaction<'_, Db>,
    jobs: &[(&NewJob, &str, JobId)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in jobs.chunks(rows_per_statement(8)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO jobs (kind, subject, source, payload, parent_job_id, state, next_run_at, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, &(job, payload, parent)| {
            b.push_bind(job.kind.as_str())
                .push_bind(job.subject.as_str())
                .push_bind(job.source.as_deref())
                .push_bind(payload)
                .push_bind(parent.0)
                .push_unseparated(", 'pending', ")
                .push_bind_unseparated(now)
                .push_bind(now)
                .push_bind(now);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

pub(crate) fn job_from_row(row: &DbRow) -> Result<Job, StoreError> {
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

/// Applies a batch of attempts' results inside `tx`; for each, `false` when its lease was
/// lost. The common outcomes (done, skipped) of the whole batch take one UPDATE each, and
/// the rows that follow (jobs, echo markers, audit) one multi-row INSERT per table.
async fn finish_in(
    tx: &mut Transaction<'_, Db>,
    finishes: &[Finish],
    prepared: &[PreparedFinish],
) -> Result<Vec<bool>, StoreError> {
    // The same attempt twice in one batch cannot be told apart in the batched statements
    // (it would take a lease lost and won back by one engine within one batch): then one
    // by one.
    let distinct = finishes
        .iter()
        .map(|f| (f.job_id, f.attempt))
        .collect::<HashSet<_>>()
        .len()
        == finishes.len();
    if distinct {
        return finish_group(tx, finishes, prepared).await;
    }
    let mut results = Vec::with_capacity(finishes.len());
    for (finish, prepared) in finishes.chunks(1).zip(prepared.chunks(1)) {
        results.extend(finish_group(tx, finish, prepared).await?);
    }
    Ok(results)
}

/// [`finish_in`] for a batch whose (job, attempt) pairs are distinct: the mappings the
/// attempts learnt first (whatever their outcome), then the jobs.
async fn finish_group(
    tx: &mut Transaction<'_, Db>,
    finishes: &[Finish],
    prepared: &[PreparedFinish],
) -> Result<Vec<bool>, StoreError> {
    let now = now_us();
    let conflicts = write_identities(tx, finishes, now).await?;
    if conflicts.iter().all(Option::is_none) {
        return finish_jobs(tx, finishes, prepared, now).await;
    }
    // Rare: a mapping that conflicts with the map fails its attempt (into the error queue),
    // as `complete_write` would have failed it during the attempt. An attempt failing
    // already keeps its own error.
    let finishes: Vec<Finish> = finishes
        .iter()
        .zip(conflicts)
        .map(|(f, conflict)| {
            let mut f = f.clone();
            if let Some(message) = conflict
                && !matches!(f.outcome, FinishOutcome::Failed { .. })
            {
                f.outcome = FinishOutcome::Failed {
                    error: ErrorRecord {
                        class: "permanent".into(),
                        code: "identity_conflict".into(),
                        message,
                        field_path: None,
                        payloads: serde_json::Value::Object(Default::default()),
                        exhausted: false,
                    },
                };
            }
            f
        })
        .collect();
    let prepared: Vec<PreparedFinish> = finishes.iter().map(prepare_finish).collect();
    finish_jobs(tx, &finishes, &prepared, now).await
}

/// The jobs' part of [`finish_group`].
async fn finish_jobs(
    tx: &mut Transaction<'_, Db>,
    finishes: &[Finish],
    prepared: &[PreparedFinish],
    now: i64,
) -> Result<Vec<bool>, StoreError> {
    let mut updated = vec![false; finishes.len()];
    let done: Vec<usize> = (0..finishes.len())
        .filter(|&i| matches!(finishes[i].outcome, FinishOutcome::Done))
        .collect();
    let skipped: Vec<usize> = (0..finishes.len())
        .filter(|&i| matches!(finishes[i].outcome, FinishOutcome::Skipped { .. }))
        .collect();
    for group in [&done, &skipped] {
        for chunk in group.chunks(rows_per_statement(5)) {
            let held = set_finished(tx, finishes, prepared, chunk, now).await?;
            for &i in chunk {
                updated[i] = held.contains(&finishes[i].job_id.0);
            }
        }
    }
    for (i, finish) in finishes.iter().enumerate() {
        if !matches!(
            finish.outcome,
            FinishOutcome::Done | FinishOutcome::Skipped { .. }
        ) {
            updated[i] = update_one(tx, finish, &prepared[i], now).await?;
        }
    }

    // Follow-up jobs and echo markers only for attempts that succeeded, in batch order (job
    // ids, and so the order of a subject's jobs, follow it).
    let succeeded = || {
        finishes
            .iter()
            .zip(prepared)
            .zip(&updated)
            .filter(|((f, _), u)| {
                **u && matches!(
                    f.outcome,
                    FinishOutcome::Done | FinishOutcome::Skipped { .. }
                )
            })
            .map(|(fp, _)| fp)
    };
    let follow_ups: Vec<(&NewJob, &str, JobId)> = succeeded()
        .flat_map(|(f, p)| {
            f.follow_ups
                .iter()
                .zip(&p.follow_ups)
                .map(move |(job, payload)| (job, payload.as_str(), f.job_id))
        })
        .collect();
    insert_follow_ups(tx, &follow_ups, now).await?;
    let echoes: Vec<&EchoMarker> = succeeded().flat_map(|(f, _)| &f.echoes).collect();
    insert_echoes(tx, &echoes, now).await?;

    let labels: Vec<&str> = finishes
        .iter()
        .zip(&updated)
        .map(|(f, u)| if *u { f.outcome.label() } else { "lease_lost" })
        .collect();
    let finish_refs: Vec<&Finish> = finishes.iter().collect();
    let audits: Vec<&PreparedAudit> = prepared.iter().map(|p| &p.audit).collect();
    insert_attempts(tx, &finish_refs, &audits, &labels).await?;
    Ok(updated)
}

/// Ends the attempts `rows` (indexes into `finishes`, all done or all skipped) with one
/// UPDATE; the ids of the jobs whose lease still held. The fence: only the holder of an
/// attempt's lease may finish it.
async fn set_finished(
    tx: &mut Transaction<'_, Db>,
    finishes: &[Finish],
    prepared: &[PreparedFinish],
    rows: &[usize],
    now: i64,
) -> Result<HashSet<i64>, StoreError> {
    let skipped = matches!(finishes[rows[0]].outcome, FinishOutcome::Skipped { .. });
    let mut qb = QueryBuilder::<Db>::new("WITH v (vid, vowner, vattempt, vsnapshot, vreason) AS (");
    qb.push_values(rows, |mut b, &i| {
        let reason = match &finishes[i].outcome {
            FinishOutcome::Skipped { reason } => Some(reason.as_str()),
            _ => None,
        };
        b.push_bind(finishes[i].job_id.0)
            .push_bind(finishes[i].owner.as_str())
            .push_bind(finishes[i].attempt as i64)
            .push_bind(prepared[i].snapshot.as_deref())
            .push_bind(reason);
    });
    qb.push(if skipped {
        ") UPDATE jobs SET state = 'skipped', resolution = vreason, finished_at = "
    } else {
        ") UPDATE jobs SET state = 'done', error_class = NULL, error_code = NULL,
             error_message = NULL, error_field_path = NULL, error_payloads = NULL,
             exhausted = FALSE, finished_at = "
    });
    qb.push_bind(now);
    qb.push(
        ", snapshot = COALESCE(vsnapshot, snapshot), lease_owner = NULL,
             lease_expires_at = NULL, updated_at = ",
    );
    qb.push_bind(now);
    qb.push(
        " FROM v WHERE id = vid AND state = 'running' AND lease_owner = vowner
             AND attempts = vattempt RETURNING id",
    );
    let rows = qb.build().fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<i64, _>("id")?))
        .collect()
}

/// Applies one attempt's result (any outcome) inside `tx`; `false` when the lease was lost.
async fn update_one(
    tx: &mut Transaction<'_, Db>,
    finish: &Finish,
    prepared: &PreparedFinish,
    now: i64,
) -> Result<bool, StoreError> {
    let set = match &finish.outcome {
        FinishOutcome::Done => {
            "state = 'done', error_class = NULL, error_code = NULL, error_message = NULL,
             error_field_path = NULL, error_payloads = NULL, exhausted = FALSE, finished_at = ?"
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
            "state = 'pending', attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, next_run_at = ?"
        }
    };
    // The fence: only the holder of this attempt's lease may finish it.
    let sql = numbered(&format!(
        "UPDATE jobs SET {set}, snapshot = COALESCE(?, snapshot), lease_owner = NULL,
             lease_expires_at = NULL, updated_at = ?
         WHERE id = ? AND state = 'running' AND lease_owner = ? AND attempts = ?"
    ));
    let query = sqlx::query(&sql);
    let query = match &finish.outcome {
        FinishOutcome::Done => query.bind(now),
        FinishOutcome::Skipped { reason } => query.bind(reason.clone()).bind(now),
        FinishOutcome::Retry { at, error } => bind_error(query.bind(to_us(*at)), error),
        FinishOutcome::Failed { error } => bind_error(query, error),
        FinishOutcome::Released => query.bind(now),
    };
    Ok(query
        .bind(prepared.snapshot.as_deref())
        .bind(now)
        .bind(finish.job_id.0)
        .bind(&finish.owner)
        .bind(finish.attempt as i64)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        == 1)
}
