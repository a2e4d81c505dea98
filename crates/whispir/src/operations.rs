//! What the client needs to know about each operation beyond the generated
//! code: Whispir's versioned vendor media types (without them the API
//! answers XML or 415), the HTTP method, and whether the operation lives
//! under `/workspaces/{workspaceId}/`.
//!
//! The table is written by `cargo xtask regen` from the spec.

use whispir_errors::Effect;

use crate::generated::OPERATIONS;

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
}

impl OperationSpec {
    /// The facts of an operation, by its generated method name.
    pub fn for_method(method_name: &str) -> Option<&'static OperationSpec> {
        OPERATIONS
            .binary_search_by(|row| row.method_name.cmp(method_name))
            .ok()
            .and_then(|index| OPERATIONS.get(index).copied())
    }

    /// The facts of an operation, by its spec id.
    pub fn for_operation_id(operation_id: &str) -> Option<&'static OperationSpec> {
        OPERATIONS
            .iter()
            .copied()
            .find(|row| row.operation_id == operation_id)
    }

    /// The operation that reads (GETs) the resource at `path`, e.g. the
    /// retrieve operation for `/workspaces/AB/contacts/CD`. The workspace
    /// prefix is optional.
    pub fn reading(path: &str) -> Option<&'static OperationSpec> {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let unscoped = match segments.as_slice() {
            ["workspaces", _, rest @ ..] if !rest.is_empty() => rest,
            all => all,
        };
        let matches = |spec: &&OperationSpec, wanted: &[&str]| {
            let template: Vec<&str> = spec.path.trim_matches('/').split('/').collect();
            template.len() == wanted.len()
                && template
                    .iter()
                    .zip(wanted)
                    .all(|(t, w)| t.starts_with('{') || t == w)
        };
        let gets = || {
            OPERATIONS
                .iter()
                .copied()
                .filter(|spec| spec.http_method == "GET")
        };
        gets()
            .find(|spec| !spec.workspace_scoped && matches(spec, &segments))
            .or_else(|| gets().find(|spec| spec.workspace_scoped && matches(spec, unscoped)))
    }

    /// Every operation, sorted by method name.
    pub fn all() -> &'static [&'static OperationSpec] {
        OPERATIONS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_so_lookup_can_bisect() {
        let all = OperationSpec::all();
        assert!(
            all.windows(2)
                .all(|pair| pair[0].method_name < pair[1].method_name)
        );
    }

    #[test]
    fn message_create_sends_and_accepts_the_message_type() {
        let spec = OperationSpec::for_method("message_create").expect("listed");
        assert_eq!(spec.operation_id, "messageCreate");
        assert_eq!(spec.http_method, "POST");
        assert_eq!(spec.accept, "application/vnd.whispir.message-v1+json");
        assert_eq!(
            spec.content_type,
            Some("application/vnd.whispir.message-v1+json")
        );
        assert!(spec.workspace_scoped);
    }

    #[test]
    fn every_operation_accepts_a_json_type() {
        for spec in OperationSpec::all() {
            assert!(
                spec.accept.ends_with("json"),
                "{}: {}",
                spec.operation_id,
                spec.accept
            );
        }
    }

    #[test]
    fn the_reading_operation_of_a_resource_url_is_found() {
        let contact = OperationSpec::reading("/workspaces/AB12/contacts/CD34").expect("contact");
        assert_eq!(contact.operation_id, "contactRetrieve");
        let message = OperationSpec::reading("/messages/CD34").expect("message");
        assert_eq!(message.operation_id, "messageRetrieve");
        let workspace = OperationSpec::reading("/workspaces/AB12").expect("workspace");
        assert_eq!(workspace.operation_id, "workspaceRetrieve");
        assert!(OperationSpec::reading("/nowhere/at/all").is_none());
    }

    #[test]
    fn the_operations_that_must_never_repeat_are_the_creates_and_sends() {
        let unrepeatable: Vec<&str> = OperationSpec::all()
            .iter()
            .filter(|spec| spec.effect == Effect::Unrepeatable)
            .map(|spec| spec.operation_id)
            .collect();
        for send in [
            "messageCreate",
            "scenarioRunCreate",
            "sendCodeCreate",
            "verifyCodeCreate",
            "importCreate",
            "contactCreate",
            "callbackCreate",
        ] {
            assert!(unrepeatable.contains(&send), "{send}: {unrepeatable:?}");
        }
        for spec in OperationSpec::all() {
            match spec.http_method {
                "GET" => assert_eq!(spec.effect, Effect::Read, "{}", spec.operation_id),
                "PUT" | "DELETE" => {
                    assert_ne!(spec.effect, Effect::Read, "{}", spec.operation_id)
                }
                _ => assert_eq!(spec.effect, Effect::Unrepeatable, "{}", spec.operation_id),
            }
        }
    }

    #[test]
    fn the_event_filter_header_is_known_to_select_the_answer() {
        let events = OperationSpec::for_operation_id("eventList").expect("listed");
        assert_eq!(events.header_params, ["eventType"]);
        let messages = OperationSpec::for_operation_id("messageList").expect("listed");
        assert!(messages.header_params.is_empty());
    }

    #[test]
    fn unknown_operations_have_no_entry() {
        assert!(OperationSpec::for_method("no_such_operation").is_none());
    }
}
