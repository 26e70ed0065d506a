//! Durable storage for Ledgerlink: the inbox, the job queue, the identity map with write
//! intents, echo markers, the append-only audit log and the operator functions (error list,
//! replay, skip, audit search) that the CLI and the admin API share.
//!
//! Everything goes through [`Store`]. SQLite specifics (connection options, pragmas, the
//! migrations folder) live in `db.rs`; the SQL elsewhere sticks to what SQLite and PostgreSQL
//! both accept (`ON CONFLICT`, `RETURNING`, integer microsecond timestamps), so a PostgreSQL
//! backend needs its own `db.rs`, placeholders and migrations but no new semantics.

mod admin;
mod audit;
mod db;
mod echo;
mod error;
mod identity;
mod inbox;
mod jobs;
pub mod redact;
mod time;
mod types;

pub use admin::{ActionReport, JobFilter, ReplaySelector};
pub use audit::{
    AttemptRecord, AuditAction, AuditAttempt, AuditExchange, AuditTrail, NewExchange, PluginInfo,
    REF_BC_ORDER, REF_VISMA_DOCUMENT,
};
pub use db::{Durability, Store, StoreOptions};
pub use echo::EchoMarker;
pub use error::StoreError;
pub use identity::{IdentityKey, WriteStart};
pub use jobs::{Finish, FinishOutcome};
pub use types::{ErrorRecord, Job, JobId, JobState, NewJob, ReplayMode, StateCounts};
