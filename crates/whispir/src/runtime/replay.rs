//! What a call keeps of its request to send it again: for a retry, and for
//! each redirect hop.
//!
//! reqwest consumes a request when it sends it, so the copy has to be made
//! before every attempt, and almost always goes unused. A whole copy clones
//! the header map (two allocations and every value): most of the SDK's own
//! cost per call. Most requests carry only headers the client can put back
//! itself: the media types (kept as two values, which clone without
//! allocating) and the client's credentials and user agent (from the
//! client). Those are kept without their headers; any other request (header
//! parameters, cache validators, credentials taken off for another origin)
//! is copied whole.

use reqwest::Request;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, USER_AGENT};

use crate::runtime::context::ClientContext;
use crate::runtime::wire::API_KEY_HEADER;

/// A request kept to be sent again.
pub(crate) struct Replay<'a> {
    kept: Kept,
    context: &'a ClientContext,
}

enum Kept {
    /// The request without its headers, and its media types; the client's
    /// credentials and user agent are put back from the client.
    Light {
        base: Request,
        accept: Option<HeaderValue>,
        content_type: Option<HeaderValue>,
    },
    /// A whole copy, for a request with headers of its own.
    Whole(Request),
}

/// The largest body a light copy copies itself; a longer one is shared
/// through reqwest's own copy.
const COPIED_BODY: usize = 16 * 1024;

/// The media types of a request with only headers a light copy puts back
/// itself (each once, credentials included), or `None` for any other.
fn put_back(request: &Request) -> Option<(Option<HeaderValue>, Option<HeaderValue>)> {
    let (mut accept, mut content_type) = (None, None);
    let (mut authorization, mut api_key, mut user_agent) = (false, false, false);
    for (name, value) in request.headers() {
        let seen = if name == ACCEPT {
            accept.replace(value.clone()).is_some()
        } else if name == CONTENT_TYPE {
            content_type.replace(value.clone()).is_some()
        } else if name == AUTHORIZATION {
            std::mem::replace(&mut authorization, true)
        } else if name == API_KEY_HEADER {
            std::mem::replace(&mut api_key, true)
        } else if name == USER_AGENT {
            std::mem::replace(&mut user_agent, true)
        } else {
            return None;
        };
        if seen {
            // A name twice: a light copy would keep one value.
            return None;
        }
    }
    (authorization && api_key).then_some((accept, content_type))
}

/// `request` without its headers. reqwest's own `try_clone` also makes a
/// map for the request's timeout whether it has one or not; this copy
/// allocates only the URL (and a small body).
fn without_headers(request: &Request) -> Option<Request> {
    let body = match request.body() {
        None => None,
        Some(body) => match body.as_bytes() {
            Some(bytes) if bytes.len() <= COPIED_BODY => {
                Some(reqwest::Body::from(bytes::Bytes::copy_from_slice(bytes)))
            }
            _ => {
                // A longer body is shared (or a stream, refused), through
                // reqwest's copy of the request with its headers set aside.
                let mut copy = request.try_clone()?;
                copy.headers_mut().clear();
                return Some(copy);
            }
        },
    };
    let mut copy = Request::new(request.method().clone(), request.url().clone());
    *copy.version_mut() = request.version();
    // The only extension a request built by the SDK can carry (reqwest
    // keeps others private, set only on requests converted from `http`).
    if let Some(timeout) = request.timeout() {
        *copy.timeout_mut() = Some(*timeout);
    }
    *copy.body_mut() = body;
    Some(copy)
}

impl<'a> Replay<'a> {
    /// What to keep of `request` (authenticated by `context`) to send it
    /// again, or `None` when its body cannot be copied (a stream): such a
    /// request is sent once.
    pub(crate) fn keep(request: &Request, context: &'a ClientContext) -> Option<Self> {
        let kept = match put_back(request) {
            Some((accept, content_type)) => Kept::Light {
                base: without_headers(request)?,
                accept,
                content_type,
            },
            None => Kept::Whole(request.try_clone()?),
        };
        Some(Self { kept, context })
    }

