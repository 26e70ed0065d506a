//! The inbox's SQL: events deduplicated by (source, dedupe_key), each new one turned into a
//! job in the same transaction, stored in groups by one task; the durable watermarks.

use super::dialect::{Db, INSERT_LOCK};
use super::{Backend, Writer, rows_per_statement, take_lock};
use crate::error::StoreError;
use crate::inbox::{INBOX_BATCH, INBOX_GATHER, InboxRequest};
use crate::time::{now_us, to_us};
use ledgerlink_core::{InboundEvent, StoreOutcome};
use sqlx::{Connection, QueryBuilder, Row};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc, oneshot};

impl Backend {
    pub async fn store_event(&self, event: &InboundEvent) -> Result<StoreOutcome, StoreError> {
        let (reply, answer) = oneshot::channel();
        if self.inbox.send((event.clone(), reply)).await.is_ok()
            && let Ok(result) = answer.await
        {
            return result.map_err(StoreError::Inbox);
        }
        // The group-commit task is gone (runtime shutting down): store directly.
        let mut outcomes = self.store_events(std::slice::from_ref(event)).await?;
        Ok(outcomes.pop().unwrap_or(StoreOutcome::Duplicate))
    }

    pub async fn store_events(
        &self,
        events: &[InboundEvent],
    ) -> Result<Vec<StoreOutcome>, StoreError> {
        let outcomes = insert_events(&self.writer, events).await?;
        if outcomes.contains(&StoreOutcome::Stored) {
            self.signal_ready();
        }
        Ok(outcomes)
    }

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
        let row = sqlx::query("SELECT value FROM watermarks WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *self.writer.conn().await?)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    pub async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO watermarks (name, value, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(now_us())
        .execute(&mut *self.writer.conn().await?)
        .await?;
        Ok(())
    }
}

/// The group-commit task behind [`Store::store_event`]: takes every request waiting and stores
/// them in one transaction.
pub(crate) async fn inbox_writer(
    writer: Writer,
    ready: Arc<Notify>,
    mut rx: mpsc::Receiver<InboxRequest>,
) {
    let mut events = Vec::with_capacity(INBOX_BATCH);
    let mut replies = Vec::with_capacity(INBOX_BATCH);
    while let Some((event, reply)) = rx.recv().await {
        events.push(event);
        replies.push(reply);
        tokio::time::sleep(INBOX_GATHER).await;
        while events.len() < INBOX_BATCH {
            match rx.try_recv() {
                Ok((event, reply)) => {
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let results: Vec<Result<StoreOutcome, String>> = match insert_events(&writer, &events).await
        {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            // Store one by one so one failure does not fail the others.
            Err(_) if events.len() > 1 => {
                let mut results = Vec::with_capacity(events.len());
                for event in &events {
                    let r = insert_events(&writer, std::slice::from_ref(event)).await;
                    results.push(
                        r.map(|mut o| o.pop().unwrap_or(StoreOutcome::Duplicate))
                            .map_err(|e| e.to_string()),
                    );
                }
                results
            }
            Err(e) => vec![Err(e.to_string())],
        };
        if results
            .iter()
            .any(|r| matches!(r, Ok(StoreOutcome::Stored)))
        {
            ready.notify_one();
        }
        for (reply, result) in replies.drain(..).zip(results) {
            let _ = reply.send(result);
        }
        events.clear();
    }
}

/// Stores a batch of events and their jobs in one transaction: one multi-row INSERT for the
/// events and one for their jobs (per chunk), not two statements per event.
async fn insert_events(
    writer: &Writer,
    events: &[InboundEvent],
) -> Result<Vec<StoreOutcome>, StoreError> {
    let now = now_us();
    // A key repeated within the batch is a duplicate of its first occurrence.
    let mut seen = HashSet::with_capacity(events.len());
    let firsts: Vec<usize> = (0..events.len())
        .filter(|&i| seen.insert((events[i].source.as_str(), events[i].dedupe_key.as_str())))
        .collect();
    let payloads: Vec<String> = events.iter().map(|e| e.payload.to_string()).collect();
    let mut ids: HashMap<(String, String), i64> = HashMap::with_capacity(firsts.len());
    let mut conn = writer.conn().await?;
    let mut tx = conn.begin().await?;
    take_lock(&mut tx, INSERT_LOCK).await?;
    for chunk in firsts.chunks(rows_per_statement(7)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO events (source, dedupe_key, scope, subject, payload, received_at, stored_at) ",
        );
        qb.push_values(chunk, |mut b, &i| {
            let e = &events[i];
            b.push_bind(e.source.as_str())
                .push_bind(e.dedupe_key.as_str())
                .push_bind(e.scope.as_str())
                .push_bind(e.subject.as_str())
                .push_bind(payloads[i].as_str())
                .push_bind(to_us(e.received_at))
                .push_bind(now);
        });
        qb.push(" ON CONFLICT (source, dedupe_key) DO NOTHING RETURNING id, source, dedupe_key");
        for row in qb.build().fetch_all(&mut *tx).await? {
            ids.insert(
                (row.try_get("source")?, row.try_get("dedupe_key")?),
                row.try_get("id")?,
            );
        }
    }
    // The jobs in the events' order: a subject's jobs run in id order.
    let mut stored: Vec<(usize, i64)> = Vec::with_capacity(ids.len());
    for &i in &firsts {
        let key = (events[i].source.clone(), events[i].dedupe_key.clone());
        if let Some(id) = ids.get(&key) {
            stored.push((i, *id));
        }
    }
    for chunk in stored.chunks(rows_per_statement(8)) {
        let mut qb = QueryBuilder::<Db>::new(
            "INSERT INTO jobs (kind, subject, source, payload, event_id, state, next_run_at, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, &(i, event_id)| {
            let e = &events[i];
            b.push_bind(e.scope.as_str())
                .push_bind(e.subject.as_str())
                .push_bind(e.source.as_str())
                .push_bind(payloads[i].as_str())
                .push_bind(event_id)
                .push_unseparated(", 'pending', ")
                .push_bind_unseparated(now)
                .push_bind(now)
                .push_bind(now);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    let mut outcomes = vec![StoreOutcome::Duplicate; events.len()];
    for (i, _) in stored {
        outcomes[i] = StoreOutcome::Stored;
    }
    Ok(outcomes)
}
