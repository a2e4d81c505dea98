//! Path arguments stay in their segment: whatever a user passes as an id,
//! the request goes to `/workspaces/{id}/<resource>/{id}` or is refused
//! before anything is sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use proptest::prelude::*;
use whispir_tests::mock_client;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Server {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
}

fn server() -> Server {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(204))
            .mount(&server)
            .await;
        server
    });
    Server { runtime, server }
}

/// Deletes contact `contact` in workspace `workspace`; returns the path the
/// server saw, or `None` when the SDK refused to send.
fn delete_contact(server: &Server, workspace: &str, contact: &str) -> Option<String> {
    server.runtime.block_on(async {
        server.server.reset().await;
        Mock::given(wiremock::matchers::any())
            .respond_with(ResponseTemplate::new(204))
            .mount(&server.server)
            .await;
        let result = mock_client(&server.server.uri())
            .contact_delete()
            .workspace_id(workspace)
            .contact_id(contact)
            .send()
            .await;
        let seen = server.server.received_requests().await.unwrap_or_default();
        match result {
            Ok(_) => {
                assert_eq!(seen.len(), 1, "one request for one call");
                Some(seen[0].url.path().to_string())
            }
            Err(err) => {
                assert!(err.is_invalid_request(), "{err}");
                assert!(seen.is_empty(), "a refused call sends nothing");
                None
            }
        }
    })
}

fn decoded(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[test]
fn the_reviewed_escape_is_one_segment_and_dot_ids_are_refused() {
    let server = server();
    let path = delete_contact(&server, "AB12", "..\\users\\U1").expect("sent");
    assert_eq!(path, "/workspaces/AB12/contacts/..%5Cusers%5CU1");
    for refused in ["", ".", ".."] {
        assert_eq!(
            delete_contact(&server, "AB12", refused),
            None,
            "{refused:?}"
        );
    }
    for refused in ["..", ".", "", "ab12", "AB/12", "%41"] {
        assert_eq!(delete_contact(&server, refused, "C1"), None, "{refused:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn no_contact_id_leaves_its_segment(contact in any::<String>()) {
        let server = server();
        if let Some(path) = delete_contact(&server, "AB12", &contact) {
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            prop_assert_eq!(segments.len(), 4, "{}", path);
            prop_assert_eq!(&segments[..3], &["workspaces", "AB12", "contacts"][..]);
            prop_assert_eq!(decoded(segments[3]), contact);
        } else {
            prop_assert!(contact.is_empty() || contact == "." || contact == "..");
        }
    }

    #[test]
    fn no_workspace_id_leaves_its_segment(workspace in any::<String>()) {
        let server = server();
        if let Some(path) = delete_contact(&server, &workspace, "C1") {
            prop_assert_eq!(path, format!("/workspaces/{workspace}/contacts/C1"));
            prop_assert!(workspace.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        }
    }
}

#[test]
fn a_workspace_path_parameter_has_the_same_form_everywhere() {
    let server = server();
    let refused = server.runtime.block_on(async {
        mock_client(&server.server.uri())
            .workspace_retrieve()
            .workspace_id("ab12")
            .send()
            .await
            .expect_err("lower-case is not the documented form")
    });
    assert!(refused.is_invalid_request(), "{refused}");
    assert!(
        refused.to_string().contains("workspace_id \"ab12\""),
        "{refused}"
    );
}
