//! Retry classification and the backoff schedule shared by both API clients and the engine.

use std::time::Duration;

/// Whether a failure is worth another attempt. Clients map every error they return to one of
/// these; the engine decides from it between "schedule again" and "error queue now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// 429, 5xx, timeouts, connection failures. `retry_after` is the server's hint, if any.
    Transient { retry_after: Option<Duration> },
    /// Validation errors, missing mappings, 4xx other than 408/429: retrying cannot help.
    Permanent,
    /// The request may or may not have taken effect (a create whose response was lost). The
    /// caller must look the document up by its external reference before trying again.
    Unknown,
}

/// Exponential backoff with full jitter, capped per attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max_delay: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max_delay: Duration::from_secs(30 * 60),
        }
    }
}

impl Backoff {
    /// The delay before attempt `attempt + 1` (so `attempt` = failures so far, from 1).
    /// Full jitter: uniformly random in [cap/2, cap] so retries of many jobs spread out but
    /// never come back sooner than half the schedule.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.base.saturating_mul(
            1u32.checked_shl(attempt.saturating_sub(1).min(30))
                .unwrap_or(u32::MAX),
        );
        let cap = exp.min(self.max_delay);
        let half = cap / 2;
        let jitter = half.mul_f64(rand::random::<f64>());
        let d = half + jitter;
        match retry_after {
            Some(hint) => d.max(hint),
            None => d,
        }
    }

    /// The least total time `attempts` retries are guaranteed to span (each delay is at least
    /// half its cap). Used to size the attempt budget to a wall-clock promise such as 48 h.
    pub fn min_total(&self, attempts: u32) -> Duration {
        (1..=attempts)
            .map(|a| {
                let exp = self
                    .base
                    .saturating_mul(1u32.checked_shl((a - 1).min(30)).unwrap_or(u32::MAX));
                exp.min(self.max_delay) / 2
            })
            .sum()
    }

    /// Attempts needed so that retrying spans at least `total`.
    pub fn attempts_for(&self, total: Duration) -> u32 {
        (1..10_000)
            .find(|&n| self.min_total(n) >= total)
            .unwrap_or(10_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_are_capped() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        };
        for _ in 0..100 {
            let d1 = b.delay(1, None);
            assert!(d1 >= Duration::from_millis(500) && d1 <= Duration::from_secs(1));
            let d20 = b.delay(20, None);
            assert!(d20 >= Duration::from_secs(30) && d20 <= Duration::from_secs(60));
        }
        assert!(b.delay(1, Some(Duration::from_secs(7))) >= Duration::from_secs(7));
    }

    #[test]
    fn attempt_budget_covers_48_hours() {
        let b = Backoff::default();
        let n = b.attempts_for(Duration::from_secs(48 * 3600));
        assert!(b.min_total(n) >= Duration::from_secs(48 * 3600));
        assert!(b.min_total(n - 1) < Duration::from_secs(48 * 3600));
    }
}
