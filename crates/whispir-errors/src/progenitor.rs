//! Turning what the generated client returns into the SDK's [`Error`].
//!
//! The client's `exec` hook has already replaced every non-2xx body with at
//! most [`DEFAULT_BODY_LIMIT`](crate::DEFAULT_BODY_LIMIT) bytes held in
//! memory and marked the response with the headers below, so this
//! conversion is synchronous and `?` works on generated calls.

use futures::{FutureExt as _, StreamExt as _};
use http::{HeaderMap, Method, StatusCode};
use progenitor_client::ByteStream;

use crate::body::RawBody;
use crate::error::{Error, SendState, TransportKind};

/// Marks a response with the spec operation id that produced it.
pub const OPERATION_HEADER: &str = "x-whispir-rs-operation";
/// Marks a response with the method of the request.
pub const METHOD_HEADER: &str = "x-whispir-rs-method";
/// Marks a response whose body was cut at the limit.
pub const TRUNCATED_HEADER: &str = "x-whispir-rs-truncated";
/// Carries what the client itself has to say about a response, e.g. why a
/// redirect was not followed or that a request was never sent.
pub const NOTE_HEADER: &str = "x-whispir-rs-note";

/// What the client's hooks marked a response with.
struct Markers {
    operation: Option<String>,
    method: Option<Method>,
    truncated: bool,
    note: Option<String>,
}

/// Takes the marker headers out of a header map.
fn take_markers(headers: &mut HeaderMap) -> Markers {
    let mut take = |name: &str| {
        headers
            .remove(name)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
    };
    Markers {
        operation: take(OPERATION_HEADER),
        method: take(METHOD_HEADER).and_then(|m| Method::from_bytes(m.as_bytes()).ok()),
        truncated: take(TRUNCATED_HEADER).is_some(),
        note: take(NOTE_HEADER),
    }
}

/// Collects a body that is already in memory. A stream that would wait is
/// not waited for: what arrived is kept and marked truncated.
fn collect_ready(mut stream: ByteStream, limit: usize) -> (bytes::Bytes, bool) {
    let mut collected = Vec::new();
    loop {
        match stream.next().now_or_never() {
            Some(Some(Ok(chunk))) => {
                let room = limit.saturating_sub(collected.len());
                collected.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    return (collected.into(), true);
                }
            }
            Some(None) => return (collected.into(), false),
            Some(Some(Err(_))) | None => return (collected.into(), true),
        }
    }
}

fn error_response(status: StatusCode, mut headers: HeaderMap, body: ByteStream) -> Error {
    let markers = take_markers(&mut headers);
    // The client's exec hook already cut the body at its configured limit.
    let (bytes, cut) = collect_ready(body, usize::MAX);
    Error::from_response(
        markers.operation.as_deref(),
        markers.method,
        status,
        &headers,
        RawBody::new(bytes, markers.truncated || cut),
    )
    .with_note(markers.note)
}

/// What a reqwest error says about the request, from its flags. `None` for
/// a request that could not even be built.
fn transport_kind(err: &reqwest::Error) -> Option<(TransportKind, SendState)> {
    if err.is_connect() {
        // Connecting failed (also by timing out): nothing was sent.
        Some((TransportKind::Connect, SendState::NotSent))
    } else if err.is_timeout() {
        Some((TransportKind::Timeout, SendState::MaybeSent))
    } else if err.is_body() || err.is_decode() {
        Some((TransportKind::Body, SendState::MaybeSent))
    } else if err.is_builder() {
        None
    } else {
        Some((TransportKind::Other, SendState::MaybeSent))
    }
}

/// Classifies a reqwest error and strips its URL (it may hold credentials).
pub fn from_reqwest(operation: Option<&str>, method: Option<Method>, err: reqwest::Error) -> Error {
    match transport_kind(&err) {
        Some((kind, sent)) => Error::transport(operation, method, kind, sent, err.without_url()),
        None => Error::invalid_request(operation, err.without_url().to_string()),
    }
}

