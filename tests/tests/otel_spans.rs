//! What a program using `tracing-opentelemetry` sees of the SDK: one span
//! per call, named for the operation and carrying the metrics' attribute
//! names, with its attempts as child spans; and no message text,
//! recipient, user, password or API key in any attribute of a span, a
//! span's event or a metric.
//!
//! A binary of its own: the tracing subscriber is the process's global
//! one, so that no other test's thread can cache the SDK's callsites as
//! unwatched (a subscriber set per thread meets that race in the suite).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::OnceLock;

use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt as _;
use whispir::types::Message;
use whispir::{Client, Credentials};
use whispir_tests::fast_retries;
use whispir_tests::metrics::Meters;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The spans every test of this binary exports, through the global
/// subscriber (at INFO, as a production program would filter).
fn spans() -> &'static InMemorySpanExporter {
    static EXPORTER: OnceLock<InMemorySpanExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("otel_spans"));
        let subscriber = tracing_subscriber::registry()
            .with(layer)
            .with(tracing_subscriber::filter::LevelFilter::INFO);
        tracing::subscriber::set_global_default(subscriber).expect("the only global subscriber");
        exporter
    })
}

fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// The finished spans of the calls to `server`'s port.
fn spans_to(server: &MockServer) -> Vec<SpanData> {
    let port = server.address().port().to_string();
    let all = spans().get_finished_spans().unwrap();
    let calls: Vec<_> = all
        .iter()
        .filter(|span| attribute(span, "server.port").as_deref() == Some(port.as_str()))
        .map(|span| span.parent_span_id)
        .collect();
    all.into_iter()
        .filter(|span| {
            calls.contains(&span.span_context.span_id()) || calls.contains(&span.parent_span_id)
        })
        .collect()
}

#[tokio::test]
async fn a_call_is_one_span_named_for_its_operation_with_its_attempts_as_children() {
    spans();
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
    let client = whispir_tests::mock_client_with(&server.uri(), fast_retries(3));
    client
        .message_retrieve()
        .message_id("A1")
        .send()
        .await
        .unwrap();

    let spans = spans_to(&server);
    let (calls, attempts): (Vec<_>, Vec<_>) = spans
        .iter()
        .partition(|span| span.name == "messageRetrieve");
    let [call] = calls.as_slice() else {
        panic!("one call span: {spans:#?}");
    };
    assert_eq!(
        attribute(call, "whispir.operation").as_deref(),
        Some("messageRetrieve")
    );
    assert_eq!(
        attribute(call, "http.request.method").as_deref(),
        Some("GET")
    );
    assert_eq!(
        attribute(call, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        attribute(call, "url.template").as_deref(),
        Some("/messages/{messageId}")
    );
    assert_eq!(
        attribute(call, "http.response.status_code").as_deref(),
        Some("200")
    );
    assert_eq!(attribute(call, "error.type"), None);

    assert_eq!(attempts.len(), 2, "{spans:#?}");
    let mut attempts = attempts;
    attempts.sort_by_key(|span| attribute(span, "whispir.attempt"));
    for (attempt, (number, status)) in attempts.iter().zip([("1", "503"), ("2", "200")]) {
        assert_eq!(attempt.name, "GET");
        assert_eq!(attempt.span_kind, SpanKind::Client);
        assert_eq!(attempt.parent_span_id, call.span_context.span_id());
        assert_eq!(
            attempt.span_context.trace_id(),
            call.span_context.trace_id()
        );
        assert_eq!(
            attribute(attempt, "whispir.attempt").as_deref(),
            Some(number)
        );
        assert_eq!(
            attribute(attempt, "http.response.status_code").as_deref(),
            Some(status)
        );
        assert_eq!(
            attribute(attempt, "http.request.method").as_deref(),
            Some("GET")
        );
    }
    assert_eq!(attribute(attempts[0], "error.type").as_deref(), Some("503"));
    assert_eq!(attribute(attempts[1], "error.type"), None);
}

const SENTINELS: [&str; 6] = [
    "SENTINEL-TEXT-9f2c",
    "61499999999",
    "SENTINEL-SUBJECT-77aa",
    "sentinel-user-41",
    "sentinel-password-0d",
    "sentinel-api-key-5e",
];

fn sentinel_message() -> Message {
    serde_json::from_value(serde_json::json!({
        "to": SENTINELS[1],
        "subject": SENTINELS[2],
        "body": SENTINELS[0],
    }))
    .unwrap()
}

fn assert_clean(what: &str, text: &str) {
    for sentinel in SENTINELS {
        assert!(
            !text.contains(sentinel),
            "{sentinel} appears in {what}: {text}"
        );
    }
}

#[tokio::test]
async fn no_message_text_recipient_or_credential_reaches_a_span_or_a_metric() {
    spans();
    let server = MockServer::start().await;
    // The API's error body echoes the message, as real answers may.
    let echo = serde_json::json!({
        "errorSummary": format!("{} to {} refused", SENTINELS[0], SENTINELS[1]),
        "errorText": SENTINELS[2],
    });
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(echo))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/messages/AB"))
        .with_priority(2)
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = Client::builder()
        .base_url(server.uri())
        .credentials(Credentials::basic(SENTINELS[3], SENTINELS[4]))
        .api_key(SENTINELS[5])
        .call_options(fast_retries(3))
        .meter_provider(meters.provider())
        .build()
        .unwrap();
    let refused = client
        .message_create()
        .body(sentinel_message())
        .send()
        .await;
    assert!(refused.is_err());
    client
        .message_create()
        .body(sentinel_message())
        .send()
        .await
        .unwrap();

    let spans = spans().get_finished_spans().unwrap();
    assert!(
        spans.iter().any(|span| span.name == "messageCreate"),
        "{spans:#?}"
    );
    for span in &spans {
        assert_clean("a span's name", &span.name);
        for kv in &span.attributes {
            assert_clean(&format!("span attribute {}", kv.key), &kv.value.as_str());
            assert_clean("a span attribute's key", kv.key.as_str());
        }
        for event in span.events.iter() {
            assert_clean("a span event's name", &event.name);
            for kv in &event.attributes {
                assert_clean(
                    &format!("span event attribute {}", kv.key),
                    &kv.value.as_str(),
                );
            }
        }
    }
    let points = meters.points();
    assert!(
        points
            .iter()
            .any(|point| point.name == "whispir.client.sends"),
        "{points:#?}"
    );
    for point in &points {
        for (key, value) in &point.attributes {
            assert_clean(&format!("metric {} attribute {key}", point.name), value);
            assert_clean("a metric attribute's key", key);
        }
    }
}
