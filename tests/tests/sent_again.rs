//! A request sent again (a retry, a redirect hop) is the request sent first:
//! same URL, headers and body, credentials only where the first had them;
//! the attempt timeout holds with a user's own `reqwest` builder; the
//! public futures stay `Send`. (Review of the light request copies of
//! `replay` and the per-request timeouts of `execute`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use whispir::types::Message;
use whispir::{Created, MessageSent, WaitOptions};
use whispir_tests::{
    TEST_API_KEY, TEST_AUTHORIZATION, fast_retries, mock_builder, mock_client_with,
};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn message_json() -> serde_json::Value {
    serde_json::json!({ "to": "61400000001", "subject": "Hello" })
}

fn ok_message() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(message_json())
}

fn headers(request: &Request) -> Vec<String> {
    let mut all: Vec<String> = request
        .headers
        .iter()
        .map(|(name, value)| format!("{name}: {value:?}"))
        .collect();
    all.sort();
    all
}

fn assert_send<T: Send>(_: &T) {}

/// Compile-time: the public futures stay `Send`.
#[allow(dead_code)]
fn public_futures_are_send(client: &whispir::Client, created: &Created, sent: &MessageSent) {
    assert_send(&client.message_retrieve().message_id("A").send());
    assert_send(
        &client
            .message_create()
            .body(serde_json::from_value::<Message>(message_json()).unwrap())
            .send(),
    );
    assert_send(&client.event_list().event_type("x").send());
    assert_send(&created.fetch::<serde_json::Value>(client));
    assert_send(&sent.wait(client, WaitOptions::default()));
}

#[tokio::test]
async fn a_retry_after_a_remembered_cross_origin_move_stays_without_credentials() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(
            ResponseTemplate::new(301)
                .insert_header("location", format!("{}/moved/AB", second.uri())),
        )
        .mount(&first)
        .await;
    // First call: followed (learns the move). Second call: rewritten at once,
    // 503 then 200.
    Mock::given(path("/moved/AB"))
        .respond_with(ok_message())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&second)
        .await;
    Mock::given(path("/moved/AB"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(2)
        .mount(&second)
        .await;
    Mock::given(path("/moved/AB"))
        .respond_with(ok_message())
        .with_priority(3)
        .mount(&second)
        .await;
    let client = mock_client_with(&first.uri(), fast_retries(3));
    for _ in 0..2 {
        client
            .message_retrieve()
            .message_id("AB")
            .send()
            .await
            .expect("answered");
    }
    let seen = second.received_requests().await.unwrap();
    assert_eq!(seen.len(), 3);
    for request in &seen {
        assert!(
            !request.headers.contains_key("authorization"),
            "{:?}",
            headers(request)
        );
        assert!(
            !request.headers.contains_key("x-api-key"),
            "{:?}",
            headers(request)
        );
    }
}

#[tokio::test]
async fn a_retried_request_is_the_first_one_again() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let _ = client
        .event_list()
        .workspace_id("AB12")
        .event_type("abc")
        .limit(std::num::NonZeroU32::new(5).unwrap())
        .send()
        .await;
    let _ = client
        .message_retrieve()
        .workspace_id("AB12")
        .message_id("AB")
        .send()
        .await;
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
    // event_list: 503 then 200 (a header parameter: a whole copy);
    // message_retrieve: 200 at once.
    assert_eq!(seen[0].url, seen[1].url);
    assert_eq!(headers(&seen[0]), headers(&seen[1]));
}

#[tokio::test]
async fn a_retried_message_send_is_the_same_send() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/messages/AB"))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let body: Message = serde_json::from_value(message_json()).unwrap();
    let sent = client
        .message_create()
        .workspace_id("AB12")
        .body(body)
        .send()
        .await;
    let seen = server.received_requests().await.unwrap();
    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[0].url, seen[1].url);
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(headers(&seen[0]), headers(&seen[1]));
    assert_eq!(seen[1].headers["authorization"], TEST_AUTHORIZATION);
    assert_eq!(seen[1].headers["x-api-key"], TEST_API_KEY);
}

#[tokio::test]
async fn the_attempt_timeout_holds_with_an_own_http_client_and_a_large_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok_message().set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ok_message())
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_builder(&server.uri(), fast_retries(3))
        .http_client(reqwest::Client::builder().timeout(Duration::from_secs(60)))
        .attempt_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(3600))
        .build()
        .unwrap();
    client
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("the second attempt answers");
    // Without the attempt timeout the first request would answer after 3 s.
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_long_send_redirected_307_is_sent_again_whole() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/v2/messages"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/messages"))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/v2/messages/AB"))
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(1));
    let long = "x".repeat(40 * 1024);
    let body: Message = serde_json::from_value(
        serde_json::json!({ "to": "61400000001", "subject": "Hi", "body": long }),
    )
    .unwrap();
    client
        .message_create()
        .body(body)
        .send()
        .await
        .expect("sent");
    let seen = server.received_requests().await.unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(headers(&seen[0]), headers(&seen[1]));
}

#[tokio::test]
async fn a_later_cross_origin_hop_drops_credentials_too() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/step/AB"))
        .mount(&first)
        .await;
    Mock::given(path("/step/AB"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/far/AB", second.uri())),
        )
        .mount(&first)
        .await;
    Mock::given(path("/far/AB"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/far2/AB"))
        .mount(&second)
        .await;
    Mock::given(path("/far2/AB"))
        .respond_with(ok_message())
        .mount(&second)
        .await;
    let client = mock_client_with(&first.uri(), fast_retries(1));
    client
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("followed");
    let firsts = first.received_requests().await.unwrap();
    assert_eq!(firsts.len(), 2);
    assert_eq!(headers(&firsts[0]), headers(&firsts[1]));
    for request in second.received_requests().await.unwrap() {
        assert!(
            !request.headers.contains_key("authorization"),
            "{:?}",
            headers(&request)
        );
        assert!(
            !request.headers.contains_key("x-api-key"),
            "{:?}",
            headers(&request)
        );
    }
}
