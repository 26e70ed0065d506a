//! The identity map and write intents' SQL (see `crate::identity`).

use super::dialect::Db;
use super::{Backend, rows_per_statement};
use crate::error::StoreError;
use crate::identity::{IdentityKey, IdentityWrite, WriteStart};
use crate::jobs::Finish;
use crate::time::{from_us, now_us, to_us};
use crate::types::JobId;
use chrono::{DateTime, Utc};
use ledgerlink_core::{ExternalRef, LegalEntityId};
use sqlx::Connection;
use sqlx::{QueryBuilder, Row, Transaction};
use std::collections::HashSet;

impl Backend {
    pub async fn identity(&self, key: &IdentityKey) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT visma_id FROM identity_map WHERE legal_entity = $1 AND kind = $2 AND bc_id = $3",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&mut *self.lookups.conn().await?)
        .await?;
        Ok(row.map(|r| r.try_get("visma_id")).transpose()?)
    }

    pub async fn identities_of_kind(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT bc_id, visma_id, created_at FROM identity_map WHERE kind = $1 ORDER BY created_at",
        )
        .bind(kind)
        .fetch_all(&self.reader)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("bc_id")?,
                    r.try_get("visma_id")?,
                    from_us(r.try_get("created_at")?),
                ))
            })
            .collect()
    }

    pub async fn identity_by_visma(
        &self,
        legal_entity: &LegalEntityId,
        kind: &str,
        visma_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT bc_id FROM identity_map WHERE legal_entity = $1 AND kind = $2 AND visma_id = $3",
        )
        .bind(legal_entity.as_str())
        .bind(kind)
        .bind(visma_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get("bc_id")).transpose()?)
    }

    pub async fn put_identity(
        &self,
        key: &IdentityKey,
        visma_id: &str,
        job: Option<JobId>,
    ) -> Result<(), StoreError> {
        // The common case, a new mapping, is one statement; a conflict is looked into in a
        // transaction.
        if insert_identity(&mut *self.writer.conn().await?, key, visma_id, job).await? == 1 {
            return Ok(());
        }
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        put_identity_tx(&mut tx, key, visma_id, job).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn begin_write(
        &self,
        key: &IdentityKey,
        external_ref: &ExternalRef,
        job: Option<JobId>,
    ) -> Result<WriteStart, StoreError> {
        // The common case in one statement: no mapping and no open intent, so a new intent
        // is recorded and the write may go ahead. Anything else takes the full look below.
        let opened = open_intent(
            &mut *self.writer.conn().await?,
            key,
            external_ref,
            job,
            now_us(),
        )
        .await?;
        if let Some(intent_id) = opened {
            return Ok(WriteStart::Proceed { intent_id });
        }
        // A second try only when another host opened an intent for the same record between
        // this one's look and its insert (PostgreSQL); the second look then finds it.
        for _ in 0..2 {
            if let Some(start) = self.try_begin_write(key, external_ref, job).await? {
                return Ok(start);
            }
        }
        Err(StoreError::IdentityConflict(format!(
            "{} {} in {}: the write intent changed under two attempts to record it",
            key.kind, key.bc_id, key.legal_entity
        )))
    }

    async fn try_begin_write(
        &self,
        key: &IdentityKey,
        external_ref: &ExternalRef,
        job: Option<JobId>,
    ) -> Result<Option<WriteStart>, StoreError> {
        let now = now_us();
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        let mapped = sqlx::query(
            "SELECT visma_id FROM identity_map WHERE legal_entity = $1 AND kind = $2 AND bc_id = $3",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = mapped {
            return Ok(Some(WriteStart::AlreadyDone {
                visma_id: row.try_get("visma_id")?,
            }));
        }
        let open = sqlx::query(
            "SELECT id, external_ref, job_id FROM write_intents
             WHERE legal_entity = $1 AND kind = $2 AND bc_id = $3 AND state = 'open'",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = open {
            let intent_id: i64 = row.try_get("id")?;
            // Another job holding a live lease is writing this record right now (an order and
            // its customer's own event can both create one customer): looking it up by
            // reference before its create returns would find nothing and create a second.
            let owner: Option<i64> = row.try_get("job_id")?;
            if let Some(owner) = owner.filter(|o| Some(*o) != job.map(|j| j.0)) {
                let live = sqlx::query(
                    "SELECT 1 FROM jobs WHERE id = $1 AND state = 'running' AND lease_expires_at > $2",
                )
                .bind(owner)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if live.is_some() {
                    return Err(StoreError::WriteInFlight {
                        job: JobId(owner),
                        what: format!("{} {} in {}", key.kind, key.bc_id, key.legal_entity),
                    });
                }
            }
            // Remember which job saw it last, for the operator's view.
            sqlx::query("UPDATE write_intents SET job_id = COALESCE($1, job_id), updated_at = $2 WHERE id = $3")
                .bind(job.map(|j| j.0))
                .bind(now)
                .bind(intent_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Some(WriteStart::LookUpFirst {
                intent_id,
                external_ref: ExternalRef::new(row.try_get::<String, _>("external_ref")?),
            }));
        }
        let Some(intent_id) = open_intent(&mut *tx, key, external_ref, job, now).await? else {
            return Ok(None);
        };
        tx.commit().await?;
        Ok(Some(WriteStart::Proceed { intent_id }))
    }

    pub async fn complete_write(
        &self,
        key: &IdentityKey,
        visma_id: &str,
        job: Option<JobId>,
    ) -> Result<(), StoreError> {
        let mut conn = self.writer.conn().await?;
        let mut tx = conn.begin().await?;
        put_identity_tx(&mut tx, key, visma_id, job).await?;
        sqlx::query(
            "UPDATE write_intents SET state = 'completed', visma_id = $1, updated_at = $2
             WHERE legal_entity = $3 AND kind = $4 AND bc_id = $5 AND state = 'open'",
        )
        .bind(visma_id)
        .bind(now_us())
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn abandon_write(&self, key: &IdentityKey) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE write_intents SET state = 'abandoned', updated_at = $1
             WHERE legal_entity = $2 AND kind = $3 AND bc_id = $4 AND state = 'open'",
        )
        .bind(now_us())
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .execute(&mut *self.writer.conn().await?)
        .await?;
        Ok(())
    }

    pub async fn open_intent_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM write_intents WHERE state = 'open'")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }
}

