//! The exchanges with Redis: one script call per decision
//! ([`scripts::TAKE`]), per late turn ([`scripts::CONFIRM`]), per pause the API asked for ([`scripts::BACK_OFF`])
//! per unit given back ([`scripts::GIVE_BACK`]) and per batch of sends a
//! local fallback made ([`scripts::COUNT_FALLBACK`]), each bounded by a
//! timeout.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::scripts;

static TAKE: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::TAKE));
static CONFIRM: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::CONFIRM));
static BACK_OFF: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::BACK_OFF));
static GIVE_BACK: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::GIVE_BACK));
static COUNT_FALLBACK: LazyLock<Script> = LazyLock::new(|| Script::new(scripts::COUNT_FALLBACK));

/// A connection to the store and the keys of one account's quota. Cheap to
/// clone: clones share the connection.
#[derive(Clone)]
pub(super) struct Store {
    connection: ConnectionManager,
    /// The quota's state: next turn, pauses, fixed-window count.
    state_key: Arc<str>,
    /// The sends of the last 24 hours (rolling window).
    sent_key: Arc<str>,
    /// The sends of the last two windows, by the time they were sent.
    recent_key: Arc<str>,
    /// The fallback sends already counted (fixed daily window).
    fallback_key: Arc<str>,
}

/// What the limiter tells `TAKE` besides the keys.
#[derive(Debug, Clone, Copy)]
pub(super) struct Terms {
    pub(super) spacing: Duration,
    pub(super) lateness: Duration,
    /// Requests per day, 0 without a cap.
    pub(super) per_day: u32,
    /// The daily reset as microseconds after midnight UTC; `None` for a
    /// rolling 24 hours.
    pub(super) reset_after_midnight_us: Option<i64>,
    pub(super) hand_over: Duration,
    /// How far ahead a turn may be booked.
    pub(super) horizon: Duration,
    /// No window this long holds more than `per_window` sends.
    pub(super) window: Duration,
    pub(super) per_window: u32,
}

/// What `TAKE` asks of the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask {
    /// A decision for a request.
    Take,
    /// A decision for the first request of a process that sent through its
    /// local fallback: the store holds everyone for the hand-over first.
    Return,
    /// The daily budget only, nothing taken.
    Peek,
}

/// Why a request waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WaitReason {
    /// Another request, of this process or another, has the next turn.
    Turn,
    /// The API asked for a pause (429, or 403 over quota).
    ApiPause,
    /// A new or restarted store, or a process back from its fallback: what
    /// was sent without the store leaves the sliding second first.
    HandOver,
}

impl WaitReason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            WaitReason::Turn => "another request has the next turn",
            WaitReason::ApiPause => "the API asked every process to pause",
            WaitReason::HandOver => {
                "requests sent without the store leave the sliding second first"
            }
        }
    }
}

/// The store's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Decision {
    /// A turn is booked under the request's name: send after `wait`.
    /// `period` is where a fixed daily window counted its unit.
    Go {
        remaining: Option<u32>,
        resets_in: Duration,
        period: i64,
        wait: Duration,
    },
    /// The next turn is free after `wait`, beyond the booking horizon.
    Wait { wait: Duration, why: WaitReason },
    /// The daily budget is spent.
    Spent { resets_in: Duration },
    /// The daily budget as read by [`Ask::Peek`].
    Read {
        remaining: Option<u32>,
        resets_in: Duration,
    },
}

/// The store's answer to a late turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Confirmation {
    /// The send is recorded as now: send it.
    Now,
    /// The API asked every process to pause, for `wait` more.
    Paused { wait: Duration },
    /// The turn is void, its entry gone: sent now it would put a window
    /// over the plan, the store holds everyone for a hand-over, or it does
    /// not know the turn (a restart). Ask for another.
    Void,
}

/// Why the store gave no decision.
#[derive(Debug, thiserror::Error)]
pub(super) enum StoreError {
    /// Redis refused the command, or the connection failed.
    #[error("{0}")]
    Redis(#[from] redis::RedisError),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// An answer this client does not understand (another script under the
    /// same name, or a store that is not Redis).
    #[error("an unexpected answer: {0:?}")]
    Unexpected(Vec<i64>),
}

impl Store {
    /// A store reached through `client`, connecting on first use, with
    /// every connection attempt and answer bounded by `timeout`. Needs a
    /// tokio runtime (the connection manager starts a task).
    pub(super) fn connect(
        client: &redis::Client,
        key: &str,
        timeout: Duration,
    ) -> Result<Self, redis::RedisError> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            // The limiter asks again itself (see PROBE_INTERVAL); a
            // reconnection that retried would outlast the call's budget.
            .set_number_of_retries(0)
            .set_max_delay(timeout);
        let connection = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        // One hash tag: both keys live in one cluster slot, as a script
        // touching both needs.
        Ok(Self {
            connection,
            state_key: format!("whispir:{{{key}}}:state").into(),
            sent_key: format!("whispir:{{{key}}}:sent").into(),
            recent_key: format!("whispir:{{{key}}}:recent").into(),
            fallback_key: format!("whispir:{{{key}}}:fallback").into(),
        })
    }

