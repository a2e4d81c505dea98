//! The store replicas share through Redis (or Valkey): one key per event,
//! holding a claim (with the lease as its expiry) or `done:` and the
//! token of the claim that acted (with the retry window as its expiry).
//! Each step is one script, atomic on the server and timed by the
//! server's clock, never by the replicas', which may disagree.
//!
//! The connection is handled as `whispir`'s shared plan handles its own
//! (`whispir::RedisQuota`): one `ConnectionManager` per store, made on
//! first use, every connection attempt and answer bounded by the timeout,
//! no reconnection retries of its own (the next callback asks again).
//! It is a copy rather than shared code because `whispir` depends on this
//! crate, not the other way, and a crate of its own for thirty lines
//! would be one more to publish.

use std::fmt;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sha2::{Digest, Sha256};

use super::{
    Claim, ClaimTicket, DEFAULT_LEASE, DEFAULT_REMEMBER_DONE, EventRef, StoreUnavailable,
    WhenStoreUnavailable, write_event_key,
};
use crate::payload::Callback;

static CLAIM: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("shared/claim.lua")));
static DONE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("shared/done.lua")));
static RELEASE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("shared/release.lua")));
static RENEW: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("shared/renew.lua")));

/// How long a Redis call (connecting included) may take unless set
/// otherwise ([`RedisDedup::timeout`]): the shared plan's default.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(250);

/// Claims and done events kept in a Redis (or Valkey) server that every
/// replica of a service shares, so that each callback is acted on once
/// across replicas and restarts. Give it to
/// [`Receiver::with_dedup`](crate::Receiver::with_dedup).
///
/// The store is only as durable as the server: a Redis restarted without
/// persistence, or from a snapshot older than its last writes, forgets
/// the events done since, and a retry of one of them is acted on again
/// (turn on AOF, `appendfsync everysec` or stricter, where that matters).
/// A failover to a replica that had not yet received the last writes
/// forgets them likewise.
///
/// ```no_run
/// use whispir_callbacks::{AuthMode, CallbackKey, RedisDedup, Receiver, WhenStoreUnavailable};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new("s3cret-key")?)?
///     .with_dedup(
///         RedisDedup::new("redis://redis.internal:6379/", "orders")?
///             .when_unavailable(WhenStoreUnavailable::Refuse),
///     );
/// # let _ = receiver;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisDedup {
    client: redis::Client,
    prefix: Arc<str>,
    lease: Duration,
    remember_done: Duration,
    timeout: Duration,
    when_unavailable: WhenStoreUnavailable,
    connection: Arc<Mutex<Option<ConnectionManager>>>,
}

impl fmt::Debug for RedisDedup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No URL: it may carry a password.
        f.debug_struct("RedisDedup")
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .field("remember_done", &self.remember_done)
            .field("timeout", &self.timeout)
            .field("when_unavailable", &self.when_unavailable)
            .finish_non_exhaustive()
    }
}

/// A Redis URL [`RedisDedup::new`] cannot use.
#[derive(Debug, thiserror::Error)]
#[error(
    "the de-duplication store's Redis URL is unusable: use redis://[user:password@]host[:port][/db], rediss:// or redis+unix://"
)]
pub struct InvalidRedisUrl {
    #[source]
    source: redis::RedisError,
}

impl RedisDedup {
    /// The store kept in the Redis server at `url`
    /// (`redis://[user:password@]host[:port][/db]`), under keys
    /// `whispir:callbacks:{namespace}:…`: replicas of one service share a
    /// namespace, different services keep apart with different ones.
    /// Connects on the first callback, not here.
    pub fn new(url: &str, namespace: &str) -> Result<Self, InvalidRedisUrl> {
        let client = redis::Client::open(url).map_err(|source| InvalidRedisUrl { source })?;
        Ok(Self {
            client,
            prefix: format!("whispir:callbacks:{namespace}:").into(),
            lease: DEFAULT_LEASE,
            remember_done: DEFAULT_REMEMBER_DONE,
            timeout: DEFAULT_STORE_TIMEOUT,
            when_unavailable: WhenStoreUnavailable::default(),
            connection: Arc::default(),
        })
    }

    /// How long a claim holds before another replica may take the event
    /// over (default [`DEFAULT_LEASE`], two minutes; at least a
    /// millisecond): shorter than Whispir's five minutes between retries;
    /// [`DedupStore::act_once`](crate::DedupStore::act_once) renews it
    /// while the handler works.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// How long a done event is remembered (default
    /// [`DEFAULT_REMEMBER_DONE`], 25 hours; at least a millisecond).
    pub fn remember_done(mut self, remember: Duration) -> Self {
        self.remember_done = remember.max(Duration::from_millis(1));
        self
    }

    /// How long one Redis call, connecting included, may take (default
    /// 250 ms); longer counts as the store unavailable.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// What a service does while the store cannot be reached (default:
    /// refuse, answering 503).
    pub fn when_unavailable(mut self, choice: WhenStoreUnavailable) -> Self {
        self.when_unavailable = choice;
        self
    }

    /// What a service does while the store cannot be reached.
    pub fn unavailable_choice(&self) -> WhenStoreUnavailable {
        self.when_unavailable
    }