/// Writes the mappings a batch of attempts learnt ([`Finish::identities`]) and closes the
/// write intents they complete, in a few multi-row statements; for each finish, the conflict
/// that kept one of its mappings out, if any (that mapping's intent stays open).
pub(crate) async fn write_identities(
    tx: &mut Transaction<'_, Db>,
    finishes: &[Finish],
    now: i64,
) -> Result<Vec<Option<String>>, StoreError> {
    let mut conflicts = vec![None; finishes.len()];
    let writes: Vec<(usize, &IdentityWrite)> = finishes
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.identities.iter().map(move |w| (i, w)))
        .collect();
    if writes.is_empty() {
        return Ok(conflicts);
    }
    // (legal entity, kind, bc id, visma id) of the rows inserted.
    let mut inserted: HashSet<(String, String, String, String)> = HashSet::new();
    for chunk in writes.chunks(rows_per_statement(6)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO identity_map (legal_entity, kind, bc_id, visma_id, job_id, created_at) ",
        );
        qb.push_values(chunk, |mut b, &(i, w)| {
            b.push_bind(w.key.legal_entity.as_str())
                .push_bind(w.key.kind.as_str())
                .push_bind(w.key.bc_id.as_str())
                .push_bind(w.visma_id.as_str())
                .push_bind(finishes[i].job_id.0)
                .push_bind(to_us(w.learned_at));
        });
        qb.push(" ON CONFLICT DO NOTHING RETURNING legal_entity, kind, bc_id, visma_id");
        for row in qb.build().fetch_all(&mut **tx).await? {
            inserted.insert((
                row.try_get("legal_entity")?,
                row.try_get("kind")?,
                row.try_get("bc_id")?,
                row.try_get("visma_id")?,
            ));
        }
    }
    // Not inserted: the same pair recorded before (fine), or one side taken (a conflict).
    let mut to_close = Vec::new();
    for &(i, w) in &writes {
        let row = (
            w.key.legal_entity.as_str().to_owned(),
            w.key.kind.clone(),
            w.key.bc_id.clone(),
            w.visma_id.clone(),
        );
        if !inserted.contains(&row) {
            match put_identity_tx(tx, &w.key, &w.visma_id, Some(finishes[i].job_id)).await {
                Ok(()) => {}
                Err(StoreError::IdentityConflict(msg)) => {
                    conflicts[i].get_or_insert(msg);
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        if w.completes_intent {
            to_close.push(w);
        }
    }
    for chunk in to_close.chunks(rows_per_statement(4)) {
        let mut qb = QueryBuilder::<Db>::new("WITH v (vle, vkind, vbc, vvisma) AS (");
        qb.push_values(chunk, |mut b, w| {
            b.push_bind(w.key.legal_entity.as_str())
                .push_bind(w.key.kind.as_str())
                .push_bind(w.key.bc_id.as_str())
                .push_bind(w.visma_id.as_str());
        });
        qb.push(") UPDATE write_intents SET state = 'completed', visma_id = vvisma, updated_at = ")
            .push_bind(now)
            .push(
                " FROM v WHERE legal_entity = vle AND kind = vkind AND bc_id = vbc
                  AND state = 'open'",
            );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(conflicts)
}

/// Opens a write intent for `key` unless the record is mapped already or another intent for
/// it is open; its id, or `None` when nothing was opened.
async fn open_intent<'e, E>(
    executor: E,
    key: &IdentityKey,
    external_ref: &ExternalRef,
    job: Option<JobId>,
    now: i64,
) -> Result<Option<i64>, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let row = sqlx::query(
        "INSERT INTO write_intents (legal_entity, kind, bc_id, external_ref, job_id, state, created_at, updated_at)
         SELECT $1, $2, $3, $4, $5, 'open', $6, $6
         WHERE NOT EXISTS (
             SELECT 1 FROM identity_map WHERE legal_entity = $1 AND kind = $2 AND bc_id = $3)
         ON CONFLICT (legal_entity, kind, bc_id) WHERE state = 'open' DO NOTHING
         RETURNING id",
    )
    .bind(key.legal_entity.as_str())
    .bind(&key.kind)
    .bind(&key.bc_id)
    .bind(external_ref.as_str())
    .bind(job.map(|j| j.0))
    .bind(now)
    .fetch_optional(executor)
    .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("id")?),
        None => None,
    })
}

