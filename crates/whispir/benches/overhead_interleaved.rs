//! SDK cost per call against a bare `reqwest::Client`, measured in
//! alternating rounds: each round times a batch of bare calls, then the same
//! batch through the SDK, so that both see the same machine state (on a
//! shared 2-core machine, drift between two criterion functions run minutes
//! apart is larger than the difference measured). Prints the median ratio
//! of the rounds with its quartiles, for GET (`messageRetrieve`) and POST
//! (`messageCreate`), at the concurrency given (default: 1, 16 and 256).
//!
//! `cargo bench -p whispir --bench overhead_interleaved [-- CONCURRENCY [ROUNDS]]`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]
use futures::future::join_all;
const MESSAGE: &str = r#"{"to":"61400000001","subject":"Shift reminder","body":"Your shift starts at 9am tomorrow.","direction":"OUTGOING","responseCount":"0","link":[{"uri":"https://api.au.whispir.com/messages/CD34","rel":"self","method":"GET"}]}"#;
const MT: &str = "application/vnd.whispir.message-v1+json";

fn main() {
    // `cargo bench` passes `--bench`; numbers are ours.
    let numbers: Vec<usize> = std::env::args().filter_map(|a| a.parse().ok()).collect();
    let concurrencies = match numbers.first() {
        Some(&one) => vec![one],
        None => vec![1, 16, 256],
    };
    let rounds = numbers.get(1).copied().unwrap_or(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let app = axum::Router::new()
            .route("/workspaces/AB12/messages/CD34", axum::routing::get(|| async { ([("content-type", MT)], MESSAGE) }))
            .route("/workspaces/AB12/messages", axum::routing::post(|_b: axum::body::Bytes| async {
                (axum::http::StatusCode::ACCEPTED, [("location", "/workspaces/AB12/messages/CD34")], "ok")
            }));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        let base = format!("http://{addr}");
        let client = whispir::Client::builder().base_url(&base).credentials(whispir::Credentials::basic("user", "pass")).api_key("key").build().unwrap();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).connect_timeout(std::time::Duration::from_secs(10)).timeout(std::time::Duration::from_secs(10)).build().unwrap();
        let url = format!("{base}/workspaces/AB12/messages/CD34");
        let post_url = format!("{base}/workspaces/AB12/messages");
        let msg = || -> whispir::types::Message { whispir::types::Message::sms("61400000001", "Shift reminder\nYour shift starts at 9am tomorrow.").try_into().unwrap() };
        let bare_get = || async {
            let r = http.get(&url).header("accept", MT).header("authorization", "Basic dXNlcjpwYXNz").header("x-api-key", "key").header("user-agent", whispir::context::DEFAULT_USER_AGENT).send().await.unwrap();
            let b = r.bytes().await.unwrap();
            let m: whispir::types::Message = serde_json::from_slice(&b).unwrap();
            std::hint::black_box(m);
        };
        let sdk_get = || async {
            let m = client.message_retrieve().workspace_id("AB12").message_id("CD34").send().await.unwrap();
            std::hint::black_box(m.into_inner());
        };
        let bare_post = || async {
            let r = http.post(&post_url).header("accept", MT).header("content-type", MT).header("authorization", "Basic dXNlcjpwYXNz").header("x-api-key", "key").header("user-agent", whispir::context::DEFAULT_USER_AGENT).body(serde_json::to_vec(&msg()).unwrap()).send().await.unwrap();
            let loc = r.headers().get("location").and_then(|v| v.to_str().ok()).and_then(|v| r.url().join(v).ok());
            let id = loc.as_ref().and_then(|u| u.path_segments()?.next_back().map(str::to_string));
            let b = r.bytes().await.unwrap();
            std::hint::black_box((loc, id, b));
        };
        let sdk_post = || async {
            let s = client.message_create().workspace_id("AB12").body(msg()).send().await.unwrap();
            std::hint::black_box(s);
        };
        for conc in concurrencies {
        let iters = (8000 / conc).max(30);
        for kind in ["get", "post"] {
            let mut ratios = Vec::new();
            let (mut tb, mut ts) = (Vec::new(), Vec::new());
            for round in 0..rounds + 3 {
                let t = std::time::Instant::now();
                for _ in 0..iters { if kind == "get" { join_all((0..conc).map(|_| bare_get())).await; } else { join_all((0..conc).map(|_| bare_post())).await; } }
                let b = t.elapsed().as_secs_f64();
                let t = std::time::Instant::now();
                for _ in 0..iters { if kind == "get" { join_all((0..conc).map(|_| sdk_get())).await; } else { join_all((0..conc).map(|_| sdk_post())).await; } }
                let s = t.elapsed().as_secs_f64();
                if round >= 3 { ratios.push(s / b); tb.push(b); ts.push(s); }
            }
            ratios.sort_by(|a, b| a.partial_cmp(b).unwrap());
            tb.sort_by(|a, b| a.partial_cmp(b).unwrap()); ts.sort_by(|a, b| a.partial_cmp(b).unwrap());
            let per = |v: &Vec<f64>| v[v.len() / 2] * 1e6 / (iters * conc) as f64;
            println!("c{conc} {kind}: median ratio {:.3} (p25 {:.3}, p75 {:.3}); per call bare {:.2} us sdk {:.2} us",
                ratios[ratios.len() / 2], ratios[ratios.len() / 4], ratios[ratios.len() * 3 / 4], per(&tb), per(&ts));
        }
        }
    });
}
