//! The permanent redirects a client has seen, shared by its clones: what
//! `redirect` learns from a 301 or 308 and applies to later reads. Held by
//! the client's context, so a leaf under both (see `redirect` for when a
//! move is remembered and when it is forgotten).

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lru::LruCache;
use reqwest::Url;
use tokio::time::Instant;
use whispir_errors::{is_downgrade, same_origin};

/// How many permanent redirects a client remembers.
pub const REMEMBERED_REDIRECTS: NonZeroUsize = match NonZeroUsize::new(64) {
    Some(n) => n,
    None => NonZeroUsize::MIN,
};

/// How long a permanent redirect is remembered: long enough to spare the
/// old URL's round trip for a burst of calls, short enough that a move a
/// misconfigured gateway announced does not outlive the fix.
pub const REMEMBER_FOR: Duration = Duration::from_secs(10 * 60);

/// The permanent redirects a client has seen: old URL (without query) →
/// new URL (without query) and when it was learnt. Shared by all clones of
/// a client.
#[derive(Debug)]
pub(crate) struct RedirectMemory {
    permanent: Mutex<LruCache<String, (Url, Instant)>>,
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

/// `url` without its query and fragment: the key of a move.
pub(crate) fn without_query(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url
}

impl RedirectMemory {
    /// Remembers a permanent move; only within one origin (a move to
    /// another origin is followed by reads each time, never remembered).
    pub(crate) fn remember(&self, from: &Url, to: &Url) {
        if !same_origin(from, to) || is_downgrade(from, to) {
            return;
        }
        if let Ok(mut permanent) = self.permanent.lock() {
            permanent.put(
                without_query(from).to_string(),
                (without_query(to), Instant::now()),
            );
            self.used.store(true, Ordering::Release);
        }
    }

    /// Forgets the move of `from` (a URL as the caller asked for it):
    /// the new place failed.
    pub(crate) fn forget(&self, from: &Url) {
        if let Ok(mut permanent) = self.permanent.lock() {
            permanent.pop(&without_query(from).to_string());
        }
    }

    /// Sends a request for a URL that moved permanently to its new place,
    /// keeping the query. Returns the URL the caller asked for when the
    /// request was moved, so that a failure there can forget the move.
    pub(crate) fn rewrite(&self, request: &mut reqwest::Request) -> Option<Url> {
        if !self.used.load(Ordering::Acquire) {
            return None;
        }
        let key = without_query(request.url()).to_string();
        let mut target = {
            let mut permanent = self.permanent.lock().ok()?;
            match permanent.get(&key) {
                Some((_, learnt)) if learnt.elapsed() >= REMEMBER_FOR => {
                    permanent.pop(&key);
                    return None;
                }
                Some((target, _)) => target.clone(),
                None => return None,
            }
        };
        target.set_query(request.url().query());
        // Only same-origin moves are kept; checked again all the same.
        if !same_origin(request.url(), &target) || is_downgrade(request.url(), &target) {
            return None;
        }
        Some(std::mem::replace(request.url_mut(), target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{AUTHORIZATION, HeaderValue};

    use crate::runtime::wire::API_KEY_HEADER;

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
    fn a_remembered_move_keeps_the_query_and_the_credentials() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A?x=1"),
            &url("https://api.au.whispir.com/v2/messages/A"),
        );
        let mut req = request("https://api.au.whispir.com/messages/A?limit=5");
        let asked = memory.rewrite(&mut req);
        assert_eq!(
            req.url().as_str(),
            "https://api.au.whispir.com/v2/messages/A?limit=5"
        );
        assert_eq!(
            asked.map(|u| u.to_string()).as_deref(),
            Some("https://api.au.whispir.com/messages/A?limit=5")
        );
        assert!(req.headers().contains_key(AUTHORIZATION));
    }

    #[test]
    fn a_move_to_another_origin_is_never_remembered() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A"),
            &url("https://api.us.whispir.com/messages/A"),
        );
        let mut req = request("https://api.au.whispir.com/messages/A");
        assert!(memory.rewrite(&mut req).is_none());
        assert_eq!(req.url().host_str(), Some("api.au.whispir.com"));
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

    #[test]
    fn a_forgotten_move_is_no_longer_applied() {
        let memory = RedirectMemory::default();
        let old = url("https://api.au.whispir.com/messages/A");
        memory.remember(&old, &url("https://api.au.whispir.com/v2/messages/A"));
        memory.forget(&url("https://api.au.whispir.com/messages/A?limit=3"));
        let mut req = request("https://api.au.whispir.com/messages/A");
        assert!(memory.rewrite(&mut req).is_none());
        assert_eq!(req.url(), &old);
    }

    #[tokio::test(start_paused = true)]
    async fn a_remembered_move_expires() {
        let memory = RedirectMemory::default();
        memory.remember(
            &url("https://api.au.whispir.com/messages/A"),
            &url("https://api.au.whispir.com/v2/messages/A"),
        );
        tokio::time::advance(REMEMBER_FOR - Duration::from_secs(1)).await;
        assert!(
            memory
                .rewrite(&mut request("https://api.au.whispir.com/messages/A"))
                .is_some()
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(
            memory
                .rewrite(&mut request("https://api.au.whispir.com/messages/A"))
                .is_none()
        );
    }

    #[test]
    fn the_memory_holds_a_bounded_number_of_moves() {
        let memory = RedirectMemory::default();
        let count = REMEMBERED_REDIRECTS.get() + 10;
        for n in 0..count {
            memory.remember(
                &url(&format!("https://api.au.whispir.com/old/{n}")),
                &url(&format!("https://api.au.whispir.com/new/{n}")),
            );
        }
        let held = memory.permanent.lock().expect("lock").len();
        assert_eq!(held, REMEMBERED_REDIRECTS.get());
    }
}
