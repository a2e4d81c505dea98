//! A receiver built without a meter provider counts through the global one,
//! read when it is built. On its own in a binary: the global provider is
//! the process's, and other tests' receivers would count into it.
#![cfg(feature = "opentelemetry")]

use bytes::Bytes;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use whispir_callbacks::{AuthMode, CallbackKey, Receiver};

#[test]
fn a_receiver_counts_through_the_global_meter_provider_set_before_it_was_built() {
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    opentelemetry::global::set_meter_provider(provider.clone());

    let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new("k3y").expect("key"))
        .expect("receiver");
    let request = http::Request::post("/cb")
        .header("x-whispir-callback-key", "wrong")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{}"))
        .expect("request");
    receiver.verify_and_parse(&request).expect_err("a bad key");

    provider.force_flush().expect("flush");
    let exported = exporter.get_finished_metrics().expect("metrics");
    let scope = exported
        .last()
        .and_then(|resource| resource.scope_metrics().next())
        .expect("one scope");
    assert_eq!(scope.scope().name(), "whispir-callbacks");
    let metrics: Vec<_> = scope.metrics().collect();
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].name(), "whispir.callbacks.refused");
    let AggregatedMetrics::U64(MetricData::Sum(sum)) = metrics[0].data() else {
        panic!("not a u64 counter: {:?}", metrics[0].data());
    };
    let points: Vec<_> = sum
        .data_points()
        .map(|point| {
            let attributes: Vec<_> = point
                .attributes()
                .map(|kv| format!("{}={}", kv.key, kv.value))
                .collect();
            (attributes, point.value())
        })
        .collect();
    assert_eq!(
        points,
        [(vec!["whispir.refusal.reason=bad_key".to_owned()], 1)]
    );
}
