//! The store's front: [`Store`] opens a backend (SQLite file or PostgreSQL URL) and hands
//! every call to it. Both backends run the same SQL (`sql/`); `sqlite.rs` and `postgres.rs`
//! hold what differs.

use crate::admin::{ActionReport, JobFilter, ReplaySelector};
use crate::audit::{AuditAction, AuditAttempt, AuditTrail};
use crate::error::StoreError;
use crate::identity::{IdentityKey, WriteStart};
use crate::jobs::Finish;
use crate::types::{Job, JobId, NewJob, ReplayMode, StateCounts};
use crate::{postgres, sqlite};
use chrono::{DateTime, Utc};
use ledgerlink_core::{ExternalRef, InboundEvent, LegalEntityId, StoreOutcome};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How hard a commit waits for the disk (SQLite; on PostgreSQL the server's
/// `synchronous_commit` setting decides).
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
    /// SQLite: connections for read-only queries (lookups, lists, audit search); writes use
    /// one connection, because SQLite allows one writer at a time anyway.
    pub read_connections: u32,
    /// SQLite: how long a statement waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    pub durability: Durability,
    /// PostgreSQL: connections in the pool (reads and writes share it).
    pub pg_connections: u32,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            read_connections: 8,
            busy_timeout: Duration::from_secs(10),
            durability: Durability::Normal,
            pg_connections: 16,
        }
    }
}

/// Whether `location` names a PostgreSQL database (`postgres://…` or `postgresql://…`)
/// rather than a SQLite file.
pub fn is_postgres_url(location: &str) -> bool {
    location.starts_with("postgres://") || location.starts_with("postgresql://")
}

enum Backend {
    Sqlite(sqlite::Backend),
    Postgres(postgres::Backend),
}

/// The store. Cheap to clone: clones share the pools.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
    /// The SQLite file, or the PostgreSQL URL without its password.
    location: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend_name())
            .field("location", &self.location)
            .finish()
    }
}

impl Store {
    /// Opens the store at `location` and brings its schema up to date: a `postgres://` (or
    /// `postgresql://`) URL connects to PostgreSQL; anything else is a SQLite file, created
    /// (with its folder) if needed.
    pub async fn open(location: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with(location, StoreOptions::default()).await
    }

    pub async fn open_with(
        location: impl AsRef<Path>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let location = location.as_ref();
        match location.to_str().filter(|l| is_postgres_url(l)) {
            Some(url) => Ok(Self {
                backend: Arc::new(Backend::Postgres(postgres::open(url, &options).await?)),
                location: PathBuf::from(postgres::redact_url(url)),
            }),
            None => Ok(Self {
                backend: Arc::new(Backend::Sqlite(sqlite::open(location, &options).await?)),
                location: location.to_path_buf(),
            }),
        }
    }

