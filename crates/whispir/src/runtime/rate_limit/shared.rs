//! One plan for many processes (feature `redis`): every client configured
//! with the same Redis (or Valkey) server and key shares the plan's
//! requests per second, the pauses the API asks for and the daily budget.
//!
//! Each decision is one script run atomically on the server, on the
//! server's clock (`TIME`), never on the processes' clocks, which may
//! disagree. The store keeps the times of the last sends and admits no
//! more than the plan in any window of a second and the delay spread
//! ([`RedisQuota::delay_spread`]); turns are booked evenly
//! over it a little ahead, and a process that reaches its turn late asks
//! the store to move the send to the time it really goes
//! (`CONFIRM_BEYOND`). Within a process, callers still queue first come, first
//! served, and only the caller at the head of the line asks the store.
//! What happens when the store cannot be reached is the user's choice
//! ([`WhenUnavailable`]); nothing is sent unpaced either way.

mod scripts;
mod store;

use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::time::Instant;

use super::daily::DAY;
use super::{
    Admission, Connections, DailyToken, DailyWindow, InLine, LONGEST_PAUSE, Plan, RateLimiter,
    lock, nz,
};
use store::{Ask, Confirmation, Decision, FallbackSend, Store, StoreError, Terms, WaitReason};

/// How long a Redis call may take unless set otherwise
/// ([`RedisQuota::timeout`]).
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// After the store failed, how long a process goes without asking it
/// (refusing, or sending through its fallback) before asking again.
const PROBE_INTERVAL: Duration = Duration::from_secs(1);

/// What a process sent without the store (through its fallback until its
/// next probe, or anyone's sends before the store restarted) leaves the
/// sliding second before the store admits anything again.
const HAND_OVER: Duration = Duration::from_millis(1_000 + 1_000 + 100);

/// A process that loses the store sends nothing through its fallback for
/// this long: what the store admitted just before leaves the sliding second.
const FALLBACK_HOLD: Duration = Duration::from_secs(1);

/// How much two processes' delays from the store's decision to the API
/// may differ unless set otherwise ([`RedisQuota::delay_spread`]): the
/// store admits at most the plan's requests per second in any window of a
/// second and this, on its clock, so the plan is used up to 97.6 %.
pub const DEFAULT_DELAY_SPREAD: Duration = Duration::from_millis(25);

/// The least delay spread: what a send may differ from the time recorded
/// for it without a confirmation ([`SHARED_LATENESS_ABSORBED`] and
/// [`CONFIRM_BEYOND`]), and a little more.
const LEAST_DELAY_SPREAD: Duration = Duration::from_millis(6);

/// The greatest delay spread: a window of two seconds (half the plan).
const GREATEST_DELAY_SPREAD: Duration = Duration::from_secs(1);

/// A turn taken this much late (a wake-up's timer tick and a round trip to
/// the store) does not delay the turns after it.
const SHARED_LATENESS_ABSORBED: Duration = Duration::from_millis(2);

/// A turn this process reaches this much after it could have gone (a
/// late wake-up on a busy machine) is confirmed first: the store moves the
/// send to the time it really goes if the window allows it then, or voids
/// the turn, so that no window holds more than the plan however late the
/// process is. (The round trip to the store is not lateness of this
/// process: its spread between processes is part of the delay spread.)
const CONFIRM_BEYOND: Duration = Duration::from_millis(3);

/// How far ahead a process may book a turn, at most: two turns, so that a
/// turn is booked before it is due, and never so far that a pause the API
/// asks for meanwhile lets many booked requests through.
const LONGEST_BOOKING: Duration = Duration::from_millis(100);

/// What a client does while the shared store cannot be reached (refused,
/// timed out, or answering nonsense).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum WhenUnavailable {
    /// Refuse every request, without sending it
    /// ([`Refusal::QuotaStoreUnavailable`](crate::Refusal::QuotaStoreUnavailable)),
    /// until the store answers again. The plan is never exceeded. The default.
    #[default]
    Refuse,
    /// Go on with a local limiter at `fraction` of the plan's requests per
    /// second (rounded down, at least one) and `fraction` of what was left
    /// of the daily budget when the store last answered (rounded down; of
    /// the whole budget if it never answered, or a day or more ago, or
    /// before the last fixed reset). With N processes sharing the plan,
    /// `1.0 / N` keeps all of them within it when the store is down for
    /// all. What a process sends meanwhile joins the store's daily count
    /// when the store answers again, each send once. A `fraction` outside
    /// 0 to 1 counts as the nearest of them (NaN as 0): the smallest
    /// fallback sends one request per second and nothing of the daily
    /// budget.
    FallBack {
        /// The share of the plan each process uses on its own.
        fraction: f64,
    },
}

