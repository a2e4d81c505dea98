//! An opt-in, bounded cache of GET responses revalidated with `ETag` /
//! `If-None-Match` and `Last-Modified` / `If-Modified-Since`: when the API
//! answers 304 Not Modified, the cached answer is returned as if it had
//! been sent again. Off by default (see `ClientBuilder::response_cache`).

use std::num::NonZeroUsize;
use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;
use reqwest::header::{
    ACCEPT, CONTENT_LENGTH, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use reqwest::{Method, StatusCode};

/// The largest body the cache keeps.
pub const MAX_CACHED_BODY: usize = 1024 * 1024;

#[derive(Debug, Clone)]
struct Entry {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

/// The cache of one client, shared by its clones.
#[derive(Debug)]
pub(crate) struct ResponseCache {
    entries: Mutex<LruCache<String, Entry>>,
}

impl ResponseCache {
    /// A cache of at most `capacity` responses.
    pub(crate) fn new(capacity: NonZeroUsize) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(capacity)),
        }
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

    /// Adds the validators of a cached answer to the request.
    pub(crate) fn add_validators(&self, key: &str, request: &mut reqwest::Request) {
        let Some(entry) = self
            .entries
            .lock()
            .ok()
            .and_then(|mut e| e.get(key).cloned())
        else {
            return;
        };
        let headers = request.headers_mut();
        if let Some(etag) = entry.headers.get(ETAG) {
            headers.insert(IF_NONE_MATCH, etag.clone());
        }
        if let Some(modified) = entry.headers.get(LAST_MODIFIED) {
            headers.insert(IF_MODIFIED_SINCE, modified.clone());
        }
    }

    /// Turns a 304 into the cached answer, and keeps a cacheable 200.
    pub(crate) async fn settle(
        &self,
        key: &str,
        response: reqwest::Response,
    ) -> reqwest::Result<reqwest::Response> {
        if response.status() == StatusCode::NOT_MODIFIED {
            let cached = self
                .entries
                .lock()
                .ok()
                .and_then(|mut e| e.get(key).cloned());
            return Ok(match cached {
                Some(entry) => rebuild(&entry),
                None => response,
            });
        }
        let cacheable = response.status() == StatusCode::OK
            && (response.headers().contains_key(ETAG)
                || response.headers().contains_key(LAST_MODIFIED))
            && response
                .headers()
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|len| len <= MAX_CACHED_BODY);
        if !cacheable {
            return Ok(response);
        }
        let entry = Entry {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.bytes().await?,
        };
        let rebuilt = rebuild(&entry);
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(key.to_string(), entry);
        }
        Ok(rebuilt)
    }
}

fn rebuild(entry: &Entry) -> reqwest::Response {
    let mut response = http::Response::new(reqwest::Body::from(entry.body.clone()));
    *response.status_mut() = entry.status;
    *response.headers_mut() = entry.headers.clone();
    reqwest::Response::from(response)
}
