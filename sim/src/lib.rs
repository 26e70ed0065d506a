//! Faithful simulators of the BigCommerce and Visma.net ERP APIs, served over real HTTP with
//! axum. The host talks to them exactly as to production; integrators run them locally.
//! Each simulator lives in its own module with its state, routes, seed data and fault
//! injection beside it.
// Large `serde_json::json!` literals (full API resources) need more macro recursion.
#![recursion_limit = "512"]

pub mod bigcommerce;
mod common;
#[cfg(feature = "contract")]
pub mod openapi;
pub mod visma;

/// Which data a simulator starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seed {
    /// A realistic store / tenant set-up (see each module's `seed` docs).
    #[default]
    Demo,
    /// Nothing but what is needed to authenticate.
    Empty,
}

impl std::str::FromStr for Seed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "demo" => Ok(Self::Demo),
            "empty" => Ok(Self::Empty),
            other => Err(format!("unknown seed {other:?}: expected demo or empty")),
        }
    }
}
