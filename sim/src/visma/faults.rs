//! Fault injection, configured through `POST /__admin/faults`. Decisions come from a seeded
//! RNG so a test run is reproducible.

use std::time::Duration;

use axum::http::Method;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::common::faults::check_ratios;

/// The admin body. Ratios are probabilities in `[0, 1]` applied per matching request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultConfig {
    /// Answer `500` with an ERP error body without processing the request.
    pub error_ratio: f64,
    /// Hold the request for `timeout_ms`, then drop the connection without processing it.
    pub timeout_ratio: f64,
    /// How long a timed-out request is held before its connection is dropped.
    pub timeout_ms: u64,
    /// Answer the next N matching requests with `429` (on top of any quota).
    pub burst_429: u32,
    /// Process the request (the document is committed), then drop the connection before any
    /// response byte is written.
    pub commit_then_drop_ratio: f64,
    /// Added latency for every matching request.
    pub latency_ms: u64,
    /// Only requests with these methods are affected (empty = all), e.g. `["POST"]`.
    pub methods: Vec<String>,
    /// Only requests whose path starts with this are affected, e.g. `/v2/customerinvoice`.
    pub path_prefix: Option<String>,
    /// RNG seed for the ratio decisions.
    pub seed: u64,
}

impl Default for FaultConfig {
    fn default() -> Self {
        Self {
            error_ratio: 0.0,
            timeout_ratio: 0.0,
            timeout_ms: 10_000,
            burst_429: 0,
            commit_then_drop_ratio: 0.0,
            latency_ms: 0,
            methods: Vec::new(),
            path_prefix: None,
            seed: 1,
        }
    }
}

impl FaultConfig {
    pub fn validate(&self) -> Result<(), String> {
        check_ratios(&[
            ("error_ratio", self.error_ratio),
            ("timeout_ratio", self.timeout_ratio),
            ("commit_then_drop_ratio", self.commit_then_drop_ratio),
        ])?;
        for m in &self.methods {
            if Method::from_bytes(m.to_ascii_uppercase().as_bytes()).is_err() {
                return Err(format!("{m:?} is not an HTTP method"));
            }
        }
        Ok(())
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self.methods.is_empty()
            || self
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(method.as_str()));
        let path_ok = self
            .path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p));
        method_ok && path_ok
    }
}

/// What to do with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pass,
    Error,
    Timeout(Duration),
    Burst429,
    CommitThenDrop,
}

pub struct Faults {
    pub config: FaultConfig,
    burst_left: u32,
    rng: StdRng,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new(FaultConfig::default())
    }
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        Self {
            burst_left: config.burst_429,
            rng: StdRng::seed_from_u64(config.seed),
            config,
        }
    }

    pub fn burst_left(&self) -> u32 {
        self.burst_left
    }

    /// Decides the fault for one request and the latency to add before it.
    pub fn decide(&mut self, method: &Method, path: &str) -> (Duration, Action) {
        if !self.config.matches(method, path) {
            return (Duration::ZERO, Action::Pass);
        }
        let latency = Duration::from_millis(self.config.latency_ms);
        if self.burst_left > 0 {
            self.burst_left -= 1;
            return (latency, Action::Burst429);
        }
        let c = &self.config;
        let (error, timeout, drop) = (c.error_ratio, c.timeout_ratio, c.commit_then_drop_ratio);
        let timeout_for = Duration::from_millis(c.timeout_ms);
        let action = if error > 0.0 && self.rng.random_bool(error) {
            Action::Error
        } else if timeout > 0.0 && self.rng.random_bool(timeout) {
            Action::Timeout(timeout_for)
        } else if drop > 0.0 && self.rng.random_bool(drop) {
            Action::CommitThenDrop
        } else {
            Action::Pass
        };
        (latency, action)
    }
}
