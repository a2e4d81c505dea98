//! Following 301, 302, 303, 307 and 308 in the SDK instead of in reqwest.
//!
//! What may follow a redirect is decided by what the operation does (its
//! [`Effect`] in the operation table), never by whether it has a body:
//!
//! - A **read** follows every redirect status, at most [`MAX_HOPS`] times.
//!   To another origin it goes without `Authorization`, `x-api-key`,
//!   cookies and cache validators, and its answer there is *foreign*: it
//!   is handed to the caller but never feeds state shared by the client's
//!   clones (the limiter's pause, the cache, the redirect memory).
//! - A **write** (idempotent or not) is sent again only on 307 and 308,
//!   which promise that the API did not act on it, and only to the same
//!   origin. A 303 says the API acted and points at the result: the call
//!   ends with [`RedirectRefusal::CarriedOut`] naming that `Location`. A 301
//!   or 302 does not say either way: [`RedirectRefusal::SendNotRepeated`]
//!   ("may have been carried out"). Nothing is sent to another origin
//!   ([`RedirectRefusal::OtherOrigin`]).
//! - A hop from HTTPS to plain HTTP is refused for everything.
//!
//! A 301 or 308 answered to a read between two URLs of the API's own
//! origin is remembered (at most [`REMEMBERED_REDIRECTS`](crate::runtime::redirect_memory::REMEMBERED_REDIRECTS) moves, each for
//! [`REMEMBER_FOR`](crate::runtime::redirect_memory::REMEMBER_FOR)) and applied to later reads only, never to a write
//! (`GET /contacts/CD` moved to `/contacts` must not turn a delete of `CD`
//! into `DELETE /contacts`); it is forgotten as soon as a request sent to
//! the new URL fails. A 302 or 307 is not remembered, and nothing learnt
//! from another origin is. Cache validators never follow a redirect, and
//! requests to another origin do not pass the rate limiter (they are not
//! the plan's).

use std::collections::HashSet;

