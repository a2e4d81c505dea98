//! The one error type of the SDK: opaque, with predicates and accessors.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode};

use crate::body::{ApiErrorBody, RawBody, parse_error_body};
use crate::class::{Classification, ErrorClass, ForbiddenReason, RetryPolicy, classify};
use crate::code_table::TableRow;
use crate::retry_after::parse_retry_after;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Whether a request that failed without a response reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SendState {
    /// It provably never left the client (e.g. the connection was refused).
    NotSent,
    /// It may or may not have reached the server (e.g. a timeout or a reset
    /// while waiting for the answer). A message send may have happened.
    MaybeSent,
}

/// What went wrong below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// Connecting (DNS, TCP, TLS) failed.
    Connect,
    /// No answer in time.
    Timeout,
    /// The response body broke off or could not be read.
    Body,
    /// Anything else reqwest reported.
    Other,
}

/// The headers of an error response the SDK keeps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorHeaders {
    /// `X-Error-Code`, e.g. `ERR_403_DEVELOPER_OVER_QPS`.
    pub error_code: Option<String>,
    /// `X-Error-Detail`.
    pub error_detail: Option<String>,
    /// `Retry-After`, as a wait.
    pub retry_after: Option<Duration>,
    /// `Location`.
    pub location: Option<String>,
    /// A request id, when the API or a gateway sends one.
    pub request_id: Option<String>,
}

const REQUEST_ID_HEADERS: [&str; 4] = [
    "x-request-id",
    "x-amzn-requestid",
    "x-correlation-id",
    "x-mashery-message-id",
];

impl ErrorHeaders {
    fn from_headers(headers: &HeaderMap, now: SystemTime) -> Self {
        let text = |name: &str| {
            headers
                .get(name)
                .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_string())
                .filter(|value| !value.is_empty())
        };
        Self {
            error_code: text("x-error-code"),
            error_detail: text("x-error-detail"),
            retry_after: parse_retry_after(headers, now),
            location: text("location"),
            request_id: REQUEST_ID_HEADERS.iter().find_map(|name| text(name)),
        }
    }
}

/// An error answer from the API (or a gateway in front of it).
#[derive(Debug, Clone)]
struct ResponseError {
    status: StatusCode,
    headers: ErrorHeaders,
    body: ApiErrorBody,
    raw: RawBody,
    classification: Classification,
}

#[derive(Debug)]
enum Kind {
    Response(ResponseError),
    Transport {
        kind: TransportKind,
        sent: SendState,
        source: BoxError,
    },
    InvalidRequest(String),
    Protocol {
        status: Option<StatusCode>,
        message: String,
    },
    Decode {
        status: Option<StatusCode>,
        raw: RawBody,
        source: BoxError,
    },
}

#[derive(Debug)]
struct Inner {
    kind: Kind,
    operation: Option<String>,
    method: Option<Method>,
    note: Option<String>,
}

/// Everything that can go wrong with a Whispir call: an error status with
/// whatever body came with it, a transport failure, arguments the SDK
/// refused, or a success body that did not parse.
///
/// Branch on it with the predicates and accessors; the `Display` form is
/// one line, `{:#}` adds the remedy from the code table and the causes.
pub struct Error {
    inner: Box<Inner>,
}

