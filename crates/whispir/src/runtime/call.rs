//! The calls every generated `send()` makes once progenitor's code has
//! built the request (with Whispir's media types and the workspace): the
//! credentials are put on it, its attempts run (`execute`), and the answer is
//! decoded into a typed [`Response`] or one [`Error`].
//!
//! `cargo xtask regen` rewrites the response handling of the generated
//! methods to call these functions (see `xtask/src/passes/response_handling.rs`).

use std::time::Duration;

use bytes::Bytes;
use futures::future::Either;
use reqwest::header::HeaderValue;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use tracing::Instrument as _;
use whispir_errors::transport::from_reqwest;
use whispir_errors::{Error, RawBody, resolve_location};

use crate::runtime::context::ClientContext;
use crate::runtime::execute::{Attempts, Progress, call_span, read_capped};
use crate::runtime::metrics::call_error_type;
use crate::runtime::operations::OperationSpec;
use crate::runtime::response::Response;
use crate::runtime::sent::{Sent, receipts_of};

/// A request as the generated code built it, or why it could not.
pub(crate) type Built =
    Result<reqwest::Request, progenitor_client::Error<progenitor_client::ByteStream>>;

/// A successful answer, before its body is read.
pub(crate) struct Answer {
    pub(crate) spec: &'static OperationSpec,
    pub(crate) method: Method,
    pub(crate) response: reqwest::Response,
}

impl Answer {
    /// The absolute `Location` of the answer, when it has a usable one.
    fn location(&self) -> Option<reqwest::Url> {
        if !self
            .response
            .headers()
            .contains_key(reqwest::header::LOCATION)
        {
            return None;
        }
        match resolve_location(self.response.url(), self.response.headers()) {
            Ok(url) => Some(url),
            Err(err) => {
                tracing::warn!(operation = self.spec.operation_id, %err, "unusable Location header");
                None
            }
        }
    }

    /// The body, at most `limit` bytes; a longer body, or one that did not
    /// arrive whole, is an error that says the request was carried out.
    async fn bytes(self, limit: usize) -> Result<(Parts, Bytes), Error> {
        let (parts, read) = self.read(limit, None).await;
        match read {
            Ok(bytes) => Ok((parts, bytes)),
            Err(BodyProblem::TooLarge(bytes)) => {
                let source = BodyTooLarge { limit };
                Err(parts.decode_error(bytes, true, source))
            }
            Err(BodyProblem::TooSlow) => Err(parts.incomplete_error(BodyTooSlow)),
            Err(BodyProblem::Broken(err)) => Err(parts.incomplete_error(err)),
        }
    }

    /// The parts of the answer and its body, at most `limit` bytes, within
    /// `grace` when one is given (else within the call's time). A body
    /// that is not read to its end (too long, broken, too slow) leaves its
    /// connection unusable: hyper closes it rather than pool it.
    async fn read(
        mut self,
        limit: usize,
        grace: Option<Duration>,
    ) -> (Parts, Result<Bytes, BodyProblem>) {
        let parts = Parts {
            location: self.location(),
            status: self.response.status(),
            headers: std::mem::take(self.response.headers_mut()),
            spec: self.spec,
            method: self.method,
        };
        let reading = read_capped(self.response, limit);
        let read = match grace {
            Some(grace) => tokio::time::timeout(grace, reading).await,
            None => Ok(reading.await),
        };
        let read = match read {
            Err(_elapsed) => Err(BodyProblem::TooSlow),
            Ok(Ok((bytes, false))) => Ok(bytes),
            Ok(Ok((bytes, true))) => Err(BodyProblem::TooLarge(bytes)),
            Ok(Err(err)) if err.is_timeout() => Err(BodyProblem::TooSlow),
            Ok(Err(err)) => Err(BodyProblem::Broken(err.without_url())),
        };
        (parts, read)
    }
}

/// How long the body of an answer the call does not use may take to
/// arrive before its connection is dropped instead of reused.
const UNUSED_BODY_GRACE: Duration = Duration::from_secs(1);

/// Why a success body was not read whole.
enum BodyProblem {
    /// Longer than the client's limit: the first `limit` bytes.
    TooLarge(Bytes),
    /// The rest did not arrive in time.
    TooSlow,
    /// The connection failed or closed before the declared length.
    Broken(reqwest::Error),
}

/// What is kept of an answer once its body is being read.
pub(crate) struct Parts {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) location: Option<reqwest::Url>,
    pub(crate) spec: &'static OperationSpec,
    pub(crate) method: Method,
}

