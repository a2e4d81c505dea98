//! Classification of status codes: what kind of outcome a code is and
//! whether the request may be sent again.
//!
//! The list of codes and their texts come from the code table; the decisions
//! below are handwritten. A test checks that both cover the same codes.

use http::{HeaderMap, Method, StatusCode};

/// The kind of outcome a response (or a failure to get one) is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorClass {
    /// 2xx: the request succeeded.
    Success,
    /// 301, 302 and other redirects: the resource is elsewhere.
    Redirect,
    /// 304: the cached copy is still good.
    NotModified,
    /// A 4xx the caller must fix: bad parameters, unknown id, wrong media type…
    ClientError,
    /// 401: missing or rejected credentials.
    Auth,
    /// 403 that is not a quota breach: permission, plain HTTP or API key.
    Forbidden,
    /// Over the plan's quota (429, 403 with an over-quota code).
    Throttling,
    /// A 5xx: the server or a gateway failed.
    ServerError,
    /// 501: the method is not implemented for the resource.
    NotImplemented,
    /// No response: connection, TLS, timeout or a broken body.
    Transport,
    /// The SDK refused to send the request (bad arguments).
    InvalidRequest,
}

impl ErrorClass {
    /// The variant's name, e.g. `"Throttling"`: what logs show
    /// (`class = ?err.class()`) and what metrics label an error with.
    pub fn name(self) -> &'static str {
        match self {
            ErrorClass::Success => "Success",
            ErrorClass::Redirect => "Redirect",
            ErrorClass::NotModified => "NotModified",
            ErrorClass::ClientError => "ClientError",
            ErrorClass::Auth => "Auth",
            ErrorClass::Forbidden => "Forbidden",
            ErrorClass::Throttling => "Throttling",
            ErrorClass::ServerError => "ServerError",
            ErrorClass::NotImplemented => "NotImplemented",
            ErrorClass::Transport => "Transport",
            ErrorClass::InvalidRequest => "InvalidRequest",
        }
    }
}

/// When a request that got this outcome may be sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryPolicy {
    /// Never: sending it again gives the same answer.
    Never,
    /// Always, whatever the method: the server provably did not act on it.
    Always,
    /// Only for idempotent methods (GET, PUT, DELETE, HEAD, OPTIONS): the
    /// server may have acted on it.
    IdempotentOnly,
}

impl RetryPolicy {
    /// Whether a request with this method may be retried under the policy.
    pub fn allows(self, method: &Method) -> bool {
        match self {
            RetryPolicy::Never => false,
            RetryPolicy::Always => true,
            RetryPolicy::IdempotentOnly => method.is_idempotent(),
        }
    }

    /// Whether a request of an operation with this effect may be sent again
    /// under the policy: the operation's effect, not its method, decides.
    pub fn allows_effect(self, effect: crate::Effect) -> bool {
        match self {
            RetryPolicy::Never => false,
            RetryPolicy::Always => true,
            RetryPolicy::IdempotentOnly => effect.is_idempotent(),
        }
    }
}

/// Why the API answered 403.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ForbiddenReason {
    /// Over the per-second quota (`ERR_403_DEVELOPER_OVER_QPS`): retry after the next second.
    OverQueriesPerSecond,
    /// The daily quota is spent (`ERR_403_DEVELOPER_OVER_QPD`): not before it resets.
    OverQueriesPerDay,
    /// Plain HTTP was used instead of HTTPS.
    HttpsRequired,
    /// The API key is missing, unknown or inactive.
    InvalidApiKey,
    /// The credentials are fine but the user lacks the permission.
    Permission,
}

/// The decisions about one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Classification {
    /// The kind of outcome.
    pub class: ErrorClass,
    /// When it may be retried.
    pub retry: RetryPolicy,
    /// For 403, which of its meanings applies.
    pub forbidden: Option<ForbiddenReason>,
}

/// The handwritten classification of every code in the code table.
pub(crate) const TABLE_CLASSIFICATION: &[(u16, ErrorClass, RetryPolicy)] = &[
    (200, ErrorClass::Success, RetryPolicy::Never),
    (201, ErrorClass::Success, RetryPolicy::Never),
    (202, ErrorClass::Success, RetryPolicy::Never),
    (204, ErrorClass::Success, RetryPolicy::Never),
    // The client follows redirects itself; one it did not follow is final
    // (a gateway may answer a send it carried out with a redirect).
    (301, ErrorClass::Redirect, RetryPolicy::Never),
    (302, ErrorClass::Redirect, RetryPolicy::Never),
    (304, ErrorClass::NotModified, RetryPolicy::Never),
    (400, ErrorClass::ClientError, RetryPolicy::Never),
    (401, ErrorClass::Auth, RetryPolicy::Never),
    // Refined by `classify_forbidden`: a per-second quota breach is retryable.
    (403, ErrorClass::Forbidden, RetryPolicy::Never),
    (404, ErrorClass::ClientError, RetryPolicy::Never),
    (405, ErrorClass::ClientError, RetryPolicy::Never),
    (413, ErrorClass::ClientError, RetryPolicy::Never),
    (415, ErrorClass::ClientError, RetryPolicy::Never),
    (422, ErrorClass::ClientError, RetryPolicy::Never),
    // Throttled requests were refused before any work: safe for any method.
    (429, ErrorClass::Throttling, RetryPolicy::Always),
    // The server may have done part of the work: only idempotent requests.
    (500, ErrorClass::ServerError, RetryPolicy::IdempotentOnly),
    (501, ErrorClass::NotImplemented, RetryPolicy::Never),
];

