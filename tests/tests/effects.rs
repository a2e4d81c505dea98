//! What an operation does decides what the SDK does around it: the cases
//! of issue 19, each measured against a server that misbehaves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::{RedirectRefusal, Refusal};
use whispir_tests::{expect_error, fast_retries, mock_builder, mock_client_with};
use wiremock::matchers::{any, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn a_message() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({ "to": "61400000001", "subject": "Hello" }))
}

fn redirect(status: u16, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", to)
}

/// Answers anything not mounted otherwise with a 200, so that a request the
/// SDK should not have sent is seen succeeding rather than failing.
async fn answer_everything_else(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

fn requests_to(received: &[wiremock::Request], verb: &str, to: &str) -> usize {
    received
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == to)
        .count()
}

#[tokio::test]
async fn a_scenario_run_answered_see_other_is_run_once_and_says_it_ran() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/workspaces/AB/scenarios/CD"))
        .respond_with(redirect(303, "/workspaces/AB/scenarios/CD/runs/1"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let err = expect_error(
        client
            .scenario_run_create()
            .workspace_id("AB")
            .scenario_id("CD")
            .send()
            .await,
    );
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1, "one run, one blast of messages");
    match err.refusal() {
        Some(Refusal::Redirect {
            reason: RedirectRefusal::CarriedOut { location },
            ..
        }) => assert_eq!(
            location.as_deref(),
            Some(format!("{}/workspaces/AB/scenarios/CD/runs/1", server.uri()).as_str())
        ),
        other => panic!("{other:?}: {err:#}"),
    }
    assert!(err.may_have_been_processed() && !err.is_retryable());
    assert_eq!(err.attempts(), 1);
    assert!(err.to_string().contains("carried the request out"), "{err}");
}

#[tokio::test]
async fn a_contact_delete_answered_see_other_deletes_nothing_else() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/contacts/CD"))
        .respond_with(redirect(303, "/contacts"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let err = expect_error(client.contact_delete().contact_id("CD").send().await);
    let received = server.received_requests().await.unwrap();
    assert_eq!(requests_to(&received, "DELETE", "/contacts"), 0);
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        err.refusal().is_some_and(Refusal::was_carried_out),
        "{err:#}"
    );
}

#[tokio::test]
async fn writes_redirected_to_another_origin_never_reach_it() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    answer_everything_else(&elsewhere).await;
    let client = mock_client_with(&api.uri(), fast_retries(3));
    for status in [301, 302, 303, 307, 308] {
        api.reset().await;
        let to = format!("{}/taken", elsewhere.uri());
        Mock::given(any())
            .respond_with(redirect(status, &to))
            .mount(&api)
            .await;
        let run = client.scenario_run_create().scenario_id("CD").send().await;
        let delete = client.contact_delete().contact_id("CD").send().await;
        for (name, result) in [("run", run.map(drop)), ("delete", delete.map(drop))] {
            let err = expect_error(result);
            assert!(err.refusal().is_some(), "{name} {status}: {err:#}");
            assert!(!err.is_retryable(), "{name} {status}");
        }
        assert_eq!(
            api.received_requests().await.unwrap().len(),
            2,
            "{status}: each sent once"
        );
    }
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "nothing reached the other origin, and no 200 from it was taken as success"
    );
}

fn events(label: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("last-modified", "Tue, 01 Dec 2026 10:00:00 GMT")
        .set_body_json(serde_json::json!({ "status": label }))
}

