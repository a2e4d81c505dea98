//! One plan shared through a real `redis-server` by four OS processes (the
//! `quota_worker` binary), against a local API stand-in that counts their
//! requests by arrival time: no sliding second over the plan, the plan
//! used, one daily budget for all, and Redis killed mid-run; and each
//! script's rules on their own (`quota_scripts`).
//!
//! The tests start `redis-server` on a free loopback port; without one
//! they fail under CI (`CI=true`) and are skipped elsewhere. They run one
//! at a time: each needs the machine's cores for its timing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod quota_scripts;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use std::num::NonZeroU32;

use whispir::{DailyWindow, Plan, Refusal};
use whispir_tests::shared_quota::{CountingServer, RedisServer, WorkerReport, busiest_second};

/// The tests take turns: four processes each, timed (the script tests of
/// `quota_scripts` too).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PROCESSES: usize = 4;

/// The settings every worker of a run shares.
struct Run<'a> {
    redis_url: String,
    server: &'a CountingServer,
    key: &'a str,
    per_second: u32,
    per_day: u32,
    unavailable: &'a str,
}

impl Run<'_> {
    /// Starts the workers, each with `extra` arguments, and waits for
    /// their reports. Their log lines about the shared quota are printed.
    async fn workers(&self, extra: &[&str]) -> Vec<WorkerReport> {
        let children: Vec<_> = (0..PROCESSES)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_quota_worker"))
                    .arg(format!("redis={}", self.redis_url))
                    .arg(format!("key={}", self.key))
                    .arg(format!("server={}", self.server.uri))
                    .arg(format!("per_second={}", self.per_second))
                    .arg(format!("per_day={}", self.per_day))
                    .arg(format!("unavailable={}", self.unavailable))
                    .args(extra)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("the worker starts")
            })
            .collect();
        let mut reports = Vec::new();
        for child in children {
            let output = tokio::task::spawn_blocking(move || child.wait_with_output())
                .await
                .expect("waiting for a worker")
                .expect("the worker's output");
            let stderr = String::from_utf8_lossy(&output.stderr);
            for line in stderr.lines().filter(|l| l.contains("shared quota")) {
                eprintln!("worker {}: {line}", reports.len());
            }
            assert!(output.status.success(), "a worker failed: {stderr}");
            reports.push(WorkerReport::from_output(&String::from_utf8_lossy(
                &output.stdout,
            )));
        }
        eprintln!("reports: {reports:?}");
        reports
    }
}

fn total(reports: &[WorkerReport], field: impl Fn(&WorkerReport) -> u64) -> u64 {
    reports.iter().map(field).sum()
}

fn arrivals_between(arrivals: &[Instant], from: Instant, to: Instant) -> usize {
    arrivals.iter().filter(|t| **t >= from && **t < to).count()
}

/// What one run of four workers showed.
struct Shared {
    busiest: usize,
    used: f64,
}

