//! Following 301, 302, 307 and 308 in the SDK instead of in reqwest.
//!
//! A redirected request is sent again with the same method and body to the
//! `Location`, at most [`MAX_HOPS`] times. A request with a body (a message
//! send) is only sent again for 307 and 308, which promise that it was not
//! carried out; a 301, 302 or 303 answer to it is refused
//! ([`RedirectRefusal::SendNotRepeated`], "may have been carried out").
//! Nothing leaves its origin: a request with a body (a message, a contact)
//! is never sent to another scheme, host or port, and a body-less request
//! going there loses `Authorization`, `x-api-key` and cookies; a hop from
//! HTTPS to plain HTTP is refused. Each refusal is a typed
//! [`Refusal::Redirect`]. A 301 or 308 is remembered for the client's
//! lifetime (the old URL should no longer be used) and logged; a 302 or
//! 307 is not.

use std::collections::HashSet;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use lru::LruCache;
use reqwest::header::{AUTHORIZATION, COOKIE};
use reqwest::{StatusCode, Url};
use whispir_errors::{RedirectRefusal, Refusal, is_downgrade, resolve_location, same_origin};

use crate::context::API_KEY_HEADER;
use crate::execute::{Failure, Gate};
use crate::replay::Replay;

/// The most redirects one call follows.
pub const MAX_HOPS: usize = 5;

/// How many permanent redirects a client remembers.
const REMEMBERED_REDIRECTS: NonZeroUsize = match NonZeroUsize::new(256) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// The permanent redirects a client has seen: old URL (without query) →
/// new URL (without query). Shared by all clones of a client.
#[derive(Debug)]
pub(crate) struct RedirectMemory {
    permanent: Mutex<LruCache<String, Url>>,
    /// Whether anything was ever remembered: most clients never see a
    /// permanent redirect, and their calls skip the lock.
    used: AtomicBool,
}

impl Default for RedirectMemory {
    fn default() -> Self {
        Self {
            permanent: Mutex::new(LruCache::new(REMEMBERED_REDIRECTS)),
            used: AtomicBool::new(false),
        }
    }
}

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

fn without_query(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url
}

impl RedirectMemory {
    fn remember(&self, from: &Url, to: &Url) {
        if let Ok(mut permanent) = self.permanent.lock() {
            permanent.put(without_query(from).to_string(), without_query(to));
            self.used.store(true, Ordering::Release);
        }
    }

    /// Sends a request for a URL that moved permanently to its new place,
    /// keeping the query, and drops credentials if that is another origin.
    pub(crate) fn rewrite(&self, request: &mut reqwest::Request) {
        if !self.used.load(Ordering::Acquire) {
            return;
        }
        let moved = self.permanent.lock().ok().and_then(|mut permanent| {
            permanent
                .get(&without_query(request.url()).to_string())
                .cloned()
        });
        let Some(mut target) = moved else {
            return;
        };
        target.set_query(request.url().query());
        if is_downgrade(request.url(), &target) {
            return;
        }
        if !same_origin(request.url(), &target) {
            if request.body().is_some() {
                // A body is never sent to another origin; the API says so
                // again with its redirect, which is then refused.
                return;
            }
            strip_credentials(request);
        }
        *request.url_mut() = target;
    }
}

fn strip_credentials(request: &mut reqwest::Request) {
    let headers = request.headers_mut();
    headers.remove(AUTHORIZATION);
    headers.remove(API_KEY_HEADER);
    headers.remove(COOKIE);
}

fn is_followed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn refuse(status: StatusCode, reason: RedirectRefusal) -> Result<reqwest::Response, Failure> {
    tracing::warn!(
        status = status.as_u16(),
        ?reason,
        "a redirect was not followed"
    );
    Err(Failure::Refused(Refusal::Redirect { status, reason }))
}