impl Parts {
    fn decode_error(
        &self,
        bytes: Bytes,
        truncated: bool,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        let limit = whispir_errors::DEFAULT_BODY_LIMIT;
        let cut = bytes.len() > limit;
        let raw = RawBody::new(bytes.slice(..bytes.len().min(limit)), truncated || cut);
        Error::decode(
            Some(self.spec.operation_id),
            Some(self.method.clone()),
            Some(self.status),
            raw,
            source,
        )
    }

    fn incomplete_error(
        &self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Error {
        Error::body_incomplete(
            Some(self.spec.operation_id),
            Some(self.method.clone()),
            Some(self.status),
            RawBody::new(Bytes::new(), true),
            source,
        )
    }

    pub(crate) fn into_response<T>(self, body: Box<T>) -> Response<T> {
        Response::new(self.status, self.headers, self.location, body)
    }
}

/// A success body that did not arrive in time.
#[derive(Debug, thiserror::Error)]
#[error(
    "the response body did not arrive in time (ClientBuilder::attempt_timeout, ClientBuilder::timeout)"
)]
struct BodyTooSlow;

/// A success body longer than the client accepts.
#[derive(Debug, thiserror::Error)]
#[error(
    "the response body is longer than the client's limit of {limit} bytes (ClientBuilder::body_limit)"
)]
struct BodyTooLarge {
    limit: usize,
}

/// A call ready to be sent: its operation, method and request.
pub(crate) struct Call<'a> {
    http: &'a reqwest::Client,
    context: &'a ClientContext,
    spec: &'static OperationSpec,
    method: Method,
    request: reqwest::Request,
    /// Whether the call sends a message: its outcome is counted as a send.
    sends_message: bool,
}

impl<'a> Call<'a> {
    /// The call of the operation `spec`, its request completed; arguments
    /// that could not be sent were refused while it was built (and counted
    /// as a call that sent nothing; a message send as refused, when
    /// `sends_message`).
    pub(crate) fn prepare(
        (http, context): (&'a reqwest::Client, &'a ClientContext),
        spec: &'static OperationSpec,
        built: Built,
        sends_message: bool,
    ) -> Result<Self, Error> {
        let refused = |err: Error| {
            let metrics = &context.policy().metrics;
            metrics.call(spec.operation_id, Duration::ZERO, 0, Some(&err));
            if sends_message {
                metrics.send(spec.operation_id, Err(&err));
            }
            Err(err)
        };
        let mut request = match built {
            Ok(request) => request,
            Err(err) => {
                let method = Method::from_bytes(spec.http_method.as_bytes()).unwrap_or(Method::GET);
                return refused(build_error(spec, &method, err));
            }
        };
        let method = request.method().clone();
        if let Some(missing) = missing_body_fields(spec, &request) {
            return refused(
                Error::invalid_request(Some(spec.operation_id), missing)
                    .with_call(spec.operation_id, &method)
                    .with_effect(spec.effect),
            );
        }
        // The generated code sets the vendor media types
        // (`xtask/src/passes/media_types.rs`); the credentials are the client's.
        context.authenticate(&mut request);
        Ok(Self {
            http,
            context,
            spec,
            method,
            request,
            sends_message,
        })
    }

    /// Sends the call and decodes its successful answer with `decode`, all
    /// within the client's time budget for a whole call. (A plain function
    /// returning its future: see `execute::Attempts::run`.)
    fn run<T, F, Fut>(self, decode: F) -> impl Future<Output = Result<T, Error>> + 'a
    where
        T: 'a,
        F: FnOnce(Answer) -> Fut + 'a,
        Fut: Future<Output = Result<T, Error>> + 'a,
    {
        let Call {
            http,
            context,
            spec,
            method,
            request,
            sends_message,
        } = self;
        let span = call_span(spec, &request);
        async move {
            let budget = context.options().timeout;
            let started = Instant::now();
            let deadline = far_instant(started, budget);
            let progress = Progress::default();
            // No timer of its own: every request of the call is sent with
            // the shorter of the attempt timeout and what is left of the
            // budget, and that bound covers its body too (see `redirect`).
            let attempts = Attempts::new(
                http,
                context,
                spec,
                method.clone(),
                (started, deadline),
                &progress,
            );
            let result = match attempts.finish(attempts.run(request).await) {
                Ok(response) => decode(Answer {
                    spec,
                    method,
                    response,
                })
                .await
                .map_err(|err| {
                    err.with_attempts(progress.attempts())
                        .with_effect(spec.effect)
                }),
                Err(err) => Err(err),
            };
            let error = result.as_ref().err();
            let metrics = &context.policy().metrics;
            metrics.call(
                spec.operation_id,
                started.elapsed(),
                progress.attempts(),
                error,
            );
            if sends_message {
                metrics.send(spec.operation_id, error.map_or(Ok(()), Err));
            }
            if let Some(err) = error {
                let span = tracing::Span::current();
                span.record("error.type", call_error_type(err));
                span.record("otel.status_code", "error");
            }
            result
        }
        .instrument(span)
    }

