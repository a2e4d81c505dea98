//! One process of a service that shares a plan through Redis, for the
//! shared-quota tests: it sends `messageRetrieve` calls to `server=` with
//! `tasks=` callers until it has sent `requests=` or `seconds=` have
//! passed (or the daily budget is spent), then prints what happened as one
//! JSON line. Arguments are `name=value` pairs:
//! `redis= key= server= per_second= per_day= (0: none) requests= seconds=
//! tasks= unavailable=refuse|fallback:<fraction>`. With `QUOTA_WORKER_DEBUG`
//! set it logs the limiter's debug events too (each turn, each confirmation).
#![allow(clippy::expect_used, clippy::panic)] // a test program: fail loudly

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tracing_subscriber::filter::LevelFilter;
use whispir::{
    CallOptions, Client, Credentials, Plan, RedisQuota, Refusal, RetryConfig, WhenUnavailable,
};
use whispir_tests::shared_quota::WorkerReport;

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    daily_spent: AtomicU64,
    store_unavailable: AtomicU64,
    pause_too_long: AtomicU64,
    api_throttled: AtomicU64,
    other: AtomicU64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_max_level(if std::env::var_os("QUOTA_WORKER_DEBUG").is_some() {
            LevelFilter::DEBUG
        } else {
            LevelFilter::INFO
        })
        .with_writer(std::io::stderr)
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
    let number = |name: &str| -> u32 { arg(name).parse().expect("a number") };
    let when_unavailable = match arg("unavailable").split_once(':') {
        Some(("fallback", fraction)) => WhenUnavailable::FallBack {
            fraction: fraction.parse().expect("a fraction"),
        },
        _ => WhenUnavailable::Refuse,
    };
    let plan = Plan::new(
        std::num::NonZeroU32::new(number("per_second")).expect("per_second > 0"),
        std::num::NonZeroU32::new(number("per_day")),
    );
    let quota = RedisQuota::new(&arg("redis"), arg("key"))
        .expect("a Redis URL")
        .when_unavailable(when_unavailable);
    let client = Client::builder()
        .base_url(arg("server"))
        .credentials(Credentials::basic("user", "pass"))
        .api_key("key")
        .call_options(CallOptions {
            retry: RetryConfig::disabled(),
            ..CallOptions::default()
        })
        .rate_limit(plan)
        .shared(quota)
        .build()
        .expect("the client builds");

    let requests = args
        .get("requests")
        .map(|n| n.parse::<u64>().expect("a number"));
    let until = args
        .get("seconds")
        .map(|s| Instant::now() + Duration::from_secs_f64(s.parse().expect("seconds")));
    let claimed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let tasks: Vec<_> = (0..number("tasks"))
        .map(|_| {
            let (client, claimed, stop, counts) = (
                client.clone(),
                claimed.clone(),
                stop.clone(),
                counts.clone(),
            );
            tokio::spawn(async move {
                loop {
                    if stop.load(Ordering::SeqCst) || until.is_some_and(|t| Instant::now() >= t) {
                        return;
                    }
                    if requests.is_some_and(|n| claimed.fetch_add(1, Ordering::SeqCst) >= n) {
                        return;
                    }
                    let result = client.message_retrieve().message_id("CD34").send().await;
                    let Err(err) = result else {
                        counts.ok.fetch_add(1, Ordering::SeqCst);
                        continue;
                    };
                    match err.refusal() {
                        Some(Refusal::DailyBudgetSpent { .. }) => {
                            counts.daily_spent.fetch_add(1, Ordering::SeqCst);
                            stop.store(true, Ordering::SeqCst);
                        }
                        Some(Refusal::QuotaStoreUnavailable { .. }) => {
                            counts.store_unavailable.fetch_add(1, Ordering::SeqCst);
                            // Refused at once until the next probe: do not spin.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Some(Refusal::PauseTooLong { .. }) => {
                            counts.pause_too_long.fetch_add(1, Ordering::SeqCst);
                        }
                        _ if err.is_throttled() => {
                            counts.api_throttled.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => {
                            eprintln!("worker: a call failed: {err}");
                            counts.other.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a worker task finishes");
    }
    let _ = client
        .context()
        .rate_limiter()
        .expect("a limiter")
        .refresh()
        .await;
    let read = |n: &AtomicU64| n.load(Ordering::SeqCst);
    let report = WorkerReport {
        ok: read(&counts.ok),
        daily_spent: read(&counts.daily_spent),
        store_unavailable: read(&counts.store_unavailable),
        pause_too_long: read(&counts.pause_too_long),
        api_throttled: read(&counts.api_throttled),
        other: read(&counts.other),
        remaining_today: client.remaining_today().map(u64::from),
    };
    println!("{}", report.to_json());
}
