//! A client-side rate limiter that knows Whispir's plans.
//!
//! Whispir plans allow 5, 10 or 30 requests per second and 10,000, 20,000
//! or 50,000 per day; over either the API answers 403 (or 429). The limiter
//! makes a request wait rather than be refused, fails fast without sending
//! once the daily budget is spent, and pauses everything when the server
//! says the quota was hit anyway (the server's view wins). One limiter is
//! shared by all clones of a client.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota};
use tokio::time::Instant;

/// A plan's quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    per_second: NonZeroU32,
    per_day: Option<NonZeroU32>,
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

impl Plan {
    /// 5 requests per second, 10,000 per day.
    pub const RPS_5_DAILY_10K: Plan = Plan::new(nz(5), Some(nz(10_000)));
    /// 10 requests per second, 20,000 per day.
    pub const RPS_10_DAILY_20K: Plan = Plan::new(nz(10), Some(nz(20_000)));
    /// 30 requests per second, 50,000 per day.
    pub const RPS_30_DAILY_50K: Plan = Plan::new(nz(30), Some(nz(50_000)));

    /// A custom plan; `per_day: None` means no daily cap.
    pub const fn new(per_second: NonZeroU32, per_day: Option<NonZeroU32>) -> Self {
        Self {
            per_second,
            per_day,
        }
    }

    /// Requests per second.
    pub fn per_second(&self) -> u32 {
        self.per_second.get()
    }

    /// Requests per day, if capped.
    pub fn per_day(&self) -> Option<u32> {
        self.per_day.map(NonZeroU32::get)
    }

    /// The per-second quota: requests evenly spaced just under the plan
    /// rate, without bursts, so that no one-second window (fixed or
    /// sliding) ever holds more than the plan allows.
    pub(crate) fn quota(&self) -> Quota {
        let period =
            Duration::from_secs(1).mul_f64(SPACING_MARGIN / f64::from(self.per_second.get()));
        Quota::with_period(period).map_or_else(
            || Quota::per_second(self.per_second),
            |q| q.allow_burst(NonZeroU32::MIN),
        )
    }
}

/// Whether a request may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Send it.
    Go,
    /// The daily budget is spent: do not send.
    DailyBudgetSpent {
        /// Until the budget starts again.
        resets_in: Duration,
    },
}

/// The shared limiter of a client.
#[derive(Debug)]
pub struct RateLimiter {
    plan: Plan,
    per_second: DefaultDirectRateLimiter,
    daily: Mutex<DailyWindow>,
    paused_until: Mutex<Option<Instant>>,
}

