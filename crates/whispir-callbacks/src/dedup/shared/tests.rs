//! The contract against a real `redis-server` of the test's own (on a free
//! loopback port, no persistence). Without one on the `PATH` the tests
//! fail under CI (`CI=true`) and are skipped elsewhere.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::*;
use crate::dedup::{DedupStore, Outcome};
use crate::receiver::{BodyFormat, parse_body};

struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is missing: CI must run the de-duplication tests"
            );
            eprintln!("SKIPPED: redis-server is not installed");
            return None;
        }
        let port = free_port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self { port, child })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn reply(content: &str) -> Callback {
    let body = serde_json::json!({
        "messageid": "M1",
        "from": {"mobile": "+61400000001"},
        "responseMessage": {"channel": "SMS", "acknowledged": "01/02/24 10:00", "content": content},
    });
    parse_body(BodyFormat::Json, body.to_string().as_bytes()).expect("parses")
}

fn replica(server: &RedisServer) -> RedisDedup {
    RedisDedup::new(&server.url(), "tests").expect("a valid URL")
}

fn claimed(claim: Result<Claim, StoreUnavailable>) -> ClaimTicket {
    match claim {
        Ok(Claim::Claimed(ticket)) => ticket,
        other => panic!("expected a claim, got {other:?}"),
    }
}

#[tokio::test]
async fn an_event_done_by_one_replica_is_done_for_another() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (one, other) = (replica(&server), replica(&server));
    let ticket = claimed(one.claim(&reply("Y")).await);
    one.done(&ticket).await.expect("done");
    assert_eq!(other.claim(&reply("Y")).await.expect("claim"), Claim::Done);
    // Another reply is another event.
    claimed(other.claim(&reply("N")).await);
}

#[tokio::test]
async fn a_live_claim_is_in_progress_for_another_replica_until_its_lease_runs_out() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_millis(300);
    let one = replica(&server).lease(lease);
    let other = replica(&server).lease(lease);
    let first = claimed(one.claim(&reply("Y")).await);
    match other.claim(&reply("Y")).await.expect("claim") {
        Claim::InProgress { retry_after } => assert!(retry_after <= lease, "{retry_after:?}"),
        unexpected => panic!("expected in progress, got {unexpected:?}"),
    }
    tokio::time::sleep(lease + Duration::from_millis(50)).await;
    let second = claimed(other.claim(&reply("Y")).await);
    // The first holder's release frees nothing now: the event is the other's.
    one.release(&first).await.expect("release");
    assert!(matches!(
        one.claim(&reply("Y")).await.expect("claim"),
        Claim::InProgress { .. }
    ));
    other.done(&second).await.expect("done");
    assert_eq!(one.claim(&reply("Y")).await.expect("claim"), Claim::Done);
}

#[tokio::test]
async fn a_released_claim_lets_the_retry_be_acted_on() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let (one, other) = (replica(&server), replica(&server));
    let ticket = claimed(one.claim(&reply("Y")).await);
    one.release(&ticket).await.expect("release");
    claimed(other.claim(&reply("Y")).await);
}

#[tokio::test]
async fn keys_expire_after_the_lease_or_after_remember_done() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = replica(&server)
        .lease(Duration::from_secs(90))
        .remember_done(Duration::from_secs(7_200));
    let key = store.key(&reply("Y"));
    let client = redis::Client::open(server.url()).expect("client");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let ttl = |connection: &mut redis::aio::MultiplexedConnection| {
        let key = key.clone();
        let mut connection = connection.clone();
        async move {
            redis::cmd("PTTL")
                .arg(&key)
                .query_async::<i64>(&mut connection)
                .await
                .expect("PTTL")
        }
    };
    let ticket = claimed(store.claim(&reply("Y")).await);
    let claim_ttl = ttl(&mut connection).await;
    assert!((89_000..=90_000).contains(&claim_ttl), "{claim_ttl}");
    store.done(&ticket).await.expect("done");
    let done_ttl = ttl(&mut connection).await;
    assert!((7_199_000..=7_200_000).contains(&done_ttl), "{done_ttl}");
    assert!(key.starts_with("whispir:callbacks:tests:"), "{key}");
}

