//! What happens to a request between the generated code and the wire:
//! rate limit, retries with backoff and a budget, redirects, the 304 cache,
//! capped error bodies, and a tracing span per call. The retry decision
//! and the error a user sees come from one classification of the answer.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use whispir_errors::transport::{from_reqwest, kind_of};
use whispir_errors::{Error, RawBody, Refusal, SendState, TransportKind};

use crate::runtime::cache::{ResponseCache, Settled};
use crate::runtime::context::{CallPolicy, ClientContext};
use crate::runtime::gate::{Failure, Gate};
use crate::runtime::metrics::{PauseReason, RequestOutcome, method_name, request_error_type};
use crate::runtime::operations::OperationSpec;
use crate::runtime::redirect::{Arrived, send_following_redirects};
use crate::runtime::replay::Replay;
use crate::runtime::retry::wait_before_retry;

/// The whole call took longer than the client allows.
#[derive(Debug, thiserror::Error)]
#[error("the call's time budget of {budget:?} (ClientBuilder::timeout) ran out")]
pub(crate) struct OutOfTime {
    pub(crate) budget: Duration,
}

/// The longest pause one quota refusal from the API imposes on every clone
/// of a client; the call that got it still reports the whole `Retry-After`.
const MAX_SERVER_PAUSE: Duration = Duration::from_secs(60);

/// What a running call has done so far: the attempts it sent, which every
/// error of the call reports, including a decode error after the attempts
/// returned. Atomic so that the call's future stays `Send`.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    attempts: AtomicU32,
}

impl Progress {
    /// How many times the request was sent.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts.load(Ordering::Acquire)
    }
}

/// The tracing span of one call of the operation `spec`, named for it
/// for OpenTelemetry (`otel.name`, which `tracing-opentelemetry` reads):
/// operation, method, host and path template, then attempt, status, error
/// type, retry decision and elapsed time as they are known. The same
/// names as the metrics' attributes; never credentials, ids of the path,
/// the query or bodies.
pub(crate) fn call_span(spec: &'static OperationSpec, request: &reqwest::Request) -> tracing::Span {
    tracing::info_span!(
        "whispir.call",
        otel.name = spec.operation_id,
        whispir.operation = spec.operation_id,
        http.request.method = method_name(request.method()),
        server.address = request.url().host_str(),
        url.template = spec.path,
        attempt = tracing::field::Empty,
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
        retry = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    )
}

/// The span of one attempt of a call, a child of the call's span: the
/// request's method, host and port, then the status it got (after any
/// redirects) or the error type.
fn attempt_span(attempt: u32, request: &reqwest::Request) -> tracing::Span {
    let method = method_name(request.method());
    tracing::info_span!(
        "whispir.attempt",
        otel.name = method,
        otel.kind = "client",
        whispir.attempt = attempt,
        http.request.method = method,
        server.address = request.url().host_str(),
        server.port = request.url().port_or_known_default(),
        http.response.status_code = tracing::field::Empty,
        error.type = tracing::field::Empty,
    )
}

impl<'a> Attempts<'a> {
    /// The attempts of one call of the operation `spec`, within the call's
    /// `deadline`. Awaited inside the call's span.
    pub(crate) fn new(
        http: &'a reqwest::Client,
        context: &'a ClientContext,
        spec: &'static OperationSpec,
        method: Method,
        (started, deadline): (Instant, Instant),
        progress: &'a Progress,
    ) -> Self {
        Self {
            http,
            context,
            policy: context.policy(),
            spec,
            operation: spec.operation_id,
            method,
            started,
            deadline,
            progress,
        }
    }

    /// The outcome of the attempts ([`Attempts::run`]): the successful (2xx,
    /// or 304 answered from the cache) response, or an [`Error`] naming the
    /// operation, method and attempts. Records the status and elapsed time
    /// on the call's span, and logs a failure.
    pub(crate) fn finish(
        &self,
        result: Result<reqwest::Response, Error>,
    ) -> Result<reqwest::Response, Error> {
        let span = tracing::Span::current();
        if !span.is_disabled() {
            span.record("elapsed_ms", self.started.elapsed().as_millis());
        }
        match &result {
            Ok(response) => {
                span.record("http.response.status_code", response.status().as_u16());
            }
            Err(err) => {
                if let Some(status) = err.status() {
                    span.record("http.response.status_code", status.as_u16());
                }
                // The API's text may echo recipients or message text: only at
                // debug level.
                tracing::info!(class = ?err.class(), attempts = self.progress.attempts(), "the call failed");
                tracing::debug!(error = %err, "the call failed");
            }
        }
        result.map_err(|err| {
            err.with_attempts(self.progress.attempts())
                .with_effect(self.spec.effect)
        })
    }
}

