//! Callbacks acted on exactly once across replicas: two or three OS
//! processes (the `callback_replica` binary) sharing claims through a real
//! `redis-server`, with the sandbox (or the test itself) as Whispir. A
//! retry that reaches the other replica or a restarted one is answered 200
//! and not acted on again; a replica killed with SIGKILL mid-handler leaves
//! the retry to the survivor once the lease has run out; while Redis is
//! down a replica refuses (503) or acts without de-duplication, as chosen.
//!
//! The tests start `redis-server` on a free loopback port; without one
//! they fail under CI (`CI=true`) and are skipped elsewhere. They run one
//! at a time: their timetable is in milliseconds.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::path::PathBuf;
use std::time::{Duration, Instant};

use whispir::CallbackSetup;
use whispir::callbacks::{AuthMode, CallbackKey};
use whispir::types::Message;
use whispir_sandbox::{CallbackRetries, Sandbox};
use whispir_tests::callback_replicas::{KEY, Replica, ReplicaOptions, acted_on, read_log};
use whispir_tests::shared_quota::RedisServer;

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const BINARY: &str = env!("CARGO_BIN_EXE_callback_replica");

/// A log file of the test's own, removed when dropped.
struct Log(PathBuf);

impl Log {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "whispir-replicas-{}-{name}.log",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        Self(path)
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn options(redis: &RedisServer, log: &Log, handler_ms: u64) -> ReplicaOptions {
    ReplicaOptions {
        redis: redis.url(),
        lease_ms: 1_500,
        handler_ms,
        unavailable: "refuse",
        log: log.0.clone(),
    }
}

/// Posts a reply with `content` to `url` (`http://host:port/path`) as
/// Whispir does, over plain HTTP/1.1; the status.
async fn post(url: &str, content: &str) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let body = serde_json::json!({
        "messageid": "5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
        "from": {"mobile": "+61400000001"},
        "responseMessage": {"channel": "SMS", "acknowledged": "01/02/24 10:00", "content": content},
        "customParameters": {"orderId": "ORD-42"},
    })
    .to_string();
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (address, path) = rest.split_at(rest.find('/').expect("a path"));
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the replica listens");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nX-Whispir-Callback-Key: {KEY}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("an answer");
    answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_to_the_other_replica_or_a_restarted_one_is_not_acted_on_again() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let log = Log::new("retry");
    let mut a = Replica::start(BINARY, &options(&redis, &log, 10));
    let b = Replica::start(BINARY, &options(&redis, &log, 10));
    assert_eq!(post(&a.url, "YES").await, 200);
    // Whispir did not get the answer: its retry reaches the other replica.
    assert_eq!(post(&b.url, "YES").await, 200);
    // A deploy restarts the first; the next retry reaches it.
    let first_pid = a.pid();
    a.kill();
    let restarted = Replica::start(BINARY, &options(&redis, &log, 10));
    assert_eq!(post(&restarted.url, "YES").await, 200);
    assert_eq!(acted_on(&log.0, "YES"), [first_pid]);
    // Another reply to the same message is another event.
    assert_eq!(post(&b.url, "NO").await, 200);
    assert_eq!(acted_on(&log.0, "NO"), [b.pid()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_mid_handler_leaves_the_retry_to_the_survivor_after_the_lease() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let log = Log::new("killed");
    // The first replica's handler hangs until it is killed; the survivor's is quick.
    let mut a = Replica::start(BINARY, &options(&redis, &log, 60_000));
    let b = Replica::start(BINARY, &options(&redis, &log, 10));
    // Whispir posts to the first replica and retries to the other, every
    // 600 ms (every five minutes, for Whispir).
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(20))
        .callback_retries(CallbackRetries {
            attempts: 6,
            interval_millis: Some(600),
            retry_urls: vec![b.url.clone()],
        })
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    CallbackSetup::new(
        "replicas",
        &a.url,
        AuthMode::HttpHeader,
        CallbackKey::new(KEY).unwrap(),
    )
    .unwrap()
    .failures_to("ops@example.com")
    .register(client)
    .await
    .unwrap();
    let sent = client
        .message_create()
        .body(Message::sms(["61400000002"], "Reply YES to confirm").callback_id("replicas"))
        .send()
        .await
        .unwrap();
    let message_id = sent.message_id().unwrap().to_string();
    let replying = tokio::spawn(async move {
        let replied = sandbox
            .simulate_reply(&message_id, "61400000002", "YES")
            .await;
        (sandbox, replied)
    });
    // Kill the first replica once its handler has started on the reply.
    let started = Instant::now();
    while !read_log(&log.0)
        .iter()
        .any(|line| line.step == "started" && line.pid == a.pid())
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the first replica never started"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = a.pid();
    a.kill();
    let killed_at = Instant::now();
    let (sandbox, replied) = replying.await.unwrap();
    assert!(replied);
    assert_eq!(acted_on(&log.0, "YES"), [b.pid()], "{:?}", read_log(&log.0));
    assert!(
        !acted_on(&log.0, "YES").contains(&killed),
        "the killed replica never finished"
    );
    // The survivor acted after the lease, not on the first retry.
    let survivor_started = read_log(&log.0)
        .iter()
        .filter(|line| line.step == "started" && line.pid == b.pid())
        .count();
    assert_eq!(survivor_started, 1);
    assert!(
        killed_at.elapsed() >= Duration::from_millis(900),
        "the lease was honoured"
    );
    let calls: Vec<_> = sandbox
        .requests()
        .iter()
        .filter(|request| request.operation_id.as_deref() == Some("messageCreate"))
        .map(|request| request.status)
        .collect();
    assert_eq!(calls.len(), 1, "one send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_redis_is_down_a_replica_refuses_or_acts_as_chosen() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let log = Log::new("down");
    let refusing = Replica::start(BINARY, &options(&redis, &log, 10));
    let acting = Replica::start(
        BINARY,
        &ReplicaOptions {
            unavailable: "act",
            ..options(&redis, &log, 10)
        },
    );
    redis.kill();
    assert_eq!(
        post(&refusing.url, "LATER").await,
        503,
        "Whispir retries later"
    );
    assert!(acted_on(&log.0, "LATER").is_empty());
    assert_eq!(post(&acting.url, "NOW").await, 200);
    assert_eq!(
        acted_on(&log.0, "NOW"),
        [acting.pid()],
        "acted without de-duplication"
    );

    // Redis is back (empty): Whispir's retry is acted on, once.
    redis.restart();
    let back = Instant::now();
    loop {
        match post(&refusing.url, "LATER").await {
            200 => break,
            503 => assert!(
                back.elapsed() < Duration::from_secs(10),
                "Redis never answered again"
            ),
            other => panic!("unexpected status {other}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(post(&acting.url, "LATER").await, 200);
    assert_eq!(acted_on(&log.0, "LATER"), [refusing.pid()]);
}