/// Where processes share one plan: a Redis (or Valkey) server, and the key
/// of the account's quota there. Every client configured with the same
/// server and key shares one plan; give it to
/// [`ClientBuilder::shared`](crate::ClientBuilder::shared).
///
/// ```no_run
/// use whispir::{Client, Plan, RedisQuota, WhenUnavailable};
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .credentials(whispir::Credentials::basic("user", "password"))
///     .api_key("key")
///     .rate_limit(Plan::RPS_30_DAILY_50K)
///     .shared(
///         RedisQuota::new("redis://127.0.0.1:6379/", "acme-prod")?
///             .when_unavailable(WhenUnavailable::FallBack { fraction: 0.25 }),
///     )
///     .build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisQuota {
    url: String,
    client: redis::Client,
    key: String,
    when_unavailable: WhenUnavailable,
    timeout: Duration,
    delay_spread: Duration,
}

/// A Redis URL [`RedisQuota::new`] cannot use.
#[derive(Debug, thiserror::Error)]
#[error(
    "the shared quota's Redis URL is unusable: use redis://[user:password@]host[:port][/db], rediss:// or redis+unix://"
)]
pub struct InvalidRedisUrl {
    #[source]
    source: redis::RedisError,
}

impl RedisQuota {
    /// The quota kept under `key` in the Redis server at `url`
    /// (`redis://[user:password@]host[:port][/db]`). Connects on the first
    /// request, not here (the client's `build` only asks whether the server
    /// is a Redis Cluster node, which it refuses). Without a [`RedisQuota::when_unavailable`], a
    /// client refuses requests while the server cannot be reached.
    pub fn new(url: &str, key: impl Into<String>) -> Result<Self, InvalidRedisUrl> {
        let client = redis::Client::open(url).map_err(|source| InvalidRedisUrl { source })?;
        Ok(Self {
            url: url.to_owned(),
            client,
            key: key.into(),
            when_unavailable: WhenUnavailable::default(),
            timeout: DEFAULT_STORE_TIMEOUT,
            delay_spread: DEFAULT_DELAY_SPREAD,
        })
    }

    /// What a client does while the server cannot be reached.
    pub fn when_unavailable(mut self, choice: WhenUnavailable) -> Self {
        self.when_unavailable = choice;
        self
    }

    /// How long one Redis call (connecting included) may take, default
    /// 250 ms; never longer than what is left of the call's budget, which
    /// the wait counts against. Longer counts as the server unavailable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How much the delays of two processes' requests, from the moment the
    /// store admits them to their arrival at the API, may differ: scheduling
    /// on a busy machine, connections of different length. Default 25 ms,
    /// enough for processes near one another on machines that are not
    /// overloaded; processes in different regions need their difference in
    /// round-trip time to the API and more. The store admits at most the
    /// plan's requests per second in any window of a second and this, on
    /// its clock, so a larger spread leaves more of the plan unused
    /// (100 ms: 90 %). Held between 6 ms and 1 s.
    pub fn delay_spread(mut self, spread: Duration) -> Self {
        self.delay_spread = spread.clamp(LEAST_DELAY_SPREAD, GREATEST_DELAY_SPREAD);
        self
    }

    /// Whether the server says it is a Redis Cluster node (`INFO
    /// cluster`), asked once when the client is built, within the quota's
    /// timeout. A server that does not answer is not one as far as this
    /// knows: [`RedisQuota::when_unavailable`] decides then.
    pub(crate) fn is_cluster_node(&self) -> bool {
        let asked = self
            .client
            .get_connection_with_timeout(self.timeout)
            .and_then(|mut connection| {
                connection.set_read_timeout(Some(self.timeout))?;
                redis::cmd("INFO")
                    .arg("cluster")
                    .query::<String>(&mut connection)
            });
        match asked {
            Ok(info) => info.lines().any(|line| line.trim() == "cluster_enabled:1"),
            Err(err) => {
                tracing::debug!(error = %err, "the shared quota's server could not be asked whether it is a cluster node");
                false
            }
        }
    }

