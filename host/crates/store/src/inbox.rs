//! The inbox: incoming events, deduplicated by (source, dedupe_key), each new one turned into
//! a job in the same transaction. Also the durable watermarks.

use crate::db::Store;
use crate::error::StoreError;
use crate::time::{now_us, to_us};
use ledgerlink_core::{BoxFuture, EventSink, InboundEvent, SinkError, StoreOutcome, Watermarks};
use sqlx::Row;

impl Store {
    /// Stores one event and its job. Returns `Duplicate` (storing nothing) when an event with
    /// the same source and dedupe key is already there. The job's kind is the event's scope.
    pub async fn store_event(&self, event: &InboundEvent) -> Result<StoreOutcome, StoreError> {
        let mut outcomes = self.store_events(std::slice::from_ref(event)).await?;
        Ok(outcomes.pop().unwrap_or(StoreOutcome::Duplicate))
    }

    /// Stores several events in one transaction (cheaper per event under load); the outcome
    /// of each, in order. Duplicates inside the batch count as duplicates too.
    pub async fn store_events(
        &self,
        events: &[InboundEvent],
    ) -> Result<Vec<StoreOutcome>, StoreError> {
        let now = now_us();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut tx = self.writer.begin().await?;
        for event in events {
            let payload = event.payload.to_string();
            let inserted = sqlx::query(
                "INSERT INTO events (source, dedupe_key, scope, subject, payload, received_at, stored_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (source, dedupe_key) DO NOTHING
                 RETURNING id",
            )
            .bind(&event.source)
            .bind(&event.dedupe_key)
            .bind(&event.scope)
            .bind(&event.subject)
            .bind(&payload)
            .bind(to_us(event.received_at))
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = inserted else {
                outcomes.push(StoreOutcome::Duplicate);
                continue;
            };
            let event_id: i64 = row.try_get("id")?;
            sqlx::query(
                "INSERT INTO jobs (kind, subject, source, payload, event_id, state, next_run_at, created_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
            )
            .bind(&event.scope)
            .bind(&event.subject)
            .bind(&event.source)
            .bind(&payload)
            .bind(event_id)
            .bind(now)
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            outcomes.push(StoreOutcome::Stored);
        }
        tx.commit().await?;
        if outcomes.contains(&StoreOutcome::Stored) {
            self.signal_ready();
        }
        Ok(outcomes)
    }

    /// Events whose jobs are not yet finished (pending, running or in the error queue).
    pub async fn unprocessed_event_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(DISTINCT e.id) AS n FROM events e JOIN jobs j ON j.event_id = e.id
             WHERE j.state IN ('pending', 'running', 'failed')",
        )
        .fetch_one(&self.reader)
        .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }

    pub async fn event_count(&self) -> Result<u64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get::<i64, _>("n")? as u64)
    }

    pub async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM watermarks WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.writer)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    pub async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO watermarks (name, value, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now_us())
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

fn sink_err(e: StoreError) -> SinkError {
    SinkError(e.to_string())
}

impl EventSink for Store {
    fn store(&self, event: InboundEvent) -> BoxFuture<'_, Result<StoreOutcome, SinkError>> {
        Box::pin(async move { self.store_event(&event).await.map_err(sink_err) })
    }
}

impl Watermarks for Store {
    fn get(&self, name: &str) -> BoxFuture<'_, Result<Option<String>, SinkError>> {
        let name = name.to_owned();
        Box::pin(async move { self.watermark(&name).await.map_err(sink_err) })
    }

    fn set(&self, name: &str, value: &str) -> BoxFuture<'_, Result<(), SinkError>> {
        let (name, value) = (name.to_owned(), value.to_owned());
        Box::pin(async move { self.set_watermark(&name, &value).await.map_err(sink_err) })
    }
}
