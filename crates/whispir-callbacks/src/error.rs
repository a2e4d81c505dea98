//! Why a callback request was refused, and the answer it gets.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// A refused callback request. Each kind maps to one HTTP status; the text
/// sent back to the caller is fixed per status and never repeats what the
/// request carried (its key above all), while `Display` gives the detail
/// for your logs.
#[derive(Debug, thiserror::Error)]
#[error("{kind}")]
pub struct CallbackError {
    kind: Kind,
}

#[derive(Debug, thiserror::Error)]
enum Kind {
    #[error("callback requests are POSTs; this one was {0}")]
    MethodNotAllowed(http::Method),
    // Deliberately silent on whether the key was missing, wrong, or sent
    // the wrong way: that is for the sender to find out, not a prober.
    #[error("the callback request carries no accepted key")]
    Unauthorized,
    #[error("the callback body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error(
        "the callback body is not JSON or XML in UTF-8 (content type {0}); \
         set the callback's contentType to json or xml"
    )]
    UnsupportedMediaType(String),
    #[error("the callback body was not received within {0:?}")]
    Timeout(Duration),
    #[error("the callback body could not be read: {0}")]
    BodyRead(String),
    #[error("the callback body is malformed: {0}")]
    Malformed(String),
}

impl CallbackError {
    pub(crate) fn method_not_allowed(method: http::Method) -> Self {
        Self {
            kind: Kind::MethodNotAllowed(method),
        }
    }

    pub(crate) fn unauthorized() -> Self {
        Self {
            kind: Kind::Unauthorized,
        }
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Self {
            kind: Kind::TooLarge { limit },
        }
    }

    pub(crate) fn unsupported_media_type(content_type: Option<&HeaderValue>) -> Self {
        // Only for logs; at most a short, printable prefix of what came.
        let shown = match content_type.map(|value| value.to_str()) {
            None => "missing".to_owned(),
            Some(Ok(text)) => format!("{:?}", text.chars().take(64).collect::<String>()),
            Some(Err(_)) => "not text".to_owned(),
        };
        Self {
            kind: Kind::UnsupportedMediaType(shown),
        }
    }

    pub(crate) fn timeout(after: Duration) -> Self {
        Self {
            kind: Kind::Timeout(after),
        }
    }

    pub(crate) fn body_read(cause: impl std::fmt::Display) -> Self {
        Self {
            kind: Kind::BodyRead(cause.to_string()),
        }
    }

    pub(crate) fn malformed(cause: impl std::fmt::Display) -> Self {
        Self {
            kind: Kind::Malformed(cause.to_string()),
        }
    }

    /// The HTTP status to answer with: 400, 401, 405, 408, 413 or 415.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            Kind::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Kind::Unauthorized => StatusCode::UNAUTHORIZED,
            Kind::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Kind::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Kind::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            Kind::BodyRead(_) | Kind::Malformed(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// Whether the request carried no accepted key (401).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.kind, Kind::Unauthorized)
    }

    /// Whether the body was over the size limit (413).
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, Kind::TooLarge { .. })
    }

    /// Whether the content type was not JSON or XML in UTF-8 (415).
    pub fn is_unsupported_media_type(&self) -> bool {
        matches!(self.kind, Kind::UnsupportedMediaType(_))
    }

    /// Whether the body could not be read or parsed (400).
    pub fn is_malformed(&self) -> bool {
        matches!(self.kind, Kind::Malformed(_) | Kind::BodyRead(_))
    }

    /// Whether the body did not arrive in time (408).
    pub fn is_timeout(&self) -> bool {
        matches!(self.kind, Kind::Timeout(_))
    }

    /// Whether the method was not POST (405).
    pub fn is_method_not_allowed(&self) -> bool {
        matches!(self.kind, Kind::MethodNotAllowed(_))
    }

    /// The reason as a fixed name, for the `whispir.refusal.reason`
    /// attribute: never anything the request carried.
    #[cfg(feature = "opentelemetry")]
    pub(crate) fn refusal_reason(&self) -> &'static str {
        match self.kind {
            Kind::MethodNotAllowed(_) => "method_not_allowed",
            Kind::Unauthorized => "bad_key",
            Kind::TooLarge { .. } => "too_large",
            Kind::UnsupportedMediaType(_) => "unsupported_media_type",
            Kind::Timeout(_) => "body_timeout",
            Kind::BodyRead(_) => "body_unreadable",
            Kind::Malformed(_) => "bad_body",
        }
    }

    /// The fixed text sent back with [`status`](Self::status).
    pub fn public_message(&self) -> &'static str {
        match self.kind {
            Kind::MethodNotAllowed(_) => "method not allowed",
            Kind::Unauthorized => "unauthorized",
            Kind::TooLarge { .. } => "payload too large",
            Kind::UnsupportedMediaType(_) => "unsupported media type",
            Kind::Timeout(_) => "request timeout",
            Kind::BodyRead(_) | Kind::Malformed(_) => "malformed callback body",
        }
    }

    /// The HTTP answer to the caller: the status, a fixed plain-text body,
    /// and `Allow` on a 405.
    pub fn to_response(&self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::from_static(
            self.public_message().as_bytes(),
        )));
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        if self.is_method_not_allowed() {
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
        }
        response
    }
}