#[tokio::test]
async fn an_unreachable_store_refuses_by_default_and_acts_without_dedup_when_asked() {
    // Nothing listens on a port just freed.
    let url = format!("redis://127.0.0.1:{}/", free_port());
    let calls = AtomicUsize::new(0);
    let handler = |_| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<(), &str>(())
    };
    let refusing = DedupStore::from(RedisDedup::new(&url, "tests").expect("URL"));
    let outcome = refusing.act_once(reply("Y"), handler).await;
    assert!(matches!(outcome, Outcome::Refused(_)), "{outcome:?}");
    assert_eq!(outcome.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let acting = DedupStore::from(
        RedisDedup::new(&url, "tests")
            .expect("URL")
            .when_unavailable(WhenStoreUnavailable::ActWithoutDedup),
    );
    let outcome = acting.act_once(reply("Y"), handler).await;
    assert!(matches!(outcome, Outcome::ActedWithoutDedup), "{outcome:?}");
    assert_eq!(outcome.status(), http::StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn debug_never_shows_the_url() {
    let store = RedisDedup::new("redis://user:hunter2@127.0.0.1:6379/", "orders").expect("URL");
    let shown = format!("{store:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("whispir:callbacks:orders:"), "{shown}");
}

#[test]
fn an_unusable_url_is_refused_at_once() {
    let error = RedisDedup::new("http://127.0.0.1/", "orders").expect_err("not redis");
    assert!(error.to_string().contains("redis://"), "{error}");
}

#[tokio::test]
async fn each_script_run_again_after_a_lost_answer_has_the_same_effect() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let store = replica(&server);
    let key = store.key(&reply("Y"));
    let ticket = ClaimTicket {
        event: EventRef::Redis(key.clone().into()),
        token: 7,
    };
    let mut claim = CLAIM.key(&key);
    claim.arg(token_text(7)).arg(60_000);
    for _ in 0..2 {
        let answer: Vec<i64> = store.run(&claim).await.expect("claim");
        assert_eq!(answer, [0, 0], "this token's claim is claimed again");
    }
    // Another token finds it held.
    assert!(matches!(
        store.claim(&reply("Y")).await.expect("claim"),
        Claim::InProgress { .. }
    ));
    assert_eq!(store.mark_done(&ticket).await.expect("done"), 0);
    assert_eq!(
        store.mark_done(&ticket).await.expect("done again"),
        0,
        "the same done run again is not another handler's double act"
    );
    store
        .release(&ticket)
        .await
        .expect("a release after done frees nothing");
    assert_eq!(store.claim(&reply("Y")).await.expect("claim"), Claim::Done);
}

#[tokio::test]
async fn a_handler_that_outlasts_its_lease_keeps_the_event_from_another_replica() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let lease = Duration::from_millis(200);
    let one = DedupStore::from(replica(&server).lease(lease));
    let other = DedupStore::from(replica(&server).lease(lease));
    let calls = AtomicUsize::new(0);
    let slow = one.act_once(reply("Y"), |_| async {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(700)).await;
        Ok::<(), &str>(())
    });
    let retry = async {
        tokio::time::sleep(Duration::from_millis(450)).await;
        other
            .act_once(reply("Y"), |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<(), &str>(())
            })
            .await
    };
    let (first, second) = tokio::join!(slow, retry);
    assert!(matches!(first, Outcome::Acted), "{first:?}");
    assert!(matches!(second, Outcome::InProgress { .. }), "{second:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "acted on once");
}

#[cfg(feature = "opentelemetry")]
#[tokio::test]
async fn a_delivery_another_replica_did_or_holds_counts_as_a_duplicate() {
    use crate::auth::{AuthMode, CallbackKey};
    use crate::metrics::tests::{Recorder, point};
    use crate::receiver::Receiver;

    let Some(server) = RedisServer::start() else {
        return;
    };
    let recorder = Recorder::new();
    let receiver = |store: RedisDedup| {
        Receiver::new(AuthMode::HttpHeader, CallbackKey::new("k3y").expect("key"))
            .expect("receiver")
            .meter_provider(&recorder.provider)
            .with_dedup(store)
    };
    let (one, other) = (receiver(replica(&server)), receiver(replica(&server)));
    let (one, other) = (
        one.dedup().expect("a store"),
        other.dedup().expect("a store"),
    );
    let ticket = claimed(one.claim(&reply("Y")).await);
    // Held by the first replica, then done by it: two duplicates for the other.
    assert!(matches!(
        other.claim(&reply("Y")).await,
        Ok(Claim::InProgress { .. })
    ));
    one.done(&ticket).await.expect("done");
    assert_eq!(other.claim(&reply("Y")).await.expect("claim"), Claim::Done);
    // Another event is claimed, not a duplicate.
    claimed(other.claim(&reply("N")).await);
    assert_eq!(
        recorder.points(),
        [point("whispir.callbacks.duplicates", &[], 2)]
    );
}
