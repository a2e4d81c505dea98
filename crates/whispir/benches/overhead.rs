//! SDK cost per call: `messageRetrieve` (GET) and `messageCreate` (POST)
//! through the SDK against the same requests made with a bare
//! `reqwest::Client` doing the same work (same headers, same JSON encoding
//! and decoding into the SDK's types, the `Location` read into a URL and an
//! id), same loopback server, at concurrency 1, 16 and 256.
//!
//! One criterion run interleaves both sides: every sample times a batch of
//! bare calls and the same batch through the SDK, in alternating order, and
//! what criterion measures and analyses is the ratio of the two (SDK time
//! over bare time, target ≤ 1.05×). Functions measured one after the other
//! drift apart on a shared machine by more than the difference measured;
//! paired batches see the same machine state. The mean time per call of
//! each side is printed after each benchmark.
//!
//! With `--features opentelemetry`, a second group, `metrics_on_over_off`,
//! measures the same calls through a client recording into an SDK meter
//! provider over a client recording into the default (no-op) global one.
//!
//! `cargo bench -p whispir --bench overhead [-- FILTER]`, e.g. `-- c256`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::{get, post};
use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use futures::future::join_all;
use whispir::types::Message;
use whispir::{CallOptions, Client, Credentials};

const MESSAGE: &str = r#"{"to":"61400000001","subject":"Shift reminder","body":"Your shift starts at 9am tomorrow.","direction":"OUTGOING","responseCount":"0","link":[{"uri":"https://api.au.whispir.com/messages/CD34","rel":"self","method":"GET"}]}"#;
const MEDIA_TYPE: &str = "application/vnd.whispir.message-v1+json";
const USER_AGENT: &str = whispir::context::DEFAULT_USER_AGENT;

/// SDK time over bare time. A sample's value is the ratio of its two
/// batches times its iteration count, so that criterion's per-iteration
/// figures (value ÷ iterations, and the slope over samples) are the ratio.
struct SdkOverBare;

impl Measurement for SdkOverBare {
    type Intermediate = ();
    type Value = f64;

    fn start(&self) {}

    fn end(&self, (): ()) -> f64 {
        // Only `iter_custom` is used: it returns the value itself.
        0.0
    }

    fn add(&self, v1: &f64, v2: &f64) -> f64 {
        v1 + v2
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Ratio
    }
}

struct Ratio;

impl ValueFormatter for Ratio {
    fn format_value(&self, value: f64) -> String {
        format!("{value:.4}x")
    }

    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "x"
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        "x"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ratio"
    }
}

