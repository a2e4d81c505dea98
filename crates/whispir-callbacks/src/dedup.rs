//! Acting once on a callback that Whispir may send more than once, in one
//! process ([`Deduplicator`]) or across replicas and restarts
//! ([`RedisDedup`], feature `redis`).
//!
//! With `retriesEnabled`, Whispir sends a callback again (about every five
//! minutes, for 24 hours after the first failure) until it is answered
//! 200, so one that was handled but whose answer was lost comes back, and
//! behind a load balancer it may come back to another replica, or to a
//! restarted one.
//!
//! # The contract
//!
//! Every store follows the same steps for each delivery of an event:
//!
//! 1. **Claim** it before the handler runs ([`Claim`]). A new event (or
//!    one whose earlier claim ran out) is claimed for a *lease*; one
//!    already done is answered 200 without calling the handler; one
//!    another delivery holds is answered 503, so that Whispir tries
//!    again later.
//! 2. Mark it **done** once the handler succeeded: from then on (for the
//!    store's memory, longer than Whispir's day of retries) every
//!    delivery of it is answered 200 and not acted on.
//! 3. Or **release** it when the handler failed: the retry is acted on.
//!
//! A handler whose process dies (a crash, a SIGKILL, a deploy) neither
//! marks nor releases: its claim runs out after the lease and the next
//! retry is acted on by whichever replica receives it. Choose a lease
//! shorter than Whispir's interval between retries (the default,
//! [`DEFAULT_LEASE`], is two minutes).
//! [`DedupStore::act_once`] runs the three steps around a handler and,
//! while the handler works, renews the claim every third of the lease
//! ([`DedupStore::renew`]), so a handler slower than the lease keeps the
//! event from other deliveries; one that never finishes keeps it for as
//! long, so bound your handler's time (a timeout drops it, and its claim
//! runs out after the lease).
//!
//! # What is one event
//!
//! An event is the message id, the kind (reply or delivery failure), who
//! answered (each of `from`'s fields), when (`acknowledged` or
//! `undeliverable`), what they said (`content`, with the channel) and the
//! custom parameters of the send. A retry repeats every one of these, so
//! it is the same event. Two people's replies to one message differ in
//! `from`, and one person's two replies differ in their time or text, so
//! they are not merged: each is acted on. One limit: Whispir writes the
//! time to the minute (`dd/mm/yy HH:MM`) and gives a reply no id of its
//! own, so one person sending the same text twice within one minute, in
//! answer to one message, makes two callbacks that nothing tells apart
//! from a retry: they are one event, acted on once. The same reply to two sends of
//! one message differs in the sends' custom parameters. Fields this crate
//! does not know ([`Callback::extra`]) are left out: one Whispir adds later
//! might change between retries.

mod memory;
#[cfg(feature = "redis")]
mod shared;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::metrics::CallbackMetrics;
use crate::payload::{Callback, CallbackKind};

pub use memory::Deduplicator;
#[cfg(feature = "redis")]
pub use shared::{DEFAULT_STORE_TIMEOUT, InvalidRedisUrl, RedisDedup};

/// How long a claim holds unless set otherwise: longer than the 60 s
/// Whispir waits for an answer, shorter than the five minutes between its
/// retries, so that the first retry after a replica died is acted on.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(120);

/// How long a done event is remembered unless set otherwise: Whispir's 24
/// hours of retries and an hour more.
pub const DEFAULT_REMEMBER_DONE: Duration = Duration::from_secs(25 * 3600);

/// What a store answers when asked to claim a callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The event is new, or its last claim ran out: the caller holds it
    /// for the lease. Act on it, then [`done`](DedupStore::done) or
    /// [`release`](DedupStore::release) with this ticket.
    Claimed(ClaimTicket),
    /// The event was acted on already: answer 200, do not act.
    Done,
    /// Another delivery holds the event, for `retry_after` more at most:
    /// answer so that Whispir tries again later (503), do not act.
    InProgress {
        /// How long the other delivery's lease has left.
        retry_after: Duration,
    },
}

/// A claim held on one event, proof for marking it done or releasing it.
/// Only the store that gave it recognises it, and only while no other
/// delivery took the event over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimTicket {
    event: EventRef,
    token: u128,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EventRef {
    Memory(memory::EventKey),
    #[cfg(feature = "redis")]
    Redis(Arc<str>),
}

