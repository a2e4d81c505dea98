//! Finding an operation's facts in the generated table: by method name, by
//! spec id, by the resource URL it reads, or all of them. Above the
//! generated client (it reads `generated::OPERATIONS`); the `OperationSpec`
//! struct itself is the runtime's (`operations`).

use crate::generated::OPERATIONS;
use crate::runtime::operations::OperationSpec;

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
    use whispir_errors::Effect;

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
