//! Credentials: Basic or Bearer, and the API key, on every request.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;

use crate::config::SandboxCredentials;
use crate::errors::ApiFailure;
use crate::lock::lock;

/// The header that carries the API key.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Checks requests against the sandbox's credentials and issued tokens.
#[derive(Debug)]
pub(crate) struct Gate {
    credentials: SandboxCredentials,
    issued: Mutex<Issued>,
}

/// The tokens the auth endpoint issued that are still valid, at most
/// `max` of them.
#[derive(Debug)]
struct Issued {
    max: usize,
    valid: HashSet<String>,
    oldest_first: VecDeque<String>,
}

impl Gate {
    /// A gate for these credentials that keeps at most `max_tokens` issued tokens.
    pub fn new(credentials: SandboxCredentials, max_tokens: usize) -> Self {
        Gate {
            credentials,
            issued: Mutex::new(Issued {
                max: max_tokens,
                valid: HashSet::new(),
                oldest_first: VecDeque::new(),
            }),
        }
    }

    /// Remembers a token the auth endpoint issued, retiring the oldest
    /// when there are too many: a client asking for token after token must
    /// not grow the sandbox's memory without bound.
    pub fn issue(&self, token: String) {
        let mut issued = lock(&self.issued);
        if !issued.valid.insert(token.clone()) {
            return;
        }
        issued.oldest_first.push_back(token);
        while issued.oldest_first.len() > issued.max {
            if let Some(oldest) = issued.oldest_first.pop_front() {
                issued.valid.remove(&oldest);
            }
        }
    }

    /// Whether a bearer token is the configured one or a valid issued one.
    fn knows(&self, token: &str) -> bool {
        token == self.credentials.bearer_token || lock(&self.issued).valid.contains(token)
    }

    /// Lets the request through, or says why not: 403 for a missing or
    /// wrong API key, 401 for missing or wrong credentials.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), ApiFailure> {
        let key = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
        match key {
            Some(key) if key == self.credentials.api_key => {}
            Some(_) => {
                return Err(ApiFailure::new(
                    StatusCode::FORBIDDEN,
                    "Developer Inactive",
                    "the API key is not valid",
                )
                .code("ERR_403_DEVELOPER_INACTIVE"));
            }
            None => {
                return Err(ApiFailure::new(
                    StatusCode::FORBIDDEN,
                    "Developer Inactive",
                    "the request has no x-api-key header",
                )
                .code("ERR_403_DEVELOPER_INACTIVE"));
            }
        }
        let unauthorized = |detail: &str| {
            ApiFailure::new(StatusCode::UNAUTHORIZED, "Unauthorized", detail)
                .code("ERR_401_UNAUTHORIZED")
                .header(header::WWW_AUTHENTICATE, "Basic realm=\"Whispir\"")
        };
        let Some(authorization) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return Err(unauthorized("the request has no Authorization header"));
        };
        let (scheme, value) = authorization
            .trim()
            .split_once(' ')
            .unwrap_or((authorization, ""));
        let value = value.trim();
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(value)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let expected = format!("{}:{}", self.credentials.user, self.credentials.password);
            if decoded.as_deref() == Some(expected.as_str()) {
                return Ok(());
            }
            return Err(unauthorized("the user name or password is wrong"));
        }
        if scheme.eq_ignore_ascii_case("bearer") {
            if self.knows(value) {
                return Ok(());
            }
            return Err(unauthorized("the bearer token is not valid"));
        }
        Err(unauthorized(
            "the Authorization scheme must be Basic or Bearer",
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use axum::http::HeaderValue;

    use super::*;

    fn headers(authorization: Option<&str>, key: Option<&str>) -> HeaderMap {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        if let Some(value) = key {
            headers.insert(API_KEY_HEADER, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn basic_and_bearer_pass_only_with_the_api_key() {
        let gate = Gate::new(SandboxCredentials::default(), 10);
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("sandbox-user:sandbox-password")
        );
        assert!(
            gate.check(&headers(Some(&basic), Some("sandbox-api-key")))
                .is_ok()
        );
        assert!(
            gate.check(&headers(
                Some("Bearer sandbox-token"),
                Some("sandbox-api-key")
            ))
            .is_ok()
        );
        let no_key = gate.check(&headers(Some(&basic), None)).unwrap_err();
        assert_eq!(no_key.status(), StatusCode::FORBIDDEN);
        let wrong = gate
            .check(&headers(
                Some("Basic d3Jvbmc6d3Jvbmc="),
                Some("sandbox-api-key"),
            ))
            .unwrap_err();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let unknown_token = gate
            .check(&headers(Some("Bearer nope"), Some("sandbox-api-key")))
            .unwrap_err();
        assert_eq!(unknown_token.status(), StatusCode::UNAUTHORIZED);
    }

    fn bearer(token: &str) -> HeaderMap {
        headers(Some(&format!("Bearer {token}")), Some("sandbox-api-key"))
    }

    #[test]
    fn past_the_most_tokens_issuing_one_retires_the_oldest() {
        let gate = Gate::new(SandboxCredentials::default(), 2);
        for token in ["first", "second", "third"] {
            gate.issue(token.to_string());
        }
        assert!(gate.check(&bearer("first")).is_err());
        assert!(gate.check(&bearer("second")).is_ok());
        assert!(gate.check(&bearer("third")).is_ok());
        assert_eq!(lock(&gate.issued).valid.len(), 2);
        assert!(
            gate.check(&bearer("sandbox-token")).is_ok(),
            "the configured token is never retired"
        );
    }

    #[test]
    fn no_issued_token_is_kept_when_the_most_is_zero() {
        let gate = Gate::new(SandboxCredentials::default(), 0);
        gate.issue("issued".to_string());
        assert!(gate.check(&bearer("issued")).is_err());
        assert!(gate.check(&bearer("sandbox-token")).is_ok());
    }
}
