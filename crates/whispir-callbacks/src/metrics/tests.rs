//! The counters as an exporter sees them: read back through the
//! OpenTelemetry SDK's in-memory exporter, name, unit, attributes and value.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use tower_service::Service as _;

use crate::auth::{AuthMode, CallbackKey};
use crate::dedup::{DEFAULT_REMEMBER_DONE, Deduplicator};
use crate::payload::Callback;
use crate::receiver::Receiver;

const KEY: &str = "k3y-Secret";
const SENDER: &str = "+61400000001";
const TEXT: &str = "Confirmed, see you at 10";

/// One counter's data point: name, unit, attributes (sorted) and value.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Point {
    pub(crate) name: String,
    pub(crate) unit: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) value: u64,
}

/// A meter provider whose figures the test reads back.
pub(crate) struct Recorder {
    pub(crate) provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

impl Recorder {
    pub(crate) fn new() -> Self {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(exporter.clone()).build())
            .build();
        Self { provider, exporter }
    }

    /// Every data point of this crate's counters, as of now.
    pub(crate) fn points(&self) -> Vec<Point> {
        self.exporter.reset();
        self.provider.force_flush().expect("flush");
        let exported = self.exporter.get_finished_metrics().expect("metrics");
        let mut points = Vec::new();
        let last = exported.last().expect("an export");
        for scope in last.scope_metrics() {
            assert_eq!(scope.scope().name(), "whispir-callbacks");
            assert_eq!(scope.scope().version(), Some(env!("CARGO_PKG_VERSION")));
            for metric in scope.metrics() {
                let AggregatedMetrics::U64(MetricData::Sum(sum)) = metric.data() else {
                    panic!("{} is not a u64 sum: {:?}", metric.name(), metric.data());
                };
                assert!(sum.is_monotonic(), "{} is a counter", metric.name());
                for point in sum.data_points() {
                    let mut attributes: Vec<(String, String)> = point
                        .attributes()
                        .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                        .collect();
                    attributes.sort();
                    points.push(Point {
                        name: metric.name().to_owned(),
                        unit: metric.unit().to_owned(),
                        attributes,
                        value: point.value(),
                    });
                }
            }
        }
        points.sort_by(|a, b| (&a.name, &a.attributes).cmp(&(&b.name, &b.attributes)));
        points
    }
}

pub(crate) fn point(name: &str, attributes: &[(&str, &str)], value: u64) -> Point {
    Point {
        name: name.to_owned(),
        unit: "{callback}".to_owned(),
        attributes: attributes
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        value,
    }
}

fn body() -> String {
    serde_json::json!({
        "messageid": "M1",
        "from": {"mobile": SENDER, "name": "Ada Lovelace"},
        "responseMessage": {"channel": "SMS", "acknowledged": "01/02/24 10:00", "content": TEXT},
        "customParameters": {"orderId": "ORD-42"},
    })
    .to_string()
}

fn request(key: &str, content_type: &str, body: String) -> Request<Bytes> {
    Request::post(format!("/cb?auth={key}"))
        .header("x-whispir-callback-key", key)
        .header("content-type", content_type)
        .body(Bytes::from(body))
        .expect("request")
}

fn receiver(recorder: &Recorder) -> Receiver {
    Receiver::new(AuthMode::HttpHeader, CallbackKey::new(KEY).expect("key"))
        .expect("receiver")
        .meter_provider(&recorder.provider)
}

#[test]
fn an_accepted_callback_counts_as_received() {
    let recorder = Recorder::new();
    let receiver = receiver(&recorder);
    receiver
        .verify_and_parse(&request(KEY, "application/json", body()))
        .expect("accepted");
    assert_eq!(
        recorder.points(),
        [point("whispir.callbacks.received", &[], 1)]
    );
}

#[test]
fn a_bad_key_counts_as_refused_with_its_reason() {
    let recorder = Recorder::new();
    let receiver = receiver(&recorder);
    let refused = receiver
        .verify_and_parse(&request("not-the-key", "application/json", body()))
        .expect_err("refused");
    assert!(refused.is_unauthorized());
    assert_eq!(
        recorder.points(),
        [point(
            "whispir.callbacks.refused",
            &[("whispir.refusal.reason", "bad_key")],
            1
        )]
    );
}

