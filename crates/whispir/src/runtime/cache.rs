//! An opt-in, bounded cache of the answers to reads, revalidated with
//! `ETag` / `If-None-Match` and `Last-Modified` / `If-Modified-Since`: when
//! the API answers 304 Not Modified, the cached answer is returned as if it
//! had been sent again. Off by default (see `ClientBuilder::response_cache`).
//!
//! Only operations whose effect is a read are cached. The key is everything
//! that selects the answer: the URL, `Accept`, every header parameter the
//! operation documents (e.g. `eventType`) and the identity of the
//! credentials (a keyed hash: no credential is kept). A 304 confirms only
//! the entry whose validators were sent with the request; an entry that
//! changed meanwhile is asked for again in full.
//!
//! Bounded twice: by the number of entries and by their total size in
//! bytes (an answer larger than the whole budget is not kept; one without
//! a declared length is read up to the budget and, if longer, handed on
//! whole without being kept). An answer marked `Cache-Control: no-store` is
//! never kept. `no-cache` needs nothing special: every cached answer is
//! revalidated before it is used.

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use futures::StreamExt as _;
use lru::LruCache;
use reqwest::StatusCode;
use reqwest::header::{
    ACCEPT, AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, ETAG, HeaderMap, HeaderValue,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};

use crate::runtime::wire::API_KEY_HEADER;

/// The total size of the cached answers unless set otherwise: 4 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone)]
struct Entry {
    status: StatusCode,
    /// The URL that answered, so that a relative `Location` of the cached
    /// answer still resolves against it.
    url: reqwest::Url,
    headers: HeaderMap,
    body: Bytes,
    /// What the entry counts against the byte budget.
    size: usize,
}

/// The validators of a cached answer, as sent with a request: a 304 is
/// the answer to exactly these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Validators {
    etag: Option<HeaderValue>,
    last_modified: Option<HeaderValue>,
}

impl Validators {
    fn of(headers: &HeaderMap) -> Option<Self> {
        let validators = Self {
            etag: headers.get(ETAG).cloned(),
            last_modified: headers.get(LAST_MODIFIED).cloned(),
        };
        (validators.etag.is_some() || validators.last_modified.is_some()).then_some(validators)
    }
}

/// The entries and their total size, kept together under one lock.
#[derive(Debug)]
struct Stored {
    entries: LruCache<String, Entry>,
    bytes: usize,
    max_bytes: usize,
}

impl Stored {
    fn remove(&mut self, key: &str) {
        if let Some(old) = self.entries.pop(key) {
            self.bytes = self.bytes.saturating_sub(old.size);
        }
    }

    /// Keeps `entry`, evicting the least recently used ones until it fits.
    fn insert(&mut self, key: String, entry: Entry) {
        self.remove(&key);
        if entry.size > self.max_bytes {
            return;
        }
        while self.bytes + entry.size > self.max_bytes {
            match self.entries.pop_lru() {
                Some((_, evicted)) => self.bytes = self.bytes.saturating_sub(evicted.size),
                None => break,
            }
        }
        self.bytes += entry.size;
        if let Some((_, evicted)) = self.entries.push(key, entry) {
            // The key was removed above: this is the entry-count bound.
            self.bytes = self.bytes.saturating_sub(evicted.size);
        }
    }
}

/// The cache of one client, shared by its clones.
#[derive(Debug)]
pub(crate) struct ResponseCache {
    stored: Mutex<Stored>,
    /// Keys the hash of the credentials' identity in cache keys, so that
    /// the keys say nothing about the credentials.
    identity: RandomState,
}

/// What a response becomes once the cache has seen it.
#[derive(Debug)]
pub(crate) enum Settled {
    /// The answer to hand on: the response itself, or for a 304 the
    /// cached answer it confirmed.
    Response(reqwest::Response),
    /// A 304 confirmed an answer the cache no longer holds (evicted since
    /// the validators were sent): send the request again without them
    /// (see [`ResponseCache::remove_validators`]). `not_modified` is the
    /// 304 itself, for a caller that cannot send again.
    RepeatWithoutValidators {
        /// The 304 response.
        not_modified: reqwest::Response,
    },
}

