//! The one error type of the SDK: opaque, with predicates and accessors.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method, StatusCode};

use crate::body::{ApiErrorBody, RawBody, parse_error_body};
use crate::class::{Classification, ErrorClass, ForbiddenReason, RetryPolicy, classify};
use crate::code_table::TableRow;
use crate::effect::Effect;
use crate::refusal::Refusal;
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

impl TransportKind {
    /// The variant's name, e.g. `"Timeout"`, as logs and metrics show it.
    pub fn name(self) -> &'static str {
        match self {
            TransportKind::Connect => "Connect",
            TransportKind::Timeout => "Timeout",
            TransportKind::Body => "Body",
            TransportKind::Other => "Other",
        }
    }
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
        /// The host (and port) the request went to, when known.
        host: Option<String>,
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
        /// Whether the body arrived whole (else it broke off or stalled).
        whole: bool,
    },
    Refused(Refusal),
}

#[derive(Debug)]
struct Inner {
    kind: Kind,
    operation: Option<String>,
    method: Option<Method>,
    /// What the operation does, when the error came from a known one.
    effect: Option<Effect>,
    attempts: u32,
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
                host: None,
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
        Self::undecoded(operation, method, status, raw, source.into(), true)
    }

    /// A success status (when known) whose body did not arrive whole: the
    /// connection closed before the declared length, or the rest came too
    /// late. `raw` holds what arrived, if anything.
    pub fn body_incomplete(
        operation: Option<&str>,
        method: Option<Method>,
        status: Option<StatusCode>,
        raw: RawBody,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::undecoded(operation, method, status, raw, source.into(), false)
    }

    fn undecoded(
        operation: Option<&str>,
        method: Option<Method>,
        status: Option<StatusCode>,
        raw: RawBody,
        source: BoxError,
        whole: bool,
    ) -> Self {
        let kind = Kind::Decode {
            status,
            raw,
            source,
            whole,
        };
        Self::new(kind, operation, method)
    }

    /// A request the client refused to send (or to send on), for a reason
    /// of its own: see [`Refusal`].
    pub fn refused(operation: Option<&str>, method: Option<Method>, refusal: Refusal) -> Self {
        Self::new(Kind::Refused(refusal), operation, method)
    }

    fn new(kind: Kind, operation: Option<&str>, method: Option<Method>) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                operation: operation.map(str::to_string),
                method,
                effect: None,
                attempts: 0,
            }),
        }
    }

    /// Records the operation and method of the call, where the error does
    /// not know them yet.
    pub fn with_call(mut self, operation: &str, method: &Method) -> Self {
        if self.inner.operation.is_none() {
            self.inner.operation = Some(operation.to_string());
        }
        if self.inner.method.is_none() {
            self.inner.method = Some(method.clone());
        }
        self
    }

    /// Records what the operation does ([`Effect`]): retry decisions then
    /// follow the operation's effect rather than its HTTP method.
    pub fn with_effect(mut self, effect: Effect) -> Self {
        self.inner.effect = Some(effect);
        self
    }

    /// What the failed operation does, when the SDK knows it.
    pub fn effect(&self) -> Option<Effect> {
        self.inner.effect
    }

    /// What the failed request does: its operation's effect, else what its
    /// method implies (RFC 9110), else unknown.
    fn known_effect(&self) -> Option<Effect> {
        (self.inner.effect).or_else(|| self.inner.method.as_ref().map(Effect::of_method))
    }

    /// Records the host (and port) a transport failure happened with, so
    /// that "could not connect" says where to. Other errors ignore it.
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        if let Kind::Transport { host: slot, .. } = &mut self.inner.kind {
            *slot = Some(host.into());
        }
        self
    }

    /// For a transport failure, the host (and port) the request went to.
    pub fn host(&self) -> Option<&str> {
        match &self.inner.kind {
            Kind::Transport { host, .. } => host.as_deref(),
            _ => None,
        }
    }

    /// Records how many times the request was sent (0: never).
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = attempts;
        self
    }

    /// How many times the client sent the request before giving up; 0 when
    /// it was never sent (refused, or arguments rejected).
    pub fn attempts(&self) -> u32 {
        self.inner.attempts
    }

    /// Why the client refused to send the request, for a client-side refusal.
    pub fn refusal(&self) -> Option<&Refusal> {
        match &self.inner.kind {
            Kind::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    /// The HTTP status, when there was a response.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.inner.kind {
            Kind::Response(response) => Some(response.status),
            Kind::Decode { status, .. } | Kind::Protocol { status, .. } => *status,
            Kind::Refused(refusal) => refusal.status(),
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
            Kind::Refused(refusal) => refusal.class(),
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
            Kind::InvalidRequest(_)
            | Kind::Decode { .. }
            | Kind::Protocol { .. }
            | Kind::Refused(_) => RetryPolicy::Never,
        }
    }

    /// Whether sending the same request again is safe and may succeed. An
    /// operation that must not repeat (a message send, a create) and may
    /// have reached the server is never retryable: a message could be sent
    /// twice. The operation's [`Effect`] decides where it is known, else
    /// the method.
    pub fn is_retryable(&self) -> bool {
        match (self.inner.effect, &self.inner.method) {
            (Some(effect), _) => self.retry_policy().allows_effect(effect),
            (None, Some(method)) => self.retry_policy().allows(method),
            // Without either, only what is safe for any request.
            (None, None) => self.retry_policy() == RetryPolicy::Always,
        }
    }

    /// Whether the plan's quota was hit (429, or 403 with an over-quota
    /// code), or the client's own daily budget for the plan is spent.
    pub fn is_throttled(&self) -> bool {
        self.class() == ErrorClass::Throttling
    }

    /// Whether the credentials or the API key were refused: a 401, or a 403
    /// naming an invalid API key.
    pub fn is_auth(&self) -> bool {
        self.class() == ErrorClass::Auth
            || self.forbidden_reason() == Some(ForbiddenReason::InvalidApiKey)
    }

    /// Whether the account lacks the permission for the action (403).
    pub fn is_forbidden(&self) -> bool {
        self.forbidden_reason() == Some(ForbiddenReason::Permission)
    }

    /// Whether the resource (or the workspace it was looked for in) does
    /// not exist: a 404.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }

    /// Whether the API refused the request's content: 400, 413, 415 or 422.
    /// The API's own text ([`Error::api_error`], also in `Display`) names
    /// what to fix.
    pub fn is_invalid(&self) -> bool {
        matches!(
            self.status().map(|s| s.as_u16()),
            Some(400 | 413 | 415 | 422)
        ) && matches!(self.inner.kind, Kind::Response(_))
    }

    /// Whether a 5xx came back: the service or a gateway failed.
    pub fn is_server_error(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::ServerError | ErrorClass::NotImplemented
        ) && matches!(self.inner.kind, Kind::Response(_))
    }

    /// Whether the SDK refused the arguments before sending anything.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self.inner.kind, Kind::InvalidRequest(_))
    }

    /// Whether the request succeeded but its answer could not be decoded
    /// (the API carried the request out).
    pub fn is_decode(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { .. })
    }

    /// Whether the request succeeded but the body of its answer did not
    /// arrive whole (one kind of [`Error::is_decode`]): the API carried
    /// the request out.
    pub fn is_body_incomplete(&self) -> bool {
        matches!(self.inner.kind, Kind::Decode { whole: false, .. })
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
            Kind::Refused(refusal) => refusal.may_have_been_processed(),
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
        if let Kind::Refused(refusal) = &self.inner.kind {
            return refusal.retry_after();
        }
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
        if let Kind::Refused(refusal) = &self.inner.kind {
            return Some(refusal.remedy().to_string());
        }
        if let Kind::Decode { whole: false, .. } = &self.inner.kind {
            return Some(
                match self.known_effect() {
                    Some(Effect::Read) => {
                        "the API answered, but its body broke off; the read can be sent again"
                    }
                    Some(Effect::Idempotent) => {
                        "the API carried the request out, but its answer broke off; it may be \
                         sent again (that leaves the same state), or read the result with the \
                         matching retrieve operation"
                    }
                    Some(Effect::Unrepeatable) | None => {
                        "the API carried the request out (what it creates exists); do not send \
                         it again. Read the result with the matching retrieve or list operation"
                    }
                }
                .to_string(),
            );
        }
        if let Kind::Decode { .. } = &self.inner.kind {
            return Some(
                "the API carried the request out; do not send it again. Read the result with \
                 the matching retrieve or list operation, and report the body that could not be \
                 decoded (raw_body) to the SDK's maintainers"
                    .to_string(),
            );
        }
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

    /// The API's most specific words for an error answer: parts that only
    /// repeat the status (the code table's summary, the reason phrase)
    /// give way to the text or detail that says what was wrong.
    fn shown_text(response: &ResponseError) -> Option<String> {
        let row = TableRow::lookup(response.status.as_u16());
        let generic = [
            row.map(|row| row.summary),
            row.map(|row| row.reason),
            response.status.canonical_reason(),
        ];
        let generic: Vec<&str> = generic.into_iter().flatten().collect();
        response.body.specific_line(&generic)
    }

    fn reason_phrase(status: StatusCode) -> String {
        TableRow::lookup(status.as_u16())
            .map(|row| row.reason.to_string())
            .or_else(|| status.canonical_reason().map(str::to_string))
            .unwrap_or_else(|| "unknown status".to_string())
            .to_lowercase()
    }
}

