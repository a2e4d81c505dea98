//! Whispir-style error answers: `{"errorSummary","errorText","errorDetail"}`
//! with the summary taken from the project's code table.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use whispir_errors::TableRow;

/// The first paragraph of a status code's meaning in the code table
/// (`openapi/response-codes.md`), as whispir-errors holds it: the texts the
/// SDK's errors come from.
fn summary(status: StatusCode) -> String {
    match TableRow::lookup(status.as_u16()) {
        Some(row) => row.summary.to_string(),
        None => status.canonical_reason().unwrap_or("Error").to_string(),
    }
}

/// An error answer.
#[derive(Debug, Clone)]
pub(crate) struct ApiFailure {
    status: StatusCode,
    text: String,
    detail: String,
    code: Option<String>,
    headers: Vec<(HeaderName, String)>,
}

impl ApiFailure {
    /// An error answer with a short name (`errorText`) and detail.
    pub fn new(status: StatusCode, text: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiFailure {
            status,
            text: text.into(),
            detail: detail.into(),
            code: None,
            headers: Vec::new(),
        }
    }

    /// Sets `X-Error-Code` (and `X-Error-Detail` from the detail).
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// The status code.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// 404 for a path or id that names nothing.
    pub fn not_found(what: impl Into<String>) -> Self {
        ApiFailure::new(StatusCode::NOT_FOUND, "Not Found", what)
    }

    /// 400 for a malformed request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiFailure::new(StatusCode::BAD_REQUEST, "Bad Request", detail)
    }

    /// 422 for a body that breaks the schema, naming the fields.
    pub fn unprocessable(problems: &[String]) -> Self {
        ApiFailure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Unprocessable Entity",
            problems.join("; "),
        )
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        // `status` is the status line as text. The spec's error schema is
        // `oneOf: [ApiError, ApiErrorNextGen]`, and neither branch requires
        // a field, so a bare classic body matches both and breaks `oneOf`;
        // a text `status` (NextGen's is an integer) makes it match one.
        let body = json!({
            "errorSummary": summary(self.status),
            "errorText": self.text,
            "errorDetail": self.detail,
            "status": format!(
                "{} {}",
                self.status.as_u16(),
                self.status.canonical_reason().unwrap_or("Error")
            ),
        });
        let mut response = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        let headers = response.headers_mut();
        if let Some(code) = &self.code {
            if let Ok(value) = HeaderValue::from_str(code) {
                headers.insert("x-error-code", value);
            }
            if let Ok(value) = HeaderValue::from_str(&self.detail) {
                headers.insert("x-error-detail", value);
            }
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn summaries_come_from_the_code_table() {
        assert_eq!(
            summary(StatusCode::NOT_FOUND),
            "No resource exists at the requested URL."
        );
        assert!(summary(StatusCode::FORBIDDEN).starts_with("The API refused"));
    }
}