    /// One decision of `TAKE`, within `limit`.
    pub(super) async fn take(
        &self,
        terms: Terms,
        ask: Ask,
        name: &str,
        limit: Duration,
    ) -> Result<Decision, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = TAKE.key(&*self.state_key);
        invocation
            .key(&*self.sent_key)
            .key(&*self.recent_key)
            .arg(micros(terms.spacing))
            .arg(micros(terms.lateness))
            .arg(terms.per_day)
            .arg(terms.reset_after_midnight_us.unwrap_or(-1))
            .arg(micros(terms.hand_over))
            .arg(match ask {
                Ask::Take => "take",
                Ask::Return => "return",
                Ask::Peek => "peek",
            })
            .arg(micros(terms.horizon))
            .arg(micros(terms.window))
            .arg(terms.per_window)
            .arg(name);
        let answer: Vec<i64> =
            tokio::time::timeout(limit, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| StoreError::TimedOut(limit))??;
        decode(&answer).ok_or(StoreError::Unexpected(answer))
    }

    /// Moves the turn booked under `name` to now, if the window allows
    /// (`CONFIRM`).
    pub(super) async fn confirm(
        &self,
        terms: Terms,
        name: &str,
        limit: Duration,
    ) -> Result<Confirmation, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = CONFIRM.key(&*self.state_key);
        invocation
            .key(&*self.recent_key)
            .arg(name)
            .arg(micros(terms.window))
            .arg(terms.per_window);
        let answer: Vec<i64> =
            tokio::time::timeout(limit, invocation.invoke_async(&mut connection))
                .await
                .map_err(|_| StoreError::TimedOut(limit))??;
        match *answer {
            [0] => Ok(Confirmation::Now),
            [2, wait] => Ok(Confirmation::Paused {
                wait: duration(wait),
            }),
            [3] => Ok(Confirmation::Void),
            _ => Err(StoreError::Unexpected(answer)),
        }
    }

    /// Holds every process's requests for `wait` (`BACK_OFF`).
    pub(super) async fn back_off(&self, wait: Duration, limit: Duration) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = BACK_OFF.key(&*self.state_key);
        invocation.arg(micros(wait));
        let _: i64 = tokio::time::timeout(limit, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| StoreError::TimedOut(limit))??;
        Ok(())
    }

    /// Gives a daily unit back (`GIVE_BACK`): `unit` is the request's name
    /// for a rolling window, the period it counted in for a fixed one.
    pub(super) async fn give_back(
        &self,
        rolling: bool,
        unit: &str,
        limit: Duration,
    ) -> Result<(), StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = GIVE_BACK.key(&*self.state_key);
        invocation
            .key(&*self.sent_key)
            .arg(if rolling { "rolling" } else { "reset" })
            .arg(unit);
        let _: i64 = tokio::time::timeout(limit, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| StoreError::TimedOut(limit))??;
        Ok(())
    }

    /// Adds `sends` to the daily count, each once however often it is
    /// asked (`COUNT_FALLBACK`); answers how many this call counted.
    pub(super) async fn count_fallback(
        &self,
        reset_after_midnight_us: Option<i64>,
        sends: &[FallbackSend<'_>],
        limit: Duration,
    ) -> Result<i64, StoreError> {
        let mut connection = self.connection.clone();
        let mut invocation = COUNT_FALLBACK.key(&*self.state_key);
        invocation
            .key(&*self.sent_key)
            .key(&*self.fallback_key)
            .arg(reset_after_midnight_us.unwrap_or(-1));
        for send in sends {
            invocation.arg(send.name).arg(micros(send.age));
        }
        let counted: i64 = tokio::time::timeout(limit, invocation.invoke_async(&mut connection))
            .await
            .map_err(|_| StoreError::TimedOut(limit))??;
        Ok(counted)
    }
}

/// One send a local fallback made: its name, and how long ago it went.
pub(super) struct FallbackSend<'a> {
    pub(super) name: &'a str,
    pub(super) age: Duration,
}

/// A duration in whole microseconds, as the scripts count.
fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// A duration from the scripts' microseconds; a negative one is zero.
fn duration(micros: i64) -> Duration {
    Duration::from_micros(u64::try_from(micros).unwrap_or(0))
}

/// The remaining daily budget: `-1` means no cap.
fn remaining(value: i64) -> Option<u32> {
    (value >= 0).then(|| u32::try_from(value).unwrap_or(u32::MAX))
}

fn decode(answer: &[i64]) -> Option<Decision> {
    Some(match *answer {
        [0, left, resets_in, period, wait] => Decision::Go {
            remaining: remaining(left),
            resets_in: duration(resets_in),
            period,
            wait: duration(wait),
        },
        [1, wait, why] => Decision::Wait {
            wait: duration(wait),
            why: match why {
                1 => WaitReason::ApiPause,
                2 => WaitReason::HandOver,
                _ => WaitReason::Turn,
            },
        },
        [2, resets_in] => Decision::Spent {
            resets_in: duration(resets_in),
        },
        [3, left, resets_in] => Decision::Read {
            remaining: remaining(left),
            resets_in: duration(resets_in),
        },
        _ => return None,
    })
}