/// A `Result` with the SDK's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error status, classified from status, headers and the (capped) body.
    pub fn from_response(
        operation: Option<&str>,
        method: Option<Method>,
        status: StatusCode,
        headers: &HeaderMap,
        raw: RawBody,
    ) -> Self {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok());
        let body = parse_error_body(content_type, raw.bytes());
        let classification = classify(status, headers, &raw.text());
        Self::new(
            Kind::Response(ResponseError {
                status,
                headers: ErrorHeaders::from_headers(headers, SystemTime::now()),
                body,
                raw,
                classification,
            }),
            operation,
            method,
        )
    }

    /// A failure below HTTP. `source` must not carry secrets (strip URLs).
    pub fn transport(
        operation: Option<&str>,
        method: Option<Method>,
        kind: TransportKind,
        sent: SendState,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::new(
            Kind::Transport {
                kind,
                sent,
                source: source.into(),
            },
            operation,
            method,
        )
    }

    /// Arguments the SDK refused to send.
    pub fn invalid_request(operation: Option<&str>, message: impl Into<String>) -> Self {
        Self::new(Kind::InvalidRequest(message.into()), operation, None)
    }

    /// A response that breaks the API's contract, e.g. a 201 without a
    /// usable `Location`.
    pub fn protocol(
        operation: Option<&str>,
        status: Option<StatusCode>,
        message: impl Into<String>,
    ) -> Self {
        Self::new(
            Kind::Protocol {
                status,
                message: message.into(),
            },
            operation,
            None,
        )
    }

    /// A success status (when known) whose body could not be decoded.
    pub fn decode(
        operation: Option<&str>,
        method: Option<Method>,
        status: Option<StatusCode>,
        raw: RawBody,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::new(
            Kind::Decode {
                status,
                raw,
                source: source.into(),
            },
            operation,
            method,
        )
    }

    fn new(kind: Kind, operation: Option<&str>, method: Option<Method>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation: operation.map(str::to_string),
                method,
                note: None,
            }),
        }
    }

    /// Adds what the SDK itself has to say, e.g. why a redirect was not
    /// followed or that the request was never sent.
    pub fn with_note(mut self, note: Option<String>) -> Self {
        self.inner.note = note;
        self
    }

    /// What the SDK itself said about the failure, if anything.
    pub fn note(&self) -> Option<&str> {
        self.inner.note.as_deref()
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            Kind::Response(response) => Some(response.status),
            Kind::Decode { status, .. } | Kind::Protocol { status, .. } => *status,
            _ => None,
        }
    }

    /// The kind of outcome.
    pub fn class(&self) -> ErrorClass {
        match &self.inner.kind {
            Kind::Response(response) => response.classification.class,
            Kind::Transport { .. } => ErrorClass::Transport,
            Kind::InvalidRequest(_) => ErrorClass::InvalidRequest,
            Kind::Decode { .. } => ErrorClass::Success,
            Kind::Protocol { .. } => ErrorClass::ServerError,
        }
    }

    /// The retry policy of the outcome, before the method is considered.
    pub fn retry_policy(&self) -> RetryPolicy {
        match &self.inner.kind {
            Kind::Response(response) => response.classification.retry,
            Kind::Transport {
                sent: SendState::NotSent,
                ..
            } => RetryPolicy::Always,
            Kind::Transport {
                sent: SendState::MaybeSent,
                ..
            } => RetryPolicy::IdempotentOnly,
            Kind::InvalidRequest(_) | Kind::Decode { .. } | Kind::Protocol { .. } => {
                RetryPolicy::Never
            }
        }
    }

    /// Whether sending the same request again is safe and may succeed. A
    /// POST that may have reached the server is never retryable: a message
    /// could be sent twice.
    pub fn is_retryable(&self) -> bool {
        match &self.inner.method {
            Some(method) => self.retry_policy().allows(method),
            // Without the method, only what is safe for any method.
            None => self.retry_policy() == RetryPolicy::Always,
        }
    }

    /// Whether the plan's quota was hit (429, or 403 with an over-quota code).
    pub fn is_throttled(&self) -> bool {
        self.class() == ErrorClass::Throttling
    }

    /// Whether no response came back (connection, timeout, broken body).
    pub fn is_transport(&self) -> bool {
        matches!(self.inner.kind, Kind::Transport { .. })
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.inner.kind,
            Kind::Transport {
                kind: TransportKind::Timeout,
                ..
            }
        )
    }

    /// Whether the server may have carried the request out although the call
    /// failed: a transport failure after sending, a 5xx answer (but 501), or
    /// a success whose body could not be read. For a message send this means
    /// the message may have gone out: check before sending it again.
    pub fn may_have_been_processed(&self) -> bool {
        match &self.inner.kind {
            Kind::Transport { sent, .. } => *sent == SendState::MaybeSent,
            Kind::Response(response) => {
                response.status.is_server_error() && response.status != StatusCode::NOT_IMPLEMENTED
            }
            Kind::Decode { .. } | Kind::Protocol { .. } => true,
            Kind::InvalidRequest(_) => false,
        }
    }

    /// For a transport failure, whether the request may have reached the server.
    pub fn send_state(&self) -> Option<SendState> {
        match &self.inner.kind {
            Kind::Transport { sent, .. } => Some(*sent),
            _ => None,
        }
    }

    /// How long the server asked the client to wait (`Retry-After`). A
    /// per-second quota breach without the header means the next second.
    pub fn retry_after(&self) -> Option<Duration> {
        let Kind::Response(response) = &self.inner.kind else {
            return None;
        };
        response
            .headers
            .retry_after
            .or(match response.classification.forbidden {
                Some(ForbiddenReason::OverQueriesPerSecond) => Some(Duration::from_secs(1)),
                _ => None,
            })
    }

    /// For a 403, which of its meanings applies.
    pub fn forbidden_reason(&self) -> Option<ForbiddenReason> {
        match &self.inner.kind {
            Kind::Response(response) => response.classification.forbidden,
            _ => None,
        }
    }

    /// The parsed error body.
    pub fn api_error(&self) -> Option<&ApiErrorBody> {
        match &self.inner.kind {
            Kind::Response(response) => Some(&response.body),
            _ => None,
        }
    }

    /// The kept headers of an error response.
    pub fn headers(&self) -> Option<&ErrorHeaders> {
        match &self.inner.kind {
            Kind::Response(response) => Some(&response.headers),
            _ => None,
        }
    }

    /// The first bytes of the body as received (capped).
    pub fn raw_body(&self) -> Option<&RawBody> {
        match &self.inner.kind {
            Kind::Response(response) => Some(&response.raw),
            Kind::Decode { raw, .. } => Some(raw),
            _ => None,
        }
    }

    /// The operation id from the spec, e.g. `messageCreate`.
    pub fn operation(&self) -> Option<&str> {
        self.inner.operation.as_deref()
    }

    /// The HTTP method of the request, when known.
    pub fn method(&self) -> Option<&Method> {
        self.inner.method.as_ref()
    }

    /// What to do about it, from the code table (one paragraph per line).
    pub fn remedy(&self) -> Option<String> {
        if let Kind::Transport { sent, .. } = &self.inner.kind {
            return Some(
                match sent {
                    SendState::NotSent => {
                        "check the network and the base URL; the request was not sent"
                    }
                    SendState::MaybeSent => {
                        "the request may or may not have reached the server: check its effect \
                         (e.g. list recent messages) before sending it again"
                    }
                }
                .to_string(),
            );
        }
        let row = TableRow::lookup(self.status()?.as_u16())?;
        // A 403 has four meanings; when the SDK knows which one applies, the
        // paragraph of the table about it is the advice.
        let keyword = match self.forbidden_reason() {
            Some(ForbiddenReason::Permission) => Some("permission"),
            Some(ForbiddenReason::HttpsRequired) => Some("https"),
            Some(ForbiddenReason::InvalidApiKey) => Some("api key"),
            Some(ForbiddenReason::OverQueriesPerSecond | ForbiddenReason::OverQueriesPerDay) => {
                Some("quota")
            }
            None => None,
        };
        let specific = keyword.and_then(|keyword| {
            row.remedies
                .iter()
                .find(|remedy| remedy.to_ascii_lowercase().contains(keyword))
        });
        Some(match specific {
            Some(remedy) => (*remedy).to_string(),
            None => row.remedies.join("\n"),
        })
    }

    fn reason_phrase(status: StatusCode) -> String {
        TableRow::lookup(status.as_u16())
            .map(|row| row.reason.to_string())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_else(|| "unknown status".to_string())
            .to_lowercase()
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = &self.inner.operation {
            write!(f, "{operation}: ")?;
        }
        match &self.inner.kind {
            Kind::Response(response) => {
                write!(
                    f,
                    "{} {}",
                    response.status.as_u16(),
                    Self::reason_phrase(response.status)
                )?;
                if let Some(reason) = response.classification.forbidden {
                    let what = match reason {
                        ForbiddenReason::OverQueriesPerSecond => "over the per-second quota",
                        ForbiddenReason::OverQueriesPerDay => "daily quota spent",
                        ForbiddenReason::HttpsRequired => "https required",
                        ForbiddenReason::InvalidApiKey => "invalid api key",
                        ForbiddenReason::Permission => "missing permission",
                    };
                    write!(f, " ({what})")?;
                }
                if let Some(note) = &self.inner.note {
                    write!(f, ": {}", one_line(note))?;
                }
                if let Some(message) = response.body.message() {
                    write!(f, ": {}", one_line(message))?;
                } else if let Some(detail) = &response.headers.error_detail {
                    write!(f, ": {}", one_line(detail))?;
                }
                let unsafe_method = self
                    .inner
                    .method
                    .as_ref()
                    .is_some_and(|m| !m.is_idempotent());
                if unsafe_method && self.may_have_been_processed() {
                    write!(f, "; the request may or may not have been carried out")?;
                }
            }
            Kind::Transport { kind, sent, .. } => {
                let what = match kind {
                    TransportKind::Connect => "could not connect",
                    TransportKind::Timeout => "timed out",
                    TransportKind::Body => "the response broke off",
                    TransportKind::Other => "the request failed",
                };
                let sent = match sent {
                    SendState::NotSent => "the request was not sent",
                    SendState::MaybeSent => "the request may or may not have reached the server",
                };
                write!(f, "{what}; {sent}")?;
            }
            Kind::InvalidRequest(message) => write!(f, "invalid request: {}", one_line(message))?,
            Kind::Protocol { status, message } => {
                if let Some(status) = status {
                    write!(f, "{} {}: ", status.as_u16(), Self::reason_phrase(*status))?;
                }
                write!(f, "unexpected response: {}", one_line(message))?;
            }
            Kind::Decode { status, .. } => {
                if let Some(status) = status {
                    write!(f, "{} {}: ", status.as_u16(), Self::reason_phrase(*status))?;
                }
                write!(f, "the response body could not be decoded")?;
            }
        }
        if f.alternate() {
            if let Kind::Response(response) = &self.inner.kind {
                if let Some(detail) = response
                    .body
                    .detail()
                    .filter(|d| Some(*d) != response.body.message())
                {
                    write!(f, "\n  detail: {}", one_line(detail))?;
                }
                if let Some(code) = &response.headers.error_code {
                    write!(f, "\n  error code: {code}")?;
                }
                if let Some(id) = &response.headers.request_id {
                    write!(f, "\n  request id: {id}")?;
                }
            }
            if let Some(remedy) = self.remedy() {
                for line in remedy.lines() {
                    write!(f, "\n  remedy: {line}")?;
                }
            }
            let mut source = std::error::Error::source(self);
            while let Some(cause) = source {
                write!(f, "\n  caused by: {cause}")?;
                source = cause.source();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Error");
        debug
            .field("operation", &self.inner.operation)
            .field("method", &self.inner.method)
            .field("note", &self.inner.note)
            .field("class", &self.class())
            .field("retryable", &self.is_retryable());
        match &self.inner.kind {
            Kind::Response(response) => {
                debug
                    .field("status", &response.status.as_u16())
                    .field("forbidden", &response.classification.forbidden)
                    .field("headers", &response.headers)
                    .field("body", &response.body)
                    .field("raw", &response.raw);
            }
            Kind::Transport { kind, sent, source } => {
                debug
                    .field("transport", kind)
                    .field("sent", sent)
                    .field("source", source);
            }
            Kind::InvalidRequest(message) => {
                debug.field("invalid_request", message);
            }
            Kind::Protocol { status, message } => {
                debug
                    .field("status", &status.map(|s| s.as_u16()))
                    .field("protocol", message);
            }
            Kind::Decode {
                status,
                raw,
                source,
            } => {
                debug
                    .field("status", &status.map(|s| s.as_u16()))
                    .field("raw", raw)
                    .field("source", source);
            }
        }
        debug.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            Kind::Transport { source, .. } | Kind::Decode { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
