//! One request's way through the sandbox: route, faults, credentials,
//! quota, media types, parameters, then the body, operation, `ETag`.

use std::hash::{Hash as _, Hasher as _};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::sync::Notify;

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::faults::{Fault, MOVED_PREFIX, RedirectTarget};
use crate::lock::lock;
use crate::media;
use crate::operations;
use crate::params;
use crate::recorded::RecordedRequest;
use crate::schema::{coerce_xml, strip_write_only};
use crate::spec::{Bound, RouteMatch};
use crate::state::AppState;
use crate::xml;

/// The largest request body Whispir takes.
pub(crate) const MAX_BODY: usize = 10 * 1024 * 1024;

/// How long a request body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Per-connection handle: which listener it came in on, and a way to drop
/// it without answering.
#[derive(Debug, Default)]
pub(crate) struct Connection {
    /// Whether the connection came in on the main listener.
    pub main: bool,
    /// Signalled to drop the connection.
    pub kill: Notify,
}

/// The sandbox's one handler: every request comes through here, and is
/// recorded with what it was answered.
pub(crate) async fn handle(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let connection = request.extensions().get::<Arc<Connection>>().cloned();
    let (parts, body) = request.into_parts();
    let mut seen = Seen::default();
    let response = answer(&state, &parts, body, connection.as_ref(), &mut seen).await;
    let watched = state.watchers.receiver_count() > 0;
    if state.limits.max_recorded_requests > 0 || watched {
        let mut record = RecordedRequest::new(
            parts.method.as_str(),
            parts.uri.path(),
            parts.uri.query(),
            &parts.headers,
            seen.body.as_deref(),
        );
        record.operation_id = seen.operation;
        record.status = response.as_ref().map(|r| r.status().as_u16());
        let record = Arc::new(record);
        if watched {
            // No watcher left since the count: nobody to tell.
            let _ = state.watchers.send(Arc::clone(&record));
        }
        lock(&state.requests).push_shared(record);
    }
    match response {
        Some(response) => response,
        None => drop_connection(connection).await,
    }
}

/// What the way of a request learnt, for its record.
#[derive(Debug, Default)]
struct Seen {
    /// The operation it reached.
    operation: Option<String>,
    /// Its body, once read.
    body: Option<Bytes>,
}

/// The answer to a request, or `None` to drop its connection instead.
async fn answer(
    state: &Arc<AppState>,
    parts: &axum::http::request::Parts,
    body: Body,
    connection: Option<&Arc<Connection>>,
    seen: &mut Seen,
) -> Option<Response> {
    let main = connection.is_none_or(|c| c.main);
    let base = parts
        .headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]_".contains(&b))
        })
        .map(|host| format!("http://{host}"))
        .unwrap_or_else(|| "http://localhost".to_string());
    let (path, moved) = match parts.uri.path().strip_prefix(MOVED_PREFIX) {
        Some(rest) if rest.starts_with('/') => (rest.to_string(), true),
        _ => (parts.uri.path().to_string(), false),
    };
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();

    let route = route(state, &parts.method, &path);
    let bound = match route {
        RouteMatch::Found(bound) => bound,
        RouteMatch::MethodNotAllowed(methods) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            return Some(
                ApiFailure::new(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Method Not Allowed",
                    format!("{} is not allowed here; use {allow}", parts.method),
                )
                .header(header::ALLOW, allow)
                .into_response(),
            );
        }
        RouteMatch::NotFound => {
            return Some(ApiFailure::not_found(format!("no resource at {path}")).into_response());
        }
    };

    seen.operation = Some(bound.operation.id.clone());
    let plan = state.faults.plan(&bound.operation.id, main && !moved);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    let mut reset_after = false;
    match plan.action {
        None => {}
        Some(Fault::Latency { .. } | Fault::HoldAnswer { .. }) => {}
        Some(Fault::ResetBeforeActing) => return None,
        Some(Fault::ResetAfterActing) => reset_after = true,
        Some(Fault::Status { status }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return Some(
                ApiFailure::new(
                    status,
                    status.canonical_reason().unwrap_or("Error"),
                    "injected fault",
                )
                .into_response(),
            );
        }
        Some(Fault::Redirect { status, to }) => {
            let origin = match to {
                RedirectTarget::SameOrigin => format!("{base}{MOVED_PREFIX}"),
                RedirectTarget::OtherPort => lock(&state.second_origin)
                    .clone()
                    .unwrap_or_else(|| format!("{base}{MOVED_PREFIX}")),
            };
            let target = match parts.uri.query() {
                Some(query) => format!("{origin}{path}?{query}"),
                None => format!("{origin}{path}"),
            };
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
            return Some((status, [(header::LOCATION, target)]).into_response());
        }
        Some(Fault::Garbage) => {
            return Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, response_type(&bound))],
                    Bytes::from_static(b"\x00\xff<html>{\"not\": json at all"),
                )
                    .into_response(),
            );
        }
        Some(Fault::HugeBody { bytes }) => {
            return Some(
                (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, response_type(&bound))],
                    huge_body(bytes),
                )
                    .into_response(),
            );
        }
    }

    // Everything the headers decide comes before the body is read: a
    // request without valid credentials must not make the sandbox wait
    // for, or hold, a body it will refuse.
    if let Err(failure) = admit(state, &bound, &parts.headers, &query) {
        return Some(failure.into_response());
    }
    let body = match read_bytes(body).await {
        Ok(body) => body,
        Err(response) => return Some(*response),
    };
    seen.body = Some(body.clone());
    let target = Target { base, path, query };
    let response = match run(state, bound, &parts.method, &parts.headers, &body, target) {
        Ok(response) => response,
        Err(failure) => failure.into_response(),
    };
    if !plan.hold_answer.is_zero() {
        tokio::time::sleep(plan.hold_answer).await;
    }
    if reset_after {
        return None;
    }
    Some(response)
}

