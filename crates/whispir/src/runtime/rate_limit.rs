//! A client-side rate limiter that knows Whispir's plans.
//!
//! Whispir plans allow 5, 10 or 30 requests per second and 10,000, 20,000
//! or 50,000 per day; over either the API answers 403 (or 429). The limiter
//! makes a request wait rather than be refused, admits waiting callers first
//! come, first served, fails fast without sending once the daily budget is
//! spent, and pauses everything when the server says the quota was hit
//! anyway (the server's view wins). No wait outlasts the caller's deadline:
//! a longer one is refused at once. One limiter is shared by all clones of
//! a client; with the feature `redis`, one plan is shared by every process
//! that names the same Redis and key (`shared`).

mod connecting;
mod daily;
#[cfg(feature = "redis")]
mod shared;
#[cfg(test)]
mod tests;

pub use daily::{DailyWindow, InvalidDailyWindow};
#[cfg(feature = "redis")]
pub use shared::{
    DEFAULT_DELAY_SPREAD, DEFAULT_STORE_TIMEOUT, InvalidRedisUrl, QuotaStoreUnavailable,
    RedisQuota, WhenUnavailable,
};

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

pub(crate) use connecting::Connections;
use daily::{DailyUse, Now};

use crate::runtime::metrics::LimiterKind;
#[cfg(feature = "opentelemetry")]
use crate::runtime::metrics::PlanScope;

/// A plan's quotas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    per_second: NonZeroU32,
    per_day: Option<NonZeroU32>,
    daily_window: DailyWindow,
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

    /// A custom plan; `per_day: None` means no daily cap. The daily budget
    /// is counted in a rolling 24 hours (see [`Plan::with_daily_window`]).
    pub const fn new(per_second: NonZeroU32, per_day: Option<NonZeroU32>) -> Self {
        Self {
            per_second,
            per_day,
            daily_window: DailyWindow::Rolling,
        }
    }

    /// The same plan with its daily budget counted in `window`: a rolling
    /// 24 hours (the default, safe whatever the server's reset time), or a
    /// fixed reset time of day when the account's reset time is known.
    /// Refuses a reset time out of range.
    pub fn with_daily_window(mut self, window: DailyWindow) -> Result<Self, InvalidDailyWindow> {
        self.daily_window = window.validate()?;
        Ok(self)
    }

    /// Requests per second.
    pub fn per_second(&self) -> u32 {
        self.per_second.get()
    }

    /// Requests per day, if capped.
    pub fn per_day(&self) -> Option<u32> {
        self.per_day.map(NonZeroU32::get)
    }

    /// How the daily budget is counted.
    pub fn daily_window(&self) -> DailyWindow {
        self.daily_window
    }

    /// The time between two requests: requests go evenly spaced just under
    /// the plan rate, without bursts, so that no one-second window (fixed
    /// or sliding) ever holds more than the plan allows.
    fn spacing(&self) -> Duration {
        Duration::from_secs(1).mul_f64(SPACING_MARGIN / f64::from(self.per_second.get()))
    }
}

/// Requests are spaced this much wider than the plan rate: a burst-free
/// schedule at exactly the rate could still fit one request too many into
/// a sliding second whose start coincides with a send, and a turn taken
/// up to [`LATENESS_ABSORBED`] late must not either.
const SPACING_MARGIN: f64 = 1.003;

/// A turn taken this much after its time (timers fire on whole
/// milliseconds) does not delay the turns after it. Less than the margin
/// above (3 ms per second), so that any `per_second + 1` requests still
/// span more than a second.
const LATENESS_ABSORBED: Duration = Duration::from_micros(1_500);

