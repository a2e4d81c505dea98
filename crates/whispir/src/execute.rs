//! What happens to a request between the generated code and the wire:
//! rate limit, retries with backoff and a budget, redirects, the 304 cache,
//! absolute `Location`s, capped error bodies, and a tracing span per call.

use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use tokio::time::Instant;
use tracing::Instrument as _;
use whispir_errors::progenitor::{METHOD_HEADER, NOTE_HEADER, OPERATION_HEADER, TRUNCATED_HEADER};
use whispir_errors::{ForbiddenReason, classify, resolve_location};

use crate::cache::ResponseCache;
use crate::context::{CallPolicy, ClientContext};
use crate::rate_limit::Admission;
use crate::redirect::send_following_redirects;
use crate::retry::{Outcome, retryable, wait_before_retry};

/// Runs one call of `operation` (the spec's operation id).
pub(crate) async fn execute(
    http: &reqwest::Client,
    context: &ClientContext,
    request: reqwest::Request,
    operation: &'static str,
) -> reqwest::Result<reqwest::Response> {
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
        let result = attempts(http, policy, request, &method).await;
        let span = tracing::Span::current();
        span.record("elapsed_ms", started.elapsed().as_millis());
        let response = match result {
            Ok(response) => response,
            Err(err) => {
                let causes = whispir_errors::progenitor::causes(&err).join(": ");
                tracing::info!(error = %causes, "the call failed without a response");
                return Err(err);
            }
        };
        span.record("status", response.status().as_u16());
        let response = absolute_location(response);
        if response.status().is_success() {
            return Ok(response);
        }
        Ok(buffer_error_response(
            response,
            operation,
            &method,
            policy.options.error_body_limit,
        )
        .await)
    }
    .instrument(span)
    .await
}

/// The attempts of one call, with the retry decisions between them.
async fn attempts(
    http: &reqwest::Client,
    policy: &CallPolicy,
    mut request: reqwest::Request,
    method: &Method,
) -> reqwest::Result<reqwest::Response> {
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
    let mut original = Some(request);
    loop {
        attempt += 1;
        span.record("attempt", attempt);
        let Some(current) = original.take() else {
            // Unreachable in practice: the loop only continues with a copy.
            return Ok(local_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                &[],
                "the request was lost before sending",
            ));
        };
        if let Some(limiter) = &policy.limiter
            && let Admission::DailyBudgetSpent { resets_in } = limiter.acquire().await
        {
            return Ok(daily_budget_spent(resets_in));
        }
        // A copy for a possible retry; a body that cannot be copied is sent once.
        let copy = current.try_clone();
        let result = send_following_redirects(http, current, &policy.redirects).await;
        let outcome = match &result {
            Ok(response) => Outcome::Response(response.status()),
            Err(err) if err.is_connect() => Outcome::NotSent,
            Err(_) => Outcome::MaybeSent,
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
        if !wanted {
            if succeeded {
                policy.budget.refund();
            }
            span.record("retry", "no");
            return settle_cache(policy, cache_key.as_deref(), result).await;
        }
        let Some(cap) = caps.next() else {
            return settle_cache(policy, cache_key.as_deref(), result).await;
        };
        let wait = wait_before_retry(cap, retry_after);
        if started.elapsed() + wait > retry.max_elapsed {
            span.record("retry", "out of time");
            return settle_cache(policy, cache_key.as_deref(), result).await;
        }
        if !policy.budget.try_spend(outcome) {
            span.record("retry", "budget exhausted");
            tracing::warn!("retry budget exhausted; not retrying");
            return settle_cache(policy, cache_key.as_deref(), result).await;
        }
        span.record("retry", "yes");
        tracing::info!(attempt, ?outcome, wait_ms = wait.as_millis(), "retrying");
        drop(result);
        tokio::time::sleep(wait).await;
        original = copy;
    }
}

async fn settle_cache(
    policy: &CallPolicy,
    key: Option<&str>,
    result: reqwest::Result<reqwest::Response>,
) -> reqwest::Result<reqwest::Response> {
    match (&policy.cache, key, result) {
        (Some(cache), Some(key), Ok(response)) => cache.settle(key, response).await,
        (_, _, result) => result,
    }
}

fn retry_after_of(result: &reqwest::Result<reqwest::Response>) -> Option<Duration> {
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

/// A response made up by the client, marked with a note.
fn local_response(
    status: StatusCode,
    headers: &[(&'static str, String)],
    note: &str,
) -> reqwest::Response {
    let mut response = http::Response::new(reqwest::Body::from(Vec::new()));
    *response.status_mut() = status;
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    if let Ok(value) = HeaderValue::from_str(note) {
        response.headers_mut().insert(NOTE_HEADER, value);
    }
    reqwest::Response::from(response)
}

/// The answer for a request the daily budget does not allow: the refusal
/// the API would send, never sent.
fn daily_budget_spent(resets_in: Duration) -> reqwest::Response {
    let hours = resets_in.as_secs().div_ceil(3600);
    local_response(
        StatusCode::FORBIDDEN,
        &[
            ("x-error-code", "ERR_403_DEVELOPER_OVER_QPD".to_string()),
            ("retry-after", resets_in.as_secs().to_string()),
        ],
        &format!(
            "not sent: the client's daily request budget is spent (it resets in about {hours} h)"
        ),
    )
}

/// Makes a relative `Location` absolute, against the URL that answered.
fn absolute_location(mut response: reqwest::Response) -> reqwest::Response {
    if !response.headers().contains_key(LOCATION) {
        return response;
    }
    if let Ok(absolute) = resolve_location(response.url(), response.headers())
        && let Ok(value) = HeaderValue::from_str(absolute.as_str())
    {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// Replaces the body of an error response with at most `limit` bytes held
/// in memory (the rest is never read), and marks the response with the
/// operation and method so the error conversion can name them.
async fn buffer_error_response(
    response: reqwest::Response,
    operation: &str,
    method: &Method,
    limit: usize,
) -> reqwest::Response {
    use futures::StreamExt as _;
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let mut body = Vec::new();
    let mut truncated = false;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The body broke off: keep what arrived, say it is incomplete.
            truncated = true;
            break;
        };
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            truncated = true;
            break;
        }
    }
    // Dropping the stream closes the connection instead of reading a huge
    // body to its end.
    drop(stream);
    headers.remove(reqwest::header::CONTENT_LENGTH);
    headers.remove(reqwest::header::TRANSFER_ENCODING);
    let mut mark = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    mark(OPERATION_HEADER, operation);
    mark(METHOD_HEADER, method.as_str());
    if truncated {
        mark(TRUNCATED_HEADER, "1");
    }
    let mut rebuilt = http::Response::new(reqwest::Body::from(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    reqwest::Response::from(rebuilt)
}
