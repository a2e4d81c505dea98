//! Time from the server: a `Retry-After` date is measured against the
//! answer's own `Date`, so a client whose clock is off waits what the
//! server meant. The mock server plays a server ten minutes ahead of this
//! machine, which is the same as this machine being ten minutes slow.
//! Timing assertions are loose bounds: a lower bound the client can never
//! beat, an upper bound far from both the right and the wrong answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::{Duration, Instant, SystemTime};

use whispir_tests::{expect_error, fast_retries, mock_client, mock_client_with};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How far the server's clock is ahead of this machine's.
const SKEW: Duration = Duration::from_secs(600);

/// A 429 from a server ten minutes ahead that asks for a retry one second
/// after its own `Date`.
fn throttled_by_a_server_ten_minutes_ahead() -> ResponseTemplate {
    let server_now = SystemTime::now() + SKEW;
    ResponseTemplate::new(429)
        .insert_header("date", httpdate::fmt_http_date(server_now).as_str())
        .insert_header(
            "retry-after",
            httpdate::fmt_http_date(server_now + Duration::from_secs(1)).as_str(),
        )
}

#[tokio::test]
async fn a_retry_after_date_is_measured_against_the_answers_date() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(throttled_by_a_server_ten_minutes_ahead())
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let err = expect_error(client.message_retrieve().message_id("A").send().await);
    assert!(err.is_throttled(), "{err:?}");
    // Measured against the local clock it would be ten minutes and a second.
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
}

#[tokio::test]
async fn a_client_ten_minutes_slow_retries_after_about_one_second() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(throttled_by_a_server_ten_minutes_ahead())
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "to": "61400000001", "subject": "Hello" })),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    // Retries may start up to 10 s after the first attempt: a wait of ten
    // minutes would not be retried at all.
    let client = mock_client_with(&server.uri(), fast_retries(2));
    let start = Instant::now();
    let message = client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("retried after the second the server asked for");
    assert_eq!(message.subject, "Hello");
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(990), "{waited:?}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");
}
