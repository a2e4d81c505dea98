//! What happens to a request between the generated code and the wire:
//! rate limit, retries with backoff and a budget, redirects, the 304 cache,
//! absolute `Location`s, capped error bodies, and a tracing span per call.

use std::time::Duration;

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use tracing::Instrument as _;
use whispir_errors::transport::from_reqwest;
use whispir_errors::{Error, ForbiddenReason, RawBody, Refusal, classify};

use crate::cache::{ResponseCache, Settled};
use crate::context::{CallPolicy, ClientContext};
use crate::rate_limit::Admission;
use crate::redirect::send_following_redirects;
use crate::retry::{Outcome, retryable, wait_before_retry};

/// Why an attempt ended without a response to hand on.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Below HTTP: connecting, sending or reading failed.
    Transport(reqwest::Error),
    /// The client refused to send the request, or to follow a redirect.
    Refused(Refusal),
}

/// Runs one call of `operation` (the spec's operation id) and returns its
/// successful (2xx or 304-from-cache) response. Every other outcome is an
/// [`Error`] naming the operation, method and attempts.
pub(crate) async fn execute(
    http: &reqwest::Client,
    context: &ClientContext,
    request: reqwest::Request,
    operation: &'static str,
) -> Result<reqwest::Response, Error> {
    let span = tracing::info_span!(
        "whispir.call",
        operation,
        method = %request.method(),
        path = %request.url().path(),
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        retry = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let policy = context.policy();
    async move {
        let started = Instant::now();
        let method = request.method().clone();
        let (result, attempts) = attempts(http, policy, request, &method).await;
        let span = tracing::Span::current();
        span.record("elapsed_ms", started.elapsed().as_millis());
        let response = match result {
            Ok(response) => response,
            Err(Failure::Transport(err)) => {
                let causes = whispir_errors::transport::causes(&err).join(": ");
                tracing::info!(error = %causes, "the call failed without a response");
                return Err(
                    from_reqwest(Some(operation), Some(method), err).with_attempts(attempts)
                );
            }
            Err(Failure::Refused(refusal)) => {
                tracing::info!(%refusal, "the client refused the call");
                return Err(
                    Error::refused(Some(operation), Some(method), refusal).with_attempts(attempts)
                );
            }
        };
        span.record("status", response.status().as_u16());
        if response.status().is_success() {
            return Ok(response);
        }
        Err(
            error_response(response, operation, method, policy.options.error_body_limit)
                .await
                .with_attempts(attempts),
        )
    }
    .instrument(span)
    .await
}

/// The attempts of one call, with the retry decisions between them, and
/// how many times the request was sent.
async fn attempts(
    http: &reqwest::Client,
    policy: &CallPolicy,
    mut request: reqwest::Request,
    method: &Method,
) -> (Result<reqwest::Response, Failure>, u32) {
    let span = tracing::Span::current();
    let started = Instant::now();
    policy.redirects.rewrite(&mut request);
    let cache_key = policy
        .cache
        .as_ref()
        .and_then(|_| ResponseCache::key(&request));
    if let (Some(cache), Some(key)) = (&policy.cache, &cache_key) {
        cache.add_validators(key, &mut request);
    }
    let retry = &policy.options.retry;
    let mut caps = retry.backoff_caps();
    let mut attempt: u32 = 0;
    let mut retry_cost = None;
    let mut repeated_without_validators = false;
    let mut current = request;
    loop {
        let token = match &policy.limiter {
            None => None,
            Some(limiter) => match limiter.acquire(started + retry.max_elapsed).await {
                Admission::Go(token) => Some(token),
                Admission::DailyBudgetSpent { resets_in } => {
                    let refusal = Refusal::DailyBudgetSpent { resets_in };
                    return (Err(Failure::Refused(refusal)), attempt);
                }
                Admission::PauseTooLong { wait } => {
                    let refusal = Refusal::PauseTooLong { wait };
                    return (Err(Failure::Refused(refusal)), attempt);
                }
            },
        };
        attempt += 1;
        span.record("attempt", attempt);
        // A copy for a possible retry; a body that cannot be copied is sent once.
        let copy = current.try_clone();
        if let Some(token) = token {
            token.sent();
        }
        let result =
            send_following_redirects(http, current, copy.as_ref(), &policy.redirects).await;
        let outcome = match &result {
            Ok(response) => Outcome::Response(response.status()),
            Err(Failure::Transport(err)) if err.is_connect() => Outcome::NotSent,
            Err(Failure::Transport(_)) => Outcome::MaybeSent,
            Err(Failure::Refused(_)) => {
                span.record("retry", "no");
                return (result, attempt);
            }
        };
        let empty = reqwest::header::HeaderMap::new();
        let headers = result
            .as_ref()
            .map_or(&empty, |response| response.headers());
        let succeeded = matches!(outcome, Outcome::Response(status) if status.is_success());
        let retry_after = if succeeded {
            None
        } else {
            retry_after_of(&result)
        };
        if let (Some(limiter), Ok(response)) = (&policy.limiter, &result)
            && is_quota_refusal(response)
        {
            // The server's view of the quota wins over the client's.
            limiter.back_off(retry_after.unwrap_or(Duration::from_secs(1)));
        }
        let wanted =
            retryable(method, outcome, headers) && copy.is_some() && attempt < retry.max_attempts;
        let settle = |result| settle_cache(policy, cache_key.as_deref(), result);
        if !wanted {
            if succeeded {
                policy.budget.refund(retry_cost);
            }
            span.record("retry", "no");
            let settled = settle(result).await;
            if let Ok(Settled::RepeatWithoutValidators { .. }) = &settled
                && let Some(mut plain) = copy
                && !repeated_without_validators
            {
                tracing::info!("a 304 confirmed an evicted answer; asking for it again");
                ResponseCache::remove_validators(&mut plain);
                repeated_without_validators = true;
                current = plain;
                continue;
            }
            return (handed_on(settled), attempt);
        }
        let settle = |result| async { handed_on(settle(result).await) };
        let (Some(cap), Some(copy)) = (caps.next(), copy) else {
            return (settle(result).await, attempt);
        };
        let wait = wait_before_retry(cap, retry_after);
        if started.elapsed() + wait > retry.max_elapsed {
            span.record("retry", "out of time");
            return (settle(result).await, attempt);
        }
        retry_cost = policy.budget.try_spend(outcome);
        if retry_cost.is_none() {
            span.record("retry", "budget exhausted");
            tracing::warn!("retry budget exhausted; not retrying");
            return (settle(result).await, attempt);
        }
        span.record("retry", "yes");
        tracing::info!(attempt, ?outcome, wait_ms = wait.as_millis(), "retrying");
        drop(result);
        tokio::time::sleep(wait).await;
        current = copy;
    }
}

async fn settle_cache(
    policy: &CallPolicy,
    key: Option<&str>,
    result: Result<reqwest::Response, Failure>,
) -> Result<Settled, Failure> {
    match (&policy.cache, key, result) {
        (Some(cache), Some(key), Ok(response)) => cache
            .settle(key, response)
            .await
            .map_err(Failure::Transport),
        (_, _, result) => result.map(Settled::Response),
    }
}

/// The response to hand on; a 304 that cannot be repeated is handed on
/// as it came.
fn handed_on(settled: Result<Settled, Failure>) -> Result<reqwest::Response, Failure> {
    settled.map(|settled| match settled {
        Settled::Response(response) => response,
        Settled::RepeatWithoutValidators { not_modified } => not_modified,
    })
}

fn retry_after_of(result: &Result<reqwest::Response, Failure>) -> Option<Duration> {
    let response = result.as_ref().ok()?;
    let wait = whispir_errors::retry_after::parse_retry_after(
        response.headers(),
        std::time::SystemTime::now(),
    );
    wait.or_else(|| {
        let forbidden = classify(response.status(), response.headers(), "").forbidden;
        (forbidden == Some(ForbiddenReason::OverQueriesPerSecond)).then_some(Duration::from_secs(1))
    })
}

fn is_quota_refusal(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::TOO_MANY_REQUESTS
        || classify(response.status(), response.headers(), "").forbidden
            == Some(ForbiddenReason::OverQueriesPerSecond)
}

/// Reads at most `limit` bytes of a body; the rest is never read (dropping
/// the stream closes the connection instead of reading a huge body to its
/// end). The flag says whether the body was longer, or broke off.
pub(crate) async fn read_capped(
    response: reqwest::Response,
    limit: usize,
) -> Result<(Bytes, bool), reqwest::Error> {
    use futures::StreamExt as _;
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            return Ok((body.into(), true));
        }
    }
    Ok((body.into(), false))
}

/// The SDK error for an error answer, with at most `limit` bytes of its
/// body held in memory.
async fn error_response(
    response: reqwest::Response,
    operation: &str,
    method: Method,
    limit: usize,
) -> Error {
    let status = response.status();
    let headers = response.headers().clone();
    let raw = match read_capped(response, limit).await {
        Ok((bytes, cut)) => RawBody::new(bytes, cut),
        // The body broke off: what arrived is lost with the stream; say so.
        Err(_) => RawBody::new(Bytes::new(), true),
    };
    Error::from_response(Some(operation), Some(method), status, &headers, raw)
}
