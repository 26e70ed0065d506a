//! The job queue's types: what an attempt produced and how it ended. The SQL is in
//! `sql/jobs.rs`.

use crate::audit::{AttemptRecord, PreparedAudit, prepare_audit};
use crate::echo::EchoMarker;
use crate::identity::IdentityWrite;
use crate::types::{ErrorRecord, JobId, JobState, NewJob};
use chrono::{DateTime, Utc};

pub(crate) const JOB_COLUMNS: &str = "id, kind, subject, source, payload, event_id, parent_job_id, state, \
    attempts, next_run_at, lease_owner, lease_expires_at, replay_mode, snapshot, error_class, \
    error_code, error_message, error_field_path, error_payloads, exhausted, resolution, \
    created_at, updated_at, finished_at";

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum FinishOutcome {
    Done,
    /// The handler decided there is nothing to do (e.g. our own echo, not eligible).
    Skipped {
        reason: String,
    },
    /// Try again at `at`; the error is kept on the job for operators to see.
    Retry {
        at: DateTime<Utc>,
        error: ErrorRecord,
    },
    /// Into the error queue.
    Failed {
        error: ErrorRecord,
    },
    /// Shutdown before the attempt finished: back to pending, the attempt not counted.
    Released,
}

impl FinishOutcome {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            FinishOutcome::Done => "done",
            FinishOutcome::Skipped { .. } => "skipped",
            FinishOutcome::Retry { .. } => "retry",
            FinishOutcome::Failed { error } if error.exhausted => "exhausted",
            FinishOutcome::Failed { .. } => "failed",
            FinishOutcome::Released => "released",
        }
    }

    pub(crate) fn error(&self) -> Option<&ErrorRecord> {
        match self {
            FinishOutcome::Retry { error, .. } | FinishOutcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// Everything an attempt produced, written in one transaction: the job's new state, the
/// follow-up jobs it asked for (only kept when it succeeded), the snapshot and the audit rows.
#[derive(Debug, Clone)]
pub struct Finish {
    pub job_id: JobId,
    /// The lease this attempt held: owner and attempt number. A finish whose lease was lost
    /// (expired and taken by another worker) changes nothing but the audit log.
    pub owner: String,
    pub attempt: u32,
    pub outcome: FinishOutcome,
    pub follow_ups: Vec<NewJob>,
    /// Echo markers of writes this attempt made, recorded (like the follow-ups) only when
    /// it succeeded. A marker must be visible before the webhook it stands for is handled:
    /// that holds for jobs of the same subject, which run only after this one finished.
    pub echoes: Vec<EchoMarker>,
    /// Mappings (and completed write intents) this attempt learnt, written whatever its
    /// outcome and also when its lease was lost: the records exist in Visma either way. One
    /// that conflicts with the map turns the outcome into a permanent `identity_conflict`
    /// failure (and leaves its intent open), as [`crate::Store::complete_write`] would have
    /// failed the attempt.
    pub identities: Vec<IdentityWrite>,
    pub snapshot: Option<serde_json::Value>,
    pub audit: AttemptRecord,
}

/// What a finish writes, encoded before the transaction opens (serialising and redacting
/// is the slow part, and the writer connection is shared by everything that writes).
pub(crate) struct PreparedFinish {
    pub(crate) snapshot: Option<String>,
    pub(crate) follow_ups: Vec<String>,
    pub(crate) audit: PreparedAudit,
}

pub(crate) fn prepare_finish(finish: &Finish) -> PreparedFinish {
    PreparedFinish {
        snapshot: finish.snapshot.as_ref().map(|s| s.to_string()),
        follow_ups: finish
            .follow_ups
            .iter()
            .map(|j| j.payload.to_string())
            .collect(),
        audit: prepare_audit(finish),
    }
}

pub(crate) fn parse_state(s: &str) -> Result<JobState, crate::error::StoreError> {
    s.parse().map_err(|_| crate::error::StoreError::Corrupt {
        what: "jobs.state",
        value: s.to_owned(),
    })
}
