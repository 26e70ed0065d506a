//! The fixed-window request counter both APIs use for their quotas.

use std::ops::Sub;
use std::time::Duration;

/// A window opens with the first request after the previous one expired; every request that
/// `take`s uses one unit until the quota is spent.
///
/// Generic over the clock's instant so the BigCommerce simulator can follow tokio's (pausable)
/// clock while the Visma one keeps the real one.
#[derive(Debug, Clone, Copy)]
pub struct FixedWindow<I> {
    started: Option<I>,
    used: u32,
}

impl<I> Default for FixedWindow<I> {
    fn default() -> Self {
        Self {
            started: None,
            used: 0,
        }
    }
}

impl<I: Copy + Sub<Output = Duration>> FixedWindow<I> {
    /// Opens a new window at `now` if the current one (of `length`) has expired; answers how
    /// long until the window resets.
    pub fn roll(&mut self, now: I, length: Duration) -> Duration {
        let start = match self.started {
            Some(s) if now - s < length => s,
            _ => {
                self.started = Some(now);
                self.used = 0;
                now
            }
        };
        length.saturating_sub(now - start)
    }

    /// Uses one unit of `quota`: the units left afterwards, or `None` when none was left.
    pub fn take(&mut self, quota: u32) -> Option<u32> {
        if self.used >= quota {
            return None;
        }
        self.used += 1;
        Some(quota - self.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn refuses_past_quota_until_the_window_resets() {
        let t0 = Instant::now();
        let len = Duration::from_secs(10);
        let mut w = FixedWindow::default();
        assert_eq!(w.roll(t0, len), len);
        assert_eq!(w.take(2), Some(1));
        assert_eq!(w.take(2), Some(0));
        assert_eq!(w.take(2), None);
        let later = t0 + Duration::from_secs(4);
        assert_eq!(w.roll(later, len), Duration::from_secs(6));
        assert_eq!(w.take(2), None);
        let expired = t0 + len;
        assert_eq!(w.roll(expired, len), len);
        assert_eq!(w.take(2), Some(1));
    }
}
