//! SDK overhead per call: `messageRetrieve` (GET) and `messageCreate`
//! (POST) through the SDK against the same requests made with a bare
//! `reqwest::Client` doing the same work (same headers, same JSON encoding
//! and decoding into the SDK's types), same local server, at concurrency 1,
//! 16 and 256. Both sides run in one criterion group so that they
//! interleave; the ratio is the SDK's cost per call (target ≤ 1.05×).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use axum::Router;
use axum::routing::{get, post};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::future::join_all;
use whispir::types::Message;
use whispir::{CallOptions, Client, Credentials};

const MESSAGE: &str = r#"{"to":"61400000001","subject":"Shift reminder","body":"Your shift starts at 9am tomorrow.","direction":"OUTGOING","responseCount":"0","link":[{"uri":"https://api.au.whispir.com/messages/CD34","rel":"self","method":"GET"}]}"#;
const MEDIA_TYPE: &str = "application/vnd.whispir.message-v1+json";

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

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
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
        .connect_timeout(std::time::Duration::from_secs(10))
        .timeout(std::time::Duration::from_secs(10))
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
            .header("user-agent", whispir::context::DEFAULT_USER_AGENT)
            .send()
            .await
            .unwrap();
        let bytes = response.bytes().await.unwrap();
        let message: Message = serde_json::from_slice(&bytes).unwrap();
        black_box(message)
    };
    let sdk_get = || async {
        let message = client
            .message_retrieve()
            .workspace_id("AB12")
            .message_id("CD34")
            .send()
            .await
            .unwrap();
        black_box(message.into_inner())
    };
    let bare_post = || async {
        let response = http
            .post(&post_url)
            .header("accept", MEDIA_TYPE)
            .header("content-type", MEDIA_TYPE)
            .header("authorization", "Basic dXNlcjpwYXNz")
            .header("x-api-key", "key")
            .header("user-agent", whispir::context::DEFAULT_USER_AGENT)
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
        black_box((location, id, bytes))
    };
    let sdk_post = || async {
        let sent = client
            .message_create()
            .workspace_id("AB12")
            .body(message())
            .send()
            .await
            .unwrap();
        black_box(sent)
    };

    for concurrency in [1usize, 16, 256] {
        let mut group = c.benchmark_group(format!("concurrency_{concurrency}"));
        group.throughput(Throughput::Elements(concurrency as u64));
        group.bench_function(BenchmarkId::new("get", "bare_reqwest"), |b| {
            b.to_async(&runtime)
                .iter(|| join_all((0..concurrency).map(|_| bare_get())))
        });
        group.bench_function(BenchmarkId::new("get", "whispir_sdk"), |b| {
            b.to_async(&runtime)
                .iter(|| join_all((0..concurrency).map(|_| sdk_get())))
        });
        group.bench_function(BenchmarkId::new("post", "bare_reqwest"), |b| {
            b.to_async(&runtime)
                .iter(|| join_all((0..concurrency).map(|_| bare_post())))
        });
        group.bench_function(BenchmarkId::new("post", "whispir_sdk"), |b| {
            b.to_async(&runtime)
                .iter(|| join_all((0..concurrency).map(|_| sdk_post())))
        });
        group.finish();
    }
}

criterion_group!(benches, overhead);
criterion_main!(benches);
