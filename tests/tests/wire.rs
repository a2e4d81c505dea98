//! What a generated call puts on the wire, checked against a local mock server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::{Client, types};
use whispir_tests::{mock_client, retrieve_error};
use wiremock::matchers::{body_json, header, header_exists, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const MESSAGE_TYPE: &str = "application/vnd.whispir.message-v1+json";

fn client(server: &MockServer) -> Client {
    mock_client(&server.uri())
}

#[tokio::test]
async fn message_create_sends_vendor_media_types_auth_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/workspaces/AB12/messages"))
        .and(header("accept", MESSAGE_TYPE))
        .and(header("content-type", MESSAGE_TYPE))
        .and(header("authorization", "Basic dXNlcjpwYXNz"))
        .and(header("x-api-key", "test-api-key"))
        .and(body_json(serde_json::json!({
            "to": "61400000001",
            "subject": "Hello",
            "body": "Hi there"
        })))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header(
                    "location",
                    "https://api.au.whispir.com/workspaces/AB12/messages/CD34",
                )
                .set_body_string("Your request has been accepted for processing"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let message = types::Message::builder()
        .to("61400000001")
        .subject("Hello")
        .body(Some("Hi there".to_string()));
    let response = client(&server)
        .message_create()
        .workspace_id("AB12")
        .body(message)
        .send()
        .await
        .expect("202 is a success");
    assert_eq!(response.status(), 202);
    assert!(response.headers().contains_key("location"));
}

#[tokio::test]
async fn message_list_accepts_the_vendor_type_and_parses_a_page() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages"))
        .and(header("accept", MESSAGE_TYPE))
        .and(query_param("limit", "20"))
        .and(query_param("offset", "40"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messages": [{
                "to": "61400000001",
                "subject": "Hello",
                "direction": "OUTGOING",
                "link": [{ "uri": "https://api.au.whispir.com/workspaces/AB12/messages/CD34", "rel": "self", "method": "GET" }]
            }],
            "status": "1 to 1 of 1",
            "link": []
        })))
        .expect(1)
        .mount(&server)
        .await;

    let page = client(&server)
        .message_list()
        .workspace_id("AB12")
        .limit(20u32)
        .offset(40u32)
        .send()
        .await
        .expect("200")
        .into_inner();
    assert_eq!(page.messages.len(), 1);
    assert_eq!(page.messages[0].subject, "Hello");
}

#[tokio::test]
async fn requests_carry_no_generator_header_and_no_body_type_on_reads() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages/CD34/messagestatus"))
        .and(header(
            "accept",
            "application/vnd.whispir.messagestatus-v1+json",
        ))
        .and(header_exists("x-api-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messageStatuses": [], "status": "No records found"
        })))
        .expect(1)
        .mount(&server)
        .await;

    client(&server)
        .message_status_list()
        .workspace_id("AB12")
        .message_id("CD34")
        .send()
        .await
        .expect("200");
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    let headers = &requests[0].headers;
    assert!(!headers.contains_key("api-version"));
    assert!(!headers.contains_key("content-type"));
    let user_agent = headers["user-agent"].to_str().expect("ascii");
    assert!(user_agent.starts_with("whispir-rs/"), "{user_agent}");
}

#[tokio::test]
async fn error_responses_keep_status_headers_and_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages/CD34"))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-error-code", "ERR_403_DEVELOPER_OVER_QPS")
                .set_body_string("<h1>Developer Over Qps</h1>"),
        )
        .mount(&server)
        .await;

    let err = retrieve_error(&client(&server), "CD34").await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(403));
    assert_eq!(
        err.headers().and_then(|h| h.error_code.as_deref()),
        Some("ERR_403_DEVELOPER_OVER_QPS")
    );
    assert!(err.is_throttled());
    assert_eq!(
        err.api_error(),
        Some(&whispir::ApiErrorBody::Html("Developer Over Qps".into()))
    );
}

#[tokio::test]
async fn without_a_workspace_calls_go_to_the_unscoped_path() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(query_param("limit", "5"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "status": "No records found" })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let page = client(&server)
        .message_list()
        .limit(5u32)
        .send()
        .await
        .expect("200")
        .into_inner();
    assert!(page.messages.is_empty());
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(
        requests[0].url.query(),
        Some("limit=5"),
        "no workspaceId left in the query"
    );
}
