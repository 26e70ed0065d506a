//! Echo markers' SQL (see `crate::echo`).

use super::Backend;
use super::dialect::Db;
use crate::echo::EchoMarker;
use crate::error::StoreError;
use crate::time::{dur_us, now_us};
use sqlx::{Row, Transaction};
use std::time::Duration;

pub(crate) async fn insert_echoes(
    tx: &mut Transaction<'_, Db>,
    markers: &[EchoMarker],
    now: i64,
) -> Result<(), StoreError> {
    for m in markers {
        sqlx::query("INSERT INTO echo_markers (target, resource, content_hash, written_at) VALUES ($1, $2, $3, $4)")
            .bind(&m.target)
            .bind(&m.resource)
            .bind(&m.content_hash)
            .bind(now)
            .execute(&mut **tx)
            .await?;
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
            .execute(&self.writer)
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
            "SELECT COUNT(*) AS n FROM echo_markers
             WHERE target = $1 AND resource = $2 AND written_at >= $3
               AND ($4 IS NULL OR content_hash = $5)",
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

    pub async fn prune_echoes(&self, older_than: Duration) -> Result<u64, StoreError> {
        let before = now_us().saturating_sub(dur_us(older_than));
        Ok(
            sqlx::query("DELETE FROM echo_markers WHERE written_at < $1")
                .bind(before)
                .execute(&self.writer)
                .await?
                .rows_affected(),
        )
    }
}
