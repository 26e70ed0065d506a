//! Per-store request quota (fixed window), fault injection and request statistics.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::common::faults::check_ratios;
use crate::common::window::FixedWindow;

/// BigCommerce counts requests per store in fixed windows (NOTES §4): the window opens with the
/// first request after the previous one expired, every request uses one unit, and past the quota
/// requests are refused with 429 until the window resets.
#[derive(Debug)]
pub struct Window {
    pub quota: Option<u32>,
    pub length: Duration,
    counter: FixedWindow<Instant>,
}

/// What the limiter decided for one request, with the values for the headers.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub allowed: bool,
    pub quota: u32,
    pub left: u32,
    pub reset_in: Duration,
    pub window: Duration,
}

impl Window {
    pub fn new(quota: Option<u32>, length: Duration) -> Self {
        Self {
            quota,
            length,
            counter: FixedWindow::default(),
        }
    }

    pub fn check(&mut self, now: Instant, burst_429: &mut u32) -> Decision {
        let reset_in = self.counter.roll(now, self.length);
        let quota = self.quota.unwrap_or(u32::MAX);
        // An injected 429 burst refuses requests as if the quota were spent.
        if *burst_429 > 0 {
            *burst_429 -= 1;
            return Decision {
                allowed: false,
                quota,
                left: 0,
                reset_in,
                window: self.length,
            };
        }
        let left = self.counter.take(quota);
        Decision {
            allowed: left.is_some(),
            quota,
            left: left.unwrap_or(0),
            reset_in,
            window: self.length,
        }
    }
}

/// Fault injection settings (`POST /__admin/faults`). Ratios are probabilities in 0..=1.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every API response.
    pub latency_ms: u64,
    /// Share of API requests answered 500 (after auth and quota).
    pub error_ratio: f64,
    /// The next N API requests get 429 with rate-limit headers, as if the quota were spent.
    pub burst_429: u32,
    /// Share of webhook events never delivered.
    pub drop_webhooks_ratio: f64,
    /// Share of webhook events delivered twice (same `hash`).
    pub duplicate_webhooks_ratio: f64,
    /// Share of API requests whose connection is closed without any response.
    pub reset_ratio: f64,
}

impl Faults {
    pub fn validate(&self) -> Result<(), String> {
        check_ratios(&[
            ("error_ratio", self.error_ratio),
            ("drop_webhooks_ratio", self.drop_webhooks_ratio),
            ("duplicate_webhooks_ratio", self.duplicate_webhooks_ratio),
            ("reset_ratio", self.reset_ratio),
        ])?;
        if self.latency_ms > 60_000 {
            return Err("latency_ms must be at most 60000".into());
        }
        Ok(())
    }
}

/// Counters read by tests and benchmarks (`GET /__admin/stats`).
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub unauthorized: AtomicU64,
    pub rate_limited: AtomicU64,
    pub injected_errors: AtomicU64,
    pub injected_resets: AtomicU64,
    pub webhooks_sent: AtomicU64,
    pub webhooks_delivered: AtomicU64,
    pub webhooks_failed: AtomicU64,
    pub webhooks_dropped: AtomicU64,
    pub webhooks_duplicated: AtomicU64,
    pub hooks_deactivated: AtomicU64,
}

impl Stats {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
    pub fn snapshot(&self) -> serde_json::Value {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "requests": g(&self.requests),
            "unauthorized": g(&self.unauthorized),
            "rate_limited": g(&self.rate_limited),
            "injected_errors": g(&self.injected_errors),
            "injected_resets": g(&self.injected_resets),
            "webhooks_sent": g(&self.webhooks_sent),
            "webhooks_delivered": g(&self.webhooks_delivered),
            "webhooks_failed": g(&self.webhooks_failed),
            "webhooks_dropped": g(&self.webhooks_dropped),
            "webhooks_duplicated": g(&self.webhooks_duplicated),
            "hooks_deactivated": g(&self.hooks_deactivated),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_refuses_past_quota_and_resets() {
        let mut w = Window::new(Some(2), Duration::from_secs(30));
        let t0 = Instant::now();
        let mut burst = 0;
        assert_eq!(w.check(t0, &mut burst).left, 1);
        assert_eq!(w.check(t0 + Duration::from_secs(1), &mut burst).left, 0);
        let d = w.check(t0 + Duration::from_secs(2), &mut burst);
        assert!(!d.allowed);
        assert_eq!(d.reset_in, Duration::from_secs(28));
        let d = w.check(t0 + Duration::from_secs(30), &mut burst);
        assert!(d.allowed);
        assert_eq!(d.left, 1);
    }

    #[test]
    fn burst_refuses_exactly_n() {
        let mut w = Window::new(None, Duration::from_secs(30));
        let mut burst = 2;
        let t = Instant::now();
        assert!(!w.check(t, &mut burst).allowed);
        assert!(!w.check(t, &mut burst).allowed);
        assert!(w.check(t, &mut burst).allowed);
    }
}
