//! What the rate limiter costs per call: `messageRetrieve` through the SDK
//! against a loopback server in the same process, one call at a time,
//! without a limiter, with the local limiter and with the limiter shared
//! through a `redis-server` on loopback (started here, on a free port,
//! without persistence), under a plan far above the rate reached so that
//! no call waits for its turn: what is measured is the limiter's own work
//! (for the shared one, a script call to Redis per request).
//!
//! criterion times batches; every call's own time is kept as well, and
//! its median and 99th percentile are printed per case. Run with
//! `cargo bench -p whispir --features redis --bench shared_limiter`
//! (needs `redis-server` on the `PATH`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::num::NonZeroU32;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use whispir::{CallOptions, Client, Credentials, Plan, RedisQuota, RetryConfig};

/// A plan no loop of single calls reaches: nobody waits for a turn.
fn plan(per_day: Option<u32>) -> Plan {
    Plan::new(
        NonZeroU32::new(1_000_000).unwrap(),
        per_day.and_then(NonZeroU32::new),
    )
}

struct Redis {
    child: Child,
    dir: std::path::PathBuf,
    url: String,
}

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("whispir-bench-redis-{port}"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&dir)
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("redis-server must be on the PATH: {err}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            dir,
            url: format!("redis://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn client(base: &str, limit: Option<(Plan, Option<RedisQuota>)>) -> Client {
    let mut builder = Client::builder()
        .base_url(base)
        .credentials(Credentials::basic("u", "p"))
        .api_key("k")
        .call_options(CallOptions {
            retry: RetryConfig::disabled(),
            ..CallOptions::default()
        });
    if let Some((plan, shared)) = limit {
        builder = builder.rate_limit(plan);
        if let Some(quota) = shared {
            builder = builder.shared(quota);
        }
    }
    builder.build().unwrap()
}

/// The median and 99th percentile of the calls' own times.
fn report(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "shared_limiter: {name}: {} calls, median {:.1} µs, p99 {:.1} µs",
        samples.len(),
        at(0.5).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6
    );
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis = Redis::start();
    let base = runtime.block_on(async {
        let app = Router::new().route(
            "/messages/CD34",
            get(|| async { r#"{"to":"1","subject":"x"}"# }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        base
    });
    let shared = |key: &str| Some(RedisQuota::new(&redis.url, key).unwrap());
    let cases = [
        ("no limiter", client(&base, None)),
        (
            "local limiter",
            client(&base, Some((plan(Some(u32::MAX)), None))),
        ),
        (
            "shared limiter, no daily cap",
            client(&base, Some((plan(None), shared("bench-no-cap")))),
        ),
        (
            "shared limiter, rolling daily cap",
            client(&base, Some((plan(Some(u32::MAX)), shared("bench-daily")))),
        ),
    ];
    let mut group = c.benchmark_group("shared_limiter");
    group.measurement_time(Duration::from_secs(8));
    for (name, client) in &cases {
        // Past the new store's hand-over hold, and connected.
        runtime.block_on(async {
            client
                .message_retrieve()
                .message_id("CD34")
                .send()
                .await
                .unwrap();
        });
        let samples = Mutex::new(Vec::new());
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut own = Vec::with_capacity(iters as usize);
                    let start = Instant::now();
                    for _ in 0..iters {
                        let call = Instant::now();
                        client
                            .message_retrieve()
                            .message_id("CD34")
                            .send()
                            .await
                            .unwrap();
                        own.push(call.elapsed());
                    }
                    let elapsed = start.elapsed();
                    samples.lock().unwrap().extend(own);
                    elapsed
                })
            });
        });
        report(name, &mut samples.lock().unwrap());
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