/// Starts the `Error::Custom` message in which the client's post hook
/// reports a transport failure together with its operation and method
/// (progenitor passes a reqwest error on without them).
const TRANSPORT_MARKER: &str = "whispir-rs transport failure ";

/// A transport failure as the post hook reports it.
#[derive(serde::Serialize, serde::Deserialize)]
struct TransportReport {
    operation: String,
    method: String,
    kind: Option<String>,
    not_sent: bool,
    causes: Vec<String>,
}

/// The report of a transport failure of `operation` for the post hook.
/// Only the error's causes are kept, never its URL (it may hold credentials).
pub fn transport_report(operation: &str, method: &str, err: &reqwest::Error) -> String {
    let causes = causes(err);
    let classified = transport_kind(err);
    let report = TransportReport {
        operation: operation.to_string(),
        method: method.to_string(),
        kind: classified.map(|(kind, _)| format!("{kind:?}")),
        not_sent: matches!(classified, Some((_, SendState::NotSent))),
        causes,
    };
    format!(
        "{TRANSPORT_MARKER}{}",
        serde_json::to_string(&report).unwrap_or_default()
    )
}

/// The causes of a reqwest error, outermost first. The error's own text is
/// left out: it holds the request URL, which may hold credentials.
pub fn causes(err: &reqwest::Error) -> Vec<String> {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        causes.push(cause.to_string());
        source = cause.source();
    }
    causes
}

/// The causes of a transport failure, outermost first.
#[derive(Debug)]
struct TransportCauses(Vec<String>);

impl std::fmt::Display for TransportCauses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("no further detail")
        } else {
            f.write_str(&self.0.join(": "))
        }
    }
}

impl std::error::Error for TransportCauses {}

fn from_transport_report(json: &str) -> Option<Error> {
    let report: TransportReport = serde_json::from_str(json).ok()?;
    let method = Method::from_bytes(report.method.as_bytes()).ok();
    let kind = match report.kind.as_deref() {
        Some("Connect") => TransportKind::Connect,
        Some("Timeout") => TransportKind::Timeout,
        Some("Body") => TransportKind::Body,
        Some(_) => TransportKind::Other,
        None => {
            return Some(Error::invalid_request(
                Some(&report.operation),
                TransportCauses(report.causes).to_string(),
            ));
        }
    };
    let sent = if report.not_sent {
        SendState::NotSent
    } else {
        SendState::MaybeSent
    };
    Some(Error::transport(
        Some(&report.operation),
        method,
        kind,
        sent,
        TransportCauses(report.causes),
    ))
}

impl From<progenitor_client::Error<ByteStream>> for Error {
    fn from(err: progenitor_client::Error<ByteStream>) -> Self {
        use progenitor_client::Error as P;
        match err {
            P::ErrorResponse(value) => {
                let status = value.status();
                let headers = value.headers().clone();
                error_response(status, headers, value.into_inner())
            }
            P::UnexpectedResponse(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let stream = ByteStream::new(Box::pin(response.bytes_stream()));
                error_response(status, headers, stream)
            }
            P::CommunicationError(err) | P::InvalidUpgrade(err) | P::ResponseBodyError(err) => {
                from_reqwest(None, None, err)
            }
            P::InvalidResponsePayload(bytes, err) => {
                let limit = crate::DEFAULT_BODY_LIMIT;
                let truncated = bytes.len() > limit;
                let raw = RawBody::new(bytes.slice(..bytes.len().min(limit)), truncated);
                Error::decode(None, None, None, raw, err)
            }
            P::Custom(message) => message
                .strip_prefix(TRANSPORT_MARKER)
                .and_then(from_transport_report)
                .unwrap_or_else(|| Error::invalid_request(None, message)),
            P::InvalidRequest(message) => Error::invalid_request(None, message),
        }
    }
}
