//! The sync engine's mechanics: workers that lease jobs from the store, run the handler
//! registered for each job kind, and turn the result into done / retry later / error queue,
//! with every attempt written to the audit log. The business flows live in `flows/` and are
//! plain [`JobHandler`]s registered on an [`Engine`].

mod context;
mod engine;
mod error;
pub mod flows;
mod handler;
mod retry;

pub use context::JobContext;
pub use engine::{Engine, EngineConfig, EngineError, EngineHandle, EngineReport};
pub use error::JobError;
pub use handler::{JobHandler, JobOutcome, handler_fn};
pub use retry::{RetryDecision, RetryPolicy};

/// The store types handlers and the CLI work with.
pub use ledgerlink_store::{
    self as store, ActionReport, AuditTrail, IdentityKey, Job, JobFilter, JobId, JobState, NewJob,
    ReplayMode, ReplaySelector, Store, StoreError, WriteStart,
};