    /// The server's address, without the URL's password.
    pub(crate) fn server(&self) -> String {
        self.client.get_connection_info().addr().to_string()
    }

    /// The quota's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// What a client does while the server cannot be reached.
    pub fn unavailable_choice(&self) -> WhenUnavailable {
        self.when_unavailable
    }
}

impl PartialEq for RedisQuota {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
            && self.key == other.key
            && self.when_unavailable == other.when_unavailable
            && self.timeout == other.timeout
            && self.delay_spread == other.delay_spread
    }
}

impl fmt::Debug for RedisQuota {
    /// The server's address without the URL's password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisQuota")
            .field("server", &self.server())
            .field("key", &self.key)
            .field("when_unavailable", &self.when_unavailable)
            .field("timeout", &self.timeout)
            .field("delay_spread", &self.delay_spread)
            .finish()
    }
}

/// The shared store gave no answer: [`RateLimiter::refresh`] could not
/// read the shared daily budget.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the shared quota store is unavailable ({reason}): start it or check its address")]
pub struct QuotaStoreUnavailable {
    reason: String,
}

/// The limiter of a client whose plan is shared through Redis.
pub(super) struct SharedLimiter {
    plan: Plan,
    quota: RedisQuota,
    terms: Terms,
    /// Made on first use, inside the runtime the connection needs.
    store: OnceLock<Result<Store, String>>,
    /// Held by the caller at the head of this process's line while it asks
    /// the store and waits for its turn.
    line: tokio::sync::Mutex<()>,
    /// This limiter's part of every request's name in the store: random,
    /// so that names stay unique across processes and store restarts.
    name_prefix: String,
    /// The number in the next request's name.
    requests: AtomicU64,
    waiting: AtomicUsize,
    seen: Mutex<Seen>,
    /// The local limiter of [`WhenUnavailable::FallBack`].
    fallback: Option<RateLimiter>,
    /// The connections the client is making.
    connections: Connections,
    /// What the fallback sent that the store has not counted yet.
    fallback_sends: Mutex<FallbackSends>,
}

/// The fallback's sends not yet in the store's daily count.
#[derive(Debug, Default)]
struct FallbackSends {
    /// Each send's name and when it went, oldest first.
    uncounted: Vec<(String, Instant)>,
    /// The number in the next send's name.
    next: u64,
}

/// What this process knows of the shared quota.
#[derive(Debug, Default)]
struct Seen {
    /// The daily budget as the store last told it.
    daily: Option<DailyReading>,
    /// A pause the API asked for, of this process or one the store told.
    paused_until: Option<Instant>,
    /// Since the store failed: why, and when to ask it again.
    outage: Option<Outage>,
}

#[derive(Debug, Clone, Copy)]
struct DailyReading {
    remaining: u32,
    resets_in: Duration,
    at: Instant,
}

#[derive(Debug, Clone)]
struct Outage {
    reason: String,
    probe_at: Instant,
    /// Whether the fallback admitted a request: the store then holds
    /// everyone for the hand-over when this process comes back.
    sent_without_store: bool,
}

impl fmt::Debug for SharedLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLimiter")
            .field("plan", &self.plan)
            .field("quota", &self.quota)
            .field("seen", &*lock(&self.seen))
            .finish_non_exhaustive()
    }
}

/// A unit of the shared daily budget taken for a request: given back to
/// the store when dropped unsent.
#[derive(Debug)]
pub(super) struct SharedUnit<'a> {
    limiter: &'a SharedLimiter,
    unit: Unit,
}

#[derive(Debug)]
enum Unit {
    /// Counted by the store: the request's name (a rolling window), or the
    /// period its unit counted in (a fixed one).
    Store(String),
    /// Taken from the local fallback's share (which takes it back itself
    /// when unsent): once sent, it waits for the store's count.
    Fallback,
}

