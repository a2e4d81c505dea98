//! The answer of a successful call: the typed body with the status, the
//! headers and the `Location` of a created or accepted resource.

use std::ops::Deref;

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};

/// A successful answer: the decoded body, plus what the API said around it.
/// It dereferences to the body; [`Response::into_inner`] takes it out.
#[derive(Debug, Clone)]
pub struct Response<T> {
    status: StatusCode,
    headers: HeaderMap,
    location: Option<Url>,
    // Boxed: models are large (a `Message` is about 2 KB), and a response
    // passes through several futures on its way to the caller; a box moves
    // as one pointer.
    body: Box<T>,
    body_incomplete: bool,
}

impl<T> Response<T> {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        location: Option<Url>,
        body: Box<T>,
    ) -> Self {
        Self {
            status,
            headers,
            location,
            body,
            body_incomplete: false,
        }
    }

    /// The same answer, marked as one whose body did not arrive whole.
    pub(crate) fn with_body_incomplete(mut self) -> Self {
        self.body_incomplete = true;
        self
    }

    /// The status, e.g. `201 Created`.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The absolute URL in the `Location` header: where a created (201) or
    /// accepted (202) resource lives. `None` when the API sent none, or one
    /// that is not a URL.
    pub fn location(&self) -> Option<&Url> {
        self.location.as_ref()
    }

    /// The id of a created or accepted resource: the last segment of its
    /// `Location`.
    pub fn id(&self) -> Option<&str> {
        self.location
            .as_ref()
            .and_then(|url| whispir_errors::resource_id(url))
    }

    /// Whether the body that came with this success did not arrive whole
    /// (the connection closed before its declared length, or the rest came
    /// too late or was too long). Only an operation that documents no body
    /// succeeds so: its status says the API acted, and nothing the call
    /// returns came from the missing part. An operation whose answer is
    /// decoded fails instead ([`crate::Error::is_body_incomplete`]).
    pub fn body_incomplete(&self) -> bool {
        self.body_incomplete
    }

    /// The body.
    pub fn body(&self) -> &T {
        &self.body
    }

    /// The body, taken out.
    pub fn into_inner(self) -> T {
        *self.body
    }

    /// The body with another type, keeping the rest.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Response<U> {
        Response {
            status: self.status,
            headers: self.headers,
            location: self.location,
            body: Box::new(f(*self.body)),
            body_incomplete: self.body_incomplete,
        }
    }
}

impl<T> Deref for Response<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.body
    }
}
