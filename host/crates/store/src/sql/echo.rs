//! Echo markers' SQL (see `crate::echo`).

use super::dialect::Db;
use super::{Backend, rows_per_statement};
use crate::echo::EchoMarker;
use crate::error::StoreError;
use crate::time::{dur_us, now_us};
use sqlx::{QueryBuilder, Transaction};
use std::time::Duration;

/// Writes echo markers, one statement per chunk.
pub(crate) async fn insert_echoes(
    tx: &mut Transaction<'_, Db>,
    markers: &[&EchoMarker],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in markers.chunks(rows_per_statement(4)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO echo_markers (target, resource, content_hash, written_at) ",
        );
        qb.push_values(chunk, |mut b, m| {
            b.push_bind(m.target.as_str())
                .push_bind(m.resource.as_str())
                .push_bind(m.content_hash.as_str())
                .push_bind(now);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

impl Backend {
    pub async fn record_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO echo_markers (target, resource, content_hash, written_at) VALUES ($1, $2, $3, $4)")
            .bind(target)
            .bind(resource)
            .bind(content_hash)
            .bind(now_us())
            .execute(&mut *self.writer.conn().await?)
            .await?;
        Ok(())
    }

    pub async fn is_echo(
        &self,
        target: &str,
        resource: &str,
        content_hash: Option<&str>,
        within: Duration,
    ) -> Result<bool, StoreError> {
        let since = now_us().saturating_sub(dur_us(within));
        let row = sqlx::query(
            "SELECT 1 AS hit FROM echo_markers
             WHERE target = $1 AND resource = $2 AND written_at >= $3
               AND ($4 IS NULL OR content_hash = $5)
             LIMIT 1",
        )
        .bind(target)
        .bind(resource)
        .bind(since)
        .bind(content_hash)
        .bind(content_hash)
        .fetch_optional(&mut *self.lookups.conn().await?)
        .await?;
        Ok(row.is_some())
    }

    pub async fn prune_echoes(&self, older_than: Duration) -> Result<u64, StoreError> {
        let before = now_us().saturating_sub(dur_us(older_than));
        Ok(
            sqlx::query("DELETE FROM echo_markers WHERE written_at < $1")
                .bind(before)
                .execute(&mut *self.writer.conn().await?)
                .await?
                .rows_affected(),
        )
    }
}