/// Inserts a mapping unless either side is taken; 1 when inserted.
async fn insert_identity<'e, E>(
    executor: E,
    key: &IdentityKey,
    visma_id: &str,
    job: Option<JobId>,
) -> Result<u64, StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    Ok(sqlx::query(
        "INSERT INTO identity_map (legal_entity, kind, bc_id, visma_id, job_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key.legal_entity.as_str())
    .bind(&key.kind)
    .bind(&key.bc_id)
    .bind(visma_id)
    .bind(job.map(|j| j.0))
    .bind(now_us())
    .execute(executor)
    .await?
    .rows_affected())
}

async fn put_identity_tx(
    tx: &mut sqlx::Transaction<'_, Db>,
    key: &IdentityKey,
    visma_id: &str,
    job: Option<JobId>,
) -> Result<(), StoreError> {
    if insert_identity(&mut **tx, key, visma_id, job).await? == 1 {
        return Ok(());
    }
    // Nothing inserted: either this exact pair exists (fine) or one side is taken.
    let existing = sqlx::query(
        "SELECT bc_id, visma_id FROM identity_map
         WHERE legal_entity = $1 AND kind = $2 AND (bc_id = $3 OR visma_id = $4)",
    )
    .bind(key.legal_entity.as_str())
    .bind(&key.kind)
    .bind(&key.bc_id)
    .bind(visma_id)
    .fetch_all(&mut **tx)
    .await?;
    for row in &existing {
        let bc: String = row.try_get("bc_id")?;
        let vi: String = row.try_get("visma_id")?;
        if bc == key.bc_id && vi == visma_id {
            return Ok(());
        }
    }
    let detail = existing
        .iter()
        .map(|r| {
            format!(
                "{} ↔ {}",
                r.try_get::<String, _>("bc_id").unwrap_or_default(),
                r.try_get::<String, _>("visma_id").unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Err(StoreError::IdentityConflict(format!(
        "{} {} in {}: cannot map BigCommerce {} to Visma {}; already mapped: {}",
        key.kind, key.bc_id, key.legal_entity, key.bc_id, visma_id, detail
    )))
}
