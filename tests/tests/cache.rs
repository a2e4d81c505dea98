//! The opt-in 304 cache: revalidated GETs return the cached typed value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::CallOptions;
use whispir_tests::{mock_client, mock_client_with};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn server_with_etag() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .insert_header("last-modified", "Wed, 25 Nov 2026 10:00:00 GMT")
                .set_body_json(serde_json::json!({ "to": "61400000001", "subject": "cached" })),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_not_modified_answer_returns_the_cached_value() {
    let server = server_with_etag().await;
    let options = CallOptions {
        response_cache: std::num::NonZeroUsize::new(16),
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    let first = client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("200")
        .into_inner();
    let second = client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("304 → cached")
        .into_inner();
    assert_eq!(first.subject, "cached");
    assert_eq!(second.subject, "cached");
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(
        requests[1].headers["if-modified-since"],
        "Wed, 25 Nov 2026 10:00:00 GMT"
    );
}

#[tokio::test]
async fn the_cache_is_off_by_default() {
    let server = server_with_etag().await;
    let client = mock_client(&server.uri());
    for _ in 0..2 {
        client
            .message_retrieve()
            .message_id("A")
            .send()
            .await
            .expect("200");
    }
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("if-none-match"))
    );
}

#[tokio::test]
async fn different_resources_are_cached_apart() {
    let server = server_with_etag().await;
    let options = CallOptions {
        response_cache: std::num::NonZeroUsize::new(16),
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("200");
    client
        .message_retrieve()
        .message_id("B")
        .send()
        .await
        .expect("200");
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    assert!(
        !requests[1].headers.contains_key("if-none-match"),
        "B was never cached"
    );
}

fn cached_message(etag: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("etag", etag)
        .set_body_json(serde_json::json!({ "to": "61400000001", "subject": etag }))
}

#[tokio::test]
async fn a_304_for_an_evicted_answer_is_asked_again_without_validators() {
    use wiremock::matchers::path;
    let server = MockServer::start().await;
    // A's revalidation is answered slowly, so that B evicts A meanwhile.
    Mock::given(method("GET"))
        .and(path("/messages/A"))
        .and(header("if-none-match", "\"a\""))
        .respond_with(
            ResponseTemplate::new(304)
                .insert_header("etag", "\"a\"")
                .set_delay(std::time::Duration::from_millis(300)),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/messages/A"))
        .respond_with(cached_message("\"a\""))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/messages/B"))
        .respond_with(cached_message("\"b\""))
        .mount(&server)
        .await;
    let options = CallOptions {
        response_cache: std::num::NonZeroUsize::new(1),
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("A cached");
    let revalidation = {
        let client = client.clone();
        tokio::spawn(async move { client.message_retrieve().message_id("A").send().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    client
        .message_retrieve()
        .message_id("B")
        .send()
        .await
        .expect("B evicts A");
    let again = revalidation
        .await
        .unwrap()
        .expect("never an error: the call is repeated without validators");
    assert_eq!(again.subject, "\"a\"");
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    let last_for_a = requests
        .iter()
        .rev()
        .find(|r| r.url.path() == "/messages/A")
        .expect("A asked");
    assert!(!last_for_a.headers.contains_key("if-none-match"));
    assert_eq!(requests.len(), 4);
}

#[tokio::test]
async fn an_answer_marked_no_store_is_never_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(cached_message("\"x\"").insert_header("cache-control", "no-store"))
        .mount(&server)
        .await;
    let options = CallOptions {
        response_cache: std::num::NonZeroUsize::new(16),
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    for _ in 0..2 {
        client
            .message_retrieve()
            .message_id("A")
            .send()
            .await
            .expect("200");
    }
    let requests: Vec<Request> = server.received_requests().await.expect("recorded");
    assert!(
        requests
            .iter()
            .all(|r| !r.headers.contains_key("if-none-match"))
    );
}

#[tokio::test]
async fn a_cached_answer_keeps_the_url_it_came_from() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(cached_message("\"l\"").insert_header("location", "/messages/AB"))
        .mount(&server)
        .await;
    let options = CallOptions {
        response_cache: std::num::NonZeroUsize::new(4),
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    let answer = client
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("200");
    assert_eq!(
        answer.location().map(|url| url.as_str().to_string()),
        Some(format!("{}/messages/AB", server.uri()))
    );
}