impl SharedUnit<'_> {
    /// The request is being sent now.
    pub(super) fn sent(self) {
        if let Unit::Fallback = self.unit {
            let mut sends = lock(&self.limiter.fallback_sends);
            let name = format!("{}:fallback:{}", self.limiter.name_prefix, sends.next);
            sends.next += 1;
            sends.uncounted.push((name, Instant::now()));
        }
    }

    /// The unit was not used: give it back, in a task of its own (a drop
    /// cannot wait). Outside a runtime it stays taken: the budget errs on
    /// the side of the plan.
    pub(super) fn give_back(self) {
        let Unit::Store(unit) = self.unit else {
            return;
        };
        let limiter = self.limiter;
        if let Some(daily) = &mut lock(&limiter.seen).daily {
            daily.remaining = daily.remaining.saturating_add(1);
        }
        let (Ok(runtime), Some(Ok(store))) =
            (tokio::runtime::Handle::try_current(), limiter.store.get())
        else {
            return;
        };
        let (store, limit) = (store.clone(), limiter.quota.timeout);
        let rolling = limiter.terms.reset_after_midnight_us.is_none();
        runtime.spawn(async move {
            if let Err(err) = store.give_back(rolling, &unit, limit).await {
                tracing::warn!(error = %err, "a daily unit could not be given back to the shared quota store");
            }
        });
    }
}

/// How a late turn's confirmation ended.
enum Confirmed<'a> {
    /// Send now.
    Go,
    /// Give the turn up and decide again (void, a pause, or the store
    /// failed).
    Again,
    /// Give the turn up and refuse the request.
    Refused(Admission<'a>),
}

/// The next step after the local fallback was asked.
enum Fallback<'a> {
    Done(Admission<'a>),
    /// Ask the store again: the fallback's turn would come after the probe.
    Probe,
}

impl SharedLimiter {
    pub(super) fn new(plan: Plan, quota: RedisQuota, connections: Connections) -> Self {
        let fallback = match quota.when_unavailable {
            WhenUnavailable::Refuse => None,
            WhenUnavailable::FallBack { fraction } => Some(RateLimiter {
                connections: connections.clone(),
                ..RateLimiter::new(share_of(plan, fraction))
            }),
        };
        let window = Duration::from_secs(1) + quota.delay_spread;
        let spacing = window / plan.per_second.get();
        Self {
            terms: Terms {
                spacing,
                lateness: SHARED_LATENESS_ABSORBED,
                per_day: plan.per_day().unwrap_or(0),
                reset_after_midnight_us: reset_after_midnight_us(plan.daily_window),
                hand_over: HAND_OVER,
                horizon: spacing.saturating_mul(2).min(LONGEST_BOOKING),
                window,
                per_window: plan.per_second.get(),
            },
            plan,
            quota,
            store: OnceLock::new(),
            line: tokio::sync::Mutex::new(()),
            name_prefix: random_name(),
            requests: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
            seen: Mutex::new(Seen::default()),
            fallback,
            connections,
            fallback_sends: Mutex::default(),
        }
    }

