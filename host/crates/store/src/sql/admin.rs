//! The operator functions' SQL (see `crate::admin`).

use super::Backend;
use super::dialect::Db;
use super::jobs::job_from_row;
use crate::admin::{ActionReport, JobFilter, ReplaySelector};
use crate::error::StoreError;
use crate::jobs::JOB_COLUMNS;
use crate::time::{now_us, to_us};
use crate::types::{Job, JobId, JobState, ReplayMode};
use sqlx::Connection;
use sqlx::QueryBuilder;

impl Backend {
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let mut qb = QueryBuilder::<Db>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1"));
        push_filter(&mut qb, filter);
        qb.push(" ORDER BY updated_at DESC, id DESC");
        if let Some(limit) = filter.limit {
            qb.push(" LIMIT ").push_bind(i64::from(limit));
        }
        let rows = qb.build().fetch_all(&self.reader).await?;
        rows.iter().map(job_from_row).collect()
    }

    pub async fn errors_list(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError> {
        let filter = JobFilter {
            state: Some(JobState::Failed),
            ..filter.clone()
        };
        self.list_jobs(&filter).await
    }

    pub async fn replay(
        &self,
        selector: &ReplaySelector,
        mode: ReplayMode,
        actor: &str,
    ) -> Result<ActionReport, StoreError> {
        let now = now_us();
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        let jobs = select(&mut tx, selector).await?;
        let mut report = ActionReport::default();
        for job in jobs {
            if job.state == JobState::Running {
                report.refused.push((job.id, "job is running".into()));
                continue;
            }
            if mode == ReplayMode::Snapshot && job.snapshot.is_none() {
                report
                    .refused
                    .push((job.id, "no snapshot stored for this job".into()));
                continue;
            }
            sqlx::query(
                "UPDATE jobs SET state = 'pending', attempts = 0, next_run_at = $1, replay_mode = $2,
                     lease_owner = NULL, lease_expires_at = NULL, exhausted = FALSE, resolution = NULL,
                     finished_at = NULL, updated_at = $3
                 WHERE id = $4 AND state <> 'running'",
            )
            .bind(now)
            .bind(mode.as_str())
            .bind(now)
            .bind(job.id.0)
            .execute(&mut *tx)
            .await?;
            record_action(
                &mut tx,
                job.id,
                "replay",
                actor,
                None,
                Some(&format!("mode={}, was {}", mode.as_str(), job.state)),
            )
            .await?;
            report.changed.push(job.id);
        }
        tx.commit().await?;
        if !report.changed.is_empty() {
            self.signal_ready();
        }
        Ok(report)
    }

    pub async fn skip(
        &self,
        selector: &ReplaySelector,
        reason: &str,
        actor: &str,
    ) -> Result<ActionReport, StoreError> {
        let reason = reason.trim();
        let now = now_us();
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        let jobs = select(&mut tx, selector).await?;
        let mut report = ActionReport::default();
        for job in jobs {
            if reason.is_empty() {
                report.refused.push((job.id, "a reason is required".into()));
                continue;
            }
            if !matches!(job.state, JobState::Failed | JobState::Pending) {
                report
                    .refused
                    .push((job.id, format!("job is {}", job.state)));
                continue;
            }
            sqlx::query(
                "UPDATE jobs SET state = 'skipped', resolution = $1, finished_at = $2, updated_at = $3
                 WHERE id = $4 AND state IN ('failed', 'pending')",
            )
            .bind(reason)
            .bind(now)
            .bind(now)
            .bind(job.id.0)
            .execute(&mut *tx)
            .await?;
            record_action(
                &mut tx,
                job.id,
                "skip",
                actor,
                Some(reason),
                Some(&format!("was {}", job.state)),
            )
            .await?;
            report.changed.push(job.id);
        }
        tx.commit().await?;
        if !report.changed.is_empty() {
            // A skipped job no longer holds back later jobs of its subject.
            self.signal_ready();
        }
        Ok(report)
    }
}

fn push_filter(qb: &mut QueryBuilder<'_, Db>, f: &JobFilter) {
    if let Some(kind) = &f.kind {
        qb.push(" AND kind = ").push_bind(kind.clone());
    }
    if let Some(subject) = &f.subject {
        qb.push(" AND subject = ").push_bind(subject.clone());
    }
    if let Some(code) = &f.error_code {
        qb.push(" AND error_code = ").push_bind(code.clone());
    }
    if let Some(state) = f.state {
        qb.push(" AND state = ").push_bind(state.as_str());
    }
    if let Some(since) = f.since {
        qb.push(" AND updated_at >= ").push_bind(to_us(since));
    }
    if let Some(until) = f.until {
        qb.push(" AND updated_at < ").push_bind(to_us(until));
    }
}

async fn select(
    tx: &mut sqlx::Transaction<'_, Db>,
    selector: &ReplaySelector,
) -> Result<Vec<Job>, StoreError> {
    let filter = match selector {
        ReplaySelector::Job(id) => {
            let row = sqlx::query(&format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"))
                .bind(id.0)
                .fetch_optional(&mut **tx)
                .await?
                .ok_or(StoreError::JobNotFound(*id))?;
            return Ok(vec![job_from_row(&row)?]);
        }
        ReplaySelector::Filter(f) => JobFilter {
            state: Some(f.state.unwrap_or(JobState::Failed)),
            ..f.clone()
        },
        ReplaySelector::AllFailed => JobFilter {
            state: Some(JobState::Failed),
            ..JobFilter::default()
        },
    };
    let mut qb = QueryBuilder::<Db>::new(format!("SELECT {JOB_COLUMNS} FROM jobs WHERE 1 = 1"));
    push_filter(&mut qb, &filter);
    // Oldest first, so the actions are recorded in the order the jobs will run.
    qb.push(" ORDER BY id");
    if let Some(limit) = filter.limit {
        qb.push(" LIMIT ").push_bind(i64::from(limit));
    }
    let rows = qb.build().fetch_all(&mut **tx).await?;
    rows.iter().map(job_from_row).collect()
}

async fn record_action(
    tx: &mut sqlx::Transaction<'_, Db>,
    job: JobId,
    action: &str,
    actor: &str,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO job_actions (at, job_id, action, actor, reason, detail) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(now_us())
        .bind(job.0)
        .bind(action)
        .bind(actor)
        .bind(reason)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl Backend {
    pub async fn job_actions(
        &self,
        job: JobId,
    ) -> Result<Vec<crate::audit::AuditAction>, StoreError> {
        self.actions_of(&[job]).await
    }
}
