//! What the client needs to know about each operation beyond the generated
//! code: Whispir's versioned vendor media types (without them the API
//! answers XML or 415), the HTTP method, and whether the operation lives
//! under `/workspaces/{workspaceId}/`.
//!
//! The table is written by `cargo xtask regen` from the spec.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::generated::OPERATIONS;

/// The query parameter that carries an optional workspace on the generated
/// calls of workspace-scoped operations.
const WORKSPACE_QUERY: &str = "workspaceId";

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
}

impl OperationSpec {
    /// The facts of an operation, by its generated method name.
    pub fn for_method(method_name: &str) -> Option<&'static OperationSpec> {
        OPERATIONS
            .binary_search_by(|row| row.method_name.cmp(method_name))
            .ok()
            .and_then(|index| OPERATIONS.get(index))
    }

    /// The facts of an operation, by its spec id.
    pub fn for_operation_id(operation_id: &str) -> Option<&'static OperationSpec> {
        OPERATIONS
            .iter()
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
        let gets = || OPERATIONS.iter().filter(|spec| spec.http_method == "GET");
        gets()
            .find(|spec| !spec.workspace_scoped && matches(spec, &segments))
            .or_else(|| gets().find(|spec| spec.workspace_scoped && matches(spec, unscoped)))
    }

    /// Every operation, sorted by method name.
    pub fn all() -> &'static [OperationSpec] {
        OPERATIONS
    }

    /// Replaces the generic JSON headers of a request with the vendor ones.
    pub(crate) fn apply_media_types(&self, request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static(self.accept));
        match self.content_type {
            Some(content_type) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            None => {
                headers.remove(CONTENT_TYPE);
            }
        }
    }

    /// Moves the `workspaceId` query parameter of a workspace-scoped
    /// operation into the path: `{base}/messages?workspaceId=AB` becomes
    /// `{base}/workspaces/AB/messages`. `base_url` is the client's base URL.
    /// A workspace id that cannot be one path segment is refused.
    pub(crate) fn apply_workspace(
        &self,
        request: &mut reqwest::Request,
        base_url: &str,
    ) -> Result<(), String> {
        if !self.workspace_scoped {
            return Ok(());
        }
        let url = request.url_mut();
        if !url
            .query()
            .is_some_and(|query| query.contains(WORKSPACE_QUERY))
        {
            return Ok(());
        }
        let mut workspace = None;
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter_map(|(key, value)| {
                if key == WORKSPACE_QUERY {
                    workspace = Some(value.into_owned());
                    None
                } else {
                    Some((key.into_owned(), value.into_owned()))
                }
            })
            .collect();
        let Some(workspace) = workspace else {
            return Ok(());
        };
        let segment = crate::segments::encode_workspace(&workspace)?;
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
        let base_path = base_path(base_url);
        let path = url.path().to_string();
        let rest = path.strip_prefix(base_path).unwrap_or(&path);
        url.set_path(&format!("{base_path}/workspaces/{segment}{rest}"));
        Ok(())
    }
}

/// The path of a base URL without its trailing slash, without parsing the
/// whole URL again on every call: `https://h:1/proxy/` → `/proxy`.
fn base_path(base_url: &str) -> &str {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map_or("", |slash| &after_scheme[slash..])
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(url: &str) -> reqwest::Request {
        reqwest::Request::new(reqwest::Method::GET, url.parse().expect("url"))
    }

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
    fn unknown_operations_have_no_entry() {
        assert!(OperationSpec::for_method("no_such_operation").is_none());
    }

    #[test]
    fn the_workspace_query_becomes_the_path_prefix() {
        let spec = OperationSpec::for_method("message_list").expect("listed");
        let mut req =
            request("https://api.au.whispir.com/messages?limit=20&workspaceId=AB12&offset=0");
        spec.apply_workspace(&mut req, "https://api.au.whispir.com")
            .expect("a valid workspace");
        assert_eq!(
            req.url().as_str(),
            "https://api.au.whispir.com/workspaces/AB12/messages?limit=20&offset=0"
        );
    }

    #[test]
    fn a_base_path_is_kept_and_odd_workspace_ids_are_refused() {
        let spec = OperationSpec::for_method("message_retrieve").expect("listed");
        let mut req = request("http://127.0.0.1:9/proxy/messages/CD34?workspaceId=AB12");
        spec.apply_workspace(&mut req, "http://127.0.0.1:9/proxy/")
            .expect("a valid workspace");
        assert_eq!(
            req.url().as_str(),
            "http://127.0.0.1:9/proxy/workspaces/AB12/messages/CD34"
        );
        for odd in ["a%2Fb", "..", "", "%2E%2E"] {
            let mut req = request(&format!(
                "http://127.0.0.1:9/messages/CD34?workspaceId={odd}"
            ));
            assert!(
                spec.apply_workspace(&mut req, "http://127.0.0.1:9")
                    .is_err(),
                "{odd}"
            );
        }
    }

    #[test]
    fn base_paths_are_read_without_parsing() {
        assert_eq!(base_path("https://api.au.whispir.com"), "");
        assert_eq!(base_path("https://api.au.whispir.com/"), "");
        assert_eq!(base_path("http://127.0.0.1:9/proxy/"), "/proxy");
        assert_eq!(base_path("http://127.0.0.1:9/a/b?x=1"), "/a/b");
    }

    #[test]
    fn without_a_workspace_the_unscoped_path_is_used() {
        let spec = OperationSpec::for_method("message_list").expect("listed");
        let mut req = request("https://api.au.whispir.com/messages?limit=5");
        spec.apply_workspace(&mut req, "https://api.au.whispir.com")
            .expect("a valid workspace");
        assert_eq!(
            req.url().as_str(),
            "https://api.au.whispir.com/messages?limit=5"
        );
    }
}
