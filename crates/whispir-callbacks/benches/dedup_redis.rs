//! What acting once costs per callback: one callback request through the
//! `CallbackService` (key check, parse, handler that does nothing), with
//! no store, with a `Deduplicator` in memory, and with a `RedisDedup` on a
//! `redis-server` on loopback (started here, on a free port, without
//! persistence): a new event each time (a claim and a done, two script
//! calls) and a retry of an event already done (one script call).
//!
//! criterion times batches; every callback's own time is kept as well,
//! and its median and 99th percentile are printed per case. Run with
//! `cargo bench -p whispir-callbacks --features redis --bench dedup_redis`
//! (needs `redis-server` on the `PATH`).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::convert::Infallible;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::Full;
use tower_service::Service as _;
use whispir_callbacks::{
    AuthMode, Callback, CallbackKey, DEFAULT_REMEMBER_DONE, Deduplicator, Receiver, RedisDedup,
};

struct Redis {
    child: Child,
    url: String,
}

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("redis-server must be on the PATH: {err}"));
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            child,
            url: format!("redis://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A reply whose text is `content`: a new event for each new text.
fn request(content: &str) -> Request<Full<Bytes>> {
    let body = format!(
        r#"{{"messageid":"ABC4857BCCF484575FCA","from":{{"name":"Fred Waters","mobile":"+61400000000"}},"responseMessage":{{"channel":"SMS","acknowledged":"09/01/16 13:22","content":"{content}"}},"customParameters":{{"CustomerId":"890h0ef0fe09efw90e0jsdj0"}}}}"#
    );
    Request::post("/whispir/callbacks")
        .header("content-type", "application/json")
        .header("x-whispir-callback-key", "current-key-0123456789")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

/// The median and 99th percentile of the callbacks' own times.
fn report(name: &str, samples: &mut [Duration]) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    println!(
        "dedup_redis: {name}: {} callbacks, median {:.1} µs, p99 {:.1} µs",
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
    let receiver = Receiver::new(
        AuthMode::HttpHeader,
        CallbackKey::new("current-key-0123456789").unwrap(),
    )
    .unwrap();
    let handler = |_callback: Callback| async { Ok::<(), Infallible>(()) };
    let redis_store = RedisDedup::new(&redis.url, "bench").unwrap();
    // (name, receiver, whether each callback is a new event)
    let cases = [
        ("no store", receiver.clone(), true),
        (
            "in memory, new event",
            receiver
                .clone()
                .with_dedup(Deduplicator::new(1_000_000, DEFAULT_REMEMBER_DONE)),
            true,
        ),
        (
            "redis, new event",
            receiver.clone().with_dedup(redis_store.clone()),
            true,
        ),
        (
            "redis, retry of a done event",
            receiver.clone().with_dedup(redis_store),
            false,
        ),
    ];
    let mut group = c.benchmark_group("dedup_redis");
    group.measurement_time(Duration::from_secs(8));
    let mut counter = 0u64;
    for (name, receiver, new_events) in cases {
        let mut service = receiver.into_service(handler);
        // Connected, and the retried event done.
        runtime.block_on(async {
            let answer = service.call(request("retried")).await.unwrap();
            assert_eq!(answer.status(), 200);
        });
        let samples = Mutex::new(Vec::new());
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let requests: Vec<_> = (0..iters)
                    .map(|_| {
                        counter += 1;
                        if new_events {
                            request(&format!("reply {counter}"))
                        } else {
                            request("retried")
                        }
                    })
                    .collect();
                runtime.block_on(async {
                    let mut own = Vec::with_capacity(requests.len());
                    let start = Instant::now();
                    for request in requests {
                        let call = Instant::now();
                        let answer = service.call(request).await.unwrap();
                        own.push(call.elapsed());
                        assert_eq!(answer.status(), 200);
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
