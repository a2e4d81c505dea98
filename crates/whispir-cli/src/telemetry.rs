//! `--otlp`: the command's metrics (the SDK's, the callback receiver's and
//! the CLI's own) exported to an OpenTelemetry collector over OTLP/HTTP
//! (protobuf), and the bounded flush on the way out.
//!
//! Metrics are an aside: a collector that is down, slow or refusing never
//! fails the command, and never holds it up longer than [`FLUSH_BOUND`] at
//! exit (exports during the run happen on the SDK's own thread). The first
//! failure is said once on stderr, with the endpoint (configuration, not a
//! secret) and never a header: `OTEL_EXPORTER_OTLP_HEADERS` may hold tokens.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use opentelemetry_otlp::{MetricExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};

/// The longest one export may take (the HTTP request's timeout).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest the command waits at exit for its last figures to go.
pub const FLUSH_BOUND: Duration = Duration::from_secs(3);

/// The standard variables that turn exporting on without `--otlp`.
const ENDPOINT_VARIABLES: [&str; 2] = [
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
];

/// The provider installed for this process, if exporting.
static EXPORTING: OnceLock<Exporting> = OnceLock::new();

struct Exporting {
    provider: SdkMeterProvider,
    warning: Arc<Warning>,
    finished: AtomicBool,
}

/// Checks an `--otlp` value: an http or https URL, the collector's base
/// (metrics go to `/v1/metrics` under it, as with `OTEL_EXPORTER_OTLP_ENDPOINT`).
pub fn parse_endpoint(value: &str) -> Result<String, String> {
    let lower = value.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err("an OTLP/HTTP endpoint is an http:// or https:// URL, \
             e.g. http://localhost:4318"
            .into());
    }
    Ok(value.trim_end_matches('/').to_owned())
}

/// The endpoint as a warning shows it: without a user and password in its
/// authority or a query, in case either carries a token.
fn shown(endpoint: &str) -> String {
    let (scheme, rest) = endpoint.split_once("://").unwrap_or(("", endpoint));
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// Installs the global meter provider, exporting to `flag` (the `--otlp`
/// endpoint) or to what the standard variables name; does nothing when
/// neither is set. Call before any client is built: clients read the
/// global provider when they are built.
pub fn start(flag: Option<&str>) {
    let from_environment = || {
        if std::env::var("OTEL_SDK_DISABLED").is_ok_and(|value| value.trim() == "true") {
            return None;
        }
        ENDPOINT_VARIABLES.iter().find_map(|name| {
            let value = std::env::var(name).ok()?;
            let value = value.trim().trim_end_matches('/');
            (!value.is_empty()).then(|| {
                if *name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
                    format!("{value}/v1/metrics")
                } else {
                    value.to_owned()
                }
            })
        })
    };
    let (endpoint, explicit) = match flag {
        Some(base) => (format!("{base}/v1/metrics"), true),
        None => match from_environment() {
            Some(endpoint) => (endpoint, false),
            None => return,
        },
    };
    let warning = Arc::new(Warning {
        endpoint: shown(&endpoint),
        given: AtomicBool::new(false),
    });
    let mut builder = MetricExporter::builder()
        .with_http()
        .with_timeout(EXPORT_TIMEOUT);
    if explicit {
        builder = builder.with_endpoint(endpoint);
    }
    let exporter = match builder.build() {
        Ok(exporter) => exporter,
        Err(err) => {
            warning.once(format_args!("the exporter could not be set up ({err})"));
            return;
        }
    };
    let exporter = WarnOnFailure {
        inner: exporter,
        warning: Arc::clone(&warning),
    };
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "whispir".to_owned());
    let provider = SdkMeterProvider::builder()
        .with_resource(Resource::builder().with_service_name(service).build())
        .with_reader(PeriodicReader::builder(exporter).build())
        .build();
    opentelemetry::global::set_meter_provider(provider.clone());
    let _ = EXPORTING.set(Exporting {
        provider,
        warning,
        finished: AtomicBool::new(false),
    });
}

/// Whether this process exports its metrics.
pub fn exporting() -> bool {
    EXPORTING.get().is_some()
}

/// Sends the last figures and stops exporting, waiting at most
/// [`FLUSH_BOUND`]; a collector that takes longer is left behind (and
/// said so, once). Does nothing when not exporting, or the second time.
/// Call on every way out of the process.
pub fn finish() {
    let Some(exporting) = EXPORTING.get() else {
        return;
    };
    if exporting.finished.swap(true, Ordering::SeqCst) {
        return;
    }
    let provider = exporting.provider.clone();
    let (done, finished) = std::sync::mpsc::channel();
    let flushing = std::thread::Builder::new()
        .name("otlp-flush".into())
        .spawn(move || {
            let _ = done.send(provider.shutdown());
        });
    if let Err(err) = flushing {
        exporting
            .warning
            .once(format_args!("the last figures could not be sent ({err})"));
        return;
    }
    match finished.recv_timeout(FLUSH_BOUND) {
        Ok(Ok(())) => {}
        Ok(Err(err)) => exporting
            .warning
            .once(format_args!("the last figures could not be sent ({err})")),
        Err(_) => exporting.warning.once(format_args!(
            "the collector did not take the last figures within {} s",
            FLUSH_BOUND.as_secs()
        )),
    }
}

/// The one warning a run prints about exporting.
struct Warning {
    endpoint: String,
    given: AtomicBool,
}

impl Warning {
    fn once(&self, what: fmt::Arguments<'_>) {
        if !self.given.swap(true, Ordering::SeqCst) {
            eprintln!(
                "whispir: warning: metrics are not exported to {}: {what}; \
                 the command goes on without them",
                self.endpoint
            );
        }
    }
}

/// The OTLP exporter, saying its first failure on stderr: the SDK itself
/// only logs failures through `tracing`, which a command without
/// `--verbose` does not show.
struct WarnOnFailure {
    inner: MetricExporter,
    warning: Arc<Warning>,
}

impl PushMetricExporter for WarnOnFailure {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let result = self.inner.export(metrics).await;
        if let Err(err) = &result {
            self.warning
                .once(format_args!("the collector did not take them ({err})"));
        }
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_is_an_http_url_without_its_trailing_slash() {
        assert_eq!(
            parse_endpoint("http://localhost:4318/"),
            Ok("http://localhost:4318".to_owned())
        );
        assert_eq!(
            parse_endpoint("HTTPS://collector.example/otlp"),
            Ok("HTTPS://collector.example/otlp".to_owned())
        );
        for wrong in ["localhost:4318", "grpc://localhost:4317", ""] {
            let refusal = parse_endpoint(wrong).expect_err(wrong);
            assert!(refusal.contains("http://localhost:4318"), "{refusal}");
        }
    }

    #[test]
    fn a_warning_shows_the_endpoint_without_credentials_or_query() {
        assert_eq!(
            shown("https://user:s3cret@collector.example:4318/v1/metrics?token=t0ken"),
            "https://collector.example:4318/v1/metrics"
        );
        assert_eq!(
            shown("http://127.0.0.1:4318/v1/metrics"),
            "http://127.0.0.1:4318/v1/metrics"
        );
        assert_eq!(shown("http://a@b"), "http://b");
    }
}