/// A JSON body of `bytes` bytes (at least 14), streamed in chunks so that
/// no size, however large, is held in memory at once.
fn huge_body(bytes: usize) -> Body {
    const HEAD: &[u8] = b"{\"padding\":\"";
    const TAIL: &[u8] = b"\"}";
    const CHUNK: usize = 64 * 1024;
    let filler = bytes.saturating_sub(HEAD.len() + TAIL.len());
    let chunk = Bytes::from(vec![b'x'; CHUNK.min(filler.max(1))]);
    let full_chunks = filler / CHUNK;
    let rest = filler % CHUNK;
    let parts = std::iter::once(Bytes::from_static(HEAD))
        .chain(std::iter::repeat_n(chunk.clone(), full_chunks))
        .chain((rest > 0).then(|| chunk.slice(..rest)))
        .chain(std::iter::once(Bytes::from_static(TAIL)))
        .map(Ok::<_, std::convert::Infallible>);
    Body::from_stream(futures::stream::iter(parts))
}

/// Finds the operation; a workspace-scoped path without `/workspaces/{id}`
/// acts in the default workspace, as Whispir's does.
fn route<'a>(state: &'a AppState, method: &Method, path: &str) -> RouteMatch<'a> {
    let found = state.spec.route(method, path);
    if !matches!(found, RouteMatch::NotFound) || path.starts_with("/workspaces") {
        return found;
    }
    let Some(workspace) = lock(&state.store).default_workspace() else {
        return found;
    };
    match state
        .spec
        .route(method, &format!("/workspaces/{workspace}{path}"))
    {
        RouteMatch::NotFound => found,
        scoped => scoped,
    }
}

fn response_type(bound: &Bound<'_>) -> String {
    bound
        .operation
        .response_type
        .clone()
        .unwrap_or_else(|| "application/json".to_string())
}

/// Drops the connection without an answer (a TCP reset on our listeners).
async fn drop_connection(connection: Option<Arc<Connection>>) -> Response {
    match connection {
        Some(connection) => {
            connection.kill.notify_one();
            std::future::pending::<Response>().await
        }
        // Outside the sandbox's own listeners there is no connection to drop.
        None => ApiFailure::new(StatusCode::BAD_GATEWAY, "Bad Gateway", "connection dropped")
            .into_response(),
    }
}

/// The checks the request's headers decide: credentials, quota, `Accept`
/// and parameters.
fn admit(
    state: &AppState,
    bound: &Bound<'_>,
    headers: &HeaderMap,
    query: &[(String, String)],
) -> Result<(), ApiFailure> {
    state.gate.check(headers)?;
    state.quota.admit()?;
    media::check_accept(bound.operation, headers)?;
    params::check_all(&bound.operation.params, &bound.params, query, headers)
}

/// The request body, at most [`MAX_BODY`] bytes arriving within
/// [`BODY_TIMEOUT`], or the answer to give instead.
async fn read_bytes(body: Body) -> Result<Bytes, Box<Response>> {
    match tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(body)) => Ok(body),
        Err(_) => Err(Box::new(
            ApiFailure::bad_request(format!(
                "the request body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ))
            .into_response(),
        )),
        Ok(Err(_)) => Err(Box::new(
            (
                StatusCode::PAYLOAD_TOO_LARGE,
                [(header::CONTENT_TYPE, "text/plain")],
                format!("HTTP content length exceeded {MAX_BODY} bytes."),
            )
                .into_response(),
        )),
    }
}

