//! The store in one process's memory: bounded, gone with the process.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Claim, ClaimTicket, DEFAULT_LEASE, EventRef, write_event_key};
use crate::payload::Callback;

/// One event, as this process's memory knows it: a keyed fingerprint of
/// its fields (see [`write_event_key`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct EventKey(u64);

/// Claims and done events in this process's memory: at most `capacity`
/// of them (the oldest forgotten first), a done event for `remember_done`,
/// a claim for the lease. A live claim is never forgotten to make room:
/// while every remembered event is one, a new event is answered
/// [`Claim::InProgress`] (503; Whispir retries). A done event forgotten
/// early is acted on again if retried: size `capacity` for a day of
/// callbacks. For one process; replicas need a shared store
/// (`RedisDedup`, feature `redis`).
///
/// ```
/// use std::time::Duration;
/// use whispir_callbacks::{BodyFormat, Claim, Deduplicator, parse_body};
///
/// # fn main() -> Result<(), whispir_callbacks::CallbackError> {
/// let seen = Deduplicator::new(10_000, Duration::from_secs(25 * 3600));
/// let body = br#"{"messageid":"ABC","responseMessage":{"acknowledged":"01/02/24 10:00","content":"Y"}}"#;
/// let callback = parse_body(BodyFormat::Json, body)?;
/// if let Claim::Claimed(ticket) = seen.claim(&callback) {
///     // act on it, then mark it done (or, if acting failed,
///     // `seen.release(&ticket)` lets the retry in)
///     seen.done(&ticket);
/// }
/// assert_eq!(seen.claim(&callback), Claim::Done, "a retry is recognised");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    capacity: usize,
    remember_done: Duration,
    lease: Duration,
    // Keyed with a per-instance random key, so a sender cannot choose
    // payloads whose fingerprints collide.
    hasher: RandomState,
    tokens: AtomicU64,
    state: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    entries: HashMap<EventKey, Entry>,
    /// The keys in the order their entries were written, each with the
    /// entry's stamp then: one whose entry was rewritten or removed since
    /// is stale and skipped.
    order: VecDeque<(EventKey, u64)>,
    next_stamp: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    state: State,
    until: Instant,
    stamp: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Claimed { token: u64 },
    Done,
}

impl Deduplicator {
    /// Remembers up to `capacity` events (at least one), each done event
    /// for `remember_done`: to cover Whispir's retries, longer than a day
    /// ([`DEFAULT_REMEMBER_DONE`](super::DEFAULT_REMEMBER_DONE)). Claims
    /// hold for [`DEFAULT_LEASE`] unless [`lease`](Self::lease) says otherwise.
    pub fn new(capacity: usize, remember_done: Duration) -> Self {
        Self {
            capacity: capacity.max(1),
            remember_done,
            lease: DEFAULT_LEASE,
            hasher: RandomState::new(),
            tokens: AtomicU64::new(1),
            state: Mutex::new(Seen::default()),
        }
    }

    /// How long a claim holds before another delivery may take it over
    /// (at least a millisecond); [`DedupStore::act_once`](super::DedupStore::act_once)
    /// renews it while the handler works.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Extends the claim `ticket` holds by the lease, from now on; false
    /// when the claim is no longer the ticket's (it ran out, or another
    /// delivery took the event over).
    pub fn renew(&self, ticket: &ClaimTicket) -> bool {
        let Some(key) = ticket.memory_key() else {
            return false;
        };
        let now = Instant::now();
        let mut seen = self.lock();
        match seen.entries.get_mut(&key) {
            Some(entry)
                if entry.until > now
                    && matches!(entry.state, State::Claimed { token } if u128::from(token) == ticket.token) =>
            {
                entry.until = now + self.lease;
                true
            }
            _ => false,
        }
    }

    /// How long a claim holds unless renewed.
    pub(crate) fn lease_length(&self) -> Duration {
        self.lease
    }

    /// Claims `callback`'s event: [`Claim::Claimed`] when it is new or its
    /// last claim ran out, [`Claim::Done`] when it was acted on, and
    /// [`Claim::InProgress`] while another delivery holds it.
    pub fn claim(&self, callback: &Callback) -> Claim {
        self.claim_at(callback, Instant::now())
    }

    /// Marks the event `ticket` holds as acted on; remembered from now on
    /// for `remember_done`. A ticket whose claim another delivery took
    /// over still marks the event done: it was acted on.
    pub fn done(&self, ticket: &ClaimTicket) {
        self.done_at(ticket, Instant::now());
    }