/// Sends a request and follows the redirects it gets, each hop passing the
/// `gate` (the rate limiter). `template` is a copy of the request to send
/// again on a redirect (without one, a redirect cannot be followed). A request with a body (a message, a contact) is
/// never sent to another origin.
/// (A plain function returning its future: see `execute::Attempts::run`.)
#[allow(
    clippy::manual_async_fn,
    reason = "an `async fn` would keep the request twice in its future"
)]
pub(crate) fn send_following_redirects<'a>(
    http: &'a reqwest::Client,
    mut current: reqwest::Request,
    template: Option<&'a Replay<'a>>,
    memory: &'a RedirectMemory,
    gate: Gate<'a>,
) -> impl Future<Output = Result<reqwest::Response, Failure>> + 'a {
    async move {
        // Built on the first redirect only: most calls are never redirected.
        let mut visited: Option<HashSet<Url>> = None;
        let mut spare: Option<reqwest::Request> = None;
        let mut hops = 0;
        loop {
            let has_body = current.body().is_some();
            // Every hop is a request the plan counts.
            let token = gate.pass().await.map_err(|refusal| {
                if hops == 0 {
                    Failure::Held(refusal)
                } else {
                    Failure::Refused(refusal)
                }
            })?;
            // Checked after the limiter's wait, which may have used the budget.
            let Some(timeout) = gate.request_timeout() else {
                return Err(Failure::OutOfTime { hop_sent: hops > 0 });
            };
            timeout.apply(&mut current);
            if let Some(token) = token {
                token.sent();
            }
            let response = http.execute(current).await.map_err(Failure::Transport)?;
            let status = response.status();
            if !is_followed(status) {
                return Ok(response);
            }
            // reqwest follows nothing itself: the response's URL is the request's.
            let from = response.url().clone();
            let next = match spare.take() {
                Some(next) => Some(next),
                None => template.and_then(Replay::request),
            };
            if has_body && !matches!(status.as_u16(), 307 | 308) {
                return refuse(status, RedirectRefusal::SendNotRepeated);
            }
            let Some(mut next) = next else {
                return refuse(status, RedirectRefusal::BodyNotReplayable);
            };
            let to = match resolve_location(&from, response.headers()) {
                Ok(to) => to,
                Err(err) => return refuse(status, RedirectRefusal::BadLocation(err.to_string())),
            };
            if hops == MAX_HOPS {
                return refuse(status, RedirectRefusal::TooManyHops { limit: MAX_HOPS });
            }
            // The whole URL counts: the same path with another query is a new place.
            let visited = visited.get_or_insert_with(|| HashSet::from([without_fragment(&from)]));
            if !visited.insert(without_fragment(&to)) {
                return refuse(status, RedirectRefusal::Loop);
            }
            if is_downgrade(&from, &to) {
                return refuse(status, RedirectRefusal::Downgrade);
            }
            let cross_origin = !same_origin(&from, &to);
            if cross_origin && has_body {
                return refuse(
                    status,
                    RedirectRefusal::BodyToOtherOrigin {
                        origin: to.origin().ascii_serialization(),
                    },
                );
            }
            if status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::PERMANENT_REDIRECT {
                tracing::warn!(
                    old = %without_query(&from),
                    new = %without_query(&to),
                    "Whispir moved a resource permanently; the SDK uses the new URL from now on"
                );
                memory.remember(&from, &to);
            } else {
                tracing::debug!(from = %without_query(&from), to = %without_query(&to), "following a redirect");
            }
            if cross_origin {
                strip_credentials(&mut next);
            }
            *next.url_mut() = to;
            spare = next.try_clone();
            current = next;
            hops += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn request(url: &str) -> reqwest::Request {
        let mut request = reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"));
        request
            .headers_mut()
            .insert(AUTHORIZATION, HeaderValue::from_static("Basic x"));
        request
            .headers_mut()
            .insert(API_KEY_HEADER, HeaderValue::from_static("key"));
        request
    }

    fn url(text: &str) -> Url {
        text.parse().expect("url")
    }

    #[test]
    fn a_remembered_move_keeps_the_query_and_same_origin_credentials() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A?x=1"),
            &url("https://api.au.whispir.com/v2/messages/A"),
        );
        let mut req = request("https://api.au.whispir.com/messages/A?limit=5");
        memory.rewrite(&mut req);
        assert_eq!(
            req.url().as_str(),
            "https://api.au.whispir.com/v2/messages/A?limit=5"
        );
        assert!(req.headers().contains_key(AUTHORIZATION));
    }

    #[test]
    fn a_remembered_move_to_another_origin_drops_credentials() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A"),
            &url("https://api.us.whispir.com/messages/A"),
        );
        let mut req = request("https://api.au.whispir.com/messages/A");
        memory.rewrite(&mut req);
        assert_eq!(req.url().host_str(), Some("api.us.whispir.com"));
        assert!(!req.headers().contains_key(AUTHORIZATION));
        assert!(!req.headers().contains_key(API_KEY_HEADER));
    }

    #[test]
    fn a_remembered_downgrade_is_not_applied() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A"),
            &url("http://api.au.whispir.com/messages/A"),
        );
        let mut req = request("https://api.au.whispir.com/messages/A");
        memory.rewrite(&mut req);
        assert_eq!(req.url().scheme(), "https");
    }
}