use reqwest::header::{AUTHORIZATION, COOKIE, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use reqwest::{StatusCode, Url};
use whispir_errors::transport::kind_of;
use whispir_errors::{
    Effect, RedirectRefusal, Refusal, is_downgrade, resolve_location, same_origin,
};

use crate::runtime::gate::{Failure, Gate};
use crate::runtime::metrics::RequestOutcome;
use crate::runtime::redirect_memory::{RedirectMemory, without_query};
use crate::runtime::replay::Replay;
use crate::runtime::wire::API_KEY_HEADER;

/// The most redirects one call follows.
pub const MAX_HOPS: usize = 5;

fn without_fragment(url: &Url) -> Url {
    let mut url = url.clone();
    url.set_fragment(None);
    url
}

/// What crosses to another origin with a read: nothing of the client's.
fn strip_for_other_origin(request: &mut reqwest::Request) {
    let headers = request.headers_mut();
    headers.remove(AUTHORIZATION);
    headers.remove(API_KEY_HEADER);
    headers.remove(COOKIE);
    // The validators name the API's cached answer, not anything there.
    headers.remove(IF_NONE_MATCH);
    headers.remove(IF_MODIFIED_SINCE);
}

fn is_followed(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn refuse(status: StatusCode, reason: RedirectRefusal) -> Result<Arrived, Failure> {
    tracing::warn!(
        status = status.as_u16(),
        ?reason,
        "a redirect was not followed"
    );
    Err(Failure::Refused(Refusal::Redirect { status, reason }))
}

/// The answer a request's redirects led to.
#[derive(Debug)]
pub(crate) struct Arrived {
    /// The answer.
    pub(crate) response: reqwest::Response,
    /// Whether it came from another origin than the first request's: a
    /// foreign answer never feeds state shared by the client's clones.
    pub(crate) foreign: bool,
    /// Whether it answered another URL than the first request's (a
    /// redirect was followed): the cache keeps only answers to the URL it
    /// keys on.
    pub(crate) redirected: bool,
}

/// Whether a write may be sent again on this redirect: only when the API
/// promised it did not act (307, 308). Otherwise, why not.
fn write_redirect_refusal(status: StatusCode, to: Option<&Url>) -> Option<RedirectRefusal> {
    match status.as_u16() {
        307 | 308 => None,
        // "See other": the API carried the request out and points at the
        // result, which the caller may read.
        303 => Some(RedirectRefusal::CarriedOut {
            location: to.map(Url::to_string),
        }),
        _ => Some(RedirectRefusal::SendNotRepeated),
    }
}

/// Sends a request of an operation with `effect` and follows the redirects
/// it gets as the module says, each hop passing the `gate` (the rate
/// limiter). `template` is a copy of the request to send again on a
/// redirect (without one, a redirect cannot be followed).
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
    (gate, effect): (Gate<'a>, Effect),
) -> impl Future<Output = Result<Arrived, Failure>> + 'a {
    async move {
        // Built on the first redirect only: most calls are never redirected.
        let mut visited: Option<HashSet<Url>> = None;
        let mut origin: Option<Url> = None;
        let mut spare: Option<reqwest::Request> = None;
        let mut foreign = false;
        // Whether the next request goes to the API's origin.
        let mut at_api = true;
        let mut hops = 0;
        loop {
            // Every request to the API is one the plan counts; one to
            // another origin is not the plan's (nor a way to spend it).
            let token = if at_api {
                gate.pass().await.map_err(|refusal| {
                    if hops == 0 {
                        Failure::Held(refusal)
                    } else {
                        Failure::Refused(refusal)
                    }
                })?
            } else {
                None
            };
            // Checked after the limiter's wait, which may have used the budget.
            let Some(timeout) = gate.request_timeout() else {
                return Err(Failure::OutOfTime { hop_sent: hops > 0 });
            };
            timeout.apply(&mut current);
            if let Some(token) = token {
                token.sent();
            }
            let sending = gate.sending(&current);
            let response = match http.execute(current).await {
                Ok(response) => {
                    gate.answered(sending, RequestOutcome::Answered(response.status()));
                    response
                }
                Err(err) => {
                    gate.answered(sending, RequestOutcome::Failed(kind_of(&err)));
                    return Err(Failure::Transport(err));
                }
            };
            let status = response.status();
            if !is_followed(status) {
                return Ok(Arrived {
                    response,
                    foreign,
                    redirected: hops > 0,
                });
            }
            // reqwest follows nothing itself: the response's URL is the request's.
            let from = response.url().clone();
            let first = origin.get_or_insert_with(|| from.clone());
            let to = resolve_location(&from, response.headers());
            if !effect.is_read()
                && let Some(reason) = write_redirect_refusal(status, to.as_ref().ok())
            {
                return refuse(status, reason);
            }
            let next = match spare.take() {
                Some(next) => Some(next),
                None => template.and_then(Replay::request),
            };
            let Some(mut next) = next else {
                return refuse(status, RedirectRefusal::BodyNotReplayable);
            };
            let to = match to {
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
            let leaves = !same_origin(first, &to);
            if leaves && !effect.is_read() {
                return refuse(
                    status,
                    RedirectRefusal::OtherOrigin {
                        origin: to.origin().ascii_serialization(),
                    },
                );
            }
            let permanent =
                status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::PERMANENT_REDIRECT;
            // Only a read's move is remembered, and only reads are moved
            // by the memory: a write never goes where a read was sent.
            if permanent && effect.is_read() && !foreign && !leaves {
                tracing::warn!(
                    old = %without_query(&from),
                    new = %without_query(&to),
                    "Whispir moved a resource permanently; the SDK uses the new URL for a while"
                );
                memory.remember(&from, &to);
            } else {
                tracing::debug!(from = %without_query(&from), to = %without_query(&to), "following a redirect");
            }
            if leaves {
                strip_for_other_origin(&mut next);
            }
            // The validators name the first URL's cached answer, not the
            // next URL's.
            crate::runtime::cache::ResponseCache::remove_validators(&mut next);
            at_api = !leaves;
            // Anything a foreign server pointed to stays foreign.
            foreign = foreign || leaves;
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
    use std::time::Duration;
    use tokio::time::Instant;

    fn url(text: &str) -> Url {
        text.parse().expect("url")
    }

    #[test]
    fn writes_follow_only_307_and_308() {
        let to = url("https://api.au.whispir.com/scenarios/AB/runs/1");
        assert_eq!(
            write_redirect_refusal(StatusCode::TEMPORARY_REDIRECT, Some(&to)),
            None
        );
        assert_eq!(
            write_redirect_refusal(StatusCode::PERMANENT_REDIRECT, Some(&to)),
            None
        );
        assert_eq!(
            write_redirect_refusal(StatusCode::SEE_OTHER, Some(&to)),
            Some(RedirectRefusal::CarriedOut {
                location: Some(to.to_string())
            })
        );
        for status in [StatusCode::MOVED_PERMANENTLY, StatusCode::FOUND] {
            assert_eq!(
                write_redirect_refusal(status, Some(&to)),
                Some(RedirectRefusal::SendNotRepeated)
            );
        }
    }

    /// Every operation that is not a read, answered with every redirect
    /// status to its own origin and to another: the API is asked to carry
    /// it out at most once (a request answered 307/308, which promises it
    /// was not carried out, is not counted), and nothing reaches the other
    /// origin. Exhaustive over the generated operation table.
    #[tokio::test]
    async fn no_write_is_carried_out_twice_or_sent_elsewhere_on_any_redirect() {
        use crate::runtime::context::{ClientContext, Credentials};
        use crate::runtime::operations::OperationSpec;
        use wiremock::matchers::{any, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let api = MockServer::start().await;
        let elsewhere = MockServer::start().await;
        crate::tls::install_tls_provider();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let context = ClientContext::new(&Credentials::basic("u", "p"), "key").expect("context");
        let memory = RedirectMemory::default();
        let writes = OperationSpec::all()
            .iter()
            .filter(|spec| !spec.effect.is_read());
        let mut cases = 0;
        for spec in writes {
            for status in [301u16, 302, 303, 307, 308] {
                for foreign in [false, true] {
                    api.reset().await;
                    elsewhere.reset().await;
                    let target = if foreign {
                        format!("{}/target", elsewhere.uri())
                    } else {
                        "/target".to_string()
                    };
                    Mock::given(path("/operation"))
                        .respond_with(
                            ResponseTemplate::new(status).insert_header("location", target),
                        )
                        .mount(&api)
                        .await;
                    for server in [&api, &elsewhere] {
                        Mock::given(any())
                            .respond_with(ResponseTemplate::new(200))
                            .mount(server)
                            .await;
                    }
                    let method =
                        reqwest::Method::from_bytes(spec.http_method.as_bytes()).expect("method");
                    let url = format!("{}/operation", api.uri()).parse().expect("url");
                    let mut request = reqwest::Request::new(method, url);
                    if spec.content_type.is_some() {
                        *request.body_mut() = Some(reqwest::Body::from("{}"));
                    }
                    context.authenticate(&mut request);
                    let copy = Replay::keep(&request, &context);
                    let gate = Gate::unlimited(
                        Instant::now() + Duration::from_secs(10),
                        Duration::from_secs(5),
                    );
                    let outcome = send_following_redirects(
                        &http,
                        request,
                        copy.as_ref(),
                        &memory,
                        (gate, spec.effect),
                    )
                    .await;
                    let received = api.received_requests().await.expect("recorded");
                    let carried_out = received
                        .iter()
                        .filter(|request| request.url.path() != "/operation" || status < 307)
                        .count();
                    let case = format!("{} {status} foreign={foreign}", spec.operation_id);
                    assert!(carried_out <= 1, "{case}: carried out {carried_out} times");
                    assert!(
                        elsewhere
                            .received_requests()
                            .await
                            .expect("recorded")
                            .is_empty(),
                        "{case}: sent to another origin"
                    );
                    let followed = matches!(status, 307 | 308) && !foreign;
                    assert_eq!(outcome.is_ok(), followed, "{case}");
                    cases += 1;
                }
            }
        }
        assert!(cases >= 300, "the table lists the writes: {cases} cases");
    }
}