impl ResponseCache {
    /// A cache of at most `entries` answers and `max_bytes` bytes in all
    /// (bodies, headers and keys).
    pub(crate) fn new(entries: NonZeroUsize, max_bytes: usize) -> Self {
        Self {
            stored: Mutex::new(Stored {
                entries: LruCache::new(entries),
                bytes: 0,
                max_bytes,
            }),
            identity: RandomState::new(),
        }
    }

    fn stored(&self) -> MutexGuard<'_, Stored> {
        // Nothing panics while the lock is held; a poisoned one is consistent.
        self.stored.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cache key of a read: the credentials' identity, `Accept`, the
    /// operation's header parameters (`header_params`, e.g. `eventType`)
    /// and the URL. The caller decides that the operation is a read.
    pub(crate) fn key(&self, request: &reqwest::Request, header_params: &[&str]) -> String {
        let headers = request.headers();
        let value = |name: &str| headers.get(name).map(HeaderValue::as_bytes);
        let identity = self.identity.hash_one((
            value(AUTHORIZATION.as_str()),
            value(API_KEY_HEADER.as_str()),
        ));
        let accept = value(ACCEPT.as_str()).unwrap_or_default();
        let mut key = format!("{identity:016x} {}", String::from_utf8_lossy(accept));
        for name in header_params {
            // Absent and empty differ: `\0` never appears in a header value.
            match value(name) {
                Some(v) => {
                    let _ = write!(key, " {name}={}", String::from_utf8_lossy(v));
                }
                None => {
                    let _ = write!(key, " {name}\0");
                }
            }
        }
        let _ = write!(key, " {}", request.url());
        key
    }

    /// Adds the validators of a cached answer to the request and returns
    /// them; `None` when nothing is cached under `key` (the request is left
    /// as it was).
    pub(crate) fn add_validators(
        &self,
        key: &str,
        request: &mut reqwest::Request,
    ) -> Option<Validators> {
        let validators = self
            .stored()
            .entries
            .get(key)
            .and_then(|entry| Validators::of(&entry.headers))?;
        let headers = request.headers_mut();
        if let Some(etag) = &validators.etag {
            headers.insert(IF_NONE_MATCH, etag.clone());
        }
        if let Some(modified) = &validators.last_modified {
            headers.insert(IF_MODIFIED_SINCE, modified.clone());
        }
        Some(validators)
    }

    /// Takes the validators off a request, to send it again for a full
    /// answer.
    pub(crate) fn remove_validators(request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        headers.remove(IF_NONE_MATCH);
        headers.remove(IF_MODIFIED_SINCE);
    }