/// Classifies a status code with the headers and body text that came with it.
///
/// `body_text` is the (capped, lossily decoded) body; it is only consulted
/// for a 403 that carries no `X-Error-Code`.
pub fn classify(status: StatusCode, headers: &HeaderMap, body_text: &str) -> Classification {
    let code = status.as_u16();
    let (class, retry) = TABLE_CLASSIFICATION
        .iter()
        .find(|(listed, _, _)| *listed == code)
        .map_or_else(
            || classify_standard(status),
            |(_, class, retry)| (*class, *retry),
        );
    if code == 403 {
        let reason = classify_forbidden(headers, body_text);
        let (class, retry) = match reason {
            ForbiddenReason::OverQueriesPerSecond => (ErrorClass::Throttling, RetryPolicy::Always),
            ForbiddenReason::OverQueriesPerDay => (ErrorClass::Throttling, RetryPolicy::Never),
            _ => (class, retry),
        };
        return Classification {
            class,
            retry,
            forbidden: Some(reason),
        };
    }
    Classification {
        class,
        retry,
        forbidden: None,
    }
}

/// Codes the table does not list, by their standard HTTP meaning.
fn classify_standard(status: StatusCode) -> (ErrorClass, RetryPolicy) {
    match status.as_u16() {
        200..=299 => (ErrorClass::Success, RetryPolicy::Never),
        304 => (ErrorClass::NotModified, RetryPolicy::Never),
        // A redirect the client did not follow: a 303 says the request was
        // carried out, others promise nothing. Never sent again by itself.
        300..=399 => (ErrorClass::Redirect, RetryPolicy::Never),
        // The server gave up waiting for the request, but a proxy may send
        // 408 after passing the request on: only idempotent ones again.
        408 => (ErrorClass::Transport, RetryPolicy::IdempotentOnly),
        429 => (ErrorClass::Throttling, RetryPolicy::Always),
        401 | 407 => (ErrorClass::Auth, RetryPolicy::Never),
        501 => (ErrorClass::NotImplemented, RetryPolicy::Never),
        // A gateway failed or the service is down; the request may have
        // reached the API, so only idempotent requests are retried.
        502..=504 => (ErrorClass::ServerError, RetryPolicy::IdempotentOnly),
        500..=599 => (ErrorClass::ServerError, RetryPolicy::Never),
        _ => (ErrorClass::ClientError, RetryPolicy::Never),
    }
}

/// Tells the meanings of a 403 apart. Only `X-Error-Code`, the API's
/// machine-readable code, may say that the quota was hit: that makes the
/// answer throttling, which is retried (a message send included) and pauses
/// every clone of the client. Free text (`X-Error-Detail`, the body) may
/// only pick between the meanings that change nothing but the remedy
/// (plain HTTP, API key, permission): a text a gateway or anyone in between
/// wrote never decides that a send may be repeated.
pub fn classify_forbidden(headers: &HeaderMap, body_text: &str) -> ForbiddenReason {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    if let Some(reason) = forbidden_reason_in(&header("x-error-code")) {
        return reason;
    }
    let free_text = [header("x-error-detail"), body_text.to_ascii_lowercase()];
    free_text
        .iter()
        .filter_map(|text| forbidden_reason_in(text))
        .find(|reason| {
            !matches!(
                reason,
                ForbiddenReason::OverQueriesPerSecond | ForbiddenReason::OverQueriesPerDay
            )
        })
        .unwrap_or(ForbiddenReason::Permission)
}

fn forbidden_reason_in(text: &str) -> Option<ForbiddenReason> {
    // A link (`https://…`) says nothing about the scheme of the request:
    // words holding a URL are left out before looking for "https".
    let without_links: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '<' || c == '>')
        .filter(|word| !word.contains("://"))
        .collect();
    let normalized = without_links.join(" ").replace(['_', '-'], " ");
    let has = |needle: &str| normalized.contains(needle);
    if has("over qps") {
        Some(ForbiddenReason::OverQueriesPerSecond)
    } else if has("over qpd") || has("over rate") {
        Some(ForbiddenReason::OverQueriesPerDay)
    } else if has("requires ssl") || has("https") {
        Some(ForbiddenReason::HttpsRequired)
    } else if has("api key") || has("developer inactive") || has("not authorized") {
        Some(ForbiddenReason::InvalidApiKey)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
