//! Retries, the retry budget and the plan-aware rate limiter, against
//! local servers. Timing assertions are lower bounds only: the client may
//! never be faster than the waits it owes, however fast the machine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use whispir::types::Message;
use whispir::{CallOptions, ErrorClass, Plan, Refusal};
use whispir_tests::faulty_server::{Fault, FaultyServer};
use whispir_tests::{expect_error, fast_retries, mock_client_with};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn message() -> Message {
    serde_json::from_value(serde_json::json!({ "to": "61400000001", "subject": "Hello" })).unwrap()
}

fn ok_message() -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({ "to": "61400000001", "subject": "Hello" }))
}

async fn mount_sequence(
    server: &MockServer,
    http_method: &str,
    first: ResponseTemplate,
    times: u64,
    then: ResponseTemplate,
) {
    Mock::given(method(http_method))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method(http_method))
        .respond_with(then)
        .with_priority(2)
        .mount(server)
        .await;
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.expect("recorded").len()
}

#[tokio::test]
async fn a_read_is_retried_on_503_until_it_succeeds() {
    let server = MockServer::start().await;
    mount_sequence(&server, "GET", ResponseTemplate::new(503), 2, ok_message()).await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("third attempt succeeds");
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_send_is_not_resent_after_a_500() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        "POST",
        ResponseTemplate::new(500),
        1,
        ResponseTemplate::new(202),
    )
    .await;
    let client = mock_client_with(&server.uri(), fast_retries(5));
    let err = expect_error(client.message_create().body(message()).send().await);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await, 1, "a duplicated SMS costs money");
}

#[tokio::test]
async fn a_send_is_not_resent_after_a_reset_mid_response() {
    let server = FaultyServer::start(|_| Fault::ResetAfterActing).await;
    let client = mock_client_with(&server.uri, fast_retries(5));
    let body: Message =
        serde_json::from_value(serde_json::json!({ "to": "1", "subject": "reset-1" })).unwrap();
    let err = expect_error(client.message_create().body(body).send().await);
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.send_state(), Some(whispir::SendState::MaybeSent));
    assert!(
        err.to_string()
            .contains("may or may not have reached the server"),
        "{err}"
    );
    assert_eq!(server.requests(), 1);
    assert_eq!(server.acted_on("reset-1"), 1);
}

#[tokio::test]
async fn a_send_is_resent_after_429_and_403_over_qps() {
    for refusal in [
        ResponseTemplate::new(429),
        ResponseTemplate::new(403).insert_header("x-error-code", "ERR_403_DEVELOPER_OVER_QPS"),
    ] {
        let server = MockServer::start().await;
        mount_sequence(&server, "POST", refusal, 1, ResponseTemplate::new(202)).await;
        let client = mock_client_with(&server.uri(), fast_retries(3));
        let response = client
            .message_create()
            .body(message())
            .send()
            .await
            .expect("resent");
        assert_eq!(response.status(), 202);
        assert_eq!(requests(&server).await, 2);
    }
}

