use crate::error::StoreError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A job's row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Pending,
    Running,
    Done,
    /// In the error queue: waits for an operator to replay or skip it.
    Failed,
    Skipped,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
            JobState::Skipped => "skipped",
        }
    }

    /// Unfinished jobs hold back later jobs of the same subject.
    pub fn is_unfinished(self) -> bool {
        matches!(
            self,
            JobState::Pending | JobState::Running | JobState::Failed
        )
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "failed" => JobState::Failed,
            "skipped" => JobState::Skipped,
            other => return Err(format!("unknown job state {other:?}")),
        })
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a replayed job should get its source data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayMode {
    /// Fetch the source again and map it with the plugin active now (the default: a fixed
    /// mapping fixes the replay).
    #[default]
    Refetch,
    /// Use the snapshot stored by the failed attempt, exactly as it was fetched then.
    Snapshot,
}

impl ReplayMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayMode::Refetch => "refetch",
            ReplayMode::Snapshot => "snapshot",
        }
    }
}

impl FromStr for ReplayMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "refetch" => Ok(ReplayMode::Refetch),
            "snapshot" => Ok(ReplayMode::Snapshot),
            other => Err(format!(
                "unknown replay mode {other:?} (use refetch or snapshot)"
            )),
        }
    }
}

/// A job to add to the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewJob {
    pub kind: String,
    /// The ordering key: jobs of one subject run one at a time, in insertion order.
    pub subject: String,
    pub payload: serde_json::Value,
    pub source: Option<String>,
}

impl NewJob {
    pub fn new(
        kind: impl Into<String>,
        subject: impl Into<String>,
        payload: serde_json::Value,
    ) -> Self {
        Self {
            kind: kind.into(),
            subject: subject.into(),
            payload,
            source: None,
        }
    }
}

/// Why a job is (or was last) failing, as stored on the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// `transient`, `permanent` or `unknown`.
    pub class: String,
    /// Machine-readable code, e.g. `mapping_error`, `visma_validation`, `no_handler`.
    pub code: String,
    pub message: String,
    /// Where in the input or output the problem is, e.g. `lines[2].sku`.
    pub field_path: Option<String>,
    /// Named payloads for diagnosis (source as fetched, plugin output, Visma response).
    pub payloads: serde_json::Value,
    /// True when the job landed in the error queue because its retries ran out.
    pub exhausted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub subject: String,
    pub source: Option<String>,
    pub payload: serde_json::Value,
    pub event_id: Option<i64>,
    pub parent_job_id: Option<JobId>,
    pub state: JobState,
    /// Attempts started so far, including the current one while running.
    pub attempts: u32,
    pub next_run_at: DateTime<Utc>,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<DateTime<Utc>>,
    pub replay_mode: ReplayMode,
    /// The source as fetched by an earlier attempt, if the handler saved one.
    pub snapshot: Option<serde_json::Value>,
    pub error: Option<ErrorRecord>,
    /// The operator's or handler's reason for a skip.
    pub resolution: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Number of jobs in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub pending: u64,
    pub running: u64,
    pub done: u64,
    pub failed: u64,
    pub skipped: u64,
}

pub(crate) fn parse_json(what: &'static str, s: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(s).map_err(|source| StoreError::Json { what, source })
}