    /// The SQLite file, or for PostgreSQL the URL without its password.
    pub fn path(&self) -> &Path {
        &self.location
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match &*self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Signalled whenever a job may have become runnable in this process (a new job, a
    /// finished job unblocking its subject, a replay). Other processes rely on polling.
    pub fn job_ready(&self) -> Arc<Notify> {
        match &*self.backend {
            Backend::Sqlite(b) => b.ready.clone(),
            Backend::Postgres(b) => b.ready.clone(),
        }
    }

    /// Closes the pools, waiting for running statements.
    pub async fn close(&self) {
        match &*self.backend {
            Backend::Sqlite(b) => b.close().await,
            Backend::Postgres(b) => b.close().await,
        }
    }

    /// Leases up to `limit` runnable jobs for `owner` until now + `lease_for`, each attempt
    /// counted. Runnable: a running job whose lease expired (its worker died), or a pending
    /// job that is due, has no earlier pending/failed job of its subject and no running job of
    /// its subject. The result is in id order and never holds two jobs of one subject, also
    /// with several hosts leasing from one PostgreSQL database.
    pub async fn lease(
        &self,
        owner: &str,
        limit: usize,
        lease_for: Duration,
    ) -> Result<Vec<Job>, StoreError> {
        self.lease_with(owner, limit, lease_for, true).await
    }
}

/// The public operations, each handed to the backend's method of the same name.
macro_rules! dispatch {
    ($(
        $(#[$doc:meta])*
        pub async fn $name:ident(&self $(, $arg:ident: $ty:ty)* $(,)?) -> $ret:ty;
    )*) => {
        impl Store {
            $(
                $(#[$doc])*
                pub async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    match &*self.backend {
                        Backend::Sqlite(b) => b.$name($($arg),*).await,
                        Backend::Postgres(b) => b.$name($($arg),*).await,
                    }
                }
            )*
        }
    };
}

dispatch! {
    /// Stores one event and its job. Returns `Duplicate` (storing nothing) when an event with
    /// the same source and dedupe key is already there. The job's kind is the event's scope.
    ///
    /// Concurrent calls share transactions (group commit): each call still returns only after
    /// its event is committed, but a burst of webhooks costs a few commits, not one each.
    pub async fn store_event(&self, event: &InboundEvent) -> Result<StoreOutcome, StoreError>;
    /// Stores several events in one transaction; the outcome of each, in order. Duplicates
    /// inside the batch count as duplicates too.
    pub async fn store_events(&self, events: &[InboundEvent]) -> Result<Vec<StoreOutcome>, StoreError>;
    /// Events whose jobs are not yet finished (pending, running or in the error queue).
    pub async fn unprocessed_event_count(&self) -> Result<u64, StoreError>;
    pub async fn event_count(&self) -> Result<u64, StoreError>;
    pub async fn watermark(&self, name: &str) -> Result<Option<String>, StoreError>;
    pub async fn set_watermark(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// Adds a job outside any event (e.g. from a handler or an operator).
    pub async fn enqueue(&self, job: &NewJob) -> Result<JobId, StoreError>;
    pub async fn job(&self, id: JobId) -> Result<Job, StoreError>;
    /// [`Store::lease`], optionally without looking for expired leases: they cannot become
    /// due faster than a lease lasts, so a busy engine checks for them only now and then and
    /// leases fresh jobs with a single statement.
    pub async fn lease_with(&self, owner: &str, limit: usize, lease_for: Duration, reclaim_expired: bool) -> Result<Vec<Job>, StoreError>;
    /// Extends the leases `owner` still holds on `ids`; returns how many it still held.
    pub async fn renew_leases(&self, owner: &str, ids: &[JobId], lease_for: Duration) -> Result<u64, StoreError>;
    /// Puts jobs `owner` holds back to pending without counting the attempt (shutdown).
    pub async fn release_leases(&self, owner: &str, ids: &[JobId]) -> Result<u64, StoreError>;
    /// Records the end of an attempt. Returns `false` when the lease had been lost, in which
    /// case only the audit row was written.
    pub async fn finish(&self, finish: &Finish) -> Result<bool, StoreError>;
    /// Records several attempts in one transaction (one commit instead of many: the engine
    /// batches results this way under load); the result of each, in order. If one fails,
    /// the rest are still written.
    pub async fn finish_many(&self, finishes: &[Finish]) -> Result<Vec<Result<bool, StoreError>>, StoreError>;
    /// Jobs pending or running: what is still to do. Answered from the partial indexes of
    /// those states alone, so it stays cheap however many finished jobs the table holds
    /// (unlike [`Store::state_counts`], which reads every job).
    pub async fn open_job_count(&self) -> Result<u64, StoreError>;
    /// Jobs per state.
    pub async fn state_counts(&self) -> Result<StateCounts, StoreError>;

    /// The Visma id mapped to this BigCommerce record, if any.
    pub async fn identity(&self, key: &IdentityKey) -> Result<Option<String>, StoreError>;
    /// Every mapping of `kind` (all legal entities) with the time it was recorded, oldest
    /// first: `(bc_id, visma_id, recorded_at)`. For reports and benchmarks.
    pub async fn identities_of_kind(&self, kind: &str) -> Result<Vec<(String, String, DateTime<Utc>)>, StoreError>;
    /// The BigCommerce id mapped to a Visma id, if any.
    pub async fn identity_by_visma(&self, legal_entity: &LegalEntityId, kind: &str, visma_id: &str) -> Result<Option<String>, StoreError>;
    /// Records a mapping. Recording the same pair again is fine; mapping either side to
    /// something else is an [`StoreError::IdentityConflict`].
    pub async fn put_identity(&self, key: &IdentityKey, visma_id: &str, job: Option<JobId>) -> Result<(), StoreError>;
    /// Call before a Visma write. See the module docs.
    pub async fn begin_write(&self, key: &IdentityKey, external_ref: &ExternalRef, job: Option<JobId>) -> Result<WriteStart, StoreError>;
    /// Call after the Visma write succeeded (or the lookup found the record): records the
    /// mapping and closes the open intent, atomically.
    pub async fn complete_write(&self, key: &IdentityKey, visma_id: &str, job: Option<JobId>) -> Result<(), StoreError>;
    /// Call when the write certainly had no effect (Visma rejected it with a validation
    /// error): the next attempt may write without a lookup.
    pub async fn abandon_write(&self, key: &IdentityKey) -> Result<(), StoreError>;
    /// Number of write intents still open (outcome unknown), for monitoring.
    pub async fn open_intent_count(&self) -> Result<u64, StoreError>;

    /// Records "we wrote content with hash `content_hash` to `resource` on `target` now",
    /// e.g. target `bigcommerce:abc123`, resource `order:100`.
    pub async fn record_echo(&self, target: &str, resource: &str, content_hash: &str) -> Result<(), StoreError>;
    /// Whether we wrote to `resource` within the last `within`: with a hash, a write of that
    /// exact content (the resource as now fetched hashes the same as what we wrote); without,
    /// any write.
    pub async fn is_echo(&self, target: &str, resource: &str, content_hash: Option<&str>, within: Duration) -> Result<bool, StoreError>;
    /// Deletes markers older than `older_than`; returns how many.
    pub async fn prune_echoes(&self, older_than: Duration) -> Result<u64, StoreError>;

    /// Jobs matching `filter`, newest change first.
    pub async fn list_jobs(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError>;
    /// The error queue: failed jobs matching `filter` (its `state` is ignored).
    pub async fn errors_list(&self, filter: &JobFilter) -> Result<Vec<Job>, StoreError>;
    /// Puts jobs back to pending with attempts reset, to run with `mode`. A single job may be
    /// in any state but running; filters default to failed jobs.
    pub async fn replay(&self, selector: &ReplaySelector, mode: ReplayMode, actor: &str) -> Result<ActionReport, StoreError>;
    /// Marks jobs as resolved without running them. Applies to failed and pending jobs;
    /// filters default to failed jobs. The reason is required and kept.
    pub async fn skip(&self, selector: &ReplaySelector, reason: &str, actor: &str) -> Result<ActionReport, StoreError>;
    /// Operator actions recorded for one job.
    pub async fn job_actions(&self, job: JobId) -> Result<Vec<AuditAction>, StoreError>;

    /// The audit trail for a BigCommerce order id or a Visma document number: every attempt
    /// of every job that was tagged with it (all attempts of those jobs, not only the tagged
    /// ones), with exchanges, plus operator actions on those jobs.
    pub async fn audit_search(&self, query: &str) -> Result<AuditTrail, StoreError>;
    /// All audit attempts of the given jobs, oldest first.
    pub async fn attempts_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAttempt>, StoreError>;
    /// Operator actions on the given jobs, oldest first.
    pub async fn actions_of(&self, job_ids: &[JobId]) -> Result<Vec<AuditAction>, StoreError>;
}
