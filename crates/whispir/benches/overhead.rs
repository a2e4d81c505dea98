//! SDK overhead: one `messageRetrieve` through the SDK against the same
//! request made with a bare `reqwest::Client`, same local server, same
//! connection pool. The ratio of the two is the SDK's cost per call
//! (target ≤ 1.05×).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use axum::Router;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use whispir::{CallOptions, Client, ClientContext, Credentials};

const MESSAGE: &str = r#"{"to":"61400000001","subject":"Shift reminder","body":"Your shift starts at 9am tomorrow.","direction":"OUTGOING","responseCount":"0","link":[{"uri":"https://api.au.whispir.com/messages/CD34","rel":"self","method":"GET"}]}"#;

async fn start_server() -> String {
    let app = Router::new().route(
        "/workspaces/AB12/messages/CD34",
        get(|| async {
            (
                [("content-type", "application/vnd.whispir.message-v1+json")],
                MESSAGE,
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{address}")
}

fn overhead(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let base = runtime.block_on(start_server());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let context = ClientContext::new(&Credentials::basic("user", "pass"), "key")
        .unwrap()
        .with_options(CallOptions::default());
    let client = Client::new_with_client(&base, http.clone(), context);
    let url = format!("{base}/workspaces/AB12/messages/CD34");

    let mut group = c.benchmark_group("message_retrieve");
    group.bench_function("bare_reqwest", |b| {
        b.to_async(&runtime).iter(|| async {
            let response = http
                .get(&url)
                .header("accept", "application/vnd.whispir.message-v1+json")
                .header("authorization", "Basic dXNlcjpwYXNz")
                .header("x-api-key", "key")
                .send()
                .await
                .unwrap();
            let bytes = response.bytes().await.unwrap();
            let message: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            black_box(message)
        })
    });
    group.bench_function("whispir_sdk", |b| {
        b.to_async(&runtime).iter(|| async {
            let message = client
                .message_retrieve()
                .workspace_id("AB12")
                .message_id("CD34")
                .send()
                .await
                .unwrap();
            black_box(message.into_inner())
        })
    });
    group.finish();
}

criterion_group!(benches, overhead);
criterion_main!(benches);