/// What a service does while its shared store cannot be reached (refused,
/// timed out, answering nonsense).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenStoreUnavailable {
    /// Answer 503 without calling the handler, so that Whispir tries again
    /// later (about every five minutes, for a day): nothing is acted on
    /// twice, and nothing is lost while the store comes back within the
    /// day. The default.
    #[default]
    Refuse,
    /// Call the handler anyway, without de-duplication, and log a warning
    /// for each such callback: nothing waits for the store, but a retry
    /// that reaches another replica may be acted on again.
    ActWithoutDedup,
}

/// The shared store could not be reached: refused, timed out, or answered
/// what this crate does not understand. The text never carries the URL.
#[derive(Debug, thiserror::Error)]
#[error("the de-duplication store cannot be reached: {reason}")]
pub struct StoreUnavailable {
    reason: String,
}

impl StoreUnavailable {
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn new(reason: impl fmt::Display) -> Self {
        Self {
            reason: reason.to_string(),
        }
    }
}

/// Where a service keeps its claims: one process's memory or a store the
/// replicas share. What [`Receiver::with_dedup`](crate::Receiver::with_dedup)
/// takes; made from a [`Deduplicator`] (also in an `Arc`) or a
/// `RedisDedup`. Cheap to clone: clones share the store.
#[derive(Debug, Clone)]
pub struct DedupStore {
    inner: Inner,
    metrics: CallbackMetrics,
}

#[derive(Debug, Clone)]
enum Inner {
    Memory(Arc<Deduplicator>),
    #[cfg(feature = "redis")]
    Redis(Arc<RedisDedup>),
}

impl From<Deduplicator> for DedupStore {
    fn from(store: Deduplicator) -> Self {
        Arc::new(store).into()
    }
}

impl From<Arc<Deduplicator>> for DedupStore {
    fn from(store: Arc<Deduplicator>) -> Self {
        Self {
            inner: Inner::Memory(store),
            metrics: CallbackMetrics::global(),
        }
    }
}

#[cfg(feature = "redis")]
impl From<RedisDedup> for DedupStore {
    fn from(store: RedisDedup) -> Self {
        Self {
            inner: Inner::Redis(Arc::new(store)),
            metrics: CallbackMetrics::global(),
        }
    }
}

/// What became of one delivery run through [`DedupStore::act_once`], and
/// the answer it gets ([`status`](Self::status), [`to_response`](Self::to_response);
/// with the `axum` feature, `IntoResponse`).
#[derive(Debug)]
pub enum Outcome<E> {
    /// The handler acted on the event: 200.
    Acted,
    /// The event was acted on before, here or by another replica; the
    /// handler was not called: 200.
    AlreadyDone,
    /// Another delivery holds the event; the handler was not called: 503,
    /// so that Whispir tries again later.
    InProgress {
        /// How long the other delivery's lease has left.
        retry_after: Duration,
    },
    /// The handler failed and the claim was released: 500, so that
    /// Whispir's retry is acted on.
    Failed(E),
    /// The store could not be reached and the choice is
    /// [`WhenStoreUnavailable::Refuse`]; the handler was not called: 503.
    Refused(StoreUnavailable),
    /// The store could not be reached and the choice is
    /// [`WhenStoreUnavailable::ActWithoutDedup`]: the handler ran (and
    /// succeeded, or this would be [`Failed`](Self::Failed)): 200.
    ActedWithoutDedup,
}

