//! Demo seed.
use super::state::Store;
use chrono::{DateTime, Utc};
pub fn demo_skus() -> Vec<&'static str> {
    vec![]
}
pub(crate) fn demo(_store: &mut Store, _now: DateTime<Utc>, _seed: u64) {}
