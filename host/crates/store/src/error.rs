use crate::types::JobId;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("could not prepare the database at {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        version: i64,
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migration {version} was applied with different content (checksum mismatch)")]
    MigrationChanged { version: i64 },
    #[error("stored JSON is invalid in {what}: {source}")]
    Json {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("could not store the event: {0}")]
    Inbox(String),
    #[error("identity conflict: {0}")]
    IdentityConflict(String),
    /// Another running job has an open write intent for the same record: retry shortly.
    #[error("job {job} is writing {what} right now")]
    WriteInFlight { job: JobId, what: String },
    #[error("job {0} not found")]
    JobNotFound(JobId),
    #[error("job {job}: {reason}")]
    InvalidTransition { job: JobId, reason: String },
    #[error("invalid value stored in {what}: {value}")]
    Corrupt { what: &'static str, value: String },
}