/// Four workers send 1,000 requests in all under one plan of 100 a second:
/// every request is sent, none refused, and each process reads the one
/// shared daily budget. Returns the busiest second and the plan used.
async fn four_processes_send_a_thousand(redis: &RedisServer, key: &str) -> Shared {
    let per_second = 100;
    let server = CountingServer::start(per_second).await;
    let run = Run {
        redis_url: redis.url(),
        server: &server,
        key,
        per_second: 100,
        per_day: 50_000,
        unavailable: "refuse",
    };
    let reports = run.workers(&["requests=250", "tasks=3"]).await;

    let arrivals = server.arrivals();
    assert_eq!(arrivals.len(), 1_000);
    assert_eq!(total(&reports, |r| r.ok), 1_000);
    let refusals = total(&reports, |r| {
        r.daily_spent + r.store_unavailable + r.pause_too_long + r.api_throttled + r.other
    });
    assert_eq!((refusals, server.refused()), (0, 0), "{reports:?}");
    // Every process reads the one shared budget: the last to finish reads
    // what all sent, the others what was left when they finished.
    let remaining: Vec<_> = reports.iter().map(|r| r.remaining_today).collect();
    assert_eq!(
        remaining.iter().min(),
        Some(&Some(50_000 - 1_000)),
        "{remaining:?}"
    );
    assert!(
        reports
            .iter()
            .all(|r| r.remaining_today <= Some(50_000 - r.ok)),
        "{remaining:?}"
    );
    let busiest = busiest_second(&arrivals);
    let span = arrivals[arrivals.len() - 1] - arrivals[0];
    let used = (arrivals.len() - 1) as f64 / span.as_secs_f64() / per_second as f64;
    println!(
        "busiest second {busiest}, plan used {:.1} % over {span:?}",
        used * 100.0
    );
    Shared { busiest, used }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_processes_share_one_plan_without_a_second_over_it() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    // The window allows at most 97.6 % of the plan (a second in 1.025 s);
    // late turns push the schedule back by their lateness only.
    let kept = |run: &Shared| run.busiest <= 100 && run.used >= 0.95;
    let first = four_processes_send_a_thousand(&redis, "four-processes").await;
    if kept(&first) {
        return;
    }
    // The 25 ms of the default delay spread absorb the processes'
    // different delays from Redis's decision to the server. On this
    // machine (two cores, four workers, the server and Redis) a process
    // now and then stalls longer than that between its decision and its
    // request, which no client can see: one request too many in a second,
    // or a second of the plan unused. Such a run is run once more; a
    // second one, or more than one request too many, fails.
    assert!(
        first.busiest <= 101,
        "{} requests in one second",
        first.busiest
    );
    println!("a worker stalled beyond the delay spread: running again");
    let second = four_processes_send_a_thousand(&redis, "four-processes-again").await;
    assert!(
        second.busiest <= 100,
        "{} requests in one second",
        second.busiest
    );
    assert!(
        second.used >= 0.95,
        "only {:.1} % of the plan used",
        second.used * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_budget_stops_every_process_at_the_same_total() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = CountingServer::start(100).await;
    let run = Run {
        redis_url: redis.url(),
        server: &server,
        key: "daily-budget",
        per_second: 100,
        per_day: 300,
        unavailable: "refuse",
    };
    // 800 asked for, 300 allowed a day.
    let reports = run.workers(&["requests=200", "tasks=2"]).await;

    assert_eq!(server.arrivals().len(), 300);
    assert_eq!(total(&reports, |r| r.ok), 300);
    for report in &reports {
        assert!(report.daily_spent >= 1, "{report:?}");
        assert_eq!(report.remaining_today, Some(0), "{report:?}");
        assert_eq!(report.store_unavailable + report.other, 0, "{report:?}");
    }
}

/// Runs four workers for 14 s, kills Redis 5 s in and starts it again
/// (empty, on the same port) 8 s in.
async fn kill_redis_mid_run(unavailable: &str, key: &str) -> Option<Outage> {
    const KILL_AT: Duration = Duration::from_secs(5);
    const RESTART_AT: Duration = Duration::from_secs(8);
    let mut redis = RedisServer::start()?;
    let per_second = 50;
    let server = CountingServer::start(per_second).await;
    let started = Instant::now();
    let run = Run {
        redis_url: redis.url(),
        server: &server,
        key,
        per_second: 50,
        per_day: 0,
        unavailable,
    };
    let chaos = async {
        tokio::time::sleep_until((started + KILL_AT).into()).await;
        let killed = Instant::now();
        tokio::task::block_in_place(|| redis.kill());
        tokio::time::sleep_until((started + RESTART_AT).into()).await;
        let restarted = Instant::now();
        tokio::task::block_in_place(|| redis.restart());
        (killed, restarted)
    };
    let (reports, (killed, restarted)) =
        tokio::join!(run.workers(&["seconds=14", "tasks=3"]), chaos);
    Some(Outage {
        arrivals: server.arrivals(),
        api_refused: server.refused(),
        reports,
        killed,
        restarted,
        per_second,
    })
}

struct Outage {
    arrivals: Vec<Instant>,
    api_refused: u64,
    reports: Vec<WorkerReport>,
    killed: Instant,
    restarted: Instant,
    per_second: usize,
}

impl Outage {
    /// No second over the plan, no refusal by the API, and the plan's
    /// pace again in the run's last two seconds.
    fn check_plan_kept_and_recovered(&self) {
        let busiest = busiest_second(&self.arrivals);
        eprintln!("busiest second {busiest}");
        assert!(
            busiest <= self.per_second,
            "{busiest} requests in one second"
        );
        assert_eq!(self.api_refused, 0);
        assert_eq!(total(&self.reports, |r| r.other + r.api_throttled), 0);
        let end = self.arrivals[self.arrivals.len() - 1];
        let last = arrivals_between(&self.arrivals, end - Duration::from_secs(2), end);
        eprintln!("after the restart: {} requests in the last 2 s", last);
        assert!(
            last as f64 >= 0.8 * 2.0 * self.per_second as f64,
            "only {last} requests in the run's last 2 s: the shared plan did not come back"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_refuses_without_sending_then_recovers() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(outage) = kill_redis_mid_run("refuse", "killed-refuse").await else {
        return;
    };
    outage.check_plan_kept_and_recovered();
    assert!(total(&outage.reports, |r| r.store_unavailable) > 0);
    // A request admitted just before the kill may still arrive.
    let during = arrivals_between(
        &outage.arrivals,
        outage.killed + Duration::from_millis(100),
        outage.restarted,
    );
    assert_eq!(during, 0, "requests sent while Redis was down");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_mid_run_falls_back_to_a_share_of_the_plan_then_recovers() {
    let _turn = ONE_AT_A_TIME.lock().await;
    // Each of the four at a tenth of 50 per second: 5 per second.
    let Some(outage) = kill_redis_mid_run("fallback:0.1", "killed-fallback").await else {
        return;
    };
    outage.check_plan_kept_and_recovered();
    assert_eq!(total(&outage.reports, |r| r.store_unavailable), 0);
    // After the hand-over second, the fallbacks send at their share.
    let from = outage.killed + Duration::from_millis(1_500);
    let during = arrivals_between(&outage.arrivals, from, outage.restarted);
    let seconds = (outage.restarted - from).as_secs_f64();
    eprintln!("while Redis was down: {during} requests in {seconds:.1} s");
    assert!(during > 0, "nothing sent through the fallbacks");
    assert!(
        during as f64 <= (4.0 * 5.0 + 1.0) * seconds.ceil(),
        "{during} requests in {seconds:.1} s: more than four fallbacks at 5 per second"
    );
}

/// A client of its own (its own limiter, as in another process) sharing
/// `plan` under `key`.
fn sharing_client(base: &str, redis: &RedisServer, key: &str, plan: Plan) -> whispir::Client {
    whispir_tests::mock_builder(
        base,
        whispir::CallOptions {
            retry: whispir::RetryConfig::disabled(),
            ..whispir::CallOptions::default()
        },
    )
    .rate_limit(plan)
    .shared(whispir::RedisQuota::new(&redis.url(), key).expect("a Redis URL"))
    .build()
    .expect("the client builds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pause_the_api_asked_of_one_process_holds_the_others() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let api = MockServer::start().await;
    Mock::given(path("/messages/AAAA"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "2"))
        .mount(&api)
        .await;
    Mock::given(path("/messages/BBBB"))
        .respond_with(ResponseTemplate::new(200).set_body_string(r#"{"to":"1","subject":"x"}"#))
        .mount(&api)
        .await;
    let plan = Plan::RPS_10_DAILY_20K;
    let (one, other) = (
        sharing_client(&api.uri(), &redis, "api-pause", plan),
        sharing_client(&api.uri(), &redis, "api-pause", plan),
    );
    // Past the new store's hand-over first.
    other
        .message_retrieve()
        .message_id("BBBB")
        .send()
        .await
        .expect("200");

    let refused = one.message_retrieve().message_id("AAAA").send().await;
    assert!(refused.expect_err("429").is_throttled());
    let asked = Instant::now();
    // (The pause reaches the store in a task of its own.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    other
        .message_retrieve()
        .message_id("BBBB")
        .send()
        .await
        .expect("200");
    let waited = asked.elapsed();
    assert!(
        waited >= Duration::from_millis(1_800),
        "the other client went after {waited:?}, inside the API's 2 s pause"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_daily_reset_is_one_count_for_every_process() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = CountingServer::start(100).await;
    let window = DailyWindow::ResetAt {
        hour: 3,
        minute: 0,
        utc_offset_minutes: 600,
    };
    let plan = Plan::new(NonZeroU32::new(100).unwrap(), NonZeroU32::new(5))
        .with_daily_window(window)
        .unwrap();
    let clients = [
        sharing_client(&server.uri, &redis, "fixed-reset", plan),
        sharing_client(&server.uri, &redis, "fixed-reset", plan),
    ];
    let mut sent = 0;
    for round in 0..4 {
        for client in &clients {
            match client.message_retrieve().message_id("CD34").send().await {
                Ok(_) => sent += 1,
                Err(err) => assert!(
                    matches!(err.refusal(), Some(Refusal::DailyBudgetSpent { .. })),
                    "round {round}: {err}"
                ),
            }
        }
    }
    assert_eq!((sent, server.arrivals().len()), (5, 5));
    // Both read the one count, and the next reset (03:00 at UTC+10, i.e.
    // 17:00 UTC) within a day.
    for client in &clients {
        client
            .context()
            .rate_limiter()
            .unwrap()
            .refresh()
            .await
            .unwrap();
        assert_eq!(client.remaining_today(), Some(0));
        let resets_in = client.resets_in().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expected = (17 * 3600 + 86_400 - now % 86_400) % 86_400;
        assert!(
            resets_in.as_secs().abs_diff(expected) <= 5,
            "resets in {resets_in:?}, expected about {expected} s"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booked_turn_the_call_cannot_wait_for_gives_its_daily_unit_back() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = CountingServer::start(1).await;
    // One request a second: a turn is booked in the last 100 ms before it.
    let plan = Plan::new(NonZeroU32::new(1).unwrap(), NonZeroU32::new(10));
    let quota = || whispir::RedisQuota::new(&redis.url(), "give-back").unwrap();
    let patient = sharing_client(&server.uri, &redis, "give-back", plan);
    let hasty = whispir_tests::mock_builder(&server.uri, whispir::CallOptions::default())
        .timeout(Duration::from_millis(60))
        .rate_limit(plan)
        .shared(quota())
        .build()
        .unwrap();
    // The booking happens only when the hasty call asks within 100 ms of
    // the next turn and gives up before it: on a busy machine that may
    // miss, so it is tried again (the units taken show whether it hit).
    for attempt in 1..=3 {
        patient
            .message_retrieve()
            .message_id("CD34")
            .send()
            .await
            .expect("sent");
        let taken_before = redis.command("HGET whispir:{give-back}:state seq");
        tokio::time::sleep(Duration::from_millis(935)).await;
        let refused = hasty.message_retrieve().message_id("CD34").send().await;
        let err = refused.expect_err("the turn comes after the call's 60 ms");
        assert!(
            matches!(err.refusal(), Some(Refusal::PauseTooLong { .. })),
            "{err}"
        );
        let taken_after = redis.command("HGET whispir:{give-back}:state seq");
        eprintln!("attempt {attempt}: units taken {taken_before:?} -> {taken_after:?}");
        if taken_after == taken_before {
            continue;
        }
        // (The unit goes back in a task of its own.)
        tokio::time::sleep(Duration::from_millis(200)).await;
        patient
            .context()
            .rate_limiter()
            .unwrap()
            .refresh()
            .await
            .unwrap();
        let sent = u32::try_from(server.arrivals().len()).unwrap();
        assert_eq!(patient.remaining_today(), Some(10 - sent));
        return;
    }
    panic!("the hasty call never booked a turn: the machine is too busy for this test");
}

/// How the store goes away in [`one_daily_budget_across_an_outage`].
#[derive(Clone, Copy, PartialEq)]
enum StoreLoss {
    /// Killed, never back.
    Killed,
    /// Frozen (SIGSTOP) for 2.5 s, then back with its data: the fallbacks
    /// have not spent their shares by then.
    Frozen,
}

/// Four workers share 20 a second and 100 a day, each falling back to a
/// quarter; the store goes away once half the day's budget has reached the
/// server. Returns the requests the server received and the store.
async fn one_daily_budget_across_an_outage(
    loss: StoreLoss,
    key: &str,
) -> Option<(usize, RedisServer)> {
    let mut redis = RedisServer::start()?;
    let server = CountingServer::start(20).await;
    let run = Run {
        redis_url: redis.url(),
        server: &server,
        key,
        per_second: 20,
        per_day: 100,
        unavailable: "fallback:0.25",
    };
    let chaos = async {
        let started = Instant::now();
        while server.arrivals().len() < 50 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "half the budget never went"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let lost_after = server.arrivals().len();
        match loss {
            StoreLoss::Killed => tokio::task::block_in_place(|| redis.kill()),
            StoreLoss::Frozen => {
                redis.freeze();
                tokio::time::sleep(Duration::from_millis(2_500)).await;
                redis.thaw();
            }
        }
        lost_after
    };
    let (reports, lost_after) = tokio::join!(run.workers(&["seconds=20", "tasks=2"]), chaos);
    let arrivals = server.arrivals().len();
    eprintln!("the store went after {lost_after} requests; {arrivals} in all");
    assert!(
        arrivals > lost_after + 8,
        "the fallbacks sent {} requests",
        arrivals - lost_after
    );
    assert!(arrivals <= 100, "{arrivals} requests in a day of 100");
    assert_eq!(server.refused(), 0);
    assert_eq!(total(&reports, |r| r.other + r.api_throttled), 0);
    // Every process stopped at a spent budget, its fallback's share or
    // the store's count.
    assert!(reports.iter().all(|r| r.daily_spent >= 1), "{reports:?}");
    Some((arrivals, redis))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_after_half_the_day_leaves_the_fallbacks_a_share_of_the_rest() {
    let _turn = ONE_AT_A_TIME.lock().await;
    one_daily_budget_across_an_outage(StoreLoss::Killed, "daily-killed").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_fallbacks_sent_joins_the_daily_count_when_redis_answers_again() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some((arrivals, redis)) =
        one_daily_budget_across_an_outage(StoreLoss::Frozen, "daily-frozen").await
    else {
        return;
    };
    // Every request sent is in the store's count (and perhaps a few units
    // taken by decisions asked for while it was frozen and made after).
    let counted = redis.command("ZCARD whispir:{daily-frozen}:sent");
    let counted: usize = counted.trim_start_matches(':').trim().parse().unwrap();
    assert!(counted >= arrivals, "{counted} counted, {arrivals} sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_connections_bring_no_second_over_a_shared_plan() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = CountingServer::start(20).await;
    // Every request on a new connection, every third 50 ms slower: more
    // than the 25 ms delay spread.
    let client = whispir_tests::mock_builder(
        &server.uri,
        whispir::CallOptions {
            retry: whispir::RetryConfig::disabled(),
            ..whispir::CallOptions::default()
        },
    )
    .http_client(whispir_tests::slow_connect::slow_connections())
    .rate_limit(Plan::new(NonZeroU32::new(20).unwrap(), None))
    .shared(whispir::RedisQuota::new(&redis.url(), "slow-connections").unwrap())
    .build()
    .unwrap();
    let calls: Vec<_> = (0..3)
        .map(|_| {
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
        })
        .collect();
    for call in calls {
        call.await.unwrap();
    }
    let arrivals = server.arrivals();
    assert_eq!((arrivals.len(), server.refused()), (60, 0));
    let busiest = busiest_second(&arrivals);
    assert!(busiest <= 20, "{busiest} requests in one second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_cluster_node_is_refused_when_the_client_is_built() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(node) = RedisServer::start_cluster_node() else {
        return;
    };
    let built = whispir_tests::mock_builder("http://127.0.0.1:9", whispir::CallOptions::default())
        .rate_limit(Plan::RPS_10_DAILY_20K)
        .shared(whispir::RedisQuota::new(&node.url(), "cluster").unwrap())
        .build();
    let err = built.expect_err("a cluster node");
    assert!(
        matches!(err, whispir::BuildError::SharedQuotaOnCluster { .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("Redis Cluster") && text.contains("127.0.0.1"),
        "{text}"
    );
    // A standalone server is taken.
    let Some(standalone) = RedisServer::start() else {
        return;
    };
    whispir_tests::mock_builder("http://127.0.0.1:9", whispir::CallOptions::default())
        .rate_limit(Plan::RPS_10_DAILY_20K)
        .shared(whispir::RedisQuota::new(&standalone.url(), "cluster").unwrap())
        .build()
        .expect("a standalone server");
}