/// A fixed 24-hour window that starts with its first request.
#[derive(Debug, Default)]
struct DailyWindow {
    started: Option<Instant>,
    used: u32,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Requests are spaced this much wider than the plan rate: a burst-free
/// schedule at exactly the rate could still fit one request too many into
/// a sliding second whose start coincides with a send.
const SPACING_MARGIN: f64 = 1.003;

impl RateLimiter {
    /// A limiter for a plan.
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            per_second: governor::RateLimiter::direct(plan.quota()),
            daily: Mutex::new(DailyWindow::default()),
            paused_until: Mutex::new(None),
        }
    }

    /// The plan.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// Requests left in the current daily window (`None` without a daily cap).
    pub fn remaining_today(&self) -> Option<u32> {
        let limit = self.plan.per_day()?;
        let now = Instant::now();
        let daily = self.daily.lock().ok()?;
        let used = match daily.started {
            Some(started) if now.duration_since(started) < DAY => daily.used,
            _ => 0,
        };
        Some(limit.saturating_sub(used))
    }

    /// Waits until a request may be sent, or says the day's budget is spent.
    pub(crate) async fn acquire(&self) -> Admission {
        let paused = self.paused_until.lock().ok().and_then(|until| *until);
        if let Some(until) = paused {
            tokio::time::sleep_until(until).await;
        }
        if let Some(resets_in) = self.take_daily() {
            return Admission::DailyBudgetSpent { resets_in };
        }
        self.per_second.until_ready().await;
        Admission::Go
    }

    /// Takes one request from the daily budget; `Some(wait)` when none is left.
    fn take_daily(&self) -> Option<Duration> {
        let limit = self.plan.per_day()?;
        let now = Instant::now();
        let Ok(mut daily) = self.daily.lock() else {
            return None;
        };
        let started = match daily.started {
            Some(started) if now.duration_since(started) < DAY => started,
            _ => {
                daily.started = Some(now);
                daily.used = 0;
                now
            }
        };
        if daily.used >= limit {
            return Some(DAY.saturating_sub(now.duration_since(started)));
        }
        daily.used += 1;
        None
    }

    /// The server refused a request for quota: hold every request for `wait`.
    pub(crate) fn back_off(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut paused) = self.paused_until.lock()
            && paused.is_none_or(|current| current < until)
        {
            *paused = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    #[test]
    fn presets_match_the_published_plans() {
        assert_eq!(
            (
                Plan::RPS_5_DAILY_10K.per_second(),
                Plan::RPS_5_DAILY_10K.per_day()
            ),
            (5, Some(10_000))
        );
        assert_eq!(
            (
                Plan::RPS_10_DAILY_20K.per_second(),
                Plan::RPS_10_DAILY_20K.per_day()
            ),
            (10, Some(20_000))
        );
        assert_eq!(
            (
                Plan::RPS_30_DAILY_50K.per_second(),
                Plan::RPS_30_DAILY_50K.per_day()
            ),
            (30, Some(50_000))
        );
    }

    #[test]
    fn a_burst_of_100_is_held_to_the_plan_rate() {
        let clock = FakeRelativeClock::default();
        let limiter =
            governor::RateLimiter::direct_with_clock(Plan::RPS_10_DAILY_20K.quota(), clock.clone());
        let mut admitted_at = Vec::new();
        let mut now = Duration::ZERO;
        while admitted_at.len() < 100 {
            if limiter.check().is_ok() {
                admitted_at.push(now);
            } else {
                clock.advance(Duration::from_micros(100));
                now += Duration::from_micros(100);
            }
        }
        // No burst: one at once, then one every ~100 ms.
        assert_eq!(admitted_at.iter().filter(|t| t.is_zero()).count(), 1);
        assert!(
            admitted_at[99] >= Duration::from_millis(9_900),
            "{:?}",
            admitted_at[99]
        );
        // No sliding one-second window holds more than the plan's 10.
        for (i, start) in admitted_at.iter().enumerate() {
            let in_window = admitted_at[i..]
                .iter()
                .take_while(|t| **t < *start + Duration::from_secs(1))
                .count();
            assert!(in_window <= 10, "window from {start:?}: {in_window}");
        }
        // And the rate stays within 0.5 % of the plan.
        let rate = 99.0 / admitted_at[99].as_secs_f64();
        assert!(rate >= 9.95, "{rate}");
    }

    #[tokio::test]
    async fn the_daily_budget_fails_fast_once_spent() {
        let limiter = RateLimiter::new(Plan::new(nz(1000), Some(nz(3))));
        for _ in 0..3 {
            assert_eq!(limiter.acquire().await, Admission::Go);
        }
        assert_eq!(limiter.remaining_today(), Some(0));
        match limiter.acquire().await {
            Admission::DailyBudgetSpent { resets_in } => {
                assert!(resets_in <= DAY && resets_in > Duration::from_secs(3600))
            }
            Admission::Go => panic!("the fourth request must not go"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_servers_back_off_holds_every_request() {
        let limiter = RateLimiter::new(Plan::new(nz(1000), None));
        limiter.back_off(Duration::from_secs(2));
        let start = Instant::now();
        assert_eq!(limiter.acquire().await, Admission::Go);
        assert!(start.elapsed() >= Duration::from_secs(2));
        assert_eq!(limiter.remaining_today(), None);
    }
}
