use ledgerlink_core::{Backoff, ErrorClass};
use std::time::Duration;

/// How failed attempts are retried: exponential backoff with jitter (never sooner than the
/// server's `retry_after`), each delay capped by `backoff.max_delay`, at most `max_attempts`
/// attempts in all before the job goes to the error queue as exhausted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub backoff: Backoff,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    RetryAfter(Duration),
    /// Permanent error: the error queue now.
    Fail,
    /// Retryable, but the attempt budget is spent: the error queue, marked exhausted.
    Exhausted,
}

impl RetryPolicy {
    /// A budget of attempts whose backoff delays add up to at least `total`.
    pub fn spanning(backoff: Backoff, total: Duration) -> Self {
        Self {
            backoff,
            max_attempts: backoff.attempts_for(total).saturating_add(1),
        }
    }

    /// `attempts`: attempts made so far, including the one that just failed.
    pub fn decide(&self, attempts: u32, class: ErrorClass) -> RetryDecision {
        let retry_after = match class {
            ErrorClass::Permanent => return RetryDecision::Fail,
            ErrorClass::Transient { retry_after } => retry_after,
            ErrorClass::Unknown => None,
        };
        if attempts >= self.max_attempts {
            return RetryDecision::Exhausted;
        }
        RetryDecision::RetryAfter(self.backoff.delay(attempts.max(1), retry_after))
    }
}

impl Default for RetryPolicy {
    /// Default backoff (0.5 s doubling to a 30 min cap) for at least 48 hours.
    fn default() -> Self {
        Self::spanning(Backoff::default(), Duration::from_secs(48 * 3600))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_budget_spans_48_hours() {
        let p = RetryPolicy::default();
        let retries = p.max_attempts - 1;
        assert!(p.backoff.min_total(retries) >= Duration::from_secs(48 * 3600));
        assert_eq!(
            p.decide(p.max_attempts, ErrorClass::Unknown),
            RetryDecision::Exhausted
        );
        assert_eq!(p.decide(1, ErrorClass::Permanent), RetryDecision::Fail);
        match p.decide(
            3,
            ErrorClass::Transient {
                retry_after: Some(Duration::from_secs(90)),
            },
        ) {
            RetryDecision::RetryAfter(d) => assert!(d >= Duration::from_secs(90)),
            other => panic!("{other:?}"),
        }
    }
}