#[tokio::test]
async fn retry_after_in_seconds_is_waited_out() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        "GET",
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        1,
        ok_message(),
    )
    .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let start = Instant::now();
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("second attempt");
    assert!(
        start.elapsed() >= Duration::from_millis(990),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_waited_out() {
    let server = MockServer::start().await;
    let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    mount_sequence(
        &server,
        "GET",
        ResponseTemplate::new(503).insert_header("retry-after", later.as_str()),
        1,
        ok_message(),
    )
    .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let start = Instant::now();
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("second attempt");
    // HTTP dates have whole seconds: at least one of the two remains.
    assert!(
        start.elapsed() >= Duration::from_millis(990),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn an_empty_retry_budget_stops_retry_storms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let options = CallOptions {
        retry_budget: 5,
        ..fast_retries(10)
    };
    let client = mock_client_with(&server.uri(), options);
    let err = expect_error(client.message_retrieve().message_id("A").send().await);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(
        requests(&server).await,
        2,
        "one retry paid for, then the budget is empty"
    );
    expect_error(client.message_retrieve().message_id("A").send().await);
    assert_eq!(
        requests(&server).await,
        3,
        "no retries while the budget is empty"
    );
    assert_eq!(client.context().retry_budget_remaining(), 0);
}

fn plan(per_second: u32, per_day: Option<u32>) -> Plan {
    Plan::new(
        NonZeroU32::new(per_second).unwrap(),
        per_day.and_then(NonZeroU32::new),
    )
}

#[tokio::test]
async fn a_retry_held_by_the_daily_budget_reports_the_answer_that_was_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let options = CallOptions {
        rate_limit: Some(plan(1000, Some(1))),
        ..fast_retries(3)
    };
    let client = mock_client_with(&server.uri(), options);
    let err = expect_error(client.message_retrieve().message_id("A1").send().await);
    assert_eq!(
        err.status(),
        Some(reqwest::StatusCode::SERVICE_UNAVAILABLE),
        "{err:#}"
    );
    assert_eq!(err.refusal(), None, "{err:#}");
    assert_eq!(err.attempts(), 1, "{err:#}");
    assert!(!err.to_string().contains("not sent"), "{err}");
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn the_limiter_holds_a_burst_of_100_calls_to_the_plan_rate() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/A"))
        .respond_with(ok_message())
        .expect(100)
        .mount(&server)
        .await;
    let options = CallOptions {
        rate_limit: Some(plan(50, None)),
        ..fast_retries(1)
    };
    let client = mock_client_with(&server.uri(), options);
    let start = Instant::now();
    let calls = (0..100).map(|_| {
        let client = client.clone();
        async move {
            client
                .message_retrieve()
                .message_id("A")
                .send()
                .await
                .map(|_| ())
        }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    // One every ~20 ms, no burst: the 100th cannot leave before ~2 s.
    assert!(
        start.elapsed() >= Duration::from_millis(1_950),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_spent_daily_budget_fails_fast_without_sending() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202))
        .expect(2)
        .mount(&server)
        .await;
    let options = CallOptions {
        rate_limit: Some(plan(1000, Some(2))),
        ..fast_retries(3)
    };
    let client = mock_client_with(&server.uri(), options);
    for _ in 0..2 {
        client
            .message_create()
            .body(message())
            .send()
            .await
            .expect("within budget");
    }
    let err = expect_error(client.message_create().body(message()).send().await);
    assert_eq!(err.class(), ErrorClass::Throttling);
    assert!(!err.is_retryable());
    assert!(
        matches!(err.refusal(), Some(Refusal::DailyBudgetSpent { .. })),
        "{err}"
    );
    assert_eq!(err.attempts(), 0, "never sent");
    assert!(err.to_string().contains("not sent"), "{err}");
    assert_eq!(client.remaining_today(), Some(0));
}

#[tokio::test]
async fn a_quota_refusal_from_the_server_holds_the_next_calls() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        "GET",
        ResponseTemplate::new(429).insert_header("retry-after", "1"),
        1,
        ok_message(),
    )
    .await;
    let options = CallOptions {
        rate_limit: Some(plan(1000, None)),
        ..fast_retries(1)
    };
    let client = mock_client_with(&server.uri(), options);
    let refused = expect_error(client.message_retrieve().message_id("A").send().await);
    assert!(refused.is_throttled());
    let start = Instant::now();
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("after the pause");
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "the server's view wins: {:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_quota_refusal_named_only_in_the_body_never_repeats_a_send() {
    // No X-Error-Code header: only free text says it is the per-second
    // quota, which anything between the client and the API could write
    // after the send went through. A send is not repeated on words.
    let refusal = ResponseTemplate::new(403).set_body_string("<h1>Developer Over Qps</h1>");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(refusal)
        .mount(&server)
        .await;
    let err = expect_error(
        mock_client_with(&server.uri(), fast_retries(3))
            .message_create()
            .body(message())
            .send()
            .await,
    );
    assert_eq!(requests(&server).await, 1);
    assert!(!err.is_retryable() && !err.is_throttled(), "{err}");
    // The API's own words are still shown.
    assert!(err.to_string().contains("Developer Over Qps"), "{err}");
}

#[tokio::test]
async fn a_day_long_retry_after_fails_fast_with_its_wait() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let started = std::time::Instant::now();
    let err = expect_error(client.message_create().body(message()).send().await);
    assert!(err.is_throttled());
    assert_eq!(
        err.retry_after(),
        Some(std::time::Duration::from_secs(86400))
    );
    assert_eq!(err.attempts(), 1, "no retry that cannot finish in time");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "the call did not wait out the day"
    );
}

#[tokio::test]
async fn the_timeout_bounds_the_whole_call_not_each_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_delay(std::time::Duration::from_millis(400)))
        .mount(&server)
        .await;
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(10))
        .timeout(std::time::Duration::from_millis(700))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    let elapsed = started.elapsed();
    // Ten attempts of 400 ms each would take 4 s; the call stops near 0.7 s.
    assert!(
        elapsed < std::time::Duration::from_secs(2),
        "took {elapsed:?}"
    );
    assert!(err.attempts() >= 1 && err.attempts() <= 2, "{err:#}");
}

#[tokio::test]
async fn an_attempt_timeout_leaves_time_to_retry() {
    let server = MockServer::start().await;
    mount_sequence(
        &server,
        "GET",
        ok_message().set_delay(std::time::Duration::from_secs(3)),
        1,
        ok_message(),
    )
    .await;
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(3))
        .attempt_timeout(std::time::Duration::from_millis(300))
        .timeout(std::time::Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("the second attempt answers in time");
    assert_eq!(requests(&server).await, 2);
}

