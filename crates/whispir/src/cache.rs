//! An opt-in, bounded cache of GET responses revalidated with `ETag` /
//! `If-None-Match` and `Last-Modified` / `If-Modified-Since`: when the API
//! answers 304 Not Modified, the cached answer is returned as if it had
//! been sent again. Off by default (see `ClientBuilder::response_cache`).
//!
//! Bounded twice: by the number of entries and by their total size in
//! bytes (an answer larger than the whole budget is not kept). An answer
//! marked `Cache-Control: no-store` is never kept. `no-cache` needs nothing
//! special: every cached answer is revalidated before it is used.

#[cfg(test)]
mod tests;

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use lru::LruCache;
use reqwest::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_LENGTH, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use reqwest::{Method, StatusCode};

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
        }
    }

    fn stored(&self) -> MutexGuard<'_, Stored> {
        // Nothing panics while the lock is held; a poisoned one is consistent.
        self.stored.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cache key of a GET request: URL and `Accept`.
    pub(crate) fn key(request: &reqwest::Request) -> Option<String> {
        (request.method() == Method::GET).then(|| {
            let accept = request
                .headers()
                .get(ACCEPT)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .unwrap_or_default();
            format!("{accept} {}", request.url())
        })
    }

    /// Adds the validators of a cached answer to the request; `false` when
    /// nothing is cached under `key` (the request is left as it was).
    pub(crate) fn add_validators(&self, key: &str, request: &mut reqwest::Request) -> bool {
        let validators = self.stored().entries.get(key).map(|entry| {
            (
                entry.headers.get(ETAG).cloned(),
                entry.headers.get(LAST_MODIFIED).cloned(),
            )
        });
        let Some((etag, modified)) = validators else {
            return false;
        };
        let headers = request.headers_mut();
        if let Some(etag) = etag {
            headers.insert(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = modified {
            headers.insert(IF_MODIFIED_SINCE, modified);
        }
        true
    }

    /// Takes the validators off a request, to send it again for a full
    /// answer.
    pub(crate) fn remove_validators(request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        headers.remove(IF_NONE_MATCH);
        headers.remove(IF_MODIFIED_SINCE);
    }

    /// Turns a 304 into the cached answer, keeps a cacheable 200, and
    /// drops an entry that a fresh success answer replaced without being
    /// kept itself (`no-store`, no validators, too large).
    pub(crate) async fn settle(
        &self,
        key: &str,
        response: reqwest::Response,
    ) -> reqwest::Result<Settled> {
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            let cached = self.stored().entries.get(key).map(rebuild);
            return Ok(match cached {
                Some(answer) => Settled::Response(answer),
                None => Settled::RepeatWithoutValidators {
                    not_modified: response,
                },
            });
        }
        if !self.may_store(key, &response) {
            if status.is_success() {
                self.stored().remove(key);
            }
            return Ok(Settled::Response(response));
        };
        let headers = response.headers().clone();
        let url = response.url().clone();
        // At most the declared length: the client refuses a longer body.
        let body = response.bytes().await?;
        let entry = Entry {
            status,
            url,
            size: entry_size(key, &headers, body.len()),
            headers,
            body,
        };
        let answer = rebuild(&entry);
        self.stored().insert(key.to_string(), entry);
        Ok(Settled::Response(answer))
    }

    /// Whether a response may be kept: a 200 with a validator, not
    /// `no-store`, with a declared length that fits the byte budget (so
    /// that no body is read into memory only to be thrown away).
    fn may_store(&self, key: &str, response: &reqwest::Response) -> bool {
        let headers = response.headers();
        let storable = response.status() == StatusCode::OK
            && (headers.contains_key(ETAG) || headers.contains_key(LAST_MODIFIED))
            && !is_no_store(headers);
        storable
            && declared_length(headers)
                .is_some_and(|body| entry_size(key, headers, body) <= self.stored().max_bytes)
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
    use reqwest::ResponseBuilderExt as _;
    let mut response = http::Response::builder()
        .url(entry.url.clone())
        .body(reqwest::Body::from(entry.body.clone()))
        .unwrap_or_else(|_| http::Response::new(reqwest::Body::from(entry.body.clone())));
    *response.status_mut() = entry.status;
    *response.headers_mut() = entry.headers.clone();
    reqwest::Response::from(response)
}
