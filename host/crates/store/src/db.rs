//! Opening the database: the SQLite-specific part of the store (connection options, pragmas,
//! the two pools and the embedded migrations).

use crate::error::StoreError;
use crate::inbox::{InboxRequest, inbox_writer};
use crate::time::now_us;
use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};

/// Migrations for the SQLite backend, applied in order on every start.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "init",
    include_str!("../migrations/sqlite/0001_init.sql"),
)];

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// WAL with `synchronous=NORMAL`: a committed transaction survives the process being
    /// killed at any point; an operating-system crash or power loss may lose the last
    /// commits (never corrupting the file). Fast enough for thousands of commits a second.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is on disk before it returns.
    Full,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Connections for read-only queries (lookups, lists, audit search); writes use one
    /// connection, because SQLite allows one writer at a time anyway. In WAL mode a read on
    /// any connection sees every transaction committed before it began, so lookups that
    /// follow a write of the same task (identity map, echo markers) can use these too and
    /// leave the single writer to writes.
    pub read_connections: u32,
    /// How long a statement waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            busy_timeout: Duration::from_secs(10),
            durability: Durability::Normal,
        }
    }
}

/// The store. Cheap to clone: clones share the pools.
#[derive(Clone)]
pub struct Store {
    pub(crate) writer: SqlitePool,
    pub(crate) reader: SqlitePool,
    ready: Arc<Notify>,
    /// Requests for the group-commit task of `store_event`.
    pub(crate) inbox: mpsc::Sender<InboxRequest>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed, with its folder) the SQLite database at `path` and brings
    /// its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(path, StoreOptions::default()).await
    }

    pub async fn open_with(
        path: impl AsRef<Path>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
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
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .busy_timeout(options.busy_timeout)
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(60))
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(base.clone().create_if_missing(true))
            .await
            .map_err(open_err)?;
        migrate(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(options.read_connections.max(1))
            .acquire_timeout(Duration::from_secs(60))
            .connect_with(base.read_only(true))
            .await
            .map_err(open_err)?;
        let ready = Arc::new(Notify::new());
        let (inbox, requests) = mpsc::channel(4096);
        tokio::spawn(inbox_writer(writer.clone(), ready.clone(), requests));
        Ok(Self {
            writer,
            reader,
            ready,
            inbox,
            path,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Signalled whenever a job may have become runnable in this process (a new job, a
    /// finished job unblocking its subject, a replay). Other processes rely on polling.
    pub fn job_ready(&self) -> Arc<Notify> {
        self.ready.clone()
    }

    pub(crate) fn signal_ready(&self) {
        self.ready.notify_one();
    }

    /// Closes both pools, waiting for running statements.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

async fn migrate(pool: &SqlitePool) -> Result<(), StoreError> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ledgerlink_migrations (
            version INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at INTEGER NOT NULL)",
    )
    .execute(pool)
    .await?;
    for &(version, name, sql) in SQLITE_MIGRATIONS {
        let checksum = hex::encode(Sha256::digest(sql.as_bytes()));
        let mut tx = pool.begin().await?;
        let applied = sqlx::query("SELECT checksum FROM ledgerlink_migrations WHERE version = ?")
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
            "INSERT INTO ledgerlink_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
        )
        .bind(version)
        .bind(name)
        .bind(&checksum)
        .bind(now_us())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}