    /// Gives up the claim `ticket` holds, so that the next delivery of its
    /// event is acted on; nothing if another delivery holds it now.
    pub fn release(&self, ticket: &ClaimTicket) {
        let Some(key) = ticket.memory_key() else {
            return;
        };
        let mut seen = self.lock();
        let held = seen.entries.get(&key).is_some_and(|entry| {
            matches!(entry.state, State::Claimed { token } if u128::from(token) == ticket.token)
        });
        if held {
            seen.entries.remove(&key);
        }
    }

    /// How many events are remembered now (claimed or done), expired ones
    /// included until a claim forgets them.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claim_at(&self, callback: &Callback, now: Instant) -> Claim {
        let key = self.key(callback);
        let mut seen = self.lock();
        seen.forget_expired(now);
        if let Some(entry) = seen.entries.get(&key).filter(|entry| entry.until > now) {
            return match entry.state {
                State::Done => Claim::Done,
                State::Claimed { .. } => Claim::InProgress {
                    retry_after: entry.until.saturating_duration_since(now),
                },
            };
        }
        while seen.entries.len() >= self.capacity && seen.forget_oldest(now) {}
        if seen.entries.len() >= self.capacity {
            // Every remembered event is a live claim: forgetting one would
            // let its retry act while its handler works. Whispir retries.
            tracing::warn!(
                capacity = self.capacity,
                "the de-duplication memory is full of callbacks being handled: answering 503"
            );
            return Claim::InProgress {
                retry_after: self.lease,
            };
        }
        let token = self.tokens.fetch_add(1, Ordering::Relaxed);
        seen.write(
            key,
            State::Claimed { token },
            now + self.lease,
            self.capacity,
        );
        Claim::Claimed(ClaimTicket {
            event: EventRef::Memory(key),
            token: u128::from(token),
        })
    }

    fn done_at(&self, ticket: &ClaimTicket, now: Instant) {
        let Some(key) = ticket.memory_key() else {
            return;
        };
        let mut seen = self.lock();
        seen.write(key, State::Done, now + self.remember_done, self.capacity);
        while seen.entries.len() > self.capacity && seen.forget_oldest(now) {}
    }

    fn key(&self, callback: &Callback) -> EventKey {
        let mut hasher = self.hasher.build_hasher();
        write_event_key(callback, &mut |bytes| hasher.write(bytes));
        EventKey(hasher.finish())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic elsewhere while holding the lock leaves the maps whole
        // (every update is a single insert or remove), so carry on.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ClaimTicket {
    /// The event, if this process's memory gave the ticket.
    fn memory_key(&self) -> Option<EventKey> {
        match &self.event {
            EventRef::Memory(key) => Some(*key),
            #[cfg(feature = "redis")]
            EventRef::Redis(_) => None,
        }
    }
}

impl Seen {
    /// Writes `key`'s entry, newest in the order.
    fn write(&mut self, key: EventKey, state: State, until: Instant, capacity: usize) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        self.entries.insert(
            key,
            Entry {
                state,
                until,
                stamp,
            },
        );
        self.order.push_back((key, stamp));
        // Rewritten and removed entries leave stale keys in the order:
        // drop them before they outnumber the live ones.
        if self.order.len() > 2 * capacity.max(self.entries.len()) {
            let entries = &self.entries;
            self.order
                .retain(|(key, stamp)| entries.get(key).is_some_and(|e| e.stamp == *stamp));
        }
    }

    /// Forgets expired entries at the front of the order.
    fn forget_expired(&mut self, now: Instant) {
        while let Some((key, stamp)) = self.order.front().copied() {
            match self.entries.get(&key) {
                Some(entry) if entry.stamp == stamp => {
                    if entry.until > now {
                        break;
                    }
                    self.entries.remove(&key);
                }
                _ => {}
            }
            self.order.pop_front();
        }
    }

    /// Forgets the oldest entry that is not a live claim (a claim whose
    /// handler may still be working); false when there is none.
    fn forget_oldest(&mut self, now: Instant) -> bool {
        let mut held = Vec::new();
        let mut forgot = false;
        while let Some((key, stamp)) = self.order.pop_front() {
            let Some(entry) = self.entries.get(&key).filter(|e| e.stamp == stamp) else {
                continue;
            };
            if matches!(entry.state, State::Claimed { .. }) && entry.until > now {
                held.push((key, stamp));
                continue;
            }
            self.entries.remove(&key);
            forgot = true;
            break;
        }
        for kept in held.into_iter().rev() {
            self.order.push_front(kept);
        }
        forgot
    }
}

#[cfg(test)]
mod tests;
