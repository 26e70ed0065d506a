//! What the store's two-backend test files share: a store on SQLite or PostgreSQL, and the
//! macro that runs one behaviour on both.

use ledgerlink_store::Store;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A store on `backend`, and what keeps its file alive (SQLite); `None` when PostgreSQL is
/// not available and not required (a skip line is printed).
pub async fn open(backend: Backend, test: &str) -> Option<(Option<tempfile::TempDir>, Store)> {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path().join("nested/dir/ledgerlink.db"))
                .await
                .unwrap();
            Some((Some(dir), store))
        }
        Backend::Postgres => {
            let url = ledgerlink_store::testing::pg_test_database(test).await?;
            let store = Store::open(&url).await.unwrap();
            assert_eq!(store.backend_name(), "postgres");
            Some((None, store))
        }
    }
}

/// `name::sqlite` and `name::postgres`, each running `async fn name(backend)`.
macro_rules! on_both_backends {
    ($(#[$attr:meta])* $name:ident) => {
        mod $name {
            use super::*;
            $(#[$attr])*
            async fn sqlite() {
                super::$name(Backend::Sqlite).await
            }
            $(#[$attr])*
            async fn postgres() {
                super::$name(Backend::Postgres).await
            }
        }
    };
}
