//! Reading back what a client recorded: an OpenTelemetry SDK meter
//! provider exporting to memory, and its data points flattened into
//! plain values a test can compare.

use std::collections::BTreeMap;

use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, SdkMeterProvider};

/// A meter provider whose exports stay in memory.
pub struct Meters {
    provider: SdkMeterProvider,
    exporter: InMemoryMetricExporter,
}

/// One data point's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading {
    /// A counter's sum.
    Sum(u64),
    /// A histogram's count and sum.
    Histogram {
        /// How many values were recorded.
        count: u64,
        /// Their sum.
        sum: f64,
    },
    /// A gauge's value.
    Gauge(u64),
}

/// One data point of one instrument of the `whispir` meter.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    /// The instrument's name.
    pub name: String,
    /// Its unit.
    pub unit: String,
    /// The point's attributes, values as text.
    pub attributes: BTreeMap<String, String>,
    /// Its value.
    pub reading: Reading,
}

/// Attributes from `(key, value)` pairs, as [`Point::attributes`] holds them.
pub fn attributes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

impl Default for Meters {
    fn default() -> Self {
        Self::new()
    }
}

impl Meters {
    /// A provider with a periodic reader that exports when flushed.
    pub fn new() -> Self {
        let exporter = InMemoryMetricExporter::default();
        let provider = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter.clone())
            .build();
        Self { provider, exporter }
    }

    /// The provider, for `ClientBuilder::meter_provider`.
    pub fn provider(&self) -> &SdkMeterProvider {
        &self.provider
    }

    /// Every data point of the meter `scope` as of now.
    pub fn points_of(&self, scope: &str) -> Vec<Point> {
        self.exporter.reset();
        self.provider.force_flush().expect("the in-memory export");
        let exported = self
            .exporter
            .get_finished_metrics()
            .expect("the in-memory export");
        exported
            .last()
            .map(|resource| flatten(resource, scope))
            .unwrap_or_default()
    }

    /// Every data point of the SDK's meter (`whispir`) as of now.
    pub fn points(&self) -> Vec<Point> {
        self.points_of("whispir")
    }

    /// The data points of the instrument `name`.
    pub fn named(&self, name: &str) -> Vec<Point> {
        self.points()
            .into_iter()
            .filter(|point| point.name == name)
            .collect()
    }
}

fn flatten(resource: &ResourceMetrics, scope: &str) -> Vec<Point> {
    let mut points = Vec::new();
    for scope_metrics in resource.scope_metrics() {
        if scope_metrics.scope().name() != scope {
            continue;
        }
        for metric in scope_metrics.metrics() {
            let point = |attributes: Vec<(String, String)>, reading| Point {
                name: metric.name().to_string(),
                unit: metric.unit().to_string(),
                attributes: attributes.into_iter().collect(),
                reading,
            };
            let texts = |attributes: &mut dyn Iterator<Item = &opentelemetry::KeyValue>| {
                attributes
                    .map(|kv| (kv.key.to_string(), kv.value.as_str().into_owned()))
                    .collect::<Vec<_>>()
            };
            match metric.data() {
                AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                    for data in sum.data_points() {
                        let reading = Reading::Sum(data.value());
                        points.push(point(texts(&mut data.attributes()), reading));
                    }
                }
                AggregatedMetrics::U64(MetricData::Gauge(gauge)) => {
                    for data in gauge.data_points() {
                        let reading = Reading::Gauge(data.value());
                        points.push(point(texts(&mut data.attributes()), reading));
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(histogram)) => {
                    for data in histogram.data_points() {
                        let reading = Reading::Histogram {
                            count: data.count(),
                            sum: data.sum(),
                        };
                        points.push(point(texts(&mut data.attributes()), reading));
                    }
                }
                AggregatedMetrics::U64(MetricData::Histogram(histogram)) => {
                    for data in histogram.data_points() {
                        // Attempts are small counts: exact as f64.
                        let reading = Reading::Histogram {
                            count: data.count(),
                            sum: data.sum() as f64,
                        };
                        points.push(point(texts(&mut data.attributes()), reading));
                    }
                }
                other => panic!(
                    "{}: an instrument kind the SDK does not make: {other:?}",
                    metric.name()
                ),
            }
        }
    }
    points
}