async fn start_server() -> String {
    let app = Router::new()
        .route(
            "/workspaces/AB12/messages/CD34",
            get(|| async { ([("content-type", MEDIA_TYPE)], MESSAGE) }),
        )
        .route(
            "/workspaces/AB12/messages",
            post(|_body: axum::body::Bytes| async {
                (
                    axum::http::StatusCode::ACCEPTED,
                    [("location", "/workspaces/AB12/messages/CD34")],
                    "Your request has been accepted for processing",
                )
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn message() -> Message {
    Message::sms(
        "61400000001",
        "Shift reminder\nYour shift starts at 9am tomorrow.",
    )
    .try_into()
    .unwrap()
}

/// Time spent and calls made by each side over one benchmark.
#[derive(Default)]
struct Totals {
    bare: Cell<Duration>,
    sdk: Cell<Duration>,
    calls: Cell<u64>,
    samples: Cell<u64>,
}

impl Totals {
    fn report(&self, name: &str, (base, measured): (&str, &str)) {
        let calls = self.calls.replace(0);
        if calls == 0 {
            // Filtered out.
            return;
        }
        let calls = calls as f64;
        let bare = self.bare.take().as_secs_f64() * 1e6 / calls;
        let sdk = self.sdk.take().as_secs_f64() * 1e6 / calls;
        self.samples.set(0);
        println!(
            "{name}: per call, {base} {bare:.2} µs, {measured} {sdk:.2} µs (means over all batches, warm-up included)"
        );
    }
}

fn overhead(c: &mut Criterion<SdkOverBare>) {
    // Counting instructions (`OVERHEAD_ONLY`, below), one thread: idle
    // workers' spinning would add counts of its own.
    let only = std::env::var("OVERHEAD_ONLY").ok();
    let runtime = if only.is_some() {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    }
    .enable_all()
    .build()
    .unwrap();
    let base = runtime.block_on(start_server());
    let client = Client::builder()
        .base_url(&base)
        .credentials(Credentials::basic("user", "pass"))
        .api_key("key")
        .call_options(CallOptions::default())
        .build()
        .unwrap();
    // Built second: with `rustls-ring`, building the SDK client installs the
    // crypto provider this plain reqwest client needs too. It is configured
    // as a production client would be: the SDK's default timeouts.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let get_url = format!("{base}/workspaces/AB12/messages/CD34");
    let post_url = format!("{base}/workspaces/AB12/messages");

    let bare_get = || async {
        let response = http
            .get(&get_url)
            .header("accept", MEDIA_TYPE)
            .header("authorization", "Basic dXNlcjpwYXNz")
            .header("x-api-key", "key")
            .header("user-agent", USER_AGENT)
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let message: Message = serde_json::from_slice(&bytes).unwrap();
        black_box(message);
    };
    let sdk_get = || async {
        let message = client
            .message_retrieve()
            .workspace_id("AB12")
            .message_id("CD34")
            .send()
            .await
            .unwrap();
        black_box(message.into_inner());
    };
    let bare_post = || async {
        let response = http
            .post(&post_url)
            .header("accept", MEDIA_TYPE)
            .header("content-type", MEDIA_TYPE)
            .header("authorization", "Basic dXNlcjpwYXNz")
            .header("x-api-key", "key")
            .header("user-agent", USER_AGENT)
            .body(serde_json::to_vec(&message()).unwrap())
            .send()
            .await
            .unwrap();
        // What a user needs of the answer: the message's URL and id.
        let location = response
            .headers()
            .get("location")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| response.url().join(value).ok());
        let id = location
            .as_ref()
            .and_then(|url| url.path_segments()?.next_back().map(str::to_string));
        let bytes = response.bytes().await.unwrap();
        black_box((location, id, bytes));
    };
    let sdk_post = || async {
        let sent = client
            .message_create()
            .workspace_id("AB12")
            .body(message())
            .send()
            .await
            .unwrap();
        black_box(sent);
    };

    // With the feature: the same calls through a client that records into
    // an SDK meter provider, against the same client recording into the
    // default global provider (OpenTelemetry's no-op one).
    #[cfg(feature = "opentelemetry")]
    let (_provider, metered) = metered_client(&base);
    #[cfg(feature = "opentelemetry")]
    let metered_get = || async {
        let message = metered
            .message_retrieve()
            .workspace_id("AB12")
            .message_id("CD34")
            .send()
            .await
            .unwrap();
        black_box(message.into_inner());
    };
    #[cfg(feature = "opentelemetry")]
    let metered_post = || async {
        let sent = metered
            .message_create()
            .workspace_id("AB12")
            .body(message())
            .send()
            .await
            .unwrap();
        black_box(sent);
    };

    // `OVERHEAD_ONLY=SIDE OVERHEAD_CALLS=N`: N calls of one side, one at a
    // time on one thread, then exit: for instruction counts under callgrind
    // (see BENCHMARKS.md), where times mean nothing.
    if let Some(side) = only {
        let calls: usize = std::env::var("OVERHEAD_CALLS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(1000);
        runtime.block_on(async {
            for _ in 0..calls {
                match side.as_str() {
                    "bare_get" => bare_get().await,
                    "sdk_get" => sdk_get().await,
                    "bare_post" => bare_post().await,
                    "sdk_post" => sdk_post().await,
                    #[cfg(feature = "opentelemetry")]
                    "metered_get" => metered_get().await,
                    #[cfg(feature = "opentelemetry")]
                    "metered_post" => metered_post().await,
                    other => panic!("OVERHEAD_ONLY={other}: not a side"),
                }
            }
        });
        std::process::exit(0);
    }

    let totals = Totals::default();
    for concurrency in [1usize, 16, 256] {
        let mut group = c.benchmark_group("sdk_over_bare");
        configure(&mut group);
        let name = format!("get/c{concurrency}");
        paired(
            &mut group,
            &name,
            (&runtime, &totals, concurrency),
            &bare_get,
            &sdk_get,
        );
        totals.report(&format!("sdk_over_bare/{name}"), ("bare", "SDK"));
        let name = format!("post/c{concurrency}");
        paired(
            &mut group,
            &name,
            (&runtime, &totals, concurrency),
            &bare_post,
            &sdk_post,
        );
        totals.report(&format!("sdk_over_bare/{name}"), ("bare", "SDK"));
        group.finish();
    }

    #[cfg(feature = "opentelemetry")]
    {
        for concurrency in [1usize, 16, 256] {
            let mut group = c.benchmark_group("metrics_on_over_off");
            configure(&mut group);
            let name = format!("get/c{concurrency}");
            let sides = (&runtime, &totals, concurrency);
            paired(&mut group, &name, sides, &sdk_get, &metered_get);
            totals.report(&format!("metrics_on_over_off/{name}"), ("off", "on"));
            let name = format!("post/c{concurrency}");
            paired(&mut group, &name, sides, &sdk_post, &metered_post);
            totals.report(&format!("metrics_on_over_off/{name}"), ("off", "on"));
            group.finish();
        }
    }
}

/// A client recording into an SDK meter provider with a periodic reader
/// exporting to memory (every minute, as a program exporting would), and
/// the provider, to keep while the client is used.
#[cfg(feature = "opentelemetry")]
fn metered_client(base: &str) -> (opentelemetry_sdk::metrics::SdkMeterProvider, Client) {
    let exporter = opentelemetry_sdk::metrics::InMemoryMetricExporter::default();
    let provider = opentelemetry_sdk::metrics::SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .build();
    let client = Client::builder()
        .base_url(base)
        .credentials(Credentials::basic("user", "pass"))
        .api_key("key")
        .call_options(CallOptions::default())
        .meter_provider(&provider)
        .build()
        .unwrap();
    (provider, client)
}

/// Fewer, longer samples than criterion's default: each holds two batches
/// of calls.
fn configure(group: &mut BenchmarkGroup<'_, SdkOverBare>) {
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
}

/// Benchmarks `measured` against `base`, `concurrency` calls at a time:
/// each sample times a batch of each, in alternating order, and its value
/// is their ratio.
fn paired<B, BF, M, MF>(
    group: &mut BenchmarkGroup<'_, SdkOverBare>,
    name: &str,
    (runtime, totals, concurrency): (&tokio::runtime::Runtime, &Totals, usize),
    base: &B,
    measured: &M,
) where
    B: Fn() -> BF,
    BF: Future<Output = ()>,
    M: Fn() -> MF,
    MF: Future<Output = ()>,
{
    group.bench_function(name, |b| {
        b.to_async(runtime).iter_custom(|iters| async move {
            let base_batch = || async {
                let started = Instant::now();
                for _ in 0..iters {
                    join_all((0..concurrency).map(|_| base())).await;
                }
                started.elapsed()
            };
            let measured_batch = || async {
                let started = Instant::now();
                for _ in 0..iters {
                    join_all((0..concurrency).map(|_| measured())).await;
                }
                started.elapsed()
            };
            // Alternating order: neither side always runs on what the
            // other left behind.
            let sample = totals.samples.get();
            totals.samples.set(sample + 1);
            let (bare, sdk) = if sample % 2 == 0 {
                let bare = base_batch().await;
                (bare, measured_batch().await)
            } else {
                let sdk = measured_batch().await;
                (base_batch().await, sdk)
            };
            totals.bare.set(totals.bare.get() + bare);
            totals.sdk.set(totals.sdk.get() + sdk);
            totals
                .calls
                .set(totals.calls.get() + iters * concurrency as u64);
            sdk.as_secs_f64() / bare.as_secs_f64().max(f64::MIN_POSITIVE) * iters as f64
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(SdkOverBare);
    targets = overhead
}
criterion_main!(benches);
