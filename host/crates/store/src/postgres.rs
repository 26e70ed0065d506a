//! The PostgreSQL backend, for several host replicas on one database. The SQL is the same as
//! SQLite's (`sql/`); what differs is how concurrent writers are kept apart, since here they
//! are separate connections, often in separate processes (see `dialect`).

use crate::db::StoreOptions;
use crate::error::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

// The same SQL for both backends, compiled here against this backend's `dialect`.
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;
pub(crate) use sql::Backend;

/// What the shared SQL in `sql/` needs to know about PostgreSQL.
pub(crate) mod dialect {
    pub(crate) type Db = sqlx::Postgres;
    pub(crate) type DbRow = sqlx::postgres::PgRow;

    /// The planner picks the partial index of unfinished jobs on its own.
    pub(crate) const OPEN_SUBJECT_INDEX: &str = "";

    /// Leasing takes turns across every host on the database (a transaction-scoped advisory
    /// lock, held until the lease commits), as SQLite's single writer does in one process:
    /// each lease then sees every lease committed before it, so two hosts never hold two jobs
    /// of one subject, and the outer conditions of the lease UPDATE (rechecked on the newest
    /// row version) keep a job changed concurrently (skipped, finished) from being taken.
    pub(crate) const LEASE_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(7431001)");

    /// Transactions that add jobs hold the same lock shared (they do not block each other).
    /// Job ids come from a sequence when inserted but become visible when committed, so
    /// without it a lease could see job 11 of a subject committed while job 10 is not yet,
    /// and run them out of order. With it, a lease waits for inserts in flight, and inserts
    /// that start later get higher ids. Taken first in the transaction, before any row lock,
    /// so it cannot deadlock with a lease waiting for a row.
    pub(crate) const INSERT_LOCK: Option<&str> =
        Some("SELECT pg_advisory_xact_lock_shared(7431001)");

    /// Two hosts starting at once apply the migrations one after the other.
    pub(crate) const MIGRATION_LOCK: Option<&str> = Some("SELECT pg_advisory_xact_lock(7431002)");
}

/// Migrations for the PostgreSQL backend, applied in order on every start.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "init",
        include_str!("../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "drop_unread_indexes",
        include_str!("../migrations/postgres/0002_drop_unread_indexes.sql"),
    ),
    (
        3,
        "audit_packed_bodies",
        include_str!("../migrations/postgres/0003_audit_packed_bodies.sql"),
    ),
];

/// Connects to the database at `url` (`postgres://user:password@host:port/dbname?…`) and
/// brings its schema up to date.
pub(crate) async fn open(url: &str, options: &StoreOptions) -> Result<Backend, StoreError> {
    let open_err = |source| StoreError::Open {
        path: redact_url(url),
        source,
    };
    let connect = PgConnectOptions::from_str(url)
        .map_err(open_err)?
        .application_name("ledgerlink");
    let pool = PgPoolOptions::new()
        .max_connections(options.pg_connections.max(2))
        .acquire_timeout(Duration::from_secs(60))
        .connect_with(connect)
        .await
        .map_err(open_err)?;
    sql::migrate(&mut *pool.acquire().await.map_err(open_err)?, MIGRATIONS).await?;
    Ok(Backend::new(
        sql::Writer::Pool(pool.clone()),
        pool.clone(),
        sql::Writer::Pool(pool),
    ))
}

/// The URL with its password replaced, for messages and logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{user}{hidden}@{host}")
        }
        None => authority.to_owned(),
    };
    // `?password=…` works too.
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|p| match p.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => p.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_url("postgres://ll:s3cr3t@db:5432/ledgerlink"),
            "postgres://ll:***@db:5432/ledgerlink"
        );
        assert_eq!(
            redact_url("postgres://ll@db/x?sslmode=require&password=s3cr3t"),
            "postgres://ll@db/x?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://db"), "postgres://db");
        assert_eq!(redact_url("postgresql://u:p@h"), "postgresql://u:***@h");
    }
}
