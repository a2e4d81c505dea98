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
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig as _, WithHttpConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider, Temporality};
use url::Url;

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
    /// Held while the last figures go, so that a second caller (Ctrl-C's
    /// handler and `main`, at once) waits for them instead of exiting
    /// under the first one's flush.
    finished: Mutex<bool>,
}

/// `--otlp`'s value parser: an http or https URL with a host, the
/// collector's base (metrics go to `/v1/metrics` under it, as with
/// `OTEL_EXPORTER_OTLP_ENDPOINT`). Its refusal never repeats the value,
/// which may hold a password or a token (clap's own message would).
#[derive(Clone, Copy)]
pub struct EndpointParser;

impl clap::builder::TypedValueParser for EndpointParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        value
            .to_str()
            .and_then(|value| http_url(value).map(|_| value.trim_end_matches('/').to_owned()))
            .ok_or_else(|| {
                clap::Error::raw(
                    clap::error::ErrorKind::ValueValidation,
                    "--otlp: an OTLP/HTTP endpoint is an http:// or https:// URL \
                     with a host, e.g. http://localhost:4318\n",
                )
                .with_cmd(cmd)
            })
    }
}

/// `value` as an http or https URL with a host, or `None`.
fn http_url(value: &str) -> Option<Url> {
    let url = Url::parse(value.trim()).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty()))
        .then_some(url)
}

/// The metrics endpoint under a collector's base URL: `/v1/metrics`
/// appended to its path (its query, if any, kept where it is).
fn metrics_url(mut base: Url) -> Url {
    let path = format!("{}/v1/metrics", base.path().trim_end_matches('/'));
    base.set_path(&path);
    base
}

/// An endpoint as a warning or `Debug` shows it: scheme, host, port and
/// path, never a user, password, query or fragment, in case one carries a
/// token; a value that is not a URL is not shown at all.
pub fn shown(endpoint: &str) -> String {
    match Url::parse(endpoint.trim()) {
        Ok(mut url) if url.has_host() => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        _ => "(an endpoint that is not a URL)".to_owned(),
    }
}