    /// The store, connected lazily on first use (in the runtime).
    fn store(&self) -> Result<&Store, String> {
        self.store
            .get_or_init(|| {
                Store::connect(&self.quota.client, &self.quota.key, self.quota.timeout)
                    .map_err(|err| err.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    fn known_pause(&self) -> Option<Instant> {
        lock(&self.seen).paused_until
    }

    /// Waits for this caller's turn, in this process's arrival order, and
    /// the store's; or says why the request may not go.
    pub(super) async fn acquire(&self, deadline: Instant) -> Admission<'_> {
        let arrived = Instant::now();
        let place = InLine::join(&self.waiting);
        let start = self
            .known_pause()
            .map_or(arrived, |until| until.max(arrived));
        let earliest = u32::try_from(place.ahead)
            .ok()
            .and_then(|ahead| self.terms.spacing.checked_mul(ahead))
            .and_then(|wait| start.checked_add(wait));
        if earliest.is_none_or(|turn| turn > deadline && turn > arrived) {
            return Admission::PauseTooLong {
                wait: earliest.map_or(LONGEST_PAUSE, |turn| turn - arrived),
            };
        }
        let Ok(_line) = tokio::time::timeout_at(deadline, self.line.lock()).await else {
            return Admission::PauseTooLong {
                wait: self.terms.spacing,
            };
        };
        loop {
            // A request of this process on a new connection leaves when it
            // is ready: no turn meanwhile, and the next a spacing after.
            match self.connections.settled(deadline).await {
                Ok(Some(ready)) if ready + self.terms.spacing > Instant::now() => {
                    let next = ready + self.terms.spacing;
                    if next > deadline {
                        return Admission::PauseTooLong {
                            wait: next - Instant::now(),
                        };
                    }
                    tokio::time::sleep_until(next).await;
                }
                Ok(_) => {}
                Err(()) => {
                    return Admission::PauseTooLong {
                        wait: self.terms.spacing,
                    };
                }
            }
            let now = Instant::now();
            if let Some(until) = self.known_pause()
                && until > now
            {
                if until > deadline {
                    return Admission::PauseTooLong { wait: until - now };
                }
                tracing::info!(
                    wait_ms = (until - now).as_millis(),
                    reason = WaitReason::ApiPause.as_str(),
                    "waiting for the shared quota"
                );
                tokio::time::sleep_until(until).await;
                continue;
            }
            let outage = lock(&self.seen)
                .outage
                .clone()
                .filter(|outage| now < outage.probe_at);
            if let Some(outage) = outage {
                match self.without_store(deadline, &outage).await {
                    Fallback::Done(admission) => return admission,
                    Fallback::Probe => continue,
                }
            }
            let returning = lock(&self.seen)
                .outage
                .as_ref()
                .is_some_and(|outage| outage.sent_without_store);
            let left = deadline.saturating_duration_since(now);
            let limit = self.quota.timeout.min(left);
            let ask = if returning { Ask::Return } else { Ask::Take };
            let name = format!(
                "{}:{}",
                self.name_prefix,
                self.requests.fetch_add(1, Ordering::Relaxed)
            );
            let store = match self.store() {
                Ok(store) => store,
                Err(reason) => {
                    self.store_failed(reason, now);
                    continue;
                }
            };
            if let Err(err) = self.count_fallback_sends(store, limit).await {
                self.store_failed(err.to_string(), now);
                continue;
            }
            let answer = store.take(self.terms, ask, &name, limit).await;
            let decision = match answer {
                Ok(decision) => decision,
                Err(StoreError::TimedOut(_)) if limit < self.quota.timeout => {
                    // The call's budget ran out before the store's time:
                    // no turn within the call's remaining time.
                    return Admission::PauseTooLong {
                        wait: self.terms.spacing,
                    };
                }
                Err(err) => {
                    self.store_failed(err.to_string(), now);
                    continue;
                }
            };
            self.store_answered();
            match decision {
                Decision::Go {
                    remaining,
                    resets_in,
                    period,
                    wait,
                } => {
                    self.read_daily(remaining, resets_in);
                    let unit = remaining.is_some().then(|| SharedUnit {
                        limiter: self,
                        unit: Unit::Store(if self.terms.reset_after_midnight_us.is_none() {
                            name.clone()
                        } else {
                            period.to_string()
                        }),
                    });
                    let token = DailyToken::shared(unit);
                    // The store decided between asking and answering: the
                    // turn's time here is half the round trip after asking,
                    // give or take that half.
                    let answered = Instant::now();
                    let turn_at = now + (answered - now) / 2 + wait;
                    if turn_at > deadline {
                        return Admission::PauseTooLong { wait };
                    }
                    // (A timer rounds up to the next millisecond: none for
                    // a turn already here.)
                    if turn_at > Instant::now() {
                        tokio::time::sleep_until(turn_at).await;
                    }
                    if self.known_pause().is_some_and(|until| until > turn_at) {
                        // The API asked this process to pause meanwhile:
                        // the unit goes back and the loop waits.
                        drop(token);
                        continue;
                    }
                    // How long after it could have gone this process goes.
                    let late = turn_at.max(answered).elapsed();
                    if late > CONFIRM_BEYOND {
                        tracing::debug!(
                            late_ms = late.as_millis(),
                            "a late turn is confirmed with the shared quota at the time it is sent"
                        );
                        match self.confirm(&name, deadline).await {
                            Confirmed::Go => {}
                            Confirmed::Again => {
                                drop(token);
                                continue;
                            }
                            Confirmed::Refused(admission) => return admission,
                        }
                    }
                    return Admission::Go(token);
                }
                Decision::Wait { wait, why } => {
                    let now = Instant::now();
                    let free_at = now + wait;
                    if why == WaitReason::ApiPause {
                        let mut seen = lock(&self.seen);
                        seen.paused_until = seen.paused_until.max(Some(free_at));
                    }
                    if free_at > deadline {
                        return Admission::PauseTooLong { wait };
                    }
                    if why == WaitReason::Turn {
                        tracing::debug!(
                            wait_ms = wait.as_millis(),
                            reason = why.as_str(),
                            "waiting for the shared quota"
                        );
                    } else {
                        tracing::info!(
                            wait_ms = wait.as_millis(),
                            reason = why.as_str(),
                            "waiting for the shared quota"
                        );
                    }
                    // Ask again when the turn can be booked.
                    let book_at = free_at
                        .checked_sub(self.terms.horizon)
                        .unwrap_or(now)
                        .max(now);
                    tokio::time::sleep_until(book_at).await;
                }
                Decision::Spent { resets_in } => {
                    self.read_daily(Some(0), resets_in);
                    return Admission::DailyBudgetSpent { resets_in };
                }
                Decision::Read { .. } => {
                    return Admission::StoreUnavailable {
                        reason: "the store read the budget instead of deciding".to_owned(),
                    };
                }
            }
        }
    }

    /// Moves a late turn to the time it is sent, or learns it is void.
    async fn confirm(&self, name: &str, deadline: Instant) -> Confirmed<'_> {
        let now = Instant::now();
        let limit = self
            .quota
            .timeout
            .min(deadline.saturating_duration_since(now));
        let store = match self.store() {
            Ok(store) => store,
            Err(reason) => {
                self.store_failed(reason, now);
                return Confirmed::Again;
            }
        };
        match store.confirm(self.terms, name, limit).await {
            Ok(Confirmation::Now) => Confirmed::Go,
            Ok(Confirmation::Void) => {
                tracing::debug!("a late turn is void: another is booked with the shared quota");
                Confirmed::Again
            }
            Ok(Confirmation::Paused { wait }) => {
                let until = Instant::now().checked_add(wait.min(LONGEST_PAUSE));
                let mut seen = lock(&self.seen);
                seen.paused_until = seen.paused_until.max(until);
                Confirmed::Again
            }
            Err(StoreError::TimedOut(_)) if limit < self.quota.timeout => {
                Confirmed::Refused(Admission::PauseTooLong {
                    wait: self.terms.spacing,
                })
            }
            Err(err) => {
                self.store_failed(err.to_string(), now);
                Confirmed::Again
            }
        }
    }

    /// While the store is unavailable: refuse, or ask the local fallback,
    /// never past the next probe.
    async fn without_store(&self, deadline: Instant, outage: &Outage) -> Fallback<'_> {
        let Some(fallback) = &self.fallback else {
            return Fallback::Done(Admission::StoreUnavailable {
                reason: outage.reason.clone(),
            });
        };
        match fallback.acquire(deadline.min(outage.probe_at)).await {
            Admission::Go(mut token) => {
                if let Some(outage) = &mut lock(&self.seen).outage {
                    outage.sent_without_store = true;
                }
                if self.plan.per_day.is_some() {
                    token.shared = Some(SharedUnit {
                        limiter: self,
                        unit: Unit::Fallback,
                    });
                }
                Fallback::Done(Admission::Go(token))
            }
            Admission::PauseTooLong { .. } if outage.probe_at < deadline => {
                tokio::time::sleep_until(outage.probe_at).await;
                Fallback::Probe
            }
            other => Fallback::Done(other),
        }
    }

    /// Whether the local fallback decides now: the store gave no answer
    /// and the quota falls back meanwhile.
    pub(super) fn falling_back(&self) -> bool {
        self.fallback.is_some() && lock(&self.seen).outage.is_some()
    }

    /// The store gave no answer: refuse or fall back until the next probe.
    fn store_failed(&self, reason: String, now: Instant) {
        let mut seen = lock(&self.seen);
        let probe_at = now + PROBE_INTERVAL;
        match &mut seen.outage {
            Some(outage) => {
                outage.probe_at = probe_at;
                outage.reason = reason;
            }
            None => {
                match (&self.fallback, self.quota.when_unavailable) {
                    (Some(fallback), WhenUnavailable::FallBack { fraction }) => {
                        // What the store admitted just before leaves the
                        // sliding second before the fallback sends.
                        fallback.back_off(FALLBACK_HOLD);
                        if let Some(left) = self.daily_left(seen.daily, now) {
                            fallback.restart_daily(share(left, fraction));
                        }
                        tracing::warn!(error = %reason, fraction, "the shared quota store is unavailable: falling back to a local limiter at this fraction of the plan");
                    }
                    _ => {
                        tracing::warn!(error = %reason, "the shared quota store is unavailable: refusing requests until it answers");
                    }
                }
                seen.outage = Some(Outage {
                    reason,
                    probe_at,
                    sent_without_store: false,
                });
            }
        }
    }

    /// What may be left of the daily budget at `now`: what was left when
    /// the store last answered, less every turn the store could have booked
    /// since (for this process or another); the whole budget without a
    /// reading, after a fixed reset, or a day after the reading. `None`
    /// without a daily cap.
    fn daily_left(&self, reading: Option<DailyReading>, now: Instant) -> Option<u32> {
        let per_day = self.plan.per_day()?;
        let Some(reading) = reading else {
            return Some(per_day);
        };
        let age = now.saturating_duration_since(reading.at);
        let reset_passed = self.terms.reset_after_midnight_us.is_some() && age >= reading.resets_in;
        if reset_passed || age >= DAY {
            return Some(per_day);
        }
        // Booked turns are a spacing apart at least, booked up to the
        // horizon ahead and taken up to the lateness late.
        let span = age + self.terms.horizon + self.terms.lateness;
        let turns = span.as_micros() / self.terms.spacing.as_micros().max(1) + 1;
        let turns = u32::try_from(turns).unwrap_or(u32::MAX);
        Some(reading.remaining.saturating_sub(turns))
    }

    /// Adds what the fallback sent to the store's daily count; nothing to
    /// do (and no call) when it sent nothing since the last count.
    async fn count_fallback_sends(&self, store: &Store, limit: Duration) -> Result<(), StoreError> {
        let batch: Vec<(String, Instant)> = lock(&self.fallback_sends).uncounted.clone();
        if batch.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        let sends: Vec<FallbackSend<'_>> = batch
            .iter()
            .map(|(name, at)| FallbackSend {
                name,
                age: now.saturating_duration_since(*at),
            })
            .collect();
        let counted = store
            .count_fallback(self.terms.reset_after_midnight_us, &sends, limit)
            .await?;
        tracing::info!(
            sent = batch.len(),
            counted,
            "requests sent through the fallback joined the shared quota's daily count"
        );
        // Sends made meanwhile stay for the next count.
        lock(&self.fallback_sends).uncounted.drain(..batch.len());
        Ok(())
    }

    fn store_answered(&self) {
        if lock(&self.seen).outage.take().is_some() {
            tracing::info!("the shared quota store answers again: requests follow the shared plan");
        }
    }

    fn read_daily(&self, remaining: Option<u32>, resets_in: Duration) {
        if let Some(remaining) = remaining {
            lock(&self.seen).daily = Some(DailyReading {
                remaining,
                resets_in,
                at: Instant::now(),
            });
        }
    }

    /// The shared daily budget left as of this process's last exchange
    /// with the store; the plan's whole budget before the first.
    pub(super) fn remaining_today(&self) -> Option<u32> {
        let per_day = self.plan.per_day()?;
        Some(
            lock(&self.seen)
                .daily
                .map_or(per_day, |daily| daily.remaining),
        )
    }

    /// When the shared daily budget next grows, as of the last exchange.
    pub(super) fn resets_in(&self) -> Option<Duration> {
        self.plan.per_day()?;
        Some(lock(&self.seen).daily.map_or(Duration::ZERO, |daily| {
            daily.resets_in.saturating_sub(daily.at.elapsed())
        }))
    }

    /// Reads the shared daily budget from the store.
    pub(super) async fn refresh(&self) -> Result<(), QuotaStoreUnavailable> {
        let unavailable = |reason: String| QuotaStoreUnavailable { reason };
        let store = self.store().map_err(unavailable)?;
        self.count_fallback_sends(store, self.quota.timeout)
            .await
            .map_err(|err| unavailable(err.to_string()))?;
        match store
            .take(self.terms, Ask::Peek, "", self.quota.timeout)
            .await
            .map_err(|err| unavailable(err.to_string()))?
        {
            Decision::Read {
                remaining,
                resets_in,
            } => {
                self.read_daily(remaining, resets_in);
                Ok(())
            }
            other => Err(unavailable(format!("an unexpected answer: {other:?}"))),
        }
    }

    /// The API refused a request for quota: hold this process's requests
    /// at once, and every process's through the store.
    pub(super) fn back_off(&self, wait: Duration) {
        let wait = wait.min(LONGEST_PAUSE);
        if let Some(until) = Instant::now().checked_add(wait) {
            let mut seen = lock(&self.seen);
            seen.paused_until = seen.paused_until.max(Some(until));
        }
        if let Some(fallback) = &self.fallback {
            fallback.back_off(wait);
        }
        // The connection needs the runtime: none, no store.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Ok(store) = self.store() else {
            return;
        };
        let (store, limit) = (store.clone(), self.quota.timeout);
        runtime.spawn(async move {
            if let Err(err) = store.back_off(wait, limit).await {
                tracing::warn!(error = %err, "the API's pause could not be shared through the quota store");
            }
        });
    }
}

