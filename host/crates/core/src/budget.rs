//! A shared request budget for one rate-limited API quota (a BigCommerce store, a Visma
//! company + client). Every request first takes a unit (a [`Grant`]); every response reports
//! the server's view (`RateLimitSnapshot`) through that grant. The aim is to use the quota
//! fully without ever causing a 429.
//!
//! How the count stays right:
//! - We count units spent in our own copy of the server's fixed window and open a new one
//!   when the previous has run out, like the server does (its window opens with the first
//!   request after the old one expired).
//! - The window end comes from the server: `now + reset_in` at the time we *receive* an
//!   answer is never earlier than the server's real reset, so the earliest such estimate of a
//!   window is the tightest safe one. The first answer of a window replaces our own guess,
//!   which is too early because the server's window opens only when our request arrives.
//! - Each grant remembers the window it was taken in. An answer to a request granted before
//!   our window opened describes the old window: it must neither restore the old, nearly spent
//!   count nor move the new window's end. Requests still in flight when a window opens may
//!   land in the server's new window, so their units are held back from it and returned once
//!   an answer shows they were counted in the old one.
//! - The server's `remaining` only ever lowers our count (it has not yet seen our requests
//!   in flight, so it is higher than the truth unless someone else spends the same quota).

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Added to every wait for a reset, so a request released at our reset does not arrive a hair
/// before the server's (reset headers in whole milliseconds are truncated).
const RESET_MARGIN: Duration = Duration::from_millis(5);

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
    /// The documented window length; the server's answers correct `reset_at`, not this.
    window: Duration,
    /// Counts the windows we opened; a grant carries the one it was taken in.
    epoch: u64,
    /// When we opened the current window.
    window_start: Instant,
    reset_at: Instant,
    /// Whether `reset_at` comes from a server answer about this window rather than our guess.
    confirmed: bool,
    /// Grants of this window not yet answered.
    in_flight: u64,
    /// Grants of earlier windows not yet answered: they were held back from this window.
    carried: u64,
}

impl State {
    /// Opens our next window at `now`.
    fn open_window(&mut self, now: Instant) {
        self.epoch += 1;
        self.carried += self.in_flight;
        self.in_flight = 0;
        self.window_start = now;
        self.reset_at = now + self.window;
        self.confirmed = false;
        // Requests still in flight may arrive after the server opened its new window and be
        // counted there: hold their units back until their answers say otherwise.
        self.remaining = self.quota.map(|q| q.saturating_sub(self.carried));
    }

    /// Marks one grant of `epoch` as answered (or abandoned).
    fn settle(&mut self, epoch: u64) {
        if epoch == self.epoch {
            self.in_flight = self.in_flight.saturating_sub(1);
        } else {
            self.carried = self.carried.saturating_sub(1);
        }
    }

    /// Hands back one unit held back from this window.
    fn give_back(&mut self) {
        if let (Some(left), Some(q)) = (self.remaining, self.quota) {
            self.remaining = Some((left + 1).min(q));
        }
    }

    /// Lowers our count to the server's. Before we know the quota, the first count we see
    /// misses our other requests in flight.
    fn lower_to(&mut self, server: u64) {
        self.remaining = Some(match self.remaining {
            Some(local) => local.min(server),
            None => server.saturating_sub(self.in_flight + self.carried),
        });
    }
}

/// Cheap to share behind an `Arc`; all methods take `&self`.
#[derive(Debug)]
pub struct RequestBudget {
    state: Mutex<State>,
    /// Units kept back for other processes or clients sharing the same quota.
    reserve: u64,
    /// Resolution of the server's reset header (zero for milliseconds, one second for
    /// Visma's `X-RateLimit-Reset`). A reset reported less than `max(window / 2,
    /// reset_slack)` after we opened our window belongs to the window before it.
    reset_slack: Duration,
}

/// One unit taken from the budget for one request. Report the response's rate-limit headers
/// with [`Grant::observe`]; dropping the grant without observing says the request got no
/// answer (a transport error), and keeps its unit spent.
#[derive(Debug)]
#[must_use = "observe the response through the grant, or drop it when there was none"]
pub struct Grant<'a> {
    budget: &'a RequestBudget,
    epoch: u64,
    settled: bool,
}