    /// Claims `callback`'s event for the lease (see [`Claim`]).
    pub async fn claim(&self, callback: &Callback) -> Result<Claim, StoreUnavailable> {
        let key: Arc<str> = self.key(callback).into();
        let token = fastrand::u128(..);
        let mut invocation = CLAIM.key(&*key);
        invocation.arg(token_text(token)).arg(millis(self.lease));
        let answer: Vec<i64> = self.run(&invocation).await?;
        match *answer {
            [0, _] => Ok(Claim::Claimed(ClaimTicket {
                event: EventRef::Redis(key),
                token,
            })),
            [1, _] => Ok(Claim::Done),
            [2, left] => Ok(Claim::InProgress {
                retry_after: Duration::from_millis(u64::try_from(left).unwrap_or(0)),
            }),
            _ => Err(StoreUnavailable::new(format_args!(
                "an unexpected answer to a claim: {answer:?}"
            ))),
        }
    }

    /// Marks the event `ticket` holds as acted on, remembered for
    /// [`remember_done`](Self::remember_done), even if its claim ran out
    /// meanwhile (logged: renewals failed, or the process stalled).
    pub async fn done(&self, ticket: &ClaimTicket) -> Result<(), StoreUnavailable> {
        match self.mark_done(ticket).await? {
            0 => {}
            2 => tracing::warn!(
                lease = ?self.lease,
                "another handler acted on this callback too: one lost its claim mid-handler (renewals failed, or the process stalled past the lease)"
            ),
            _ => tracing::warn!(
                lease = ?self.lease,
                "a callback handler lost its claim before it finished (renewals failed, or the process stalled past the lease): another replica may be acting on the event too"
            ),
        }
        Ok(())
    }

    /// Runs the done script: 0 when the claim was still the ticket's (or
    /// the ticket marked it done already), 1 when it had run out or been
    /// taken over, 2 when another claim marked it done.
    async fn mark_done(&self, ticket: &ClaimTicket) -> Result<i64, StoreUnavailable> {
        let EventRef::Redis(key) = &ticket.event else {
            return Ok(0);
        };
        let mut invocation = DONE.key(&**key);
        invocation
            .arg(token_text(ticket.token))
            .arg(millis(self.remember_done));
        self.run(&invocation).await
    }

    /// Extends the claim `ticket` holds by the lease, from now on the
    /// server's clock; false when the claim is no longer the ticket's (it
    /// ran out, or another delivery took the event over).
    pub async fn renew(&self, ticket: &ClaimTicket) -> Result<bool, StoreUnavailable> {
        let EventRef::Redis(key) = &ticket.event else {
            return Ok(false);
        };
        let mut invocation = RENEW.key(&**key);
        invocation
            .arg(token_text(ticket.token))
            .arg(millis(self.lease));
        let renewed: i64 = self.run(&invocation).await?;
        Ok(renewed == 1)
    }

    /// How long a claim holds unless renewed.
    pub(crate) fn lease_length(&self) -> Duration {
        self.lease
    }

    /// Gives up the claim `ticket` holds, so that the next delivery of its
    /// event is acted on; nothing if another claim (or done) is there now.
    pub async fn release(&self, ticket: &ClaimTicket) -> Result<(), StoreUnavailable> {
        let EventRef::Redis(key) = &ticket.event else {
            return Ok(());
        };
        let mut invocation = RELEASE.key(&**key);
        invocation.arg(token_text(ticket.token));
        let _: i64 = self.run(&invocation).await?;
        Ok(())
    }

    /// The event's key: the prefix and the SHA-256 of its fields, the same
    /// in every replica.
    fn key(&self, callback: &Callback) -> String {
        let mut digest = Sha256::new();
        write_event_key(callback, &mut |bytes| digest.update(bytes));
        let mut key = String::with_capacity(self.prefix.len() + 64);
        key.push_str(&self.prefix);
        for byte in digest.finalize() {
            key.push_str(&format!("{byte:02x}"));
        }
        key
    }

    /// Runs one script within the timeout. A connection that dropped
    /// (Redis restarted since the last callback) is tried once more: the
    /// connection manager reconnects, and each script may run twice with
    /// the same arguments to the same effect.
    async fn run<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Result<T, StoreUnavailable> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut connection = self.connection()?;
        let answer = tokio::time::timeout_at(deadline, async {
            match invocation.invoke_async(&mut connection).await {
                Err(error) if error.is_connection_dropped() || error.is_io_error() => {
                    invocation.invoke_async(&mut connection).await
                }
                answer => answer,
            }
        })
        .await
        .map_err(|_| StoreUnavailable::new(format_args!("no answer within {:?}", self.timeout)))?;
        answer.map_err(StoreUnavailable::new)
    }

    /// The connection, made on first use (it needs a Tokio runtime).
    fn connection(&self) -> Result<ConnectionManager, StoreUnavailable> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(0)
            .set_max_delay(self.timeout);
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(StoreUnavailable::new)?;
        *slot = Some(connection.clone());
        Ok(connection)
    }
}

fn token_text(token: u128) -> String {
    format!("{token:032x}")
}

/// Whole milliseconds, at least one (Redis refuses `PX 0`).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

#[cfg(test)]
mod tests;
