//! The identity map and write intents: how a Visma write stays exactly-once in effect.
//!
//! A handler calls [`Store::begin_write`] before creating something in Visma. `Proceed` means
//! no earlier attempt started this write; `LookUpFirst` means one did and its outcome is
//! unknown, so the handler must search Visma by the external reference before creating;
//! `AlreadyDone` means the mapping exists and nothing must be written. After the call,
//! [`Store::complete_write`] records the mapping (and closes the intent) in one transaction.

use crate::db::Store;
use crate::error::StoreError;
use crate::time::{from_us, now_us};
use crate::types::JobId;
use chrono::{DateTime, Utc};
use ledgerlink_core::{ExternalRef, LegalEntityId};
use serde::{Deserialize, Serialize};
use sqlx::Row;

/// What a mapping is keyed by on the BigCommerce side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IdentityKey {
    pub legal_entity: LegalEntityId,
    /// e.g. `invoice`, `sales_order`, `credit_note`, `customer`, `item`.
    pub kind: String,
    /// The BigCommerce id (order id, refund id, customer id, SKU) as text.
    pub bc_id: String,
}

impl IdentityKey {
    pub fn new(legal_entity: LegalEntityId, kind: impl Into<String>, bc_id: impl ToString) -> Self {
        Self {
            legal_entity,
            kind: kind.into(),
            bc_id: bc_id.to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WriteStart {
    /// No earlier attempt: write now.
    Proceed { intent_id: i64 },
    /// An earlier attempt started this write and never completed it: look the record up in
    /// Visma by `external_ref` first; complete with what is found or write if nothing is.
    LookUpFirst {
        intent_id: i64,
        external_ref: ExternalRef,
    },
    /// Already written: this is the Visma id.
    AlreadyDone { visma_id: String },
}

impl Store {
    /// The Visma id mapped to this BigCommerce record, if any.
    pub async fn identity(&self, key: &IdentityKey) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT visma_id FROM identity_map WHERE legal_entity = ? AND kind = ? AND bc_id = ?",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get("visma_id")).transpose()?)
    }

    /// Every mapping of `kind` (all legal entities) with the time it was recorded, oldest
    /// first: `(bc_id, visma_id, recorded_at)`. For reports and benchmarks.
    pub async fn identities_of_kind(
        &self,
        kind: &str,
    ) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT bc_id, visma_id, created_at FROM identity_map WHERE kind = ? ORDER BY created_at",
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

    /// The BigCommerce id mapped to a Visma id, if any.
    pub async fn identity_by_visma(
        &self,
        legal_entity: &LegalEntityId,
        kind: &str,
        visma_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = sqlx::query(
            "SELECT bc_id FROM identity_map WHERE legal_entity = ? AND kind = ? AND visma_id = ?",
        )
        .bind(legal_entity.as_str())
        .bind(kind)
        .bind(visma_id)
        .fetch_optional(&self.reader)
        .await?;
        Ok(row.map(|r| r.try_get("bc_id")).transpose()?)
    }

    /// Records a mapping. Recording the same pair again is fine; mapping either side to
    /// something else is an [`StoreError::IdentityConflict`].
    pub async fn put_identity(
        &self,
        key: &IdentityKey,
        visma_id: &str,
        job: Option<JobId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        put_identity_tx(&mut tx, key, visma_id, job).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Call before a Visma write. See the module docs.
    pub async fn begin_write(
        &self,
        key: &IdentityKey,
        external_ref: &ExternalRef,
        job: Option<JobId>,
    ) -> Result<WriteStart, StoreError> {
        let now = now_us();
        let mut tx = self.writer.begin().await?;
        let mapped = sqlx::query(
            "SELECT visma_id FROM identity_map WHERE legal_entity = ? AND kind = ? AND bc_id = ?",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = mapped {
            return Ok(WriteStart::AlreadyDone {
                visma_id: row.try_get("visma_id")?,
            });
        }
        let open = sqlx::query(
            "SELECT id, external_ref FROM write_intents
             WHERE legal_entity = ? AND kind = ? AND bc_id = ? AND state = 'open'",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = open {
            let intent_id: i64 = row.try_get("id")?;
            // Remember which job saw it last, for the operator's view.
            sqlx::query("UPDATE write_intents SET job_id = COALESCE(?, job_id), updated_at = ? WHERE id = ?")
                .bind(job.map(|j| j.0))
                .bind(now)
                .bind(intent_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(WriteStart::LookUpFirst {
                intent_id,
                external_ref: ExternalRef::new(row.try_get::<String, _>("external_ref")?),
            });
        }
        let row = sqlx::query(
            "INSERT INTO write_intents (legal_entity, kind, bc_id, external_ref, job_id, state, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, 'open', ?, ?) RETURNING id",
        )
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .bind(external_ref.as_str())
        .bind(job.map(|j| j.0))
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(WriteStart::Proceed {
            intent_id: row.try_get("id")?,
        })
    }

    /// Call after the Visma write succeeded (or the lookup found the record): records the
    /// mapping and closes the open intent, atomically.
    pub async fn complete_write(
        &self,
        key: &IdentityKey,
        visma_id: &str,
        job: Option<JobId>,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await?;
        put_identity_tx(&mut tx, key, visma_id, job).await?;
        sqlx::query(
            "UPDATE write_intents SET state = 'completed', visma_id = ?, updated_at = ?
             WHERE legal_entity = ? AND kind = ? AND bc_id = ? AND state = 'open'",
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

    /// Call when the write certainly had no effect (Visma rejected it with a validation
    /// error): the next attempt may write without a lookup.
    pub async fn abandon_write(&self, key: &IdentityKey) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE write_intents SET state = 'abandoned', updated_at = ?
             WHERE legal_entity = ? AND kind = ? AND bc_id = ? AND state = 'open'",
        )
        .bind(now_us())
        .bind(key.legal_entity.as_str())
        .bind(&key.kind)
        .bind(&key.bc_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Number of write intents still open (outcome unknown), for monitoring.
    pub async fn open_intent_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM write_intents WHERE state = 'open'")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }
}

async fn put_identity_tx(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    key: &IdentityKey,
    visma_id: &str,
    job: Option<JobId>,
) -> Result<(), StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO identity_map (legal_entity, kind, bc_id, visma_id, job_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(key.legal_entity.as_str())
    .bind(&key.kind)
    .bind(&key.bc_id)
    .bind(visma_id)
    .bind(job.map(|j| j.0))
    .bind(now_us())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        return Ok(());
    }
    // Nothing inserted: either this exact pair exists (fine) or one side is taken.
    let existing = sqlx::query(
        "SELECT bc_id, visma_id FROM identity_map
         WHERE legal_entity = ? AND kind = ? AND (bc_id = ? OR visma_id = ?)",
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