    /// The request, to send again.
    pub(crate) fn request(&self) -> Option<Request> {
        match &self.kept {
            Kept::Whole(request) => request.try_clone(),
            Kept::Light {
                base,
                accept,
                content_type,
            } => {
                let mut request = base.try_clone()?;
                let headers = request.headers_mut();
                if let Some(accept) = accept {
                    headers.insert(ACCEPT, accept.clone());
                }
                if let Some(content_type) = content_type {
                    headers.insert(CONTENT_TYPE, content_type.clone());
                }
                self.context.authenticate(&mut request);
                Some(request)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::context::Credentials;
    use std::time::Duration;

    fn context() -> ClientContext {
        ClientContext::new(&Credentials::basic("user", "pass"), "key").expect("valid")
    }

    fn request(context: &ClientContext) -> Request {
        let mut request = Request::new(
            reqwest::Method::POST,
            "https://api.au.whispir.com/workspaces/AB12/messages"
                .parse()
                .expect("url"),
        );
        let headers = request.headers_mut();
        headers.insert(
            ACCEPT,
            HeaderValue::from_static("application/vnd.whispir.message-v1+json"),
        );
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.whispir.message-v1+json"),
        );
        *request.body_mut() = Some(reqwest::Body::from("{\"to\":\"61400000001\"}"));
        *request.timeout_mut() = Some(Duration::from_secs(3));
        context.authenticate(&mut request);
        request
    }

    /// Everything reqwest would send, in a comparable form.
    fn sent(request: &Request) -> String {
        let mut headers: Vec<String> = request
            .headers()
            .iter()
            .map(|(name, value)| format!("{name}: {value:?}"))
            .collect();
        headers.sort();
        format!(
            "{} {} {:?} {:?} {:?} {headers:?}",
            request.method(),
            request.url(),
            request.version(),
            request.timeout(),
            request.body().and_then(reqwest::Body::as_bytes),
        )
    }

    #[test]
    fn a_light_copy_sends_the_same_request() {
        let context = context();
        let original = request(&context);
        let before = sent(&original);
        let replay = Replay::keep(&original, &context).expect("copyable");
        assert!(matches!(replay.kept, Kept::Light { .. }));
        assert_eq!(sent(&original), before, "the original is untouched");
        assert_eq!(sent(&replay.request().expect("again")), before);
        assert_eq!(replay.request().expect("again").url(), original.url());
    }

    #[test]
    fn other_headers_are_copied_whole() {
        let context = context();
        let mut original = request(&context);
        original.headers_mut().insert(
            reqwest::header::IF_NONE_MATCH,
            HeaderValue::from_static("\"v1\""),
        );
        let before = sent(&original);
        let replay = Replay::keep(&original, &context).expect("copyable");
        assert!(matches!(replay.kept, Kept::Whole(_)));
        assert_eq!(sent(&replay.request().expect("again")), before);
    }

    #[test]
    fn credentials_taken_off_stay_off() {
        let context = context();
        let mut original = request(&context);
        original.headers_mut().remove(AUTHORIZATION);
        original.headers_mut().remove(API_KEY_HEADER);
        let replay = Replay::keep(&original, &context).expect("copyable");
        assert!(matches!(replay.kept, Kept::Whole(_)));
        let again = replay.request().expect("again");
        assert!(!again.headers().contains_key(AUTHORIZATION));
        assert!(!again.headers().contains_key(API_KEY_HEADER));
    }

    #[test]
    fn a_repeated_header_is_copied_whole() {
        let context = context();
        let mut original = request(&context);
        original
            .headers_mut()
            .append(ACCEPT, HeaderValue::from_static("application/json"));
        let before = sent(&original);
        let replay = Replay::keep(&original, &context).expect("copyable");
        assert!(matches!(replay.kept, Kept::Whole(_)));
        assert_eq!(sent(&replay.request().expect("again")), before);
    }

    #[test]
    fn a_long_body_and_no_timeout_are_kept_too() {
        let context = context();
        let mut original = request(&context);
        *original.body_mut() = Some(reqwest::Body::from(vec![b'x'; COPIED_BODY + 1]));
        let mut plain = Request::new(reqwest::Method::GET, original.url().clone());
        context.authenticate(&mut plain);
        for request in [original, plain] {
            let before = sent(&request);
            let replay = Replay::keep(&request, &context).expect("copyable");
            assert!(matches!(replay.kept, Kept::Light { .. }));
            assert_eq!(sent(&replay.request().expect("again")), before);
        }
    }

    #[test]
    fn a_streamed_body_is_not_kept() {
        let context = context();
        let mut original = request(&context);
        let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from("x"))]);
        *original.body_mut() = Some(reqwest::Body::wrap_stream(stream));
        assert!(Replay::keep(&original, &context).is_none());
    }
}
