//! When a request is sent again, and how long to wait before.
//!
//! The decision follows the error classification of `whispir-errors`:
//! idempotent requests (GET, PUT, DELETE) are retried on connection
//! failures, timeouts and 5xx gateway answers; a message send (any POST) is
//! retried only when the server provably did not act on it (connection
//! refused, 408, 429, 403 over the per-second quota, a redirect). A retry
//! budget shared by all clones of a client stops retry storms when the
//! service is down.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{BackoffBuilder as _, ExponentialBuilder};

/// How the client retries.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryConfig {
    /// Attempts in all, the first included (1 disables retries).
    pub max_attempts: u32,
    /// Wait before the first retry; it doubles each time, with full jitter.
    pub initial_backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_elapsed: Duration::from_secs(30),
        }
    }
}

impl RetryConfig {
    /// No retries at all.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The waits before retries 1, 2, … without jitter.
    pub(crate) fn backoff_caps(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.initial_backoff)
            .with_max_delay(self.max_backoff)
            .with_factor(2.0)
            .with_max_times(usize::try_from(self.max_attempts.saturating_sub(1)).unwrap_or(0))
            .build()
    }
}

/// The wait before the next attempt: the server's `Retry-After` when it
/// gave one, else a full-jitter draw below the exponential cap.
pub(crate) fn wait_before_retry(cap: Duration, retry_after: Option<Duration>) -> Duration {
    match retry_after {
        Some(wait) => wait,
        None => {
            let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
            Duration::from_millis(fastrand::u64(0..=cap_ms))
        }
    }
}

/// A token bucket in the style of the AWS SDKs: every retry costs tokens,
/// a success earns one back (a success after a retry earns that retry's
/// cost back), and an empty bucket means no retries until calls succeed
/// again. Shared by all clones of a client; lock-free.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: AtomicU32,
    capacity: u32,
}

/// Tokens a retry after a timeout or connection failure costs.
const TRANSPORT_RETRY_COST: u32 = 10;
/// Tokens any other retry costs.
const RETRY_COST: u32 = 5;
/// Tokens a success at the first attempt returns.
const SUCCESS_REFUND: u32 = 1;

impl RetryBudget {
    /// A full bucket of `capacity` tokens (the AWS default is 500).
    pub fn new(capacity: u32) -> Self {
        Self {
            tokens: AtomicU32::new(capacity),
            capacity,
        }
    }

    /// Takes the cost of a retry and returns it; `None` (and nothing taken)
    /// when the bucket cannot pay it.
    pub(crate) fn try_spend(&self, after_transport_failure: bool) -> Option<u32> {
        let cost = if after_transport_failure {
            TRANSPORT_RETRY_COST
        } else {
            RETRY_COST
        };
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tokens| {
                tokens.checked_sub(cost)
            })
            .ok()
            .map(|_| cost)
    }

    /// Returns tokens after a success: the cost of the retry that
    /// succeeded, or one for a success at the first attempt.
    pub(crate) fn refund(&self, retry_cost: Option<u32>) {
        let refund = retry_cost.unwrap_or(SUCCESS_REFUND);
        let capacity = self.capacity;
        // The closure always returns `Some`, so the update cannot fail.
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |tokens| {
                Some(tokens.saturating_add(refund).min(capacity))
            });
    }

    /// Tokens left.
    pub fn remaining(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        Self::new(500)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_stops_at_the_attempt_limit() {
        let config = RetryConfig {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_elapsed: Duration::from_secs(10),
        };
        let caps: Vec<u128> = config.backoff_caps().map(|d| d.as_millis()).collect();
        assert_eq!(caps, vec![100, 200, 300, 300]);
        assert_eq!(RetryConfig::disabled().backoff_caps().count(), 0);
    }

    #[test]
    fn full_jitter_stays_below_the_cap_and_retry_after_wins() {
        for _ in 0..1000 {
            assert!(
                wait_before_retry(Duration::from_millis(50), None) <= Duration::from_millis(50)
            );
        }
        let server = Some(Duration::from_secs(7));
        assert_eq!(
            wait_before_retry(Duration::from_millis(50), server),
            Duration::from_secs(7)
        );
    }

    #[test]
    fn an_empty_budget_stops_retries_until_successes_refill_it() {
        let budget = RetryBudget::new(20);
        assert_eq!(budget.try_spend(true), Some(10));
        assert_eq!(budget.try_spend(true), Some(10));
        assert_eq!(budget.try_spend(false), None);
        assert_eq!(budget.remaining(), 0);
        for _ in 0..5 {
            budget.refund(None);
        }
        assert_eq!(budget.try_spend(false), Some(5));
        for _ in 0..100 {
            budget.refund(None);
        }
        assert_eq!(budget.remaining(), 20, "never above capacity");
    }

    #[test]
    fn a_retry_that_succeeds_returns_its_cost() {
        let budget = RetryBudget::new(100);
        let cost = budget.try_spend(true);
        assert_eq!(budget.remaining(), 90);
        budget.refund(cost);
        assert_eq!(budget.remaining(), 100);
    }

    #[test]
    fn concurrent_spending_never_goes_below_zero() {
        let budget = std::sync::Arc::new(RetryBudget::new(1000));
        let spent: u32 = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    let budget = &budget;
                    scope
                        .spawn(move || (0..100).filter_map(|_| budget.try_spend(true)).sum::<u32>())
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap_or(0)).sum()
        });
        assert_eq!(spent, 1000);
        assert_eq!(budget.remaining(), 0);
    }
}