/// One call's attempts and what they share. A call awaits
/// [`Attempts::run`] directly, inside its span (`call::Call::run`): no
/// future of its own between them, since every level of futures is moved
/// whole into the one above it.
pub(crate) struct Attempts<'a> {
    http: &'a reqwest::Client,
    /// Credentials for requests sent again (see `replay`).
    context: &'a ClientContext,
    policy: &'a CallPolicy,
    /// The operation: what it does decides retries, redirects and caching.
    spec: &'static OperationSpec,
    operation: &'static str,
    method: Method,
    /// When the call started (its budget counts from here).
    started: Instant,
    deadline: Instant,
    progress: &'a Progress,
}

impl Attempts<'_> {
    /// The attempts of one call, with the retry decisions between them. An
    /// answer that is not a success becomes the SDK's error at once (its
    /// body read, capped), and that one classification decides the retry.
    /// No retry starts that could not finish before the deadline. (A plain
    /// function returning its future: an `async fn` keeps a moved argument
    /// twice in its future, as argument and as local, and a request is 264
    /// bytes; the same holds for `send_following_redirects`.)
    #[allow(
        clippy::manual_async_fn,
        reason = "an `async fn` would keep the request twice in its future"
    )]
    pub(crate) fn run(
        &self,
        mut current: reqwest::Request,
    ) -> impl Future<Output = Result<reqwest::Response, Error>> + '_ {
        async move {
            let span = tracing::Span::current();
            let started = self.started;
            let policy = self.policy;
            let effect = self.spec.effect;
            // The URL the caller asked for, when a remembered move sent the
            // request elsewhere: a failure there forgets the move.
            // Remembered moves were learnt from reads and apply to reads only.
            let mut moved_from = if effect.is_read() {
                policy.redirects.rewrite(&mut current)
            } else {
                None
            };
            let cache = policy.cache.as_ref().filter(|_| effect.is_read());
            let cache_key = cache.map(|cache| cache.key(&current, self.spec.header_params));
            // The validators sent: a 304 confirms the entry that has them.
            let mut validators = None;
            if let (Some(cache), Some(key)) = (cache, &cache_key) {
                validators = cache.add_validators(key, &mut current);
            }
            let retry = &policy.options.retry;
            // Made on the first retry: most calls never need it.
            let mut caps = None;
            let mut retry_cost = None;
            let mut repeated_without_validators = false;
            let mut from_api = false;
            // The error that led to the retry under way: what the call
            // reports if the limiter holds that retry back.
            let mut previous: Option<Error> = None;
            loop {
                // Counted before sending: a call cut short by its deadline while
                // the request is out must say it may have been sent.
                let attempt = self.progress.attempts.fetch_add(1, Ordering::AcqRel) + 1;
                span.record("attempt", attempt);
                // A copy for a retry or a redirect; a body that cannot be copied
                // is sent once.
                let copy = Replay::keep(&current, self.context);
                let gate = Gate::new(
                    policy.limiter.as_ref(),
                    self.deadline,
                    policy.options.attempt_timeout,
                    (&policy.metrics, self.operation),
                );
                // Open from before the request to its answer, a child of the
                // call's span. Not entered: wrapping the attempt's future to
                // enter it would move that future, which every call would pay
                // for; the events of the attempt go to the call's span.
                let attempt_span = attempt_span(attempt, &current);
                let sent = send_following_redirects(
                    self.http,
                    current,
                    copy.as_ref(),
                    &policy.redirects,
                    (gate, effect),
                )
                .await;
                if !attempt_span.is_disabled() {
                    let outcome = match &sent {
                        Ok(arrived) => Some(RequestOutcome::Answered(arrived.response.status())),
                        Err(Failure::Transport(err)) => Some(RequestOutcome::Failed(kind_of(err))),
                        Err(_) => None,
                    };
                    if let Some(RequestOutcome::Answered(status)) = outcome {
                        attempt_span.record("http.response.status_code", status.as_u16());
                    }
                    if let Some(error) = outcome.and_then(request_error_type) {
                        attempt_span.record("error.type", error);
                    }
                }
                drop(attempt_span);
                let succeeded = matches!(&sent, Ok(arrived)
                    if arrived.response.status().is_success()
                        || arrived.response.status() == StatusCode::NOT_MODIFIED);
                let forgotten = moved_from.take_if(|_| !succeeded);
                if let Some(asked) = &forgotten {
                    // The remembered move failed: forget it; a retry goes
                    // where the caller asked.
                    policy.redirects.forget(asked);
                    tracing::info!(url = %asked.path(), "a remembered redirect failed and is forgotten");
                }
                let err = match sent {
                    Ok(Arrived {
                        response,
                        foreign,
                        redirected,
                    }) if response.status().is_success() => {
                        policy.budget.refund(retry_cost);
                        span.record("retry", "no");
                        // A foreign answer is handed on, never cached, and
                        // so is one for another URL than the key's.
                        let key = cache_key.as_deref().filter(|_| !foreign && !redirected);
                        return self.settle_cache(key, response).await;
                    }
                    Ok(Arrived {
                        response,
                        foreign: false,
                        redirected,
                    }) if response.status() == StatusCode::NOT_MODIFIED && cache_key.is_some() => {
                        // After a redirect no validators were sent: nothing
                        // is confirmed.
                        let confirmable = validators.as_ref().filter(|_| !redirected);
                        let key = cache_key.as_deref();
                        match self.settle(key, response, confirmable).await? {
                            Settled::Response(response) => {
                                span.record("retry", "no");
                                return Ok(response);
                            }
                            Settled::RepeatWithoutValidators { not_modified } => {
                                // The entry the 304 confirmed was evicted meanwhile:
                                // ask again, once, for the whole answer.
                                match copy.as_ref().and_then(Replay::request) {
                                    Some(mut again) if !repeated_without_validators => {
                                        ResponseCache::remove_validators(&mut again);
                                        repeated_without_validators = true;
                                        validators = None;
                                        current = again;
                                        continue;
                                    }
                                    _ => Box::pin(self.error_response(not_modified)).await,
                                }
                            }
                        }
                    }
                    Err(Failure::Held(refusal)) => {
                        // The limiter kept this attempt back: it never happened.
                        self.progress.attempts.fetch_sub(1, Ordering::AcqRel);
                        span.record("retry", "no");
                        if let Some(previous) = previous {
                            // A retry held back: the call failed with what the
                            // last attempt got, which was sent ("not sent"
                            // would be wrong).
                            tracing::info!(%refusal, "the retry was not sent");
                            return Err(previous);
                        }
                        return Err(self.refused(refusal));
                    }
                    Ok(Arrived {
                        response, foreign, ..
                    }) => {
                        // Only the API's own answers may pause the client.
                        from_api = !foreign;
                        Box::pin(self.error_response(response)).await
                    }
                    Err(Failure::Transport(err))
                        if err.is_timeout() && Instant::now() >= self.deadline =>
                    {
                        // The request's own timeout was the rest of the budget.
                        span.record("retry", "out of time");
                        return Err(self.out_of_time(SendState::MaybeSent));
                    }
                    Err(Failure::Transport(err)) => {
                        from_reqwest(Some(self.operation), Some(self.method.clone()), err)
                    }
                    Err(Failure::OutOfTime { hop_sent }) => {
                        if !hop_sent {
                            self.progress.attempts.fetch_sub(1, Ordering::AcqRel);
                        }
                        let sent = if self.progress.attempts() == 0 {
                            SendState::NotSent
                        } else {
                            SendState::MaybeSent
                        };
                        span.record("retry", "out of time");
                        return Err(self.out_of_time(sent));
                    }
                    Err(Failure::Refused(refusal)) => {
                        span.record("retry", "no");
                        return Err(self.refused(refusal));
                    }
                };
                let retry_after = err.retry_after();
                if from_api && let Some(reason) = PauseReason::of(&err) {
                    policy.metrics.pause(reason, retry_after);
                }
                if let Some(limiter) = &policy.limiter
                    && err.is_throttled()
                    && err.status().is_some()
                    && from_api
                {
                    // The server's view of the quota wins over the client's, but
                    // one answer pauses every clone for a short while only.
                    let pause = retry_after.unwrap_or(Duration::from_secs(1));
                    limiter.back_off(pause.min(MAX_SERVER_PAUSE));
                }
                // The operation's effect decides, not its method.
                let retryable = err.retry_policy().allows_effect(effect);
                let Some(mut again) = copy
                    .filter(|_| retryable && attempt < retry.max_attempts)
                    .as_ref()
                    .and_then(Replay::request)
                else {
                    span.record("retry", "no");
                    return Err(err);
                };
                let Some(cap) = caps.get_or_insert_with(|| retry.backoff_caps()).next() else {
                    span.record("retry", "no");
                    return Err(err);
                };
                let wait = wait_before_retry(cap, retry_after);
                let now = Instant::now();
                if now.duration_since(started) + wait > retry.max_elapsed
                    || now + wait >= self.deadline
                {
                    span.record("retry", "out of time");
                    return Err(err);
                }
                retry_cost = policy.budget.try_spend(err.is_transport());
                if retry_cost.is_none() {
                    span.record("retry", "budget exhausted");
                    tracing::warn!("retry budget exhausted; not retrying");
                    return Err(err);
                }
                span.record("retry", "yes");
                tracing::info!(attempt, class = ?err.class(), wait_ms = wait.as_millis(), "retrying");
                previous = Some(err);
                tokio::time::sleep(wait).await;
                if let Some(asked) = forgotten {
                    *again.url_mut() = asked;
                }
                current = again;
            }
        }
    }

    /// The call's budget ran out; `sent` says whether any request of it may
    /// have reached the API.
    fn out_of_time(&self, sent: SendState) -> Error {
        Error::transport(
            Some(self.operation),
            Some(self.method.clone()),
            TransportKind::Timeout,
            sent,
            OutOfTime {
                budget: self.policy.options.timeout,
            },
        )
    }

    fn refused(&self, refusal: Refusal) -> Error {
        Error::refused(Some(self.operation), Some(self.method.clone()), refusal)
    }

    /// The SDK error for an error answer, with at most the configured number
    /// of bytes of its body held in memory. Callers box its future: it is
    /// the largest a call awaits, and only failed calls need it.
    async fn error_response(&self, response: reqwest::Response) -> Error {
        let status = response.status();
        let headers = response.headers().clone();
        let limit = self.policy.options.error_body_limit;
        let raw = match read_capped(response, limit).await {
            Ok((bytes, cut)) => RawBody::new(bytes, cut),
            // The body broke off: what arrived is lost with the stream; say so.
            Err(_) => RawBody::new(Bytes::new(), true),
        };
        Error::from_response(
            Some(self.operation),
            Some(self.method.clone()),
            status,
            &headers,
            raw,
        )
        .with_effect(self.spec.effect)
    }

    async fn settle(
        &self,
        key: Option<&str>,
        response: reqwest::Response,
        validators: Option<&crate::runtime::cache::Validators>,
    ) -> Result<Settled, Error> {
        match (&self.policy.cache, key) {
            // Boxed: the cache is opt-in, and its future would otherwise
            // make every call's future larger.
            (Some(cache), Some(key)) => Box::pin(cache.settle(key, response, validators))
                .await
                .map_err(|err| from_reqwest(Some(self.operation), Some(self.method.clone()), err)),
            _ => Ok(Settled::Response(response)),
        }
    }

    /// Settles a success with the cache; a success never asks to repeat.
    async fn settle_cache(
        &self,
        key: Option<&str>,
        response: reqwest::Response,
    ) -> Result<reqwest::Response, Error> {
        match self.settle(key, response, None).await? {
            Settled::Response(response)
            | Settled::RepeatWithoutValidators {
                not_modified: response,
            } => Ok(response),
        }
    }
}