    /// The call's future, boxed once, whole, when the call is made; a call
    /// refused while it was built fails when awaited. Sending and decoding
    /// make a large future; boxed, the generated `send()` future and every
    /// future that awaits it (the caller's, a `join_all`'s task) hold and
    /// move a pointer instead of a few KB (measured with callgrind: every
    /// level that held the call's future copied it whole).
    fn start<T, F, Fut>(
        prepared: Result<Self, Error>,
        decode: F,
    ) -> impl Future<Output = Result<T, Error>> + 'a
    where
        T: 'a,
        F: FnOnce(Answer) -> Fut + 'a,
        Fut: Future<Output = Result<T, Error>> + 'a,
    {
        match prepared {
            Ok(call) => Either::Left(Box::pin(call.run(decode))),
            Err(err) => Either::Right(Box::pin(std::future::ready(Err(err)))),
        }
    }
}

/// Why the request's body may not be sent: the fields the operation
/// requires of it (`OperationSpec::body_requires`) that it does not carry,
/// e.g. "body: missing required field: password", or the alternatives of
/// which it carries none whole (`OperationSpec::body_requires_any`), e.g.
/// "body: missing required field: to or resource". The body is read as it
/// will go on the wire, so a field set to `None` counts as missing.
fn missing_body_fields(spec: &OperationSpec, request: &reqwest::Request) -> Option<String> {
    if spec.body_requires.is_empty() && spec.body_requires_any.is_empty() {
        return None;
    }
    let fields: serde_json::Map<String, serde_json::Value> = request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .and_then(|bytes| serde_json::from_slice(bytes).ok())
        .unwrap_or_default();
    let absent = |json: &str| fields.get(json).is_none_or(serde_json::Value::is_null);
    let mut missing: Vec<String> = spec
        .body_requires
        .iter()
        .filter(|(json, _)| absent(json))
        .map(|(_, setter)| (*setter).to_string())
        .collect();
    let alternatives = spec.body_requires_any;
    let carried = |fields: &[(&str, &str)]| fields.iter().all(|(json, _)| !absent(json));
    if !alternatives.is_empty() && !alternatives.iter().any(|fields| carried(fields)) {
        let named: Vec<String> = alternatives
            .iter()
            .map(|fields| {
                let setters: Vec<&str> = fields.iter().map(|(_, setter)| *setter).collect();
                setters.join(" and ")
            })
            .collect();
        missing.push(named.join(" or "));
    }
    let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
    missing_fields(&missing).map(|text| format!("body: {text}"))
}

/// `now + budget`, or a day from now when that does not fit an `Instant`.
fn far_instant(now: Instant, budget: std::time::Duration) -> Instant {
    now.checked_add(budget)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(24 * 3600))
}

fn build_error(
    spec: &OperationSpec,
    method: &Method,
    err: progenitor_client::Error<progenitor_client::ByteStream>,
) -> Error {
    use progenitor_client::Error as P;
    let operation = Some(spec.operation_id);
    match err {
        P::InvalidRequest(message) => Error::invalid_request(operation, message),
        P::CommunicationError(err) => from_reqwest(operation, Some(method.clone()), err),
        other => Error::invalid_request(operation, other.to_string()),
    }
    .with_call(spec.operation_id, method)
    .with_effect(spec.effect)
}

/// An operation answered with a JSON body of type `T`.
pub(crate) fn json<'a, T: DeserializeOwned + 'a>(
    http: &'a reqwest::Client,
    context: &'a ClientContext,
    spec: &'static OperationSpec,
    built: Built,
) -> impl Future<Output = Result<Response<T>, Error>> + 'a {
    let limit = context.options().body_limit;
    Call::start(
        Call::prepare((http, context), spec, built, false),
        move |answer| decode_json(answer, limit),
    )
}

