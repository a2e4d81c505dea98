//! List operations as streams: offset paging, `rel=next`, the empty page.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::ListStream as _;
use whispir_tests::mock_client;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn page(first: usize, count: usize, next: bool) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = (first..first + count)
        .map(|i| serde_json::json!({ "to": "61400000001", "subject": format!("message {i}") }))
        .collect();
    let mut link =
        vec![serde_json::json!({ "rel": "self", "uri": "https://api.au.whispir.com/messages" })];
    if next {
        link.push(serde_json::json!({ "rel": "next", "uri": "https://api.au.whispir.com/messages?offset=x" }));
    }
    serde_json::json!({ "messages": messages, "link": link, "status": "paging" })
}

async fn mount_page(server: &MockServer, offset: &str, body: serde_json::Value, status: u16) {
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages"))
        .and(query_param("offset", offset))
        .and(query_param("limit", "20"))
        .respond_with(ResponseTemplate::new(status).set_body_json(body))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn stream_follows_pages_until_there_is_no_next_link() {
    let server = MockServer::start().await;
    mount_page(&server, "0", page(0, 20, true), 200).await;
    mount_page(&server, "20", page(20, 20, true), 200).await;
    mount_page(&server, "40", page(40, 5, false), 200).await;
    let client = mock_client(&server.uri());
    let messages: Vec<_> = client
        .message_list()
        .workspace_id("AB12")
        .stream()
        .try_collect()
        .await
        .expect("all pages");
    assert_eq!(messages.len(), 45);
    assert_eq!(messages[44].subject, "message 44");
}

#[tokio::test]
async fn the_no_records_page_ends_the_stream() {
    let server = MockServer::start().await;
    mount_page(
        &server,
        "0",
        serde_json::json!({ "status": "No records found" }),
        200,
    )
    .await;
    let client = mock_client(&server.uri());
    let messages: Vec<_> = client
        .message_list()
        .workspace_id("AB12")
        .stream()
        .try_collect()
        .await
        .expect("empty");
    assert!(messages.is_empty());
}

#[tokio::test]
async fn a_failing_page_yields_its_error_and_ends_the_stream() {
    let server = MockServer::start().await;
    mount_page(&server, "0", page(0, 20, true), 200).await;
    mount_page(
        &server,
        "20",
        serde_json::json!({ "errorSummary": "boom" }),
        500,
    )
    .await;
    let client = mock_client(&server.uri());
    let results: Vec<_> =
        futures::StreamExt::collect(client.message_list().workspace_id("AB12").stream()).await;
    assert_eq!(results.len(), 21);
    let err = results[20].as_ref().expect_err("second page failed");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
}

#[tokio::test]
async fn smaller_pages_are_asked_for_with_their_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(query_param("limit", "2"))
        .and(query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messages": [ { "to": "1", "subject": "a" }, { "to": "2", "subject": "b" } ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(query_param("offset", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                serde_json::json!({ "messages": [ { "to": "3", "subject": "c" } ] }),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let messages: Vec<_> = client
        .message_list()
        .stream_pages_of(2)
        .try_collect()
        .await
        .expect("pages");
    assert_eq!(messages.len(), 3, "no links: a short page is the last");
}
