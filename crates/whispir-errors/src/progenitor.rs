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

const MARKERS: [&str; 3] = [OPERATION_HEADER, METHOD_HEADER, TRUNCATED_HEADER];

/// Takes the marker headers out of a header map: operation, method, truncated.
fn take_markers(headers: &mut HeaderMap) -> (Option<String>, Option<Method>, bool) {
    let mut take = |name: &str| {
        headers
            .remove(name)
            .and_then(|value| value.to_str().ok().map(str::to_string))
    };
    let operation = take(OPERATION_HEADER);
    let method = take(METHOD_HEADER).and_then(|m| Method::from_bytes(m.as_bytes()).ok());
    let truncated = take(TRUNCATED_HEADER).is_some();
    for name in MARKERS {
        headers.remove(name);
    }
    (operation, method, truncated)
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
    let (operation, method, truncated) = take_markers(&mut headers);
    // The client's exec hook already cut the body at its configured limit.
    let (bytes, cut) = collect_ready(body, usize::MAX);
    Error::from_response(
        operation.as_deref(),
        method,
        status,
        &headers,
        RawBody::new(bytes, truncated || cut),
    )
}

/// Classifies a reqwest error and strips its URL (it may hold credentials).
pub fn from_reqwest(operation: Option<&str>, method: Option<Method>, err: reqwest::Error) -> Error {
    let (kind, sent) = if err.is_connect() {
        (TransportKind::Connect, SendState::NotSent)
    } else if err.is_timeout() {
        (TransportKind::Timeout, SendState::MaybeSent)
    } else if err.is_body() || err.is_decode() {
        (TransportKind::Body, SendState::MaybeSent)
    } else if err.is_builder() {
        return Error::invalid_request(operation, err.without_url().to_string());
    } else {
        (TransportKind::Other, SendState::MaybeSent)
    };
    Error::transport(operation, method, kind, sent, err.without_url())
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
            P::InvalidRequest(message) | P::Custom(message) => {
                Error::invalid_request(None, message)
            }
        }
    }
}
