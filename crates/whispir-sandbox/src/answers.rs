//! What an operation is given (a [`Call`]) and what it gives back (an
//! [`Answer`]): the terms between the pipeline and the resources.

use std::sync::Arc;

use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

use crate::spec::Bound;
use crate::state::AppState;
use crate::store::Scope;

/// A request on its way to an operation.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    /// Shared state.
    pub state: &'a Arc<AppState>,
    /// The operation and path parameters.
    pub bound: Bound<'a>,
    /// The workspace of a workspace-scoped operation.
    pub workspace: Scope,
    /// `http://host:port` as the client called it.
    pub base: String,
    /// The decoded query string.
    pub query: Vec<(String, String)>,
    /// The request headers.
    pub headers: &'a HeaderMap,
    /// The request body, parsed and checked.
    pub body: Option<Value>,
    /// The path as requested (without the query).
    pub path: String,
}

impl Call<'_> {
    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The workspace id of the call, when scoped.
    pub fn workspace_id(&self) -> &str {
        self.workspace.as_deref().unwrap_or("")
    }
}

/// What an operation answers.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// The `Location` header, if any.
    pub location: Option<String>,
}

impl Answer {
    /// 200 with a body.
    pub fn ok(body: Value) -> Self {
        Answer {
            status: StatusCode::OK,
            body: Some(body),
            location: None,
        }
    }

    /// A status without a body.
    pub fn empty(status: StatusCode) -> Self {
        Answer {
            status,
            body: None,
            location: None,
        }
    }

    /// Adds a `Location`.
    pub fn at(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }
}
