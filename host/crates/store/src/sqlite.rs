//! The SQLite backend: the embedded default. WAL, one writer connection (SQLite allows one
//! writer at a time anyway) and a pool of read-only connections.

use crate::db::{Durability, StoreOptions};
use crate::error::StoreError;
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

// The same SQL for both backends, compiled here against this backend's `dialect`.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
pub(crate) use sql::Backend;

/// What the shared SQL in `sql/` needs to know about SQLite.
pub(crate) mod dialect {
    pub(crate) type Db = sqlx::Sqlite;
    pub(crate) type DbRow = sqlx::sqlite::SqliteRow;

    /// SQLite (no statistics) would check a subject's ordering through the plain subject
    /// index, which holds every job the subject ever had; this names the partial index of
    /// unfinished jobs instead.
    pub(crate) const OPEN_SUBJECT_INDEX: &str = "INDEXED BY jobs_open_subject";

    /// No locks: every write goes through the one writer connection, so leases, inserts and
    /// migrations are already one at a time and ids are committed in order.
    pub(crate) const LEASE_LOCK: Option<&str> = None;
    pub(crate) const INSERT_LOCK: Option<&str> = None;
    pub(crate) const MIGRATION_LOCK: Option<&str> = None;
}

/// Migrations for the SQLite backend, applied in order on every start.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "drop_unread_indexes",
        include_str!("../migrations/sqlite/0002_drop_unread_indexes.sql"),
    ),
    (
        3,
        "audit_packed_bodies",
        include_str!("../migrations/sqlite/0003_audit_packed_bodies.sql"),
    ),
];

/// Opens (creating if needed, with its folder) the database file at `path` and brings its
/// schema up to date.
pub(crate) async fn open(path: &Path, options: &StoreOptions) -> Result<Backend, StoreError> {
    let open_err = |source| StoreError::Open {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| open_err(sqlx::Error::Io(e)))?;
    }
    let synchronous = match options.durability {
        Durability::Normal => SqliteSynchronous::Normal,
        Durability::Full => SqliteSynchronous::Full,
    };
    let base = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(options.busy_timeout)
        .foreign_keys(true);
    let mut writer = base
        .clone()
        .create_if_missing(true)
        .connect()
        .await
        .map_err(open_err)?;
    sql::migrate(&mut writer, MIGRATIONS).await?;
    // Lists, counts and audit searches read on these (in WAL mode a read sees every
    // transaction committed before it began, and does not wait for the writer).
    let reader = SqlitePoolOptions::new()
        .max_connections(options.read_connections.max(1))
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(base.read_only(true))
        .await
        .map_err(open_err)?;
    // The point lookups of running jobs (identity map, echo markers) go to the writer: a
    // reader's page cache is dropped whenever another connection commits, which under load
    // is always, so each lookup there re-reads its pages, and a pooled connection costs a
    // ping round trip when given back; the writer's cache is warm and it is held. Each
    // lookup is a few microseconds of the writer's time (e2e: ~0.7 ms less CPU per order).
    let writer = sql::Writer::held(writer);
    Ok(Backend::new(writer.clone(), reader, writer))
}
