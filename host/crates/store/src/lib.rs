//! Durable storage for Ledgerlink: the inbox, the job queue, the identity map with write
//! intents, echo markers, the append-only audit log and the operator functions (error list,
//! replay, skip, audit search) that the CLI and the admin API share.
//!
//! Everything goes through [`Store`], on SQLite (a file, the embedded default) or PostgreSQL
//! (a `postgres://` URL, for several hosts on one database). The SQL is written once
//! (`sql/`) in what both accept (`$1` placeholders, `ON CONFLICT`, `RETURNING`, integer
//! microsecond timestamps) and compiled once per backend; `sqlite.rs` and `postgres.rs` hold
//! the connection set-up, the migrations folder and the few dialect differences.

mod admin;
mod audit;
mod db;
mod echo;
mod error;
mod identity;
mod inbox;
mod jobs;
mod postgres;
pub mod redact;
mod sqlite;
pub mod testing;
mod time;
mod types;

pub use admin::{ActionReport, JobFilter, ReplaySelector};
pub use audit::{
    AttemptRecord, AuditAction, AuditAttempt, AuditExchange, AuditTrail, NewExchange, PluginInfo,
    REF_BC_ORDER, REF_VISMA_DOCUMENT,
};
pub use db::{Durability, Store, StoreOptions, is_postgres_url};
pub use echo::EchoMarker;
pub use error::StoreError;
pub use identity::{IdentityKey, IdentityWrite, WriteStart};
pub use jobs::{Finish, FinishOutcome};
pub use types::{ErrorRecord, Job, JobId, JobState, NewJob, ReplayMode, StateCounts};
