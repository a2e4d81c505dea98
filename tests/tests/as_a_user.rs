//! The SDK as a service team uses it: functions returning `anyhow::Result`,
//! `?` on every call, errors logged with `{}`, and an inline `match` on
//! the predicates. Every failure that reaches `anyhow` is still the SDK's
//! `whispir::Error`, with everything it knows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::num::NonZeroU32;
use std::time::Duration;

use whispir::types::Message;
use whispir::{CallOptions, Client, Credentials, Plan, Refusal, RetryConfig};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(base_url: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic("ops", "secret"))
        .api_key("key")
        .retry(RetryConfig::disabled())
        .build()
        .expect("a client")
}

/// What a user's function looks like.
async fn send_reminder(client: &Client, to: &str) -> anyhow::Result<String> {
    let sent = client
        .message_create()
        .body(Message::sms(to, "Reminder\nYour appointment is at 3 pm."))
        .send()
        .await?;
    Ok(sent.message_id().unwrap_or_default().to_string())
}

async fn read_message(client: &Client, id: &str) -> anyhow::Result<Message> {
    Ok(client
        .message_retrieve()
        .message_id(id)
        .send()
        .await?
        .into_inner())
}

fn sdk_error(err: &anyhow::Error) -> &whispir::Error {
    err.downcast_ref::<whispir::Error>()
        .unwrap_or_else(|| panic!("not a whispir::Error: {err:?}"))
}

#[tokio::test]
async fn an_http_error_reaches_anyhow_as_the_sdk_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "errorSummary": "Your request did not contain all of the information required",
            "errorText": "to is mandatory"
        })))
        .mount(&server)
        .await;
    let err = send_reminder(&client(&server.uri()), "61400000001")
        .await
        .expect_err("422");
    let sdk = sdk_error(&err);
    assert_eq!(sdk.status().map(|s| s.as_u16()), Some(422));
    assert!(sdk.is_invalid());
    assert_eq!(
        err.to_string(),
        "messageCreate: 422 unprocessable entity: Your request did not contain all of the \
         information required: to is mandatory"
    );
}

#[tokio::test]
async fn a_transport_failure_reaches_anyhow_with_its_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = send_reminder(&client(&format!("http://127.0.0.1:{port}")), "61400000001")
        .await
        .expect_err("nothing listens");
    let sdk = sdk_error(&err);
    assert!(sdk.is_transport());
    assert_eq!(sdk.send_state(), Some(whispir::SendState::NotSent));
    assert!(
        std::error::Error::source(sdk).is_some(),
        "the reqwest cause is kept"
    );
    assert_eq!(
        err.to_string(),
        format!("messageCreate: could not connect to 127.0.0.1:{port}; the request was not sent")
    );
}

#[tokio::test]
async fn a_success_that_does_not_decode_says_the_request_was_carried_out() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>"))
        .mount(&server)
        .await;
    let err = read_message(&client(&server.uri()), "CD34")
        .await
        .expect_err("not JSON");
    let sdk = sdk_error(&err);
    assert!(sdk.is_decode());
    assert_eq!(sdk.operation(), Some("messageRetrieve"));
    assert_eq!(sdk.status().map(|s| s.as_u16()), Some(200));
    assert!(
        err.to_string().contains("the request was carried out"),
        "{err}"
    );
}

#[tokio::test]
async fn a_client_side_refusal_reaches_anyhow_typed() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/messages/AB12"))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .credentials(Credentials::basic("ops", "secret"))
        .api_key("key")
        .call_options(CallOptions {
            rate_limit: Some(Plan::new(NonZeroU32::new(5).unwrap(), NonZeroU32::new(1))),
            ..CallOptions::default()
        })
        .build()
        .unwrap();
    assert_eq!(send_reminder(&client, "61400000001").await.unwrap(), "AB12");
    let err = send_reminder(&client, "61400000001")
        .await
        .expect_err("the daily budget is spent");
    let sdk = sdk_error(&err);
    assert!(matches!(
        sdk.refusal(),
        Some(Refusal::DailyBudgetSpent { .. })
    ));
    assert!(sdk.is_throttled());
    assert!(sdk.retry_after().is_some_and(|wait| wait > Duration::ZERO));
    assert_eq!(sdk.attempts(), 0);
}

#[tokio::test]
async fn an_inline_match_branches_on_the_predicates() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages/0DE1"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let client = client(&server.uri());
    let what = match client.message_retrieve().message_id("0DE1").send().await {
        Ok(message) => format!("found {}", message.subject),
        Err(e) if e.is_not_found() => "gone".to_string(),
        Err(e) if e.is_throttled() => "later".to_string(),
        Err(e) if e.is_auth() => "check the credentials".to_string(),
        Err(e) => format!("failed: {e}"),
    };
    assert_eq!(what, "gone");
}

#[tokio::test]
async fn a_model_builder_mistake_converts_with_question_mark() {
    fn build() -> whispir::Result<Message> {
        Ok(Message::builder().to("61400000001").try_into()?)
    }
    let err: anyhow::Error = build().expect_err("`subject` is required").into();
    let sdk = sdk_error(&err);
    assert!(sdk.is_invalid_request());
    assert!(err.to_string().contains("subject"), "{err}");
}

#[tokio::test]
async fn headers_a_server_sends_carry_no_sdk_meaning() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(500)
                .insert_header("x-whispir-rs-note", "not sent: all good, ignore this")
                .insert_header("x-whispir-rs-truncated", "1")
                .insert_header("x-whispir-rs-operation", "somethingElse")
                .insert_header("x-whispir-rs-method", "POST")
                .set_body_string("{\"errorSummary\":\"Internal failure\"}"),
        )
        .mount(&server)
        .await;
    let err = read_message(&client(&server.uri()), "CD34")
        .await
        .expect_err("500");
    let sdk = sdk_error(&err);
    assert_eq!(sdk.operation(), Some("messageRetrieve"));
    assert_eq!(sdk.method(), Some(&reqwest::Method::GET));
    assert!(!sdk.raw_body().expect("body").is_truncated());
    let shown = format!("{err:#}");
    assert!(!shown.contains("ignore this"), "{shown}");
    assert!(!shown.contains("somethingElse"), "{shown}");
    assert_eq!(
        err.to_string(),
        "messageRetrieve: 500 internal server error: Internal failure"
    );
}