/// Where this run exports, from `--otlp` or the standard variables
/// (`variable` reads one): `Ok(None)` when exporting is off, `Err` with
/// why a variable's setting cannot be used (never its value).
fn resolve(
    flag: Option<&str>,
    variable: impl Fn(&str) -> Option<String>,
) -> Result<Option<Url>, String> {
    if let Some(base) = flag {
        // Checked by `EndpointParser`; an explicit flag wins over the
        // variables, `OTEL_SDK_DISABLED` and the protocol included.
        return http_url(base)
            .map(|url| Some(metrics_url(url)))
            .ok_or_else(|| "--otlp is not an http:// or https:// URL".to_owned());
    }
    let set = |name: &str| {
        variable(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    if set("OTEL_SDK_DISABLED").is_some_and(|value| value.eq_ignore_ascii_case("true")) {
        return Ok(None);
    }
    let endpoint = ENDPOINT_VARIABLES
        .iter()
        .find_map(|name| set(name).map(|value| (*name, value)));
    let Some((name, value)) = endpoint else {
        return Ok(None);
    };
    let protocol = [
        "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
    .iter()
    .find_map(|name| set(name).map(|value| (*name, value)));
    if let Some((protocol_name, protocol)) = protocol
        && !protocol.eq_ignore_ascii_case("http/protobuf")
    {
        return Err(format!(
            "{protocol_name} asks for {}, and whispir exports over OTLP/HTTP in protobuf \
             only (http/protobuf): set it to http/protobuf with an OTLP/HTTP endpoint \
             (port 4318), or use --otlp",
            if protocol.eq_ignore_ascii_case("grpc") {
                "gRPC"
            } else {
                "another protocol"
            }
        ));
    }
    let url =
        http_url(&value).ok_or_else(|| format!("{name} is not an http:// or https:// URL"))?;
    Ok(Some(if name == "OTEL_EXPORTER_OTLP_ENDPOINT" {
        metrics_url(url)
    } else {
        url
    }))
}

/// Installs the global meter provider, exporting to `flag` (the `--otlp`
/// endpoint) or to what the standard variables name; does nothing when
/// neither is set. Call before any client is built (clients read the
/// global provider when they are built), and outside the async runtime
/// (the exporter's blocking HTTP client is built here).
pub fn start(flag: Option<&str>) {
    let endpoint = match resolve(flag, |name| std::env::var(name).ok()) {
        Ok(Some(endpoint)) => endpoint,
        Ok(None) => return,
        Err(why) => {
            eprintln!(
                "whispir: warning: metrics are not exported: {why}; \
                 the command goes on without them"
            );
            return;
        }
    };
    let warning = Arc::new(Warning {
        endpoint: shown(endpoint.as_str()),
        given: AtomicBool::new(false),
    });
    // No redirects: a collector's redirect would carry the
    // OTEL_EXPORTER_OTLP_HEADERS (tokens, often in headers reqwest does
    // not strip) to wherever it points.
    let client = reqwest::blocking::Client::builder()
        .timeout(EXPORT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build();
    let client = match client {
        Ok(client) => client,
        Err(err) => {
            warning.once(format_args!(
                "its HTTP client could not be set up ({})",
                err.without_url()
            ));
            return;
        }
    };
    let exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(client)
        .with_timeout(EXPORT_TIMEOUT)
        .with_endpoint(endpoint.as_str())
        .build();
    let exporter = match exporter {
        Ok(exporter) => exporter,
        // Not the error's text: it may quote the endpoint, password and all.
        Err(_) => {
            warning.once(format_args!("the exporter could not be set up"));
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
        finished: Mutex::new(false),
    });
}

/// Whether this process exports its metrics.
pub fn exporting() -> bool {
    EXPORTING.get().is_some()
}

/// Sends the last figures and stops exporting, waiting at most
/// [`FLUSH_BOUND`]; a collector that takes longer is left behind (and
/// said so, once). Does nothing when not exporting; a second call waits
/// for the first one's flush. Call on every way out of the process.
pub fn finish() {
    let Some(exporting) = EXPORTING.get() else {
        return;
    };
    // A poisoned lock only means a flush panicked: it is over either way.
    let mut finished = exporting
        .finished
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if *finished {
        return;
    }
    *finished = true;
    let provider = exporting.provider.clone();
    let (done, flushed) = std::sync::mpsc::channel();
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
    match flushed.recv_timeout(FLUSH_BOUND) {
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
    use clap::builder::TypedValueParser as _;

    use super::*;

    fn parse(value: &str) -> Result<String, String> {
        EndpointParser
            .parse_ref(&clap::Command::new("whispir"), None, value.as_ref())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn an_endpoint_is_an_http_url_with_a_host_without_its_trailing_slash() {
        assert_eq!(
            parse("http://localhost:4318/"),
            Ok("http://localhost:4318".to_owned())
        );
        assert_eq!(
            parse("HTTPS://collector.example/otlp"),
            Ok("HTTPS://collector.example/otlp".to_owned())
        );
        for wrong in ["localhost:4318", "grpc://localhost:4317", "", "http://"] {
            let refusal = parse(wrong).expect_err(wrong);
            assert!(refusal.contains("http://localhost:4318"), "{refusal}");
        }
    }

    #[test]
    fn a_refused_endpoint_is_not_repeated_in_the_error() {
        for wrong in ["user:s3cret@collector:4318", "ftp://user:s3cret@collector/"] {
            let refusal = parse(wrong).expect_err(wrong);
            assert!(!refusal.contains("s3cret"), "{refusal}");
        }
    }

    #[test]
    fn a_warning_shows_the_endpoint_without_credentials_or_query() {
        for (endpoint, expected) in [
            (
                "https://user:s3cret@collector.example:4318/v1/metrics?token=t0ken#s3cret",
                "https://collector.example:4318/v1/metrics",
            ),
            (
                "http://127.0.0.1:4318/v1/metrics",
                "http://127.0.0.1:4318/v1/metrics",
            ),
            ("http://user:pa@ss@host/", "http://host/"),
            (
                "http://user:p?s3cret@host/",
                "(an endpoint that is not a URL)",
            ),
            ("HTTP://user:s3cret@[::1]:4318/", "http://[::1]:4318/"),
            ("user:s3cret@host:4318", "(an endpoint that is not a URL)"),
            ("http://a@b", "http://b/"),
        ] {
            assert_eq!(shown(endpoint), expected, "{endpoint}");
        }
    }

    fn resolved(flag: Option<&str>, variables: &[(&str, &str)]) -> Result<Option<String>, String> {
        let variables: Vec<(String, String)> = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        resolve(flag, |name| {
            variables
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, value)| value.clone())
        })
        .map(|url| url.map(String::from))
    }

    #[test]
    fn the_endpoint_comes_from_the_flag_then_the_metrics_variable_then_the_general_one() {
        let general = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318/");
        let metrics = (
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            "http://metrics:4318/m",
        );
        assert_eq!(
            resolved(Some("http://flag:4318/base"), &[general, metrics]),
            Ok(Some("http://flag:4318/base/v1/metrics".to_owned()))
        );
        assert_eq!(
            resolved(None, &[general, metrics]),
            Ok(Some("http://metrics:4318/m".to_owned()))
        );
        assert_eq!(
            resolved(None, &[general]),
            Ok(Some("http://general:4318/v1/metrics".to_owned()))
        );
        // An empty or blank variable is not set.
        assert_eq!(
            resolved(
                None,
                &[general, ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", " ")]
            ),
            Ok(Some("http://general:4318/v1/metrics".to_owned()))
        );
        assert_eq!(
            resolved(None, &[("OTEL_EXPORTER_OTLP_ENDPOINT", "")]),
            Ok(None)
        );
        assert_eq!(resolved(None, &[]), Ok(None));
        // A query stays a query.
        assert_eq!(
            resolved(Some("http://flag/otlp?k=v"), &[]),
            Ok(Some("http://flag/otlp/v1/metrics?k=v".to_owned()))
        );
    }

    #[test]
    fn otel_sdk_disabled_turns_the_variables_off_in_any_case_but_not_the_flag() {
        let general = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318");
        for disabled in ["true", "TRUE", " True "] {
            assert_eq!(
                resolved(None, &[general, ("OTEL_SDK_DISABLED", disabled)]),
                Ok(None),
                "{disabled}"
            );
        }
        assert!(
            resolved(None, &[general, ("OTEL_SDK_DISABLED", "false")]).is_ok_and(|e| e.is_some())
        );
        assert!(
            resolved(Some("http://flag:4318"), &[("OTEL_SDK_DISABLED", "true")])
                .is_ok_and(|e| e.is_some())
        );
    }

    #[test]
    fn a_variable_that_cannot_be_used_is_named_without_its_value() {
        let refusal = resolved(
            None,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ],
        )
        .expect_err("grpc");
        assert!(
            refusal.contains("OTEL_EXPORTER_OTLP_PROTOCOL asks for gRPC"),
            "{refusal}"
        );
        assert!(
            resolved(
                None,
                &[
                    ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
                    ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "HTTP/PROTOBUF"),
                    ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
                ],
            )
            .is_ok_and(|e| e.is_some())
        );
        let refusal = resolved(
            None,
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", "user:s3cret@collector:4318")],
        )
        .expect_err("no scheme");
        assert!(
            refusal.contains("OTEL_EXPORTER_OTLP_ENDPOINT is not"),
            "{refusal}"
        );
        assert!(!refusal.contains("s3cret"), "{refusal}");
    }
}
