//! Credentials: Basic or Bearer, and the API key, on every request.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;

use crate::config::SandboxCredentials;
use crate::errors::ApiFailure;

/// The header that carries the API key.
pub(crate) const API_KEY_HEADER: &str = "x-api-key";

/// Checks requests against the sandbox's credentials and issued tokens.
#[derive(Debug)]
pub(crate) struct Gate {
    credentials: SandboxCredentials,
    tokens: Mutex<HashSet<String>>,
}

impl Gate {
    /// A gate for these credentials.
    pub fn new(credentials: SandboxCredentials) -> Self {
        let tokens = HashSet::from([credentials.bearer_token.clone()]);
        Gate {
            credentials,
            tokens: Mutex::new(tokens),
        }
    }

    /// Remembers a token the auth endpoint issued.
    pub fn issue(&self, token: String) {
        if let Ok(mut tokens) = self.tokens.lock() {
            tokens.insert(token);
        }
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
            let known = self
                .tokens
                .lock()
                .map(|tokens| tokens.contains(value))
                .unwrap_or(false);
            if known {
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
        let gate = Gate::new(SandboxCredentials::default());
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
}
