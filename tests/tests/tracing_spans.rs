//! One tracing span per call, with what an operator needs and no secret.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::io::Write;
use std::sync::{Arc, Mutex};

use whispir_tests::{fast_retries, mock_client_with};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_call_is_traced_with_operation_attempts_and_status_but_no_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    // Other tests' threads may have met the SDK's callsites while no
    // subscriber listened and cached that nobody is interested: ask again
    // now that this thread's subscriber is registered.
    tracing::callsite::rebuild_interest_cache();

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "to": "1", "subject": "x" })),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    client
        .message_retrieve()
        .message_id("A")
        .send()
        .await
        .expect("retried");

    let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(log.contains("whispir.call"), "{log}");
    assert!(
        log.contains("whispir.operation=\"messageRetrieve\""),
        "{log}"
    );
    // The path's template, never its ids.
    assert!(
        log.contains("url.template=\"/messages/{messageId}\""),
        "{log}"
    );
    assert!(!log.contains("/messages/A"), "{log}");
    assert!(log.contains("attempt=2"), "{log}");
    assert!(log.contains("http.response.status_code=200"), "{log}");
    // Each attempt has its span, the first with its 503.
    assert!(log.contains("whispir.attempt"), "{log}");
    assert!(log.contains("http.response.status_code=503"), "{log}");
    assert!(log.contains("retrying"), "{log}");
    for secret in ["dXNlcjpwYXNz", "test-api-key", "Basic"] {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
