//! Acting once on a callback that Whispir may send more than once.
//!
//! With `retriesEnabled`, Whispir sends a callback again (about every five
//! minutes, for up to a day) until it is answered 200, so one that was
//! handled but whose answer was lost comes back. [`Deduplicator`] remembers
//! what it has seen for a while, in bounded memory.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::payload::{Callback, CallbackKind};

/// What identifies one event: the message, the kind of event, and a
/// fingerprint of who answered, when, what they said, and the custom
/// parameters of the send they answered.
///
/// The message id and kind alone would merge two people's replies to one
/// message (or one person's two replies); a retry repeats every field, so
/// it has the same key. Unknown fields (`extra`) are left out: one Whispir
/// adds later might change between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct EventKey {
    kind: CallbackKind,
    fingerprint: u64,
}

/// Remembers callbacks seen within `ttl`, at most `capacity` of them (the
/// oldest forgotten first), so that a handler acts once per event.
///
/// ```
/// use std::time::Duration;
/// use whispir_callbacks::{BodyFormat, Deduplicator, parse_body};
///
/// # fn main() -> Result<(), whispir_callbacks::CallbackError> {
/// let seen = Deduplicator::new(10_000, Duration::from_secs(25 * 3600));
/// let body = br#"{"messageid":"ABC","responseMessage":{"acknowledged":"01/02/24 10:00","content":"Y"}}"#;
/// let callback = parse_body(BodyFormat::Json, body)?;
/// if seen.first_time(&callback) {
///     // act on it; if that fails, `seen.forget(&callback)` lets a retry in
/// }
/// assert!(!seen.first_time(&callback), "a retry is recognised");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    ttl: Duration,
    // Keyed with a per-instance random key, so a sender cannot choose
    // payloads whose fingerprints collide.
    hasher: RandomState,
    state: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// When each remembered key was first seen.
    at: HashMap<EventKey, Instant>,
    /// The same keys, oldest first.
    order: VecDeque<(EventKey, Instant)>,
}

impl Deduplicator {
    /// Remembers up to `capacity` events (at least one), each for `ttl`.
    /// To cover Whispir's retries, make `ttl` longer than a day.
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            ttl,
            hasher: RandomState::new(),
            state: Mutex::new(Seen::default()),
        }
    }

    /// Whether `callback` is new: `true` the first time an event is seen
    /// (and it is remembered from then on), `false` while it is remembered.
    pub fn first_time(&self, callback: &Callback) -> bool {
        self.first_time_at(callback, Instant::now())
    }

    /// Forgets `callback`, so that its next delivery counts as new: for a
    /// handler that failed after [`first_time`](Self::first_time) said yes.
    pub fn forget(&self, callback: &Callback) {
        let key = self.key(callback);
        let mut seen = self.lock();
        if seen.at.remove(&key).is_some() {
            seen.order.retain(|(remembered, _)| *remembered != key);
        }
    }

    /// How many events are remembered now, expired ones included until the
    /// next call forgets them.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn first_time_at(&self, callback: &Callback, now: Instant) -> bool {
        let key = self.key(callback);
        let mut seen = self.lock();
        seen.forget_expired(now, self.ttl);
        if seen.at.contains_key(&key) {
            return false;
        }
        while seen.order.len() >= self.capacity {
            seen.forget_oldest();
        }
        seen.at.insert(key, now);
        seen.order.push_back((key, now));
        true
    }

    fn key(&self, callback: &Callback) -> EventKey {
        let mut hasher = self.hasher.build_hasher();
        // Each part is hashed whole, `None` included, so that a field
        // missing from one callback cannot line up with another's next field.
        callback.message_id.hash(&mut hasher);
        callback
            .from
            .as_ref()
            .map(|from| {
                (
                    &from.mri,
                    &from.mobile,
                    &from.email,
                    &from.voice,
                    &from.name,
                )
            })
            .hash(&mut hasher);
        callback
            .response_message
            .as_ref()
            .map(|message| {
                (
                    message.channel.as_ref().map(|channel| channel.as_str()),
                    &message.acknowledged,
                    &message.undeliverable,
                    &message.content,
                )
            })
            .hash(&mut hasher);
        // The same reply to two sends of one message differs only here
        // (each send's `callbackParameters`), and a retry repeats them.
        callback.custom_parameters.hash(&mut hasher);
        EventKey {
            kind: callback.kind(),
            fingerprint: hasher.finish(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic elsewhere while holding the lock leaves the maps whole
        // (every update is a single insert or remove), so carry on.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Seen {
    fn forget_expired(&mut self, now: Instant, ttl: Duration) {
        while let Some((_, at)) = self.order.front() {
            if now.saturating_duration_since(*at) < ttl {
                break;
            }
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((key, _)) = self.order.pop_front() {
            self.at.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests;
