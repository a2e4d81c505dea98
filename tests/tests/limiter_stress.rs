//! 1,000 callers at once on the 5-per-second plan, against a local server
//! that refuses more than 5 requests in a sliding window. Each call may
//! wait 3 s at most, so the head of the line is served, in arrival order,
//! and everyone else is refused at once with the wait they would have
//! needed, instead of queueing for minutes. (The limiter's own unit tests
//! run the full 1,000 on tokio's paused clock.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use whispir::{CallOptions, Plan, Refusal, RetryConfig};
use whispir_tests::mock_client_with;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const CALLERS: u32 = 1_000;
const CALL_BUDGET: Duration = Duration::from_secs(3);
/// The server's window is a little under a second: loopback delays may
/// bring two requests a few milliseconds closer than they were sent.
const SERVER_WINDOW: Duration = Duration::from_millis(950);

/// Serves `GET /messages/{n}` and records `n` in arrival order; answers 429
/// to a sixth request inside one window.
async fn strict_server(
    arrivals: Arc<Mutex<Vec<(u32, Instant)>>>,
    refusals: Arc<AtomicU32>,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(move |request: &Request| {
            let caller = request
                .url
                .path_segments()
                .and_then(|mut segments| segments.next_back())
                .and_then(|id| u32::from_str_radix(id, 16).ok())
                .expect("a caller number in the path");
            let now = Instant::now();
            let mut arrivals = arrivals.lock().unwrap();
            let in_window = arrivals
                .iter()
                .rev()
                .take_while(|(_, at)| now.duration_since(*at) < SERVER_WINDOW)
                .count();
            if in_window >= 5 {
                refusals.fetch_add(1, Ordering::SeqCst);
                return ResponseTemplate::new(429);
            }
            arrivals.push((caller, now));
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "to": "61400000001", "subject": "Hello" }))
        })
        .mount(&server)
        .await;
    server
}

// One thread: callers join the limiter's line in the order they are spawned.
#[tokio::test]
async fn a_thousand_callers_are_served_in_order_or_refused_at_once() {
    let arrivals = Arc::new(Mutex::new(Vec::new()));
    let refusals = Arc::new(AtomicU32::new(0));
    let server = strict_server(arrivals.clone(), refusals.clone()).await;
    let options = CallOptions {
        rate_limit: Some(Plan::RPS_5_DAILY_10K),
        retry: RetryConfig::disabled(),
        timeout: CALL_BUDGET,
        ..CallOptions::default()
    };
    let client = mock_client_with(&server.uri(), options);
    let start = Instant::now();
    let callers: Vec<_> = (0..CALLERS)
        .map(|caller| {
            let client = client.clone();
            tokio::spawn(async move {
                let result = client
                    .message_retrieve()
                    .message_id(format!("{caller:04X}"))
                    .send()
                    .await;
                (caller, result.map(|_| ()), start.elapsed())
            })
        })
        .collect();
    let mut served = Vec::new();
    for caller in callers {
        let (caller, result, took) = caller.await.unwrap();
        match result {
            Ok(()) => served.push(caller),
            Err(err) => {
                let Some(Refusal::PauseTooLong { wait }) = err.refusal() else {
                    panic!("caller {caller}: {err}");
                };
                assert_eq!(err.retry_after(), Some(*wait), "caller {caller}");
                // Its turn would come after 4 s: refused without waiting for it.
                if caller >= 20 {
                    assert!(
                        took < Duration::from_secs(1),
                        "caller {caller} waited {took:?}"
                    );
                }
            }
        }
    }
    let arrivals = arrivals.lock().unwrap();
    eprintln!(
        "limiter_stress: {} served in order, {} refused at once, {} quota refusals, {:?} in all",
        served.len(),
        CALLERS as usize - served.len(),
        refusals.load(Ordering::SeqCst),
        start.elapsed()
    );
    let order: Vec<u32> = arrivals.iter().map(|(caller, _)| *caller).collect();
    // First come, first served: the first callers, in the order they came.
    assert_eq!(order, (0..order.len() as u32).collect::<Vec<_>>());
    assert_eq!(order, served);
    assert!(
        served.len() >= 10,
        "only {} served in {CALL_BUDGET:?}",
        served.len()
    );
    assert_eq!(
        refusals.load(Ordering::SeqCst),
        0,
        "the server refused a request for quota"
    );
    assert_eq!(client.remaining_today(), Some(10_000 - served.len() as u32));
}

/// Callers on the 20-per-second plan, every request on a new connection
/// and every third connection 50 ms slower: the turns count from when a
/// request leaves, so no sliding second at the server holds more than 20.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_bring_no_second_over_the_plan() {
    use whispir_tests::shared_quota::{CountingServer, busiest_second};
    let server = CountingServer::start(20).await;
    let client = whispir_tests::mock_builder(
        &server.uri,
        CallOptions {
            retry: RetryConfig::disabled(),
            ..CallOptions::default()
        },
    )
    .http_client(whispir_tests::slow_connect::slow_connections())
    .rate_limit(Plan::new(std::num::NonZeroU32::new(20).unwrap(), None))
    .build()
    .unwrap();
    let calls = (0..3).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            for _ in 0..20 {
                client
                    .message_retrieve()
                    .message_id("CD34")
                    .send()
                    .await
                    .expect("sent within the plan");
            }
        })
    });
    for call in calls.collect::<Vec<_>>() {
        call.await.unwrap();
    }
    let arrivals = server.arrivals();
    assert_eq!((arrivals.len(), server.refused()), (60, 0));
    let busiest = busiest_second(&arrivals);
    assert!(busiest <= 20, "{busiest} requests in one second");
}