#[test]
fn each_refusal_is_counted_under_its_own_reason() {
    let recorder = Recorder::new();
    let receiver = receiver(&recorder).with_max_body_bytes(1024);
    let mut get = request(KEY, "application/json", body());
    *get.method_mut() = http::Method::GET;
    let refusals = [
        get,
        request(KEY, "text/plain", body()),
        request(KEY, "application/json", "x".repeat(2048)),
        request(KEY, "application/json", "{\"messageid\": ".to_owned()),
        request(KEY, "application/xml", "<unclosed".to_owned()),
    ];
    for request in &refusals {
        receiver.verify_and_parse(request).expect_err("refused");
    }
    let reason = |reason| [("whispir.refusal.reason", reason)];
    assert_eq!(
        recorder.points(),
        [
            point("whispir.callbacks.refused", &reason("bad_body"), 2),
            point(
                "whispir.callbacks.refused",
                &reason("method_not_allowed"),
                1
            ),
            point("whispir.callbacks.refused", &reason("too_large"), 1),
            point(
                "whispir.callbacks.refused",
                &reason("unsupported_media_type"),
                1
            ),
        ]
    );
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_refused_as_body_timeout() {
    let recorder = Recorder::new();
    let receiver = receiver(&recorder).with_body_timeout(std::time::Duration::from_millis(20));
    let (head, _) = request(KEY, "application/json", body()).into_parts();
    // A body that never ends.
    let stalled = http_body_util::StreamBody::new(futures::stream::pending::<
        Result<http_body::Frame<Bytes>, Infallible>,
    >());
    let refused = receiver
        .receive(Request::from_parts(head, stalled))
        .await
        .expect_err("refused");
    assert!(refused.is_timeout());
    assert_eq!(
        recorder.points(),
        [point(
            "whispir.callbacks.refused",
            &[("whispir.refusal.reason", "body_timeout")],
            1
        )]
    );
}

#[tokio::test]
async fn a_repeated_delivery_counts_as_a_duplicate_and_is_not_acted_on_again() {
    let recorder = Recorder::new();
    let acted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&acted);
    // The store is given before the meter provider: it counts through it all the same.
    let mut service = Receiver::new(AuthMode::HttpHeader, CallbackKey::new(KEY).expect("key"))
        .expect("receiver")
        .with_dedup(Deduplicator::new(100, DEFAULT_REMEMBER_DONE))
        .meter_provider(&recorder.provider)
        .into_service(move |_callback: Callback| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(Ok::<(), Infallible>(()))
        });
    for _ in 0..2 {
        let (head, body) = request(KEY, "application/json", body()).into_parts();
        let response = service
            .call(Request::from_parts(head, Full::new(body)))
            .await
            .expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(acted.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        recorder.points(),
        [
            point("whispir.callbacks.duplicates", &[], 1),
            point("whispir.callbacks.received", &[], 2),
        ]
    );
}

#[test]
fn no_attribute_carries_the_key_the_sender_or_the_text() {
    let recorder = Recorder::new();
    let receiver = receiver(&recorder);
    receiver
        .verify_and_parse(&request(KEY, "application/json", body()))
        .expect("accepted");
    // A wrong key that differs from the right one by a letter, and bodies
    // that repeat what was sent in their parse errors.
    for (key, body) in [
        ("k3y-Secreu", body()),
        (
            KEY,
            format!("{{\"messageid\": \"{TEXT}\", \"from\": \"{SENDER}\""),
        ),
        (KEY, format!("<x>{TEXT}{SENDER}{KEY}</y>")),
    ] {
        let content_type = if body.starts_with('<') {
            "application/xml"
        } else {
            "application/json"
        };
        receiver
            .verify_and_parse(&request(key, content_type, body))
            .expect_err("refused");
    }
    let points = recorder.points();
    assert_eq!(points.iter().map(|p| p.value).sum::<u64>(), 4);
    for point in &points {
        for (name, value) in &point.attributes {
            for secret in [KEY, "k3y-Secreu", SENDER, TEXT, "Ada", "ORD-42", "M1"] {
                assert!(
                    !value.contains(secret) && !name.contains(secret),
                    "{name}={value} carries {secret:?}"
                );
            }
            assert_eq!(name, "whispir.refusal.reason");
        }
    }
}