/// The longest pause the limiter keeps; a server asking for more is
/// treated as asking for this (every caller is refused meanwhile anyway).
const LONGEST_PAUSE: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Whether a request may go.
#[derive(Debug)]
pub(crate) enum Admission<'a> {
    /// Send it; call [`DailyToken::sent`] right before sending.
    Go(DailyToken<'a>),
    /// The daily budget is spent: do not send.
    DailyBudgetSpent {
        /// Until the next unit of the budget comes back.
        resets_in: Duration,
    },
    /// The request could not go before the caller's deadline (a pause the
    /// server asked for, or the callers ahead of it): do not send.
    PauseTooLong {
        /// How long the request would have had to wait, at least.
        wait: Duration,
    },
    /// The shared quota's store gave no answer and the user chose to
    /// refuse meanwhile: do not send.
    #[cfg(feature = "redis")]
    StoreUnavailable {
        /// What went wrong with the store.
        reason: String,
    },
}

/// One unit of the daily budget held for a request about to be sent. The
/// unit is used by [`DailyToken::sent`]; dropped without it (the call was
/// cancelled, or refused before sending) the unit goes back to the budget.
#[derive(Debug)]
#[must_use = "a token dropped without `sent()` gives its unit back"]
pub(crate) struct DailyToken<'a> {
    daily: Option<&'a Mutex<DailyUse>>,
    /// A unit of the shared budget, counted by the store when it was taken.
    #[cfg(feature = "redis")]
    shared: Option<shared::SharedUnit<'a>>,
}

impl<'a> DailyToken<'a> {
    fn local(daily: Option<&'a Mutex<DailyUse>>) -> Self {
        Self {
            daily,
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    #[cfg(feature = "redis")]
    fn shared(unit: Option<shared::SharedUnit<'a>>) -> Self {
        Self {
            daily: None,
            shared: unit,
        }
    }

    /// The request is being sent now: its unit counts against the budget.
    pub(crate) fn sent(mut self) {
        if let Some(daily) = self.daily.take() {
            lock(daily).record_sent(Now::current());
        }
        #[cfg(feature = "redis")]
        if let Some(unit) = self.shared.take() {
            unit.sent();
        }
    }
}

impl Drop for DailyToken<'_> {
    fn drop(&mut self) {
        if let Some(daily) = self.daily.take() {
            lock(daily).give_back();
        }
        #[cfg(feature = "redis")]
        if let Some(unit) = self.shared.take() {
            unit.give_back();
        }
    }
}

/// Turns evenly spaced in time, one request each.
///
/// Not governor: its GCRA without bursts cannot absorb a turn taken a
/// little late, so tokio's millisecond timers would push every later turn
/// back (3 % below the plan at 30 per second); and it reads a clock that
/// tokio's test clock does not move.
#[derive(Debug)]
struct Pacing {
    spacing: Duration,
    /// The earliest time of the next turn.
    next: Option<Instant>,
}

impl Pacing {
    /// No turn before `earliest` (a spacing after a request's connection
    /// became ready: that request left then, not at its turn).
    fn not_before(&mut self, earliest: Instant) {
        self.next = Some(self.next.map_or(earliest, |next| next.max(earliest)));
    }

    /// Takes the turn due at `now`, or says when the next one is due.
    fn take(&mut self, now: Instant) -> Result<(), Instant> {
        let due = match self.next {
            Some(next) if now < next => return Err(next),
            // Late by a timer tick: the schedule keeps its pace.
            Some(next) => next.max(now.checked_sub(LATENESS_ABSORBED).unwrap_or(now)),
            None => now,
        };
        self.next = Some(due.checked_add(self.spacing).unwrap_or(due));
        Ok(())
    }
}

/// The shared limiter of a client.
#[derive(Debug)]
pub struct RateLimiter {
    plan: Plan,
    /// Held by the caller at the head of the line while it waits for its
    /// turn; tokio's mutex hands itself on in the order it was asked for.
    line: tokio::sync::Mutex<Pacing>,
    /// Callers between arrival and admission (or giving up).
    waiting: AtomicUsize,
    daily: Option<Mutex<DailyUse>>,
    paused_until: Mutex<Option<Instant>>,
    /// The connections the client is making (its connector reports them).
    connections: Connections,
    /// The plan shared with other processes: decides instead of the rest.
    #[cfg(feature = "redis")]
    shared: Option<Box<shared::SharedLimiter>>,
}

impl RateLimiter {
    /// A limiter for a plan.
    pub fn new(plan: Plan) -> Self {
        Self {
            plan,
            line: tokio::sync::Mutex::new(Pacing {
                spacing: plan.spacing(),
                next: None,
            }),
            waiting: AtomicUsize::new(0),
            daily: plan
                .per_day
                .map(|limit| Mutex::new(DailyUse::new(limit.get(), plan.daily_window))),
            paused_until: Mutex::new(None),
            connections: Connections::default(),
            #[cfg(feature = "redis")]
            shared: None,
        }
    }

