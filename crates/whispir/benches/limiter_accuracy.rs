//! Limiter accuracy: sustained calls at the 30-per-second plan for 20 s
//! against a local server that refuses anything over 30 in any second.
//! Prints achieved rate / plan rate (target ≥ 0.99) and the quota
//! refusals (target 0). Run with `cargo bench -p whispir --bench limiter_accuracy`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout
)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use whispir::{CallOptions, Client, Credentials, Plan, RetryConfig};

const RUN: Duration = Duration::from_secs(20);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let plan = Plan::RPS_30_DAILY_50K;
    // The server's own view: at most `per_second` requests in any sliding second.
    let window: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
    let refusals: Arc<Mutex<u64>> = Arc::default();
    let (w, r) = (window.clone(), refusals.clone());
    let limit = usize::try_from(plan.per_second()).unwrap();
    let app = Router::new().route(
        "/messages/CD34",
        get(move || {
            let (window, refusals) = (w.clone(), r.clone());
            async move {
                let now = Instant::now();
                let mut window = window.lock().unwrap();
                while window
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
                {
                    window.pop_front();
                }
                if window.len() >= limit {
                    *refusals.lock().unwrap() += 1;
                    return (StatusCode::TOO_MANY_REQUESTS, "{}");
                }
                window.push_back(now);
                (StatusCode::OK, r#"{"to":"1","subject":"x"}"#)
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let options = CallOptions {
        rate_limit: Some(plan),
        retry: RetryConfig::disabled(),
        ..CallOptions::default()
    };
    let client = Client::builder()
        .base_url(&base)
        .credentials(Credentials::basic("u", "p"))
        .api_key("k")
        .call_options(options)
        .build()
        .unwrap();

    // Eight callers as fast as they can; the limiter paces them all.
    let start = Instant::now();
    let ok: Arc<Mutex<u64>> = Arc::default();
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (client, ok) = (client.clone(), ok.clone());
            tokio::spawn(async move {
                while start.elapsed() < RUN {
                    if client
                        .message_retrieve()
                        .message_id("CD34")
                        .send()
                        .await
                        .is_ok()
                    {
                        *ok.lock().unwrap() += 1;
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ok = *ok.lock().unwrap();
    let refused = *refusals.lock().unwrap();
    // The limiter does not burst, so the whole run counts.
    let steady = ok as f64 / elapsed;
    println!(
        "limiter_accuracy: plan {} rps for {elapsed:.1} s",
        plan.per_second()
    );
    println!("limiter_accuracy: {ok} calls served, rate {steady:.2} rps");
    println!(
        "limiter_accuracy: achieved / plan = {:.3}",
        steady / f64::from(plan.per_second())
    );
    println!("limiter_accuracy: quota refusals = {refused}");
}