impl<E> Outcome<E> {
    /// The HTTP status to answer: 200 when the event was acted on (now or
    /// before), 500 when the handler failed, 503 when Whispir should try
    /// again later.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Acted | Self::AlreadyDone | Self::ActedWithoutDedup => StatusCode::OK,
            Self::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::InProgress { .. } | Self::Refused(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The answer: the status, an empty body, and `Retry-After` (whole
    /// seconds) on a 503.
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = self.status();
        let retry_after = match self {
            Self::InProgress { retry_after } => {
                Some((retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0)).max(1))
            }
            Self::Refused(_) => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(feature = "axum")]
impl<E> axum_core::response::IntoResponse for Outcome<E> {
    fn into_response(self) -> axum_core::response::Response {
        self.to_response().map(axum_core::body::Body::new)
    }
}

impl DedupStore {
    /// Claims `callback`'s event (see [`Claim`]). With the `opentelemetry`
    /// feature, a delivery that is not claimed ([`Claim::Done`],
    /// [`Claim::InProgress`]) counts as a duplicate.
    pub async fn claim(&self, callback: &Callback) -> Result<Claim, StoreUnavailable> {
        let claim = match &self.inner {
            Inner::Memory(store) => Ok(store.claim(callback)),
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.claim(callback).await,
        };
        if matches!(claim, Ok(Claim::Done | Claim::InProgress { .. })) {
            self.metrics.duplicate();
        }
        claim
    }

    /// Counts duplicates through `metrics` (the receiver's) from now on.
    pub(crate) fn count_with(&mut self, metrics: CallbackMetrics) {
        self.metrics = metrics;
    }

    /// Marks the event `ticket` holds as acted on.
    pub async fn done(&self, ticket: &ClaimTicket) -> Result<(), StoreUnavailable> {
        match &self.inner {
            Inner::Memory(store) => {
                store.done(ticket);
                Ok(())
            }
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.done(ticket).await,
        }
    }

    /// Extends the claim `ticket` holds by the store's lease; false when
    /// the claim is no longer the ticket's (it ran out, or another delivery
    /// took the event over). [`act_once`](Self::act_once) renews while the
    /// handler works.
    pub async fn renew(&self, ticket: &ClaimTicket) -> Result<bool, StoreUnavailable> {
        match &self.inner {
            Inner::Memory(store) => Ok(store.renew(ticket)),
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.renew(ticket).await,
        }
    }

    fn lease(&self) -> Duration {
        match &self.inner {
            Inner::Memory(store) => store.lease_length(),
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.lease_length(),
        }
    }

    /// Polls `work` and, meanwhile, renews the claim `ticket` holds every
    /// third of the lease, so that a handler slower than the lease keeps
    /// the event from other deliveries; a process that dies stops renewing
    /// and its claim runs out. Outside a Tokio runtime (possible with a
    /// `Deduplicator` alone) nothing is renewed.
    async fn while_renewing<T>(&self, ticket: &ClaimTicket, work: impl Future<Output = T>) -> T {
        let mut work = std::pin::pin!(work);
        if tokio::runtime::Handle::try_current().is_err() {
            return work.await;
        }
        let every = (self.lease() / 3).max(Duration::from_millis(1));
        let renewals = async {
            loop {
                tokio::time::sleep(every).await;
                match self.renew(ticket).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(
                            "a callback handler lost its claim (it ran out before a renewal): another delivery may act on the event too"
                        );
                        return;
                    }
                    Err(error) => tracing::warn!(
                        %error,
                        "could not renew the claim of a callback being handled; trying again"
                    ),
                }
            }
        };
        let mut renewals = std::pin::pin!(renewals);
        let mut renewing = true;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = work.as_mut().poll(cx) {
                return Poll::Ready(output);
            }
            if renewing && renewals.as_mut().poll(cx).is_ready() {
                renewing = false;
            }
            Poll::Pending
        })
        .await
    }

    /// Gives up the claim `ticket` holds, so that the next delivery of its
    /// event is acted on. Does nothing if another delivery took it over.
    pub async fn release(&self, ticket: &ClaimTicket) -> Result<(), StoreUnavailable> {
        match &self.inner {
            Inner::Memory(store) => {
                store.release(ticket);
                Ok(())
            }
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.release(ticket).await,
        }
    }

    /// What happens while the store cannot be reached (a process's memory
    /// always can).
    pub fn when_unavailable(&self) -> WhenStoreUnavailable {
        match &self.inner {
            Inner::Memory(_) => WhenStoreUnavailable::Refuse,
            #[cfg(feature = "redis")]
            Inner::Redis(store) => store.unavailable_choice(),
        }
    }

    /// Runs `handler` on `callback` once per event, across every service
    /// sharing the store: claims the event, calls the handler (renewing
    /// the claim meanwhile), then marks the event done or, if the handler
    /// failed, releases it.
    ///
    /// Not a promise of at most once: a handler that failed (or whose
    /// process died) after acting in part is called again for the retry;
    /// a done the store could not record, with its 200 lost on the way to
    /// Whispir, brings a retry acted on again; so do
    /// [`WhenStoreUnavailable::ActWithoutDedup`], a Redis that forgot its
    /// data, and a process stalled (not renewing) for longer than the lease.
    /// Make the handler's effect idempotent where a repeat would hurt.
    ///
    /// Once the handler has succeeded the answer is 200 even if the store
    /// cannot record it (logged): a 503 would bring a retry that might be
    /// acted on again once the claim runs out.
    ///
    /// ```
    /// use whispir_callbacks::{BodyFormat, Deduplicator, DedupStore, Outcome, parse_body};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), whispir_callbacks::CallbackError> {
    /// let store = DedupStore::from(Deduplicator::new(10_000, whispir_callbacks::DEFAULT_REMEMBER_DONE));
    /// let body = br#"{"messageid":"ABC","responseMessage":{"acknowledged":"01/02/24 10:00","content":"Y"}}"#;
    /// let callback = parse_body(BodyFormat::Json, body)?;
    /// let act = |_callback| async { Ok::<(), std::io::Error>(()) };
    /// assert!(matches!(store.act_once(callback.clone(), act).await, Outcome::Acted));
    /// assert!(matches!(store.act_once(callback, act).await, Outcome::AlreadyDone));
    /// # Ok(()) }
    /// ```
    pub async fn act_once<F, Fut, E>(&self, callback: Callback, handler: F) -> Outcome<E>
    where
        F: FnOnce(Callback) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        let ticket = match self.claim(&callback).await {
            Ok(Claim::Claimed(ticket)) => ticket,
            Ok(Claim::Done) => {
                tracing::debug!(message_id = %callback.message_id, "a callback acted on before: answering 200");
                return Outcome::AlreadyDone;
            }
            Ok(Claim::InProgress { retry_after }) => {
                tracing::debug!(
                    message_id = %callback.message_id,
                    ?retry_after,
                    "another delivery of this callback is being handled: answering 503"
                );
                return Outcome::InProgress { retry_after };
            }
            Err(error) => return self.without_store(callback, handler, error).await,
        };
        let message_id = callback.message_id.clone();
        match self.while_renewing(&ticket, handler(callback)).await {
            Ok(()) => {
                if let Err(error) = self.done(&ticket).await {
                    tracing::warn!(
                        %message_id,
                        %error,
                        "acted on a callback but could not mark it done: a retry after the lease may act again"
                    );
                }
                Outcome::Acted
            }
            Err(failure) => {
                if let Err(error) = self.release(&ticket).await {
                    tracing::warn!(
                        %message_id,
                        %error,
                        "could not release the claim of a failed callback: its retry is acted on after the lease"
                    );
                }
                Outcome::Failed(failure)
            }
        }
    }

    async fn without_store<F, Fut, E>(
        &self,
        callback: Callback,
        handler: F,
        error: StoreUnavailable,
    ) -> Outcome<E>
    where
        F: FnOnce(Callback) -> Fut,
        Fut: Future<Output = Result<(), E>>,
    {
        match self.when_unavailable() {
            WhenStoreUnavailable::Refuse => {
                tracing::warn!(
                    message_id = %callback.message_id,
                    %error,
                    "refusing a callback (503) until the de-duplication store answers; Whispir will retry"
                );
                Outcome::Refused(error)
            }
            WhenStoreUnavailable::ActWithoutDedup => {
                tracing::warn!(
                    message_id = %callback.message_id,
                    %error,
                    "acting on a callback without de-duplication: the store cannot be reached"
                );
                match handler(callback).await {
                    Ok(()) => Outcome::ActedWithoutDedup,
                    Err(failure) => Outcome::Failed(failure),
                }
            }
        }
    }
}