    /// The connections the client makes, for its connector to report.
    pub(crate) fn connections(&self) -> &Connections {
        &self.connections
    }

    /// A limiter for a plan shared with every process that uses the same
    /// Redis server and key (feature `redis`).
    #[cfg(feature = "redis")]
    pub fn shared(plan: Plan, quota: RedisQuota) -> Self {
        let local = Self::new(plan);
        Self {
            shared: Some(Box::new(shared::SharedLimiter::new(
                plan,
                quota,
                local.connections.clone(),
            ))),
            ..local
        }
    }

    /// Reads the shared daily budget from the store, for
    /// [`RateLimiter::remaining_today`] and [`RateLimiter::resets_in`] (a
    /// process's admissions read it too). Without a shared plan, does
    /// nothing.
    #[cfg(feature = "redis")]
    pub async fn refresh(&self) -> Result<(), QuotaStoreUnavailable> {
        match &self.shared {
            Some(shared) => shared.refresh().await,
            None => Ok(()),
        }
    }

    /// Starts the daily count afresh with a budget of `limit` (a shared
    /// plan's fallback, from what the store last said was left).
    #[cfg(feature = "redis")]
    fn restart_daily(&self, limit: u32) {
        if let Some(daily) = &self.daily {
            *lock(daily) = DailyUse::new(limit, self.plan.daily_window);
        }
    }

    /// The plan.
    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// Which limiter decides now: this client's own, the shared plan's
    /// store, or the local fallback while the store gives no answer.
    pub(crate) fn kind(&self) -> LimiterKind {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            return if shared.falling_back() {
                LimiterKind::Fallback
            } else {
                LimiterKind::Shared
            };
        }
        LimiterKind::Local
    }