/// Where a request was sent: base URL, path and decoded query.
struct Target {
    base: String,
    path: String,
    query: Vec<(String, String)>,
}

fn run(
    state: &Arc<AppState>,
    bound: Bound<'_>,
    method: &Method,
    headers: &HeaderMap,
    body: &Bytes,
    target: Target,
) -> Result<Response, ApiFailure> {
    let Target { base, path, query } = target;
    let operation = bound.operation;
    let components = state
        .spec
        .document
        .get("components")
        .unwrap_or(&Value::Null);
    let parsed = read_body(&bound, components, headers, body)?;

    let workspace = if operation.workspace_scoped() {
        let id = bound.param("workspaceId").unwrap_or("").to_string();
        if !lock(&state.store).has_workspace(&id) {
            return Err(ApiFailure::not_found(format!("no workspace {id}")));
        }
        Some(id)
    } else {
        None
    };
    let call = Call {
        state,
        bound,
        workspace,
        base,
        query,
        headers,
        body: parsed,
        path,
    };
    let answer = operations::dispatch(&call)?;
    Ok(render(&call, method, answer))
}

fn read_body(
    bound: &Bound<'_>,
    components: &Value,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Option<Value>, ApiFailure> {
    let operation = bound.operation;
    let Some(schema) = &operation.request_schema else {
        return Ok(None);
    };
    let text = body.trim_ascii();
    if text.is_empty() {
        if operation.body_required {
            return Err(ApiFailure::bad_request(format!(
                "{} needs a request body",
                operation.id
            )));
        }
        return Ok(None);
    }
    media::check_content_type(operation, headers)?;
    // The body's first byte says what it is; a JSON body under an XML
    // media type (or the reverse) is read all the same.
    let value = if text.starts_with(b"<") {
        let mut value = xml::to_json(text)
            .map_err(|reason| ApiFailure::bad_request(format!("the body is not XML: {reason}")))?;
        if let Some(raw) = &operation.resource_schema {
            coerce_xml(&mut value, raw, components, 0);
        }
        value
    } else {
        serde_json::from_slice::<Value>(text)
            .map_err(|err| ApiFailure::bad_request(format!("the body is not JSON: {err}")))?
    };
    let problems = schema.problems(&value);
    if !problems.is_empty() {
        return Err(ApiFailure::unprocessable(&problems));
    }
    Ok(Some(value))
}

/// Turns an answer into a response: media type, `Location`, `ETag` and 304.
fn render(call: &Call<'_>, method: &Method, answer: Answer) -> Response {
    let Some(body) = answer.body else {
        let mut response = answer.status.into_response();
        if let Some(location) = answer.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        return response;
    };
    let mut body = body;
    if let Some(schema) = &call.bound.operation.response_schema {
        let components = call
            .state
            .spec
            .document
            .get("components")
            .unwrap_or(&Value::Null);
        strip_write_only(&mut body, schema, components, 0);
    }
    let text = body.to_string();
    let etag = {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        format!("\"{:016x}\"", hasher.finish())
    };
    if *method == Method::GET && answer.status == StatusCode::OK {
        let matches = call
            .headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|given| {
                given
                    .split(',')
                    .any(|tag| tag.trim() == etag || tag.trim() == "*")
            });
        if matches {
            return (StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response();
        }
    }
    let mut response = Response::new(Body::from(text));
    *response.status_mut() = answer.status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&response_type(&call.bound)) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if *method == Method::GET
        && let Ok(value) = HeaderValue::from_str(&etag)
    {
        headers.insert(header::ETAG, value);
    }
    if let Some(location) = answer.location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    async fn collect(body: Body) -> Bytes {
        axum::body::to_bytes(body, usize::MAX).await.unwrap()
    }

    #[tokio::test]
    async fn a_huge_body_has_exactly_the_size_asked_and_is_json() {
        for size in [14, 15, 64 * 1024 + 14, 3 * 64 * 1024 + 100] {
            let body = collect(huge_body(size)).await;
            assert_eq!(body.len(), size);
            assert!(serde_json::from_slice::<Value>(&body).is_ok());
        }
        assert_eq!(&collect(huge_body(0)).await[..], b"{\"padding\":\"\"}");
    }
}