/// Writes the fields that identify `callback`'s event to `sink`, each
/// tagged and length-prefixed, so that no two different events write the
/// same bytes (a field missing from one cannot line up with another's
/// next field). Both stores key on these bytes.
fn write_event_key(callback: &Callback, sink: &mut impl FnMut(&[u8])) {
    let mut text = |value: Option<&str>| match value {
        None => sink(&[0]),
        Some(value) => {
            sink(&[1]);
            sink(&(value.len() as u64).to_le_bytes());
            sink(value.as_bytes());
        }
    };
    text(Some(&callback.message_id));
    text(Some(match callback.kind() {
        CallbackKind::Reply => "reply",
        CallbackKind::Undeliverable => "undeliverable",
        CallbackKind::Unknown => "unknown",
    }));
    let from = callback.from.as_ref();
    for field in [
        from.and_then(|from| from.mri.as_deref()),
        from.and_then(|from| from.mobile.as_deref()),
        from.and_then(|from| from.email.as_deref()),
        from.and_then(|from| from.voice.as_deref()),
        from.and_then(|from| from.name.as_deref()),
    ] {
        text(field);
    }
    let message = callback.response_message.as_ref();
    for field in [
        message.and_then(|message| message.channel.as_ref().map(|channel| channel.as_str())),
        message.and_then(|message| message.acknowledged.as_deref()),
        message.and_then(|message| message.undeliverable.as_deref()),
        message.and_then(|message| message.content.as_deref()),
    ] {
        text(field);
    }
    // The same reply to two sends of one message differs only here (each
    // send's `callbackParameters`), and a retry repeats them.
    text(Some(&callback.custom_parameters.len().to_string()));
    for (name, value) in &callback.custom_parameters {
        text(Some(name));
        text(Some(value));
    }
}

#[cfg(test)]
mod tests;