    /// Where [`RateLimiter::remaining_today`] is counted.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn scope(&self) -> PlanScope {
        #[cfg(feature = "redis")]
        if self.shared.is_some() {
            return PlanScope::Shared;
        }
        PlanScope::Local
    }

    /// Requests left in the daily budget now (`None` without a daily cap):
    /// the plan's daily requests minus those sent in the current window
    /// (see [`DailyWindow`]) and those about to be sent. With a shared
    /// plan (feature `redis`), all processes' sends as of this process's
    /// last exchange with the store (each admission, or
    /// `RateLimiter::refresh`); the whole budget before the first.
    pub fn remaining_today(&self) -> Option<u32> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            return shared.remaining_today();
        }
        let daily = self.daily.as_ref()?;
        Some(lock(daily).remaining(Now::current()))
    }

    /// When the daily budget next grows (`None` without a daily cap): in a
    /// rolling window, when the oldest request sent in the last 24 hours
    /// leaves it (zero when none was sent); with a reset time, until the
    /// next reset. With a shared plan, as of the last exchange with the
    /// store, like [`RateLimiter::remaining_today`].
    pub fn resets_in(&self) -> Option<Duration> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            return shared.resets_in();
        }
        let daily = self.daily.as_ref()?;
        Some(lock(daily).resets_in(Now::current()))
    }

    /// Waits for this caller's turn, in arrival order, and returns a token
    /// for one request; or says at once why the request may not go: the
    /// daily budget is spent, or the turn would come after `deadline`.
    pub(crate) async fn acquire(&self, deadline: Instant) -> Admission<'_> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            // Boxed: only shared plans need its future.
            return Box::pin(shared.acquire(deadline)).await;
        }
        let arrived = Instant::now();
        if let Some(resets_in) = self
            .daily
            .as_ref()
            .and_then(|daily| lock(daily).spent(Now::current()))
        {
            return Admission::DailyBudgetSpent { resets_in };
        }
        let place = InLine::join(&self.waiting);
        // Every caller ahead takes one slot first: the earliest turn.
        let earliest = self.turn_after(arrived, place.ahead);
        // (A caller that need not wait at all goes even with no time left.)
        if earliest.is_none_or(|turn| turn > deadline && turn > arrived) {
            return Admission::PauseTooLong {
                wait: earliest.map_or(LONGEST_PAUSE, |turn| turn - arrived),
            };
        }
        let Ok(mut pacing) = tokio::time::timeout_at(deadline, self.line.lock()).await else {
            let now = Instant::now();
            let wait = self
                .turn_after(now, 1)
                .map_or(LONGEST_PAUSE, |turn| turn - now);
            return Admission::PauseTooLong { wait };
        };
        loop {
            // A request on a new connection leaves when it is ready: no
            // turn meanwhile, and the next a spacing after.
            match self.connections.settled(deadline).await {
                Ok(Some(ready)) => pacing.not_before(ready + self.plan.spacing()),
                Ok(None) => {}
                Err(()) => {
                    return Admission::PauseTooLong {
                        wait: self.plan.spacing(),
                    };
                }
            }
            let now = Now::current();
            if let Some(until) = self.paused_until()
                && until > now.mono
            {
                if until > deadline {
                    return Admission::PauseTooLong {
                        wait: until - now.mono,
                    };
                }
                // Then look again: the pause may have been extended.
                tokio::time::sleep_until(until).await;
                continue;
            }
            let token = match &self.daily {
                None => DailyToken::local(None),
                Some(daily) => match lock(daily).reserve(now) {
                    Ok(()) => DailyToken::local(Some(daily)),
                    Err(resets_in) => return Admission::DailyBudgetSpent { resets_in },
                },
            };
            match pacing.take(now.mono) {
                Ok(()) => return Admission::Go(token),
                Err(due) if due <= deadline => {
                    drop(token);
                    tokio::time::sleep_until(due).await;
                }
                Err(due) => {
                    return Admission::PauseTooLong {
                        wait: due - now.mono,
                    };
                }
            }
        }
    }

    /// The earliest time a caller with `ahead` callers before it could go:
    /// after any pause, one request spacing per caller ahead.
    fn turn_after(&self, now: Instant, ahead: usize) -> Option<Instant> {
        let start = self.paused_until().map_or(now, |until| until.max(now));
        let ahead = u32::try_from(ahead).ok()?;
        start.checked_add(self.plan.spacing().checked_mul(ahead)?)
    }

    fn paused_until(&self) -> Option<Instant> {
        *lock(&self.paused_until)
    }

    /// The server refused a request for quota: hold every request for
    /// `wait` (a pause already longer stays).
    pub(crate) fn back_off(&self, wait: Duration) {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            shared.back_off(wait);
            return;
        }
        let now = Instant::now();
        let Some(until) = now.checked_add(wait.min(LONGEST_PAUSE)) else {
            return;
        };
        let mut paused = lock(&self.paused_until);
        if paused.is_none_or(|current| current < until) {
            *paused = Some(until);
        }
    }
}

/// A caller's place among those waiting, counted while it waits.
struct InLine<'a> {
    waiting: &'a AtomicUsize,
    /// Callers that were waiting when this one arrived.
    ahead: usize,
}

impl<'a> InLine<'a> {
    fn join(waiting: &'a AtomicUsize) -> Self {
        let ahead = waiting.fetch_add(1, Ordering::SeqCst);
        Self { waiting, ahead }
    }
}

impl Drop for InLine<'_> {
    fn drop(&mut self) {
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Nothing panics while these locks are held; a poisoned one is still
/// consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