#[tokio::test]
async fn a_timed_out_send_says_it_may_have_been_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).set_delay(std::time::Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(3))
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let err = expect_error(client.message_create().body(message()).send().await);
    assert!(err.is_timeout(), "{err:#}");
    assert_eq!(err.send_state(), Some(whispir::SendState::MaybeSent));
    assert!(
        !err.is_retryable(),
        "a send that may have happened is not resent"
    );
    assert_eq!(requests(&server).await, 1);
}

#[tokio::test]
async fn every_redirect_hop_counts_against_the_daily_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/messages/A1"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/messages/A2"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/messages/A2"))
        .respond_with(ok_message())
        .mount(&server)
        .await;
    let options = CallOptions {
        rate_limit: Some(plan(5, Some(3))),
        ..fast_retries(1)
    };
    let client = mock_client_with(&server.uri(), options);
    client
        .message_retrieve()
        .message_id("A1")
        .send()
        .await
        .expect("followed");
    assert_eq!(client.remaining_today(), Some(1), "two requests went out");
    let resets_in = client.resets_in().expect("a daily cap");
    assert!(
        resets_in > std::time::Duration::from_secs(23 * 3600),
        "a rolling window frees its first unit a day after it was used: {resets_in:?}"
    );
    let err = expect_error(client.message_retrieve().message_id("A1").send().await);
    // The second call's first hop took the last unit; its redirect is held.
    assert!(
        matches!(err.refusal(), Some(Refusal::DailyBudgetSpent { .. })),
        "{err:#}"
    );
    assert_eq!(requests(&server).await, 3);
}

#[tokio::test]
async fn a_303_to_a_send_is_never_sent_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(303).insert_header("location", "/messages/AB"))
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let err = expect_error(client.message_create().body(message()).send().await);
    assert!(!err.is_retryable());
    assert!(err.may_have_been_processed(), "{err}");
    assert_eq!(requests(&server).await, 1, "one send, not three");
}

#[tokio::test]
async fn a_throttled_answer_from_another_origin_does_not_pause_the_client() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&elsewhere)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/messages/A1"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/messages/A1", elsewhere.uri())),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path("/messages/A2"))
        .respond_with(ok_message())
        .mount(&api)
        .await;
    let options = CallOptions {
        rate_limit: Some(plan(5, None)),
        ..fast_retries(1)
    };
    let client = mock_client_with(&api.uri(), options);
    let err = expect_error(client.message_retrieve().message_id("A1").send().await);
    assert!(err.is_throttled());
    client
        .clone()
        .message_retrieve()
        .message_id("A2")
        .send()
        .await
        .expect("another origin's 429 does not pause the API's client");
}

#[tokio::test]
async fn an_accepted_send_whose_body_stalls_is_still_a_sent_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", "/messages/ABC123")
                .set_body_string("Your request has been accepted"),
        )
        .mount(&server)
        .await;
    // The whole-call budget is tiny, but the status came in: the send is
    // reported with its id, never as a timeout.
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(1))
        .timeout(std::time::Duration::from_millis(1))
        .build()
        .unwrap();
    match client.message_create().body(message()).send().await {
        Ok(sent) => assert_eq!(sent.message_id(), Some("ABC123")),
        // Nothing was answered within 1 ms: then it must say so honestly.
        Err(err) => assert!(err.is_timeout(), "{err:#}"),
    }
}

#[tokio::test]
async fn a_huge_timeout_does_not_panic() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok_message())
        .mount(&server)
        .await;
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(1))
        .timeout(std::time::Duration::MAX)
        .build()
        .unwrap();
    client
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("200");
}

/// A server that sends the status and headers of a 200 and half its body,
/// then stalls.
async fn stalling_body_server() -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = socket.read(&mut request).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/vnd.whispir.message-v1+json\r\ncontent-length: 100\r\n\r\n{\"to\":";
                let _ = socket.write_all(head.as_bytes()).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            });
        }
    });
    format!("http://{address}")
}

#[tokio::test]
async fn a_body_that_stalls_is_cut_off_within_the_call_budget() {
    let uri = stalling_body_server().await;
    let client = whispir_tests::mock_builder(&uri, fast_retries(1))
        .attempt_timeout(Duration::from_secs(20))
        .timeout(Duration::from_millis(500))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert_eq!(err.status(), Some(reqwest::StatusCode::OK), "{err:#}");
    assert!(
        format!("{err:#}").contains("did not arrive in time"),
        "{err:#}"
    );
}

#[tokio::test]
async fn an_answer_late_past_the_budget_names_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ok_message().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = whispir_tests::mock_builder(&server.uri(), fast_retries(3))
        .attempt_timeout(Duration::from_secs(20))
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(err.is_timeout(), "{err:#}");
    assert!(
        format!("{err:#}").contains("time budget of 300ms"),
        "{err:#}"
    );
    assert_eq!(err.attempts(), 1, "{err:#}");
}
