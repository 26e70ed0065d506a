//! For tests that run against PostgreSQL (this crate's and the host's): a fresh, empty
//! schema on the server named by `LEDGERLINK_TEST_PG_URL` (`scripts/test.sh` starts a
//! throwaway server and sets it). A schema rather than a database per test: an empty database
//! costs ~8 MB of disk, a schema next to nothing.
//!
//! Without the variable, [`pg_test_database`] returns `None` and prints a skip line, unless
//! `LEDGERLINK_REQUIRE_PG=1` (set by `scripts/test.sh`), in which case it panics: a test
//! suite that should cover PostgreSQL must not pass without having run it.

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use std::io::Write;

/// The variable naming the test server (any database on it; `postgres` will do).
pub const TEST_PG_URL_VAR: &str = "LEDGERLINK_TEST_PG_URL";
/// Set to `1` to make a missing [`TEST_PG_URL_VAR`] a test failure.
pub const REQUIRE_PG_VAR: &str = "LEDGERLINK_REQUIRE_PG";

/// Creates a new schema for one test and returns a URL whose connections use it (as their
/// `search_path`), or `None` (after printing why) when no test server is configured and none
/// is required. `test` names the caller in the skip line.
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
        // Straight to stderr: the test harness captures `eprintln!` of passing tests, and
        // this line must be seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test} on PostgreSQL: {TEST_PG_URL_VAR} is not set \
             (scripts/test.sh starts a server and sets it)"
        );
        return None;
    };
    let name = format!("ll_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| panic!("{test}: connecting to {TEST_PG_URL_VAR}: {e}"));
    sqlx::raw_sql(&format!("CREATE SCHEMA {name}"))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{test}: creating schema {name}: {e}"));
    let _ = conn.close().await;
    Some(with_search_path(&base, &name))
}

/// `url` with connections set to use schema `name`.
fn with_search_path(url: &str, name: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}options[search_path]={name}")
}

/// A result for `job`'s current attempt by `owner`, with nothing learnt or recorded yet:
/// tests and benches set the fields they need (exchanges, refs, identities, …).
pub fn finish(job: &crate::Job, owner: &str, outcome: crate::FinishOutcome) -> crate::Finish {
    crate::Finish {
        job_id: job.id,
        owner: owner.into(),
        attempt: job.attempts,
        outcome,
        follow_ups: vec![],
        echoes: vec![],
        identities: vec![],
        snapshot: None,
        audit: crate::AttemptRecord {
            kind: job.kind.clone(),
            subject: job.subject.clone(),
            worker: owner.into(),
            started_at: chrono::Utc::now(),
            duration: std::time::Duration::from_millis(1),
            replay_mode: job.replay_mode,
            plugin: None,
            exchanges: vec![],
            refs: vec![],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::with_search_path;

    #[test]
    fn schema_goes_into_the_connection_options() {
        assert_eq!(
            with_search_path("postgres://u@127.0.0.1:5432/postgres", "x"),
            "postgres://u@127.0.0.1:5432/postgres?options[search_path]=x"
        );
        assert_eq!(
            with_search_path("postgres://u:p@h:1/db?sslmode=disable", "x"),
            "postgres://u:p@h:1/db?sslmode=disable&options[search_path]=x"
        );
    }
}
