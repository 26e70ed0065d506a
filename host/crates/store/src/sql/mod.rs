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
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool, Row, Transaction};
use std::sync::Arc;
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard, Notify, mpsc};

/// A connection of the database.
pub(crate) type DbConn = <Db as sqlx::Database>::Connection;

/// Where writes (or lookups) go. (This module is compiled once per backend, and each uses one variant.)
#[derive(Clone)]
#[allow(dead_code)]
pub(crate) enum Writer {
    /// SQLite's single writer connection (SQLite has one writer at a time anyway), held for
    /// the store's life rather than pooled: a pooled connection costs a spawned task and a
    /// ping round trip to its thread each time it is given back, as much as a statement.
    /// `None` once closed.
    Held(Arc<Mutex<Option<DbConn>>>),
    /// PostgreSQL: the pool, shared with the reads.
    Pool(Pool<Db>),
}

/// A connection to write on, for as long as it is held.
pub(crate) enum WriteConn<'a> {
    Held(MappedMutexGuard<'a, DbConn>),
    Pooled(PoolConnection<Db>),
}

impl std::ops::Deref for WriteConn<'_> {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        match self {
            WriteConn::Held(c) => c,
            WriteConn::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for WriteConn<'_> {
    fn deref_mut(&mut self) -> &mut DbConn {
        match self {
            WriteConn::Held(c) => c,
            WriteConn::Pooled(c) => c,
        }
    }
}

impl Writer {
    #[allow(dead_code)]
    pub(crate) fn held(conn: DbConn) -> Self {
        Writer::Held(Arc::new(Mutex::new(Some(conn))))
    }

    /// The connection to write on; waits for the writer that holds it.
    pub(crate) async fn conn(&self) -> Result<WriteConn<'_>, StoreError> {
        match self {
            Writer::Held(conn) => MutexGuard::try_map(conn.lock().await, Option::as_mut)
                .map(WriteConn::Held)
                .map_err(|_| sqlx::Error::PoolClosed.into()),
            Writer::Pool(pool) => Ok(WriteConn::Pooled(pool.acquire().await?)),
        }
    }

    pub(crate) async fn close(&self) {
        match self {
            Writer::Held(conn) => {
                if let Some(conn) = conn.lock().await.take() {
                    let _ = conn.close().await;
                }
            }
            Writer::Pool(pool) => pool.close().await,
        }
    }
}

/// One open database: the connections and the group-commit task of the inbox.
pub(crate) struct Backend {
    /// Writes go here.
    pub(crate) writer: Writer,
    /// Read-only queries (lists, counts, audit search).
    pub(crate) reader: Pool<Db>,
    /// The point lookups a running job makes (identity map, echo markers): the writer or
    /// the readers, as the backend chooses.
    pub(crate) lookups: Writer,
    pub(crate) ready: Arc<Notify>,
    /// Requests for the group-commit task of `store_event`.
    pub(crate) inbox: mpsc::Sender<InboxRequest>,
}

impl Backend {
    /// Starts the inbox's group-commit task; the schema must be up to date.
    pub(crate) fn new(writer: Writer, reader: Pool<Db>, lookups: Writer) -> Self {
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
        self.lookups.close().await;
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
    conn: &mut DbConn,
    migrations: &[(i64, &str, &str)],
) -> Result<(), StoreError> {
    let mut tx = conn.begin().await?;
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
