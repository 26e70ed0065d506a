//! The store's SQL, written once and compiled once per backend: `sqlite.rs` and `postgres.rs`
//! each include this module (`#[path]`) next to their own `dialect` module, which names the
//! sqlx database type and the few statements that differ (locks, an index hint). Everything
//! here is therefore plain sqlx code against one concrete database type, with `$1`-style
//! placeholders, which SQLite and PostgreSQL both accept.

mod admin;
mod audit;
mod echo;
mod identity;
mod inbox;
mod jobs;

use super::dialect::{self, Db};
use crate::error::StoreError;
use crate::inbox::InboxRequest;
use crate::time::now_us;
use sha2::{Digest, Sha256};
use sqlx::{Pool, Row, Transaction};
use std::sync::Arc;
use tokio::sync::{Notify, mpsc};

/// One open database: the pools and the group-commit task of the inbox.
pub(crate) struct Backend {
    /// Writes go here. On SQLite a single connection (SQLite has one writer at a time
    /// anyway); on PostgreSQL the same pool as `reader`.
    pub(crate) writer: Pool<Db>,
    /// Read-only queries (lists, counts, audit search).
    pub(crate) reader: Pool<Db>,
    /// The point lookups a running job makes (identity map, echo markers): `writer` or
    /// `reader`, as the backend chooses.
    pub(crate) lookups: Pool<Db>,
    pub(crate) ready: Arc<Notify>,
    /// Requests for the group-commit task of `store_event`.
    pub(crate) inbox: mpsc::Sender<InboxRequest>,
}

impl Backend {
    /// Starts the inbox's group-commit task; the schema must be up to date.
    pub(crate) fn new(writer: Pool<Db>, reader: Pool<Db>, lookups: Pool<Db>) -> Self {
        let ready = Arc::new(Notify::new());
        let (inbox, requests) = mpsc::channel(4096);
        tokio::spawn(inbox::inbox_writer(writer.clone(), ready.clone(), requests));
        Self {
            writer,
            reader,
            lookups,
            ready,
            inbox,
        }
    }

    pub(crate) fn signal_ready(&self) {
        self.ready.notify_one();
    }

    pub(crate) async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Runs `lock` (one of the dialect's lock statements) in `tx`, if the dialect has it.
pub(crate) async fn take_lock(
    tx: &mut Transaction<'_, Db>,
    lock: Option<&str>,
) -> Result<(), StoreError> {
    if let Some(lock) = lock {
        sqlx::query(lock).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Bound parameters per multi-row statement: well below SQLite's limit (32,766) and
/// PostgreSQL's (65,535).
const MAX_PARAMS: usize = 8000;

/// Rows per multi-row statement of `columns` bound values each.
pub(crate) fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).max(1)
}

/// `?` placeholders numbered `$1`, `$2`, … : for statements put together from pieces, where
/// numbering by hand would depend on which pieces were chosen. (No `?` may appear inside a
/// string literal of such a statement.)
pub(crate) fn numbered(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Brings the schema up to date: applies, in one transaction, the migrations not applied yet
/// and refuses to start when an applied one has changed. The dialect's migration lock keeps
/// two hosts starting at once from applying the same migration twice.
pub(crate) async fn migrate(
    pool: &Pool<Db>,
    migrations: &[(i64, &str, &str)],
) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    take_lock(&mut tx, dialect::MIGRATION_LOCK).await?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ledgerlink_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for &(version, name, sql) in migrations {
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        let applied = sqlx::query("SELECT checksum FROM ledgerlink_migrations WHERE version = $1")
            .bind(version)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = applied {
            let stored: String = row.try_get("checksum")?;
            if stored != checksum {
                return Err(StoreError::MigrationChanged { version });
            }
            continue;
        }
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration {
                version,
                name: name.to_owned(),
                source,
            })?;
        sqlx::query(
            "INSERT INTO ledgerlink_migrations (version, name, checksum, applied_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(version)
        .bind(name)
        .bind(&checksum)
        .bind(now_us())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