async fn decode_json<T: DeserializeOwned>(
    answer: Answer,
    limit: usize,
) -> Result<Response<T>, Error> {
    let (parts, bytes) = answer.bytes(limit).await?;
    // Decoded straight into a box: see `Response`.
    match serde_json::from_slice::<Box<T>>(&bytes) {
        Ok(body) => Ok(parts.into_response(body)),
        Err(err) => Err(parts.decode_error(bytes, false, err)),
    }
}

/// An operation whose success documents no body (204, or an answer whose
/// status says all): the generator picks it from the spec's success
/// responses. The status is the API's word that it acted, so a body that
/// does not arrive whole (the connection closed before the declared
/// length, the rest too slow or too long) cannot turn a finished delete
/// into an error: the call succeeds, [`Response::body_incomplete`] says
/// so, and the connection is dropped rather than reused.
pub(crate) fn empty<'a>(
    http: &'a reqwest::Client,
    context: &'a ClientContext,
    spec: &'static OperationSpec,
    built: Built,
) -> impl Future<Output = Result<Response<()>, Error>> + 'a {
    let limit = context.options().body_limit;
    Call::start(
        Call::prepare((http, context), spec, built, false),
        move |answer| async move {
            // Nothing of the body is used: it is read only so that the
            // connection can serve another request, and not waited for
            // long (a server that declares a length it never sends would
            // hold the call to its end).
            let (parts, read) = answer.read(limit, Some(UNUSED_BODY_GRACE)).await;
            let whole = read.is_ok();
            if !whole {
                tracing::warn!(
                    operation = parts.spec.operation_id,
                    status = parts.status.as_u16(),
                    "the API acted, but the body of its answer did not arrive whole"
                );
            }
            let response = parts.into_response(Box::new(()));
            Ok(if whole {
                response
            } else {
                response.with_body_incomplete()
            })
        },
    )
}

/// `messageCreate`: a message accepted for sending (202 with `Location`),
/// or scheduled (200 echoing the message).
pub(crate) fn message_sent<'a, M: DeserializeOwned + 'a>(
    http: &'a reqwest::Client,
    context: &'a ClientContext,
    spec: &'static OperationSpec,
    built: Built,
) -> impl Future<Output = Result<Sent<M>, Error>> + 'a {
    let limit = context.options().body_limit;
    // Which channels the message has decides when a wait for it ends.
    let receipts = built
        .as_ref()
        .ok()
        .and_then(reqwest::Request::body)
        .and_then(reqwest::Body::as_bytes)
        .and_then(receipts_of);
    Call::start(
        Call::prepare((http, context), spec, built, true),
        move |answer| async move {
            // The message was sent: from here on nothing may turn into an
            // error that hides it. A body that cannot be read only loses the
            // echo; it is read in any case so that the connection can be
            // reused, and only a JSON object can be the scheduled echo.
            let location = answer.location();
            let Answer { mut response, .. } = answer;
            let status = response.status();
            let headers = std::mem::take(response.headers_mut());
            let reading = read_capped(response, limit);
            // A 202's body is never used (its `Location` says which message):
            // it gets the grace of any unused body, not the call's budget.
            let body = if status == StatusCode::ACCEPTED {
                tokio::time::timeout(UNUSED_BODY_GRACE, reading).await.ok()
            } else {
                Some(reading.await)
            };
            let scheduled = match body {
                Some(Ok((bytes, false))) if bytes.trim_ascii_start().starts_with(b"{") => {
                    serde_json::from_slice(&bytes).ok().map(Box::new)
                }
                _ => None,
            };
            Ok(Sent::new(status, headers, location, scheduled, receipts))
        },
    )
}

/// Sends a GET for `url` with the media type of `spec` and decodes the body.
pub(crate) fn get_json<'a, T: DeserializeOwned + 'a>(
    (http, context): (&'a reqwest::Client, &'a ClientContext),
    url: reqwest::Url,
    spec: &'static OperationSpec,
) -> impl Future<Output = Result<Response<T>, Error>> + 'a {
    let mut request = reqwest::Request::new(Method::GET, url);
    request.headers_mut().insert(
        reqwest::header::ACCEPT,
        HeaderValue::from_static(spec.accept),
    );
    context.authenticate(&mut request);
    let limit = context.options().body_limit;
    let call = Call {
        http,
        context,
        spec,
        method: Method::GET,
        request,
        sends_message: false,
    };
    Call::start(Ok(call), move |answer| decode_json(answer, limit))
}

/// "missing required field: to", "missing required fields: subject, to",
/// or `None` when `names` is empty.
pub(crate) fn missing_fields(names: &[&str]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("missing required field: {one}")),
        many => Some(format!("missing required fields: {}", many.join(", "))),
    }
}
