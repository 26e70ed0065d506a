//! A shared request budget for one rate-limited API quota (a BigCommerce store, a Visma
//! company + client). Every request first takes a unit; every response reports the server's
//! view (`RateLimitSnapshot`). The aim is to use the quota fully without ever causing a 429:
//! we trust our own count of units spent in the current window, correct it downwards whenever
//! the server says fewer are left, and wait for the window reset when we run out.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// What one response said about the quota. All fields are optional because not every
/// response (or every API) carries every header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimitSnapshot {
    /// Requests allowed per window.
    pub quota: Option<u64>,
    /// Requests left in the current window.
    pub remaining: Option<u64>,
    /// Time until the window resets.
    pub reset_in: Option<Duration>,
}

#[derive(Debug)]
struct State {
    quota: Option<u64>,
    /// Units we may still spend before `reset_at`; `None` until a server told us a quota.
    remaining: Option<u64>,
    reset_at: Instant,
    window: Duration,
}

/// Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct RequestBudget {
    state: Mutex<State>,
    /// Units kept back for other processes or clients sharing the same quota.
    reserve: u64,
    /// How much later than ours a server-reported reset must be before we believe the server
    /// started a new window. APIs that report the reset in whole seconds (Visma's
    /// `X-RateLimit-Reset`) jitter by up to a second within one window.
    reset_slack: Duration,
}

impl RequestBudget {
    /// `window` is the documented window length, used until the server reports resets.
    pub fn new(window: Duration) -> Self {
        Self::with_reserve(window, 0)
    }

    pub fn with_reserve(window: Duration, reserve: u64) -> Self {
        Self {
            state: Mutex::new(State {
                quota: None,
                remaining: None,
                reset_at: Instant::now() + window,
                window,
            }),
            reserve,
            reset_slack: Duration::from_millis(50),
        }
    }

    /// Sets the reset-time resolution of the server's headers (default 50 ms); use one second
    /// for headers in whole seconds.
    pub fn with_reset_slack(mut self, slack: Duration) -> Self {
        self.reset_slack = slack;
        self
    }

    /// Waits until a request may be sent and takes one unit for it.
    pub async fn acquire(&self) {
        loop {
            let wait_until = {
                let mut s = self.state.lock().expect("budget lock");
                let now = Instant::now();
                if now >= s.reset_at {
                    // A new window: assume the full quota until a response says otherwise.
                    s.remaining = s.quota;
                    s.reset_at = now + s.window;
                }
                match s.remaining {
                    None => return,
                    Some(left) if left > self.reserve => {
                        s.remaining = Some(left - 1);
                        return;
                    }
                    Some(_) => s.reset_at,
                }
            };
            // A small margin so we do not arrive a hair before the server's reset.
            tokio::time::sleep_until(wait_until + Duration::from_millis(5)).await;
        }
    }

    /// Feeds what a response said back into the budget.
    pub fn observe(&self, snap: RateLimitSnapshot) {
        let mut s = self.state.lock().expect("budget lock");
        let now = Instant::now();
        if let Some(q) = snap.quota {
            s.quota = Some(q);
        }
        if let Some(reset_in) = snap.reset_in {
            let server_reset = now + reset_in;
            // The server's reset is later than ours: it has started a new window we did not
            // see, so its `remaining` is authoritative. Otherwise only ever lower our count,
            // since requests still in flight have not been counted by the server yet.
            if server_reset > s.reset_at + self.reset_slack {
                s.reset_at = server_reset;
                if let Some(r) = snap.remaining {
                    s.remaining = Some(r);
                }
                return;
            }
            s.reset_at = s.reset_at.min(server_reset.max(now));
        }
        if let Some(r) = snap.remaining {
            s.remaining = Some(match s.remaining {
                Some(local) => local.min(r),
                None => r,
            });
        }
    }

    /// After a 429: spend nothing until the server's reset (or one window if it gave none).
    pub fn exhausted(&self, reset_in: Option<Duration>) {
        let mut s = self.state.lock().expect("budget lock");
        s.remaining = Some(0);
        let window = s.window;
        s.reset_at = Instant::now() + reset_in.unwrap_or(window);
    }

    /// Units left in the current window by our count, if known.
    pub fn remaining(&self) -> Option<u64> {
        self.state.lock().expect("budget lock").remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn waits_for_reset_when_spent() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.observe(RateLimitSnapshot {
            quota: Some(2),
            remaining: Some(2),
            reset_in: Some(Duration::from_secs(10)),
        });
        let t0 = Instant::now();
        b.acquire().await;
        b.acquire().await;
        assert!(Instant::now() - t0 < Duration::from_millis(1));
        b.acquire().await;
        let waited = Instant::now() - t0;
        assert!(waited >= Duration::from_secs(10), "waited {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn server_count_lowers_ours() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.observe(RateLimitSnapshot {
            quota: Some(100),
            remaining: Some(100),
            reset_in: Some(Duration::from_secs(30)),
        });
        b.observe(RateLimitSnapshot {
            quota: Some(100),
            remaining: Some(3),
            reset_in: Some(Duration::from_secs(29)),
        });
        assert_eq!(b.remaining(), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn whole_second_resets_within_a_window_are_not_a_new_window() {
        let b =
            RequestBudget::new(Duration::from_secs(10)).with_reset_slack(Duration::from_secs(1));
        b.observe(RateLimitSnapshot {
            quota: Some(10),
            remaining: Some(9),
            reset_in: Some(Duration::from_secs(1)),
        });
        tokio::time::advance(Duration::from_millis(400)).await;
        // Rounded up again: "1 s" although 0.6 s are left. Our count must stay ours.
        b.acquire().await;
        b.observe(RateLimitSnapshot {
            quota: Some(10),
            remaining: Some(9),
            reset_in: Some(Duration::from_secs(1)),
        });
        assert_eq!(b.remaining(), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_quota_never_blocks() {
        let b = RequestBudget::new(Duration::from_secs(30));
        for _ in 0..1000 {
            b.acquire().await;
        }
        assert_eq!(b.remaining(), None);
    }
}
