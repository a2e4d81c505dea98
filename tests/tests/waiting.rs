//! Waiting for an accepted message: throttling and limiter pauses are
//! waited out within the deadline, pauses past it and a spent daily budget
//! are reported as what they are, polls keep a minimum distance, and a
//! message `Location` may end with a slash. Timing assertions are loose
//! bounds that no machine can break: polls counted against the fewest the
//! minimum interval allows, waits against what the server asked.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use whispir::location::MIN_POLL_INTERVAL;
use whispir::types::Message;
use whispir::{Accepted, Client, Plan, Refusal, WaitOptions, WaitOutcome};
use whispir_tests::{expect_error, mock_builder, mock_client};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const STATUS_PATH: &str = "/workspaces/AB12/messages/CD34/messagestatus";

/// A status summary with `pending` recipients waiting and `delivered` done.
fn status_page(pending: i64, delivered: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "messageStatuses": [{ "categories": [
            { "name": "Received", "recipientCount": delivered },
            { "name": "Pending", "recipientCount": pending }
        ] }]
    }))
}

fn accepted(server: &MockServer) -> Accepted {
    let location = format!("{}/workspaces/AB12/messages/CD34", server.uri());
    Accepted::from_location(location.parse().unwrap()).expect("a message URL")
}

fn options(deadline: Duration) -> WaitOptions {
    WaitOptions {
        deadline,
        initial_interval: MIN_POLL_INTERVAL,
        max_interval: MIN_POLL_INTERVAL,
        ..WaitOptions::default()
    }
}

async fn polls(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|request| request.url.path() == STATUS_PATH)
        .count()
}

/// A client with the limiter on whose calls may take one second each, and
/// whose limiter a 429 asking for `retry_after_secs` has just paused (the
/// answer to another call, e.g. from a concurrent task).
async fn paused_client(server: &MockServer, retry_after_secs: u64) -> Client {
    Mock::given(method("GET"))
        .and(path("/messages/0FF0"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("retry-after", retry_after_secs.to_string().as_str()),
        )
        .mount(server)
        .await;
    let client = mock_builder(&server.uri(), Default::default())
        .retry(whispir::RetryConfig::disabled())
        .rate_limit(Plan::new(NonZeroU32::new(5).unwrap(), None))
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let err = expect_error(client.message_retrieve().message_id("0FF0").send().await);
    assert!(err.is_throttled(), "{err:?}");
    client
}

#[tokio::test]
async fn a_limiter_pause_longer_than_one_call_is_waited_out_within_the_deadline() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .respond_with(status_page(0, 1))
        .mount(&server)
        .await;
    let client = paused_client(&server, 2).await;
    let start = Instant::now();
    let outcome = accepted(&server)
        .wait(&client, options(Duration::from_secs(20)))
        .await
        .expect("the pause fits the deadline");
    assert!(matches!(outcome, WaitOutcome::Finished(_)), "{outcome:?}");
    // The limiter's pause (two seconds from the 429) came first.
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(polls(&server).await, 1, "no poll was sent during the pause");
}

#[tokio::test]
async fn a_limiter_pause_past_the_deadline_ends_the_wait_as_pause_too_long() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .respond_with(status_page(0, 1))
        .mount(&server)
        .await;
    let client = paused_client(&server, 30).await;
    let start = Instant::now();
    let err = accepted(&server)
        .wait(&client, options(Duration::from_secs(5)))
        .await
        .expect_err("thirty seconds do not fit in five");
    let Some(Refusal::PauseTooLong { wait }) = err.refusal() else {
        panic!("a PauseTooLong refusal expected, got {err:?}")
    };
    assert!(*wait > Duration::from_secs(5), "{wait:?}");
    assert!(err.is_throttled());
    assert!(start.elapsed() < Duration::from_secs(4), "reported at once");
    assert_eq!(polls(&server).await, 0, "nothing was sent");
}

#[tokio::test]
async fn a_throttled_poll_asking_past_the_deadline_ends_the_wait_with_its_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .mount(&server)
        .await;
    let start = Instant::now();
    let err = accepted(&server)
        .wait(&mock_client(&server.uri()), options(Duration::from_secs(5)))
        .await
        .expect_err("a minute does not fit in five seconds");
    assert!(err.is_throttled(), "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert!(start.elapsed() < Duration::from_secs(4), "reported at once");
}

#[tokio::test]
async fn a_spent_daily_budget_ends_the_wait_as_daily_budget_spent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(status_page(1, 0))
        .mount(&server)
        .await;
    let client = mock_builder(&server.uri(), Default::default())
        .retry(whispir::RetryConfig::disabled())
        .rate_limit(Plan::new(
            NonZeroU32::new(5).unwrap(),
            Some(NonZeroU32::new(2).unwrap()),
        ))
        .build()
        .unwrap();
    let err = accepted(&server)
        .wait(&client, options(Duration::from_secs(20)))
        .await
        .expect_err("the third poll is over the budget");
    assert!(
        matches!(err.refusal(), Some(Refusal::DailyBudgetSpent { .. })),
        "{err:?}"
    );
    assert_eq!(polls(&server).await, 2);
}

#[tokio::test]
async fn a_zero_interval_still_keeps_polls_the_minimum_interval_apart() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(STATUS_PATH))
        .respond_with(status_page(1, 0))
        .mount(&server)
        .await;
    let deadline = Duration::from_secs(1);
    let outcome = accepted(&server)
        .wait(
            &mock_client(&server.uri()),
            WaitOptions {
                deadline,
                initial_interval: Duration::ZERO,
                max_interval: Duration::ZERO,
                ..WaitOptions::default()
            },
        )
        .await
        .expect("polled");
    assert!(
        matches!(outcome, WaitOutcome::DeadlineReached(Some(_))),
        "{outcome:?}"
    );
    // One poll at the start, then at most one per minimum interval.
    let most = 1 + (deadline.as_millis() / MIN_POLL_INTERVAL.as_millis()) as usize;
    let polled = polls(&server).await;
    assert!((2..=most).contains(&polled), "{polled} polls");
}

#[tokio::test]
async fn a_message_location_with_a_trailing_slash_keeps_its_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(202).insert_header("location", "/workspaces/AB12/messages/CD34/"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(
            "^/workspaces/AB12/messages/CD34/messagestatus/?$",
        ))
        .respond_with(status_page(0, 1))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let message: Message =
        serde_json::from_value(serde_json::json!({ "to": "61400000001", "subject": "Hi" }))
            .unwrap();
    let sent = client
        .message_create()
        .workspace_id("AB12")
        .body(message)
        .send()
        .await
        .expect("202");
    assert_eq!(sent.message_id(), Some("CD34"));
    let accepted = sent.accepted().expect("a message Location");
    assert_eq!(accepted.workspace_id(), Some("AB12"));
    let outcome = sent
        .wait(&client, options(Duration::from_secs(10)))
        .await
        .expect("polled");
    assert!(matches!(outcome, WaitOutcome::Finished(_)), "{outcome:?}");
}