    /// Turns a 304 into the cached answer it confirms, keeps a cacheable
    /// 200, and drops an entry that a fresh success answer replaced without
    /// being kept itself (`no-store`, no validators, too large). `sent` are
    /// the validators the request carried: a 304 confirms the entry only if
    /// it still has exactly these.
    pub(crate) async fn settle(
        &self,
        key: &str,
        response: reqwest::Response,
        sent: Option<&Validators>,
    ) -> reqwest::Result<Settled> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            // A 304 naming another ETag than the one sent confirms nothing
            // (RFC 9111 4.3.4).
            let sent = sent.filter(|sent| match response.headers().get(ETAG) {
                Some(etag) => sent.etag.as_ref() == Some(etag),
                None => true,
            });
            let cached = sent.and_then(|sent| {
                self.stored()
                    .entries
                    .get(key)
                    .filter(|entry| Validators::of(&entry.headers).as_ref() == Some(sent))
                    .map(rebuild)
            });
            return Ok(match cached {
                Some(answer) => Settled::Response(answer),
                None => Settled::RepeatWithoutValidators {
                    not_modified: response,
                },
            });
        }
        let Some(room) = self.room_for(key, &response) else {
            if status.is_success() {
                self.stored().remove(key);
            }
            return Ok(Settled::Response(response));
        };
        let headers = response.headers().clone();
        let url = response.url().clone();
        let mut response = response;
        let mut body = Vec::new();
        let mut stream = {
            // The declared length, when there is one, fits: read it whole.
            if response.content_length().is_some() {
                let bytes = response.bytes().await?;
                return Ok(Settled::Response(
                    self.store(key, status, url, headers, bytes),
                ));
            }
            std::mem::take(response.headers_mut());
            response.bytes_stream()
        };
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if body.len().saturating_add(chunk.len()) > room {
                // Longer than the cache can keep: handed on whole, not kept.
                self.stored().remove(key);
                let read = futures::stream::iter([Ok(Bytes::from(body)), Ok(chunk)]);
                let rest = reqwest::Body::wrap_stream(read.chain(stream));
                let answer = rebuild_with(status, &url, headers, rest);
                return Ok(Settled::Response(answer));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Settled::Response(self.store(
            key,
            status,
            url,
            headers,
            body.into(),
        )))
    }

    fn store(
        &self,
        key: &str,
        status: StatusCode,
        url: reqwest::Url,
        headers: HeaderMap,
        body: Bytes,
    ) -> reqwest::Response {
        let entry = Entry {
            status,
            url,
            size: entry_size(key, &headers, body.len()),
            headers,
            body,
        };
        let answer = rebuild(&entry);
        self.stored().insert(key.to_string(), entry);
        answer
    }

    /// How many bytes of body the cache could keep of a response: `None`
    /// unless it is a 200 with a validator, not `no-store`, and its
    /// declared length (if any) fits the byte budget, so that no body is
    /// read into memory only to be thrown away.
    fn room_for(&self, key: &str, response: &reqwest::Response) -> Option<usize> {
        let headers = response.headers();
        let storable = response.status() == StatusCode::OK
            && Validators::of(headers).is_some()
            && !is_no_store(headers);
        if !storable {
            return None;
        }
        let room = self
            .stored()
            .max_bytes
            .checked_sub(entry_size(key, headers, 0))?;
        match declared_length(headers) {
            Some(body) if body > room => None,
            _ => Some(room),
        }
    }
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Bytes an answer takes in the cache: key, headers and body.
fn entry_size(key: &str, headers: &HeaderMap, body: usize) -> usize {
    let headers: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    key.len().saturating_add(headers).saturating_add(body)
}

/// Whether any `Cache-Control` directive is `no-store`.
fn is_no_store(headers: &HeaderMap) -> bool {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .flat_map(|value| value.as_bytes().split(|b| *b == b','))
        .any(|directive| {
            let name = directive.split(|b| *b == b'=').next().unwrap_or_default();
            name.trim_ascii().eq_ignore_ascii_case(b"no-store")
        })
}

fn rebuild(entry: &Entry) -> reqwest::Response {
    rebuild_with(
        entry.status,
        &entry.url,
        entry.headers.clone(),
        reqwest::Body::from(entry.body.clone()),
    )
}

fn rebuild_with(
    status: StatusCode,
    url: &reqwest::Url,
    headers: HeaderMap,
    body: reqwest::Body,
) -> reqwest::Response {
    use reqwest::ResponseBuilderExt as _;
    // The builder is only asked for the URL extension, which cannot fail;
    // the body is put in afterwards so that it is never lost.
    let mut response = match http::Response::builder().url(url.clone()).body(()) {
        Ok(empty) => {
            let (parts, ()) = empty.into_parts();
            http::Response::from_parts(parts, body)
        }
        Err(_) => http::Response::new(body),
    };
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    reqwest::Response::from(response)
}