/// A name no other process picks: 64 random bits (std's per-process
/// random hash keys, mixed with the time), in hex.
fn random_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    format!(
        "{:016x}",
        RandomState::new().hash_one((nanos, std::process::id()))
    )
}

/// `fraction` of a plan, per second and per day, rounded down, at least 1
/// (the daily share is set again from what is left when the store fails).
fn share_of(plan: Plan, fraction: f64) -> Plan {
    let at_least_one = |n: u32| nz(share(n, fraction).max(1));
    Plan {
        per_second: at_least_one(plan.per_second.get()),
        per_day: plan.per_day.map(|per_day| at_least_one(per_day.get())),
        daily_window: plan.daily_window,
    }
}

/// `fraction` of `n`, rounded down; a fraction outside 0 to 1 counts as the
/// nearest of them, NaN as 0.
fn share(n: u32, fraction: f64) -> u32 {
    let fraction = if fraction.is_nan() {
        0.0
    } else {
        fraction.clamp(0.0, 1.0)
    };
    // Within u32: a fraction of at most 1 of a u32, rounded down.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let part = (f64::from(n) * fraction).floor() as u32;
    part
}

/// A fixed daily reset as microseconds after midnight UTC.
fn reset_after_midnight_us(window: DailyWindow) -> Option<i64> {
    let DailyWindow::ResetAt {
        hour,
        minute,
        utc_offset_minutes,
    } = window
    else {
        return None;
    };
    let local = i64::from(hour) * 60 + i64::from(minute);
    let utc = (local - i64::from(utc_offset_minutes)).rem_euclid(24 * 60);
    Some(utc * 60 * 1_000_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fallback_share_rounds_down_and_keeps_one_request_per_second() {
        let quarter = share_of(Plan::RPS_30_DAILY_50K, 0.25);
        assert_eq!((quarter.per_second(), quarter.per_day()), (7, Some(12_500)));
        let nothing = share_of(Plan::RPS_5_DAILY_10K, f64::NAN);
        assert_eq!((nothing.per_second(), nothing.per_day()), (1, Some(1)));
        let all = share_of(Plan::RPS_10_DAILY_20K, 7.0);
        assert_eq!((all.per_second(), all.per_day()), (10, Some(20_000)));
    }

    #[test]
    fn a_reset_time_is_counted_from_midnight_utc() {
        let sydney_nine = DailyWindow::ResetAt {
            hour: 9,
            minute: 30,
            utc_offset_minutes: 600,
        };
        // 09:30 at UTC+10 is 23:30 UTC the day before.
        assert_eq!(
            reset_after_midnight_us(sydney_nine),
            Some((23 * 60 + 30) * 60 * 1_000_000)
        );
        assert_eq!(reset_after_midnight_us(DailyWindow::Rolling), None);
    }

    #[test]
    fn a_delay_spread_out_of_range_is_held_within_it() {
        let quota = RedisQuota::new("redis://127.0.0.1/", "acme").expect("url");
        assert_eq!(quota.delay_spread, DEFAULT_DELAY_SPREAD);
        let window = |spread| {
            let limiter = SharedLimiter::new(
                Plan::RPS_10_DAILY_20K,
                quota.clone().delay_spread(spread),
                Connections::default(),
            );
            (limiter.terms.window, limiter.terms.spacing)
        };
        assert_eq!(
            window(Duration::from_millis(100)),
            (Duration::from_millis(1_100), Duration::from_millis(110))
        );
        assert_eq!(window(Duration::ZERO).0, Duration::from_millis(1_006));
        assert_eq!(window(Duration::MAX).0, Duration::from_secs(2));
    }

    #[test]
    fn the_quotas_debug_hides_the_urls_password() {
        let quota = RedisQuota::new("redis://user:hunter2@127.0.0.1:6390/", "acme").expect("url");
        let shown = format!("{quota:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:6390"), "{shown}");
    }

    #[test]
    fn an_unusable_url_is_refused_with_the_forms_that_work() {
        let err = RedisQuota::new("http://127.0.0.1/", "acme").expect_err("not redis");
        assert!(err.to_string().contains("redis://"), "{err}");
    }
}
