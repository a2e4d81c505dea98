//! Any 2xx is a success, decoded by its content; success bodies are read
//! up to a limit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::CallOptions;
use whispir::types::Message;
use whispir_tests::{expect_error, mock_client, mock_client_with};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn a_read_answered_201_is_a_success() {
    // Whispir's published description documents 201 for templateRetrieve.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/templates/AB12"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({
            "messageTemplateName": "Reminder", "subject": "Hi", "body": "Hello"
        })))
        .mount(&server)
        .await;
    let template = mock_client(&server.uri())
        .template_retrieve()
        .template_id("AB12")
        .send()
        .await
        .expect("a 2xx");
    assert_eq!(template.status().as_u16(), 201);
}

#[tokio::test]
async fn a_delete_answered_200_with_a_body_is_a_success() {
    // Whispir's published description documents 200 for callbackDelete.
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"status\":\"deleted\"}"))
        .mount(&server)
        .await;
    let answer = mock_client(&server.uri())
        .callback_delete()
        .callback_id("AB12")
        .send()
        .await
        .expect("a 2xx");
    assert_eq!(answer.status().as_u16(), 200);
}

#[tokio::test]
async fn a_send_answered_201_is_a_sent_message_with_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).insert_header("location", "/messages/CD34"))
        .mount(&server)
        .await;
    let sent = mock_client(&server.uri())
        .message_create()
        .body(Message::sms("61400000001", "Hello"))
        .send()
        .await
        .expect("never an error that hides a sent message");
    assert_eq!(sent.status().as_u16(), 201);
    assert_eq!(sent.message_id(), Some("CD34"));
}

#[tokio::test]
async fn a_send_answered_with_garbage_is_still_a_sent_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", "::not a url::")
                .set_body_bytes(vec![0xff, 0x00, 0xfe]),
        )
        .mount(&server)
        .await;
    let sent = mock_client(&server.uri())
        .message_create()
        .body(Message::sms("61400000001", "Hello"))
        .send()
        .await
        .expect("the API accepted the message");
    assert_eq!(sent.status().as_u16(), 202);
    assert_eq!(sent.message_id(), None);
}

#[tokio::test]
async fn a_success_body_over_the_limit_is_an_error_naming_the_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            "{{\"to\":\"1\",\"subject\":\"{}\"}}",
            "x".repeat(10_000)
        )))
        .mount(&server)
        .await;
    let client = mock_client_with(
        &server.uri(),
        CallOptions {
            body_limit: 1_000,
            ..CallOptions::default()
        },
    );
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    assert!(err.is_decode(), "{err:#}");
    assert_eq!(err.operation(), Some("messageRetrieve"));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    let shown = format!("{err:#}");
    assert!(
        shown.contains("limit of 1000 bytes (ClientBuilder::body_limit)"),
        "{shown}"
    );
    assert!(err.raw_body().is_some_and(|raw| raw.is_truncated()));
}
