//! One replica of a service that receives Whispir callbacks, for the
//! callback_replicas tests: a `CallbackService` acting once through a
//! `RedisDedup`, whose handler appends `started CONTENT PID` to `log=`,
//! takes `handler_ms=`, then appends `acted CONTENT PID`. Arguments are
//! `name=value` pairs: `redis= lease_ms= handler_ms= unavailable=refuse|act
//! log=`. It prints `listening URL` on stdout once it listens.
#![allow(clippy::expect_used, clippy::panic)] // a test program: fail loudly

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use whispir::callbacks::{
    AuthMode, Callback, CallbackKey, Receiver, RedisDedup, WhenStoreUnavailable,
};
use whispir_tests::callback_replicas::KEY;

fn append(log: &PathBuf, step: &str, callback: &Callback) {
    let line = format!(
        "{step} {} {}\n",
        callback.content().unwrap_or("-"),
        std::process::id()
    );
    // One write of a short line to a file opened for appending: whole,
    // whichever replica writes at the same time.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut file| file.write_all(line.as_bytes()))
        .expect("the log is written");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing_subscriber::filter::LevelFilter::WARN)
        .init();
    let args: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|arg| {
            arg.split_once('=')
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
        })
        .collect();
    let arg = |name: &str| {
        args.get(name)
            .unwrap_or_else(|| panic!("missing argument {name}="))
            .clone()
    };
    let millis = |name: &str| Duration::from_millis(arg(name).parse().expect("milliseconds"));
    let store = RedisDedup::new(&arg("redis"), "replicas")
        .expect("a Redis URL")
        .lease(millis("lease_ms"))
        .when_unavailable(match arg("unavailable").as_str() {
            "act" => WhenStoreUnavailable::ActWithoutDedup,
            _ => WhenStoreUnavailable::Refuse,
        });
    let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new(KEY).expect("a key"))
        .expect("a receiver")
        .with_dedup(store);
    let log = Arc::new(PathBuf::from(arg("log")));
    let handler_time = millis("handler_ms");
    let service = receiver.into_service(move |callback: Callback| {
        let log = Arc::clone(&log);
        async move {
            append(&log, "started", &callback);
            tokio::time::sleep(handler_time).await;
            append(&log, "acted", &callback);
            Ok::<(), std::convert::Infallible>(())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let address = listener.local_addr().expect("its address");
    println!("listening http://{address}/cb");
    std::io::stdout().flush().expect("stdout");
    let app = axum::Router::new().route_service("/cb", service);
    axum::serve(listener, app).await.expect("the server runs");
}
