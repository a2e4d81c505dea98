//! What the client needs to know about each operation beyond the generated
//! code: Whispir's versioned vendor media types (without them the API
//! answers XML or 415), the HTTP method, and whether the operation lives
//! under `/workspaces/{workspaceId}/`.
//!
//! The struct is the runtime's: every call carries its operation's facts.
//! The table of them is written by `cargo xtask regen` from the spec into
//! the generated client, and `lookup` reads it (`OperationSpec::all`,
//! `for_method`, `reading`).

use whispir_errors::Effect;

/// Facts about one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operation id from the spec, e.g. `messageCreate`.
    pub operation_id: &'static str,
    /// The generated method's name, which the hooks receive, e.g. `message_create`.
    pub method_name: &'static str,
    /// The HTTP method, e.g. `POST`.
    pub http_method: &'static str,
    /// The path template the generated code calls, e.g. `/messages/{messageId}`
    /// (workspace-scoped operations without their `/workspaces/{id}` prefix).
    pub path: &'static str,
    /// The `Accept` header the operation sends.
    pub accept: &'static str,
    /// The `Content-Type` header, for operations that send one.
    pub content_type: Option<&'static str>,
    /// Whether the operation acts in a workspace: with `.workspace_id(…)`
    /// it goes to `/workspaces/{id}/…`, without it to the unscoped path
    /// (the company's default workspace).
    pub workspace_scoped: bool,
    /// What sending the operation does: a read, an idempotent write, or a
    /// write that must never repeat. Retries, redirects, the redirect
    /// memory and the response cache decide from it (see [`Effect`]).
    pub effect: Effect,
    /// The header parameters the caller sets (e.g. `eventType`); they
    /// select the answer, so the response cache keys on them.
    pub header_params: &'static [&'static str],
    /// The fields the request body must carry although its model leaves
    /// them optional, as `(JSON name, setter name)`: a required write-only
    /// field such as a new user's `password`, which the API never returns
    /// and so the model cannot require. The client refuses a body without
    /// them before sending.
    pub body_requires: &'static [(&'static str, &'static str)],
    /// Alternatives of which the request body must carry one whole, each a
    /// list of `(JSON name, setter name)`: the spec's `anyOf` of `required`
    /// lists, which no generated type can hold. A message needs `to` or
    /// `resource` (a dynamic message takes its recipients from the rows of
    /// its resource). Empty when the body has no such rule. The client
    /// refuses a body that carries no alternative before sending.
    pub body_requires_any: &'static [&'static [(&'static str, &'static str)]],
}