impl Grant<'_> {
    /// Feeds what the response to this grant's request said back into the budget.
    pub fn observe(mut self, snap: RateLimitSnapshot) {
        self.settled = true;
        self.budget.observe_grant(self.epoch, snap);
    }
}

impl Drop for Grant<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.budget.lock().settle(self.epoch);
        }
    }
}

impl RequestBudget {
    /// `window` is the documented window length, used until the server reports resets.
    pub fn new(window: Duration) -> Self {
        Self::with_reserve(window, 0)
    }

    pub fn with_reserve(window: Duration, reserve: u64) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                quota: None,
                remaining: None,
                window,
                epoch: 0,
                window_start: now,
                reset_at: now + window,
                confirmed: false,
                in_flight: 0,
                carried: 0,
            }),
            reserve,
            reset_slack: Duration::ZERO,
        }
    }

    /// Sets the resolution of the server's reset header (default zero, for milliseconds); use
    /// one second for headers in whole seconds.
    pub fn with_reset_slack(mut self, slack: Duration) -> Self {
        self.reset_slack = slack;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("budget lock")
    }

    /// Waits until a request may be sent and takes one unit for it.
    pub async fn acquire(&self) -> Grant<'_> {
        loop {
            let reset_at = {
                let mut s = self.lock();
                let now = Instant::now();
                if now >= s.reset_at {
                    s.open_window(now);
                }
                let granted = match s.remaining {
                    None => true,
                    Some(left) if left > self.reserve => {
                        s.remaining = Some(left - 1);
                        true
                    }
                    Some(_) => false,
                };
                if granted {
                    s.in_flight += 1;
                    return Grant {
                        budget: self,
                        epoch: s.epoch,
                        settled: false,
                    };
                }
                s.reset_at
            };
            tokio::time::sleep_until(reset_at + RESET_MARGIN).await;
        }
    }

    /// Whether a server reset at `reset` belongs to a window before our current one.
    fn before_window(&self, s: &State, reset: Instant) -> bool {
        reset < s.window_start + (s.window / 2).max(self.reset_slack)
    }

    fn observe_grant(&self, epoch: u64, snap: RateLimitSnapshot) {
        let mut s = self.lock();
        let now = Instant::now();
        s.settle(epoch);
        if let Some(q) = snap.quota {
            s.quota = Some(q);
        }
        let server_reset = snap.reset_in.map(|r| now + r);
        if epoch != s.epoch {
            // Granted before our window opened: its counts describe the old window. Only
            // learn whether the unit held back for it can be returned.
            if server_reset.is_some_and(|r| self.before_window(&s, r)) {
                s.give_back();
            }
            return;
        }
        match server_reset {
            Some(reset) if self.before_window(&s, reset) => {
                if reset <= now {
                    // Counted in a window that is over: it used nothing of the current one.
                    s.give_back();
                    return;
                }
                // We opened our window before the server's closed: until `reset` we are
                // still in the server's old window, with its count.
                s.reset_at = s.reset_at.min(reset);
                s.confirmed = true;
            }
            Some(reset) => {
                s.reset_at = if s.confirmed {
                    s.reset_at.min(reset)
                } else {
                    reset
                };
                s.confirmed = true;
            }
            None => {}
        }
        if let Some(r) = snap.remaining {
            s.lower_to(r);
        }
    }

    /// Feeds a response's headers back without the grant of its request. Since we cannot tell
    /// which window the request was counted in, this only lowers the count, and only when the
    /// reported reset belongs to our current window; it never moves the window.
    pub fn observe(&self, snap: RateLimitSnapshot) {
        let mut s = self.lock();
        let now = Instant::now();
        if let Some(q) = snap.quota {
            s.quota = Some(q);
        }
        let current = snap
            .reset_in
            .is_none_or(|r| !self.before_window(&s, now + r));
        if let (Some(r), true) = (snap.remaining, current) {
            s.lower_to(r);
        }
    }

    /// After a 429: spend nothing until the server's reset (or one window if it gave none).
    pub fn exhausted(&self, reset_in: Option<Duration>) {
        let mut s = self.lock();
        s.remaining = Some(0);
        let window = s.window;
        s.reset_at = Instant::now() + reset_in.unwrap_or(window);
        s.confirmed = true;
    }

    /// Units left in the current window by our count, if known.
    pub fn remaining(&self) -> Option<u64> {
        self.lock().remaining
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(quota: u64, remaining: u64, reset_in: Duration) -> RateLimitSnapshot {
        RateLimitSnapshot {
            quota: Some(quota),
            remaining: Some(remaining),
            reset_in: Some(reset_in),
        }
    }

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn waits_for_reset_when_spent() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.acquire()
            .await
            .observe(snap(3, 2, Duration::from_secs(10)));
        let t0 = Instant::now();
        drop(b.acquire().await);
        drop(b.acquire().await);
        assert!(Instant::now() - t0 < MS);
        drop(b.acquire().await);
        let waited = Instant::now() - t0;
        assert!(waited >= Duration::from_secs(10), "waited {waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn server_count_lowers_ours() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.acquire()
            .await
            .observe(snap(100, 99, Duration::from_secs(30)));
        b.acquire()
            .await
            .observe(snap(100, 3, Duration::from_secs(29)));
        assert_eq!(b.remaining(), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn server_count_never_raises_ours() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.acquire()
            .await
            .observe(snap(100, 99, Duration::from_secs(30)));
        let grants: Vec<_> = take_unanswered(&b, 10).await;
        // The server has not seen the ten in flight yet; its count is higher than ours.
        b.acquire()
            .await
            .observe(snap(100, 98, Duration::from_secs(30)));
        assert_eq!(b.remaining(), Some(88));
        drop(grants);
    }

    /// Takes `n` grants without answering them.
    async fn take_unanswered(b: &RequestBudget, n: usize) -> Vec<Grant<'_>> {
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(b.acquire().await);
        }
        v
    }

    #[tokio::test(start_paused = true)]
    async fn first_count_discounts_requests_in_flight() {
        let b = RequestBudget::new(Duration::from_secs(30));
        // Quota unknown: requests go out unmetered until the first answer.
        let mut grants = take_unanswered(&b, 8).await;
        let first = grants.pop().unwrap();
        // The server counted only this one; seven more of ours are on their way.
        first.observe(snap(150, 149, Duration::from_secs(30)));
        assert_eq!(b.remaining(), Some(142));
        drop(grants);
    }

    #[tokio::test(start_paused = true)]
    async fn stale_answer_does_not_restore_the_old_count() {
        let window = Duration::from_secs(30);
        let b = RequestBudget::new(window);
        b.acquire().await.observe(snap(10, 9, window));
        // Spend the window except one request that stays in flight across the reset.
        for k in 1..=8 {
            b.acquire()
                .await
                .observe(snap(10, 9 - k, Duration::from_secs(20)));
        }
        let late = b.acquire().await;
        assert_eq!(b.remaining(), Some(0));
        // The next grant waits for the reset and opens a new window.
        let t0 = Instant::now();
        let fresh = b.acquire().await;
        assert!(Instant::now() - t0 >= Duration::from_secs(20));
        // 10 units, one held back for `late`, one taken by `fresh`.
        assert_eq!(b.remaining(), Some(8));
        // The late answer from the old window: nearly spent, resetting "now".
        late.observe(snap(10, 0, Duration::from_millis(3)));
        // Its unit comes back; its old count and old reset are ignored.
        assert_eq!(b.remaining(), Some(9));
        tokio::time::advance(Duration::from_millis(10)).await;
        let next = b.acquire().await;
        assert_eq!(
            b.remaining(),
            Some(8),
            "no new window opened by the stale reset"
        );
        fresh.observe(snap(10, 9, window));
        next.observe(snap(10, 8, window));
        assert_eq!(b.remaining(), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn stale_answer_counted_in_the_new_window_keeps_its_unit() {
        let window = Duration::from_secs(30);
        let b = RequestBudget::new(window);
        b.acquire().await.observe(snap(10, 9, window));
        for k in 1..=8 {
            b.acquire()
                .await
                .observe(snap(10, 9 - k, Duration::from_secs(20)));
        }
        let late = b.acquire().await;
        let fresh = b.acquire().await; // waits for the reset
        assert_eq!(b.remaining(), Some(8));
        // `late` arrived after the server's reset and opened the server's new window.
        late.observe(snap(10, 9, window));
        assert_eq!(b.remaining(), Some(8));
        fresh.observe(snap(10, 8, window - MS));
        assert_eq!(b.remaining(), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn first_answer_of_a_window_sets_its_end_even_if_later() {
        let window = Duration::from_secs(30);
        let b = RequestBudget::new(window);
        b.acquire().await.observe(snap(2, 1, window));
        drop(b.acquire().await);
        // Spent: the next grant opens a new window at our reset.
        let g = b.acquire().await;
        let opened = Instant::now();
        // The server's window opened when the request arrived, 40 ms later than ours.
        tokio::time::advance(Duration::from_millis(80)).await;
        g.observe(snap(2, 1, window - Duration::from_millis(40)));
        drop(b.acquire().await);
        let t = Instant::now();
        drop(b.acquire().await);
        let released = Instant::now();
        assert!(
            released >= opened + window + Duration::from_millis(40),
            "released {:?} after opening, server resets at 30.04 s",
            released - opened
        );
        assert!(released - t < window);
    }

    #[tokio::test(start_paused = true)]
    async fn later_answers_only_bring_the_reset_forward() {
        let window = Duration::from_secs(30);
        let b = RequestBudget::new(window);
        let slow = b.acquire().await;
        let fast = b.acquire().await;
        let t0 = Instant::now();
        // The fast answer: reset in 30 s. The slow one arrives 10 s later saying 29.9 s,
        // which looks like a later window but is only a slow response.
        fast.observe(snap(3, 2, window));
        tokio::time::advance(Duration::from_secs(10)).await;
        slow.observe(snap(3, 1, window - Duration::from_millis(100)));
        drop(b.acquire().await);
        assert_eq!(b.remaining(), Some(0));
        drop(b.acquire().await);
        let released = Instant::now() - t0;
        assert!(
            released >= window && released < window + Duration::from_millis(50),
            "released after {released:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn abandoned_grant_stays_spent() {
        let window = Duration::from_secs(30);
        let b = RequestBudget::new(window);
        b.acquire().await.observe(snap(5, 4, window));
        drop(b.acquire().await); // transport error: maybe counted
        assert_eq!(b.remaining(), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn whole_second_resets_within_a_window_are_not_a_new_window() {
        let b =
            RequestBudget::new(Duration::from_secs(10)).with_reset_slack(Duration::from_secs(1));
        b.acquire()
            .await
            .observe(snap(10, 9, Duration::from_secs(1)));
        tokio::time::advance(Duration::from_millis(400)).await;
        // Rounded up again: "1 s" although 0.6 s are left. Our count must stay ours.
        b.acquire()
            .await
            .observe(snap(10, 9, Duration::from_secs(1)));
        assert_eq!(b.remaining(), Some(8));
    }

    #[tokio::test(start_paused = true)]
    async fn exhausted_blocks_until_the_reset() {
        let b = RequestBudget::new(Duration::from_secs(30));
        b.acquire()
            .await
            .observe(snap(100, 50, Duration::from_secs(30)));
        b.exhausted(Some(Duration::from_secs(2)));
        let t0 = Instant::now();
        drop(b.acquire().await);
        assert!(Instant::now() - t0 >= Duration::from_secs(2));
        assert_eq!(b.remaining(), Some(99));
    }

    #[tokio::test(start_paused = true)]
    async fn unknown_quota_never_blocks() {
        let b = RequestBudget::new(Duration::from_secs(30));
        for _ in 0..1000 {
            drop(b.acquire().await);
        }
        assert_eq!(b.remaining(), None);
    }
}