/// Reads at most `limit` bytes of a body; the rest is never read (dropping
/// the stream closes the connection instead of reading a huge body to its
/// end). The flag says whether the body was longer, or broke off.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    limit: usize,
) -> Result<(Bytes, bool), reqwest::Error> {
    use futures::StreamExt as _;
    // A declared length within the limit: read it whole, as reqwest does
    // (the connection never yields more than it declared).
    if response
        .content_length()
        .is_some_and(|length| usize::try_from(length).is_ok_and(|length| length <= limit))
    {
        return Ok((response.bytes().await?, false));
    }
    let mut stream = response.bytes_stream();
    // Most bodies arrive in one chunk: that chunk is handed on as it is,
    // without a copy. Only a second chunk starts a buffer.
    let Some(first) = stream.next().await else {
        return Ok((Bytes::new(), false));
    };
    let first = first?;
    if first.len() > limit {
        return Ok((first.slice(..limit), true));
    }
    let Some(second) = stream.next().await else {
        return Ok((first, false));
    };
    let mut body = Vec::with_capacity(first.len().saturating_mul(2).min(limit));
    body.extend_from_slice(&first);
    let mut next = Some(second);
    while let Some(chunk) = next {
        let chunk = chunk?;
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok((body.into(), true));
        }
        next = stream.next().await;
    }
    Ok((body.into(), false))
}