#[tokio::test]
async fn the_cache_keeps_each_event_type_apart() {
    let server = MockServer::start().await;
    // A server that says "not modified" to any conditional request, as a
    // server comparing dates only may: the validator of one event type must
    // never travel with a request for another.
    Mock::given(method("GET"))
        .and(path("/workspaces/AB/events"))
        .and(header_exists("if-modified-since"))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    for label in ["A", "B"] {
        Mock::given(method("GET"))
            .and(path("/workspaces/AB/events"))
            .and(header("eventType", label))
            .respond_with(events(label))
            .with_priority(2)
            .mount(&server)
            .await;
    }
    let client = mock_builder(&server.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    let list = |label: &'static str| {
        let client = client.clone();
        async move {
            client
                .event_list()
                .workspace_id("AB")
                .event_type(label)
                .send()
                .await
                .unwrap()
                .into_inner()
                .status
        }
    };
    assert_eq!(list("A").await.as_deref(), Some("A"));
    assert_eq!(list("B").await.as_deref(), Some("B"), "B's own events");
    assert_eq!(list("A").await.as_deref(), Some("A"), "A from the cache");
    assert_eq!(list("B").await.as_deref(), Some("B"), "B from the cache");
    let received = server.received_requests().await.unwrap();
    let conditional: Vec<_> = received
        .iter()
        .map(|r| r.headers.contains_key("if-modified-since"))
        .collect();
    assert_eq!(conditional, [false, false, true, true]);
}

#[tokio::test]
async fn a_remembered_redirect_that_fails_is_forgotten() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(301, "/v2/messages/AB"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/v2/messages/AB"))
        .respond_with(a_message())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/v2/messages/AB"))
        .respond_with(ResponseTemplate::new(404))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(1));
    let read = || client.message_retrieve().message_id("AB").send();
    read().await.expect("followed and remembered");
    // Straight to the remembered place, which now fails: forgotten.
    assert_eq!(
        expect_error(read().await).status().map(|s| s.as_u16()),
        Some(404)
    );
    // The next call asks the old URL again (the 301 mock expects 2 calls).
    let _ = read().await;
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/messages/AB",
            "/v2/messages/AB",
            "/v2/messages/AB",
            "/messages/AB",
            "/v2/messages/AB"
        ]
    );
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_never_remembered() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(301, &format!("{}/messages/AB", elsewhere.uri())))
        .mount(&api)
        .await;
    Mock::given(any())
        .respond_with(a_message())
        .mount(&elsewhere)
        .await;
    let client = mock_client_with(&api.uri(), fast_retries(1));
    for _ in 0..3 {
        client
            .message_retrieve()
            .message_id("AB")
            .send()
            .await
            .expect("a read follows, without credentials");
    }
    assert_eq!(
        api.received_requests().await.unwrap().len(),
        3,
        "every call asks the API first"
    );
    for request in elsewhere.received_requests().await.unwrap() {
        assert!(!request.headers.contains_key("authorization"));
        assert!(!request.headers.contains_key("x-api-key"));
    }
}

#[tokio::test]
async fn a_foreign_429_pauses_no_one() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, &format!("{}/messages/AB", elsewhere.uri())))
        .mount(&api)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(a_message())
        .mount(&api)
        .await;
    let client = mock_builder(&api.uri(), fast_retries(1))
        .rate_limit(whispir::Plan::RPS_30_DAILY_50K)
        .build()
        .unwrap();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    let started = std::time::Instant::now();
    client
        .message_retrieve()
        .message_id("CD")
        .send()
        .await
        .expect("the API's own calls are not paused by another origin's answer");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// An HTTP/2 server that refuses every stream (`REFUSED_STREAM`, which
/// reqwest's default policy retries by itself) and counts the streams.
async fn refusing_h2_server() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let streams = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = streams.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let counted = counted.clone();
            tokio::spawn(async move {
                let Ok(mut connection) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((_request, mut respond))) = connection.accept().await {
                    counted.fetch_add(1, Ordering::SeqCst);
                    respond.send_reset(h2::Reason::REFUSED_STREAM);
                }
            });
        }
    });
    (format!("http://{address}"), streams)
}

#[tokio::test]
async fn reqwest_never_retries_behind_the_sdks_back() {
    let (uri, streams) = refusing_h2_server().await;
    let client = mock_builder(
        &uri,
        whispir::CallOptions {
            retry: whispir::RetryConfig::disabled(),
            ..whispir::CallOptions::default()
        },
    )
    .http_client(whispir::reqwest::Client::builder().http2_prior_knowledge())
    .build()
    .unwrap();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    assert!(err.is_transport(), "{err:#}");
    assert_eq!(
        streams.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "one attempt, as the SDK counted: {}",
        err.attempts()
    );
    assert_eq!(err.attempts(), 1);
}
