//! For tests that run against PostgreSQL (this crate's and the host's): a fresh, empty
//! database on the server named by `LEDGERLINK_TEST_PG_URL` (`scripts/test.sh` starts a
//! throwaway server and sets it).
//!
//! Without the variable, [`pg_test_database`] returns `None` and prints a skip line, unless
//! `LEDGERLINK_REQUIRE_PG=1` (set by `scripts/test.sh`), in which case it panics: a test
//! suite that should cover PostgreSQL must not pass without having run it.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The variable naming the test server (any database on it; `postgres` will do).
pub const TEST_PG_URL_VAR: &str = "LEDGERLINK_TEST_PG_URL";
/// Set to `1` to make a missing [`TEST_PG_URL_VAR`] a test failure.
pub const REQUIRE_PG_VAR: &str = "LEDGERLINK_REQUIRE_PG";

/// Creates a new database for one test and returns its URL, or `None` (after printing why)
/// when no test server is configured and none is required. `test` names the caller in the
/// skip line.
pub async fn pg_test_database(test: &str) -> Option<String> {
    let Some(base) = std::env::var(TEST_PG_URL_VAR)
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var(REQUIRE_PG_VAR).is_ok_and(|v| v == "1") {
            panic!(
                "{test}: {TEST_PG_URL_VAR} is not set but {REQUIRE_PG_VAR}=1: \
                 run the tests through scripts/test.sh, which starts PostgreSQL"
            );
        }
        eprintln!(
            "SKIPPED {test} on PostgreSQL: {TEST_PG_URL_VAR} is not set \
             (scripts/test.sh starts a server and sets it)"
        );
        return None;
    };
    let name = format!("ll_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{test}: connecting to {TEST_PG_URL_VAR}: {e}"));
    sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{test}: creating database {name}: {e}"));
    let _ = conn.close().await;
    Some(with_database(&base, &name))
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (rest, String::new()),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    format!("{scheme}://{authority}/{name}{query}")
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@127.0.0.1:5432/postgres", "x"),
            "postgres://u@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h:1/db?sslmode=disable", "x"),
            "postgres://u:p@h:1/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    }
}
