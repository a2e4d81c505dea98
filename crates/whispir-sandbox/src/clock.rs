//! The sandbox's clock: the machine's, run ahead by an offset a test can
//! move on, so that it can see what a client sees days later.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// The machine's clock plus an offset.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    ahead_millis: AtomicU64,
}

impl Clock {
    /// A clock `ahead_millis` ahead of the machine's.
    pub fn new(ahead_millis: u64) -> Self {
        Clock {
            ahead_millis: AtomicU64::new(ahead_millis),
        }
    }

    /// The sandbox's now.
    pub fn now(&self) -> DateTime<Utc> {
        let ahead = i64::try_from(self.ahead_millis.load(Ordering::SeqCst)).unwrap_or(i64::MAX);
        let now = Utc::now();
        now.checked_add_signed(chrono::Duration::milliseconds(ahead))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    /// The sandbox's now in Unix milliseconds, as `createdTime` holds it.
    pub fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Moves the clock on by `by`.
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        let _ = self
            .ahead_millis
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |ahead| {
                Some(ahead.saturating_add(by))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_advanced_clock_reads_that_much_later() {
        let clock = Clock::new(0);
        let before = clock.now_millis();
        clock.advance(Duration::from_secs(8 * 24 * 3600));
        let after = clock.now_millis();
        assert!(after - before >= 8 * 24 * 3600 * 1000, "{before} {after}");
        assert!(after - before < 8 * 24 * 3600 * 1000 + 60_000);
    }
}
