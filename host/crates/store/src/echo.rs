//! Echo suppression: a handler that writes to BigCommerce records what it wrote; when the
//! webhook caused by that write arrives, the handler asks whether it is our own echo.

use crate::db::Store;
use crate::error::StoreError;
use crate::time::{dur_us, now_us};
use sqlx::{Row, Sqlite, Transaction};
use std::time::Duration;

/// "We wrote content with hash `content_hash` to `resource` on `target`": recorded with an
/// attempt's result (see [`crate::Finish::echoes`]) or at once with [`Store::record_echo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoMarker {
    pub target: String,
    pub resource: String,
    pub content_hash: String,
}

pub(crate) async fn insert_echoes(
    tx: &mut Transaction<'_, Sqlite>,
    markers: &[EchoMarker],
    now: i64,
) -> Result<(), StoreError> {
    for m in markers {
        sqlx::query("INSERT INTO echo_markers (target, resource, content_hash, written_at) VALUES (?, ?, ?, ?)")
            .bind(&m.target)
            .bind(&m.resource)
            .bind(&m.content_hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Records "we wrote content with hash `content_hash` to `resource` on `target` now",
    /// e.g. target `bigcommerce:abc123`, resource `order:100`.
    pub async fn record_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO echo_markers (target, resource, content_hash, written_at) VALUES (?, ?, ?, ?)")
            .bind(target)
            .bind(resource)
            .bind(content_hash)
            .bind(now_us())
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Whether we wrote to `resource` within the last `within`: with a hash, a write of that
    /// exact content (the resource as now fetched hashes the same as what we wrote); without,
    /// any write.
    pub async fn is_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: Option<&str>,
        within: Duration,
    ) -> Result<bool, StoreError> {
        let since = now_us().saturating_sub(dur_us(within));
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM echo_markers
             WHERE target = ? AND resource = ? AND written_at >= ?
               AND (? IS NULL OR content_hash = ?)",
        )
        .bind(target)
        .bind(resource)
        .bind(since)
        .bind(content_hash)
        .bind(content_hash)
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// Deletes markers older than `older_than`; returns how many.
    pub async fn prune_echoes(&self, older_than: Duration) -> Result<u64, StoreError> {
        let before = now_us().saturating_sub(dur_us(older_than));
        Ok(sqlx::query("DELETE FROM echo_markers WHERE written_at < ?")
            .bind(before)
            .execute(&self.writer)
            .await?
            .rows_affected())
    }
}
