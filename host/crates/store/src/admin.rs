//! Operator functions shared by the CLI and the admin API: list jobs and the error queue,
//! replay, skip. Every change is recorded in `job_actions`.

use crate::types::{JobId, JobState};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which jobs an operation applies to. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobFilter {
    pub kind: Option<String>,
    pub subject: Option<String>,
    pub error_code: Option<String>,
    pub state: Option<JobState>,
    /// Last change (for failed jobs: when they failed) at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Last change before this time.
    pub until: Option<DateTime<Utc>>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ReplaySelector {
    Job(JobId),
    /// Jobs matching the filter; its `state` defaults to failed.
    Filter(JobFilter),
    AllFailed,
}

/// What an operator action did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    pub changed: Vec<JobId>,
    /// Jobs the selector matched but the action could not apply to, with the reason.
    pub refused: Vec<(JobId, String)>,
}