/// Whitespace (newlines included) folded to single spaces, ends trimmed.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page of Whispir's documentation that explains every status code.
pub const CODE_TABLE_URL: &str = "https://developers.whispir.com/docs/http-response-codes";

impl Error {
    fn fmt_response(&self, f: &mut fmt::Formatter<'_>, response: &ResponseError) -> fmt::Result {
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
        if let Some(text) = Self::shown_text(response) {
            write!(f, ": {}", one_line(&text))?;
        } else if let Some(detail) = &response.headers.error_detail {
            write!(f, ": {}", one_line(detail))?;
        }
        let unrepeatable = match (self.inner.effect, &self.inner.method) {
            (Some(effect), _) => !effect.is_idempotent(),
            (None, method) => method.as_ref().is_some_and(|m| !m.is_idempotent()),
        };
        if unrepeatable && self.may_have_been_processed() {
            write!(f, "; the request may or may not have been carried out")?;
        }
        Ok(())
    }

    fn fmt_detail(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = |label: &str, text: &str| -> fmt::Result {
            let text = one_line(text);
            if text.is_empty() {
                Ok(())
            } else {
                write!(f, "\n  {label}: {text}")
            }
        };
        if let Kind::Response(response) = &self.inner.kind {
            let shown = Self::shown_text(response);
            if let Some(detail) = response.body.detail()
                && shown.as_deref() != Some(detail.trim())
            {
                line("detail", detail)?;
            }
            if let Some(code) = &response.headers.error_code {
                line("error code", code)?;
            }
            if let Some(id) = &response.headers.request_id {
                line("request id", id)?;
            }
            if response.raw.is_truncated() {
                line("body", "cut at the client's error body limit")?;
            }
        }
        if let Some(method) = &self.inner.method {
            line("method", method.as_str())?;
        }
        if self.inner.attempts > 0 {
            line("attempts", &self.inner.attempts.to_string())?;
        }
        if let Some(remedy) = self.remedy() {
            for paragraph in remedy.lines() {
                line("remedy", paragraph)?;
            }
            if matches!(self.inner.kind, Kind::Response(_)) {
                line("see", CODE_TABLE_URL)?;
            }
        }
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            line("caused by", &cause.to_string())?;
            source = cause.source();
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(operation) = &self.inner.operation {
            write!(f, "{operation}: ")?;
        }
        match &self.inner.kind {
            Kind::Response(response) => self.fmt_response(f, response)?,
            Kind::Transport {
                kind, sent, host, ..
            } => {
                let what = match kind {
                    TransportKind::Connect => "could not connect",
                    TransportKind::Timeout => "timed out",
                    TransportKind::Body => "the response broke off",
                    TransportKind::Other => "the request failed",
                };
                let what = match (kind, host) {
                    (TransportKind::Connect, Some(host)) => format!("{what} to {host}"),
                    (_, Some(host)) => format!("{what} ({host})"),
                    (_, None) => what.to_string(),
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
            Kind::Decode { status, whole, .. } => {
                if let Some(status) = status {
                    write!(f, "{} {}: ", status.as_u16(), Self::reason_phrase(*status))?;
                }
                if *whole {
                    write!(
                        f,
                        "the request was carried out, but the response body could not be decoded"
                    )?;
                } else {
                    write!(
                        f,
                        "the request was carried out, but the response body did not arrive whole"
                    )?;
                }
            }
            Kind::Refused(refusal) => write!(f, "{refusal}")?,
        }
        if self.inner.attempts > 1 {
            write!(f, " (after {} attempts)", self.inner.attempts)?;
        }
        if f.alternate() {
            self.fmt_detail(f)?;
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
            .field("attempts", &self.inner.attempts)
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
            Kind::Transport {
                kind,
                sent,
                source,
                host,
            } => {
                debug
                    .field("transport", kind)
                    .field("host", host)
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
                whole,
            } => {
                debug
                    .field("status", &status.map(|s| s.as_u16()))
                    .field("raw", raw)
                    .field("source", source)
                    .field("whole", whole);
            }
            Kind::Refused(refusal) => {
                debug.field("refused", refusal);
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
