#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Arc;
use std::sync::atomic::AtomicU32;

use chrono::{DateTime, Utc};

use super::daily::{DAY, DailyUse, Now};
use super::*;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);

fn far() -> Instant {
    Instant::now() + DAY
}

fn plan(per_second: u32, per_day: Option<u32>) -> Plan {
    Plan::new(nz(per_second), per_day.map(nz))
}

/// Admits one request and sends it.
async fn send(limiter: &RateLimiter) {
    match limiter.acquire(far()).await {
        Admission::Go(token) => token.sent(),
        other => panic!("expected to go, got {other:?}"),
    }
}

/// The most instants that fall into any sliding one-second window.
fn busiest_second(sorted: &[Instant]) -> usize {
    (0..sorted.len())
        .map(|i| {
            sorted[i..]
                .iter()
                .take_while(|t| **t < sorted[i] + SECOND)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn presets_match_the_published_plans() {
    let quotas = [
        Plan::RPS_5_DAILY_10K,
        Plan::RPS_10_DAILY_20K,
        Plan::RPS_30_DAILY_50K,
    ]
    .map(|p| (p.per_second(), p.per_day(), p.daily_window()));
    assert_eq!(
        quotas,
        [
            (5, Some(10_000), DailyWindow::Rolling),
            (10, Some(20_000), DailyWindow::Rolling),
            (30, Some(50_000), DailyWindow::Rolling),
        ]
    );
}

#[test]
fn turns_taken_a_little_late_keep_the_plan_rate_without_bursts() {
    // Every turn is taken up to a timer tick (1 ms) after it is due.
    let plan = Plan::RPS_30_DAILY_50K;
    let start = Instant::now();
    let mut pacing = Pacing {
        spacing: plan.spacing(),
        next: None,
    };
    let mut now = start;
    let mut taken = Vec::new();
    let mut late = 0u64;
    while taken.len() < 3_000 {
        match pacing.take(now) {
            Ok(()) => taken.push(now),
            Err(due) => {
                late = (late * 7 + 3) % 1_000;
                now = due + Duration::from_micros(late);
            }
        }
    }
    assert!(busiest_second(&taken) <= 30, "{}", busiest_second(&taken));
    let elapsed = (taken[taken.len() - 1] - start).as_secs_f64();
    let rate = (taken.len() - 1) as f64 / elapsed;
    assert!(rate >= 0.995 * 30.0, "{rate}");
}

#[test]
fn a_turn_after_a_quiet_spell_does_not_bring_the_next_one_forward() {
    let spacing = Duration::from_millis(200);
    let mut pacing = Pacing {
        spacing,
        next: None,
    };
    let start = Instant::now();
    pacing.take(start).unwrap();
    let later = start + Duration::from_secs(60);
    pacing.take(later).unwrap();
    let due = pacing.take(later).unwrap_err();
    assert!(
        due >= later + spacing - LATENESS_ABSORBED,
        "{:?}",
        due - later
    );
}

#[tokio::test(start_paused = true)]
async fn a_thousand_waiters_go_first_come_first_served_within_the_plan() {
    let limiter = Arc::new(RateLimiter::new(Plan::RPS_5_DAILY_10K));
    let arrivals = Arc::new(AtomicU32::new(0));
    let admitted = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + HOUR;
    let waiters: Vec<_> = (0..1_000u64)
        .map(|i| {
            let (limiter, arrivals, admitted) =
                (limiter.clone(), arrivals.clone(), admitted.clone());
            tokio::spawn(async move {
                // Half come at once, the rest a few at a time while the
                // first ones wait: late comers must not pass them.
                if i >= 500 {
                    tokio::time::sleep(Duration::from_millis(i % 97 * 7)).await;
                }
                // Nothing awaits between taking a number and joining the line.
                let number = arrivals.fetch_add(1, Ordering::SeqCst);
                match limiter.acquire(deadline).await {
                    Admission::Go(token) => {
                        token.sent();
                        admitted.lock().unwrap().push((number, Instant::now()));
                    }
                    other => panic!("waiter {number} was refused: {other:?}"),
                }
            })
        })
        .collect();
    for waiter in waiters {
        waiter.await.unwrap();
    }
    let admitted = admitted.lock().unwrap();
    assert_eq!(admitted.len(), 1_000);
    let first_out_of_turn = admitted
        .iter()
        .enumerate()
        .find(|(turn, (number, _))| *turn as u32 != *number);
    assert_eq!(first_out_of_turn, None, "not first come, first served");
    let times: Vec<Instant> = admitted.iter().map(|(_, t)| *t).collect();
    assert!(busiest_second(&times) <= 5, "{}", busiest_second(&times));
    let span = times[999] - times[0];
    assert!(
        span >= Duration::from_secs(199) && span <= Duration::from_secs(202),
        "{span:?}"
    );
    assert_eq!(limiter.remaining_today(), Some(9_000));
}

#[tokio::test(start_paused = true)]
async fn a_pause_extended_while_waiting_is_honoured() {
    let limiter = Arc::new(RateLimiter::new(plan(1000, None)));
    let start = Instant::now();
    limiter.back_off(2 * SECOND);
    let waiter = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            match limiter.acquire(start + HOUR).await {
                Admission::Go(token) => token.sent(),
                other => panic!("{other:?}"),
            }
            Instant::now()
        })
    };
    tokio::time::sleep(SECOND).await;
    // The server asks for more while the waiter sleeps: now until 6 s.
    limiter.back_off(5 * SECOND);
    let went = waiter.await.unwrap();
    assert!(went - start >= 6 * SECOND, "{:?}", went - start);
}

#[tokio::test(start_paused = true)]
async fn the_servers_back_off_holds_every_request() {
    let limiter = RateLimiter::new(plan(1000, None));
    limiter.back_off(2 * SECOND);
    let start = Instant::now();
    send(&limiter).await;
    assert!(start.elapsed() >= 2 * SECOND);
    assert_eq!(limiter.remaining_today(), None);
    assert_eq!(limiter.resets_in(), None);
}

#[tokio::test(start_paused = true)]
async fn a_day_long_pause_is_refused_at_once_rather_than_slept() {
    let limiter = RateLimiter::new(Plan::RPS_5_DAILY_10K);
    limiter.back_off(DAY);
    let start = Instant::now();
    match limiter.acquire(start + 30 * SECOND).await {
        Admission::PauseTooLong { wait } => assert_eq!(wait, DAY),
        other => panic!("{other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::ZERO, "it must not sleep");
    // Nothing was sent, nothing was used.
    assert_eq!(limiter.remaining_today(), Some(10_000));
}

#[tokio::test(start_paused = true)]
async fn a_pause_extended_past_the_deadline_while_waiting_is_refused() {
    let limiter = Arc::new(RateLimiter::new(plan(1000, None)));
    let start = Instant::now();
    limiter.back_off(2 * SECOND);
    let waiter = {
        let limiter = limiter.clone();
        tokio::spawn(async move {
            let admission = limiter.acquire(start + 10 * SECOND).await;
            (
                matches!(admission, Admission::PauseTooLong { .. }),
                Instant::now(),
            )
        })
    };
    tokio::time::sleep(SECOND).await;
    limiter.back_off(HOUR);
    let (refused, at) = waiter.await.unwrap();
    assert!(refused);
    // Refused when it woke from the first pause, not an hour later.
    assert!(at - start <= 3 * SECOND, "{:?}", at - start);
}

#[tokio::test(start_paused = true)]
async fn a_line_longer_than_the_deadline_is_refused_at_once() {
    let limiter = Arc::new(RateLimiter::new(Plan::RPS_5_DAILY_10K));
    // 100 callers ahead at 5 per second: about 20 s of waiting.
    let ahead: Vec<_> = (0..100)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { drop(limiter.acquire(far()).await) })
        })
        .collect();
    // Let them all join the line (the first one goes at once).
    tokio::time::sleep(Duration::from_millis(1)).await;
    let start = Instant::now();
    match limiter.acquire(start + 5 * SECOND).await {
        Admission::PauseTooLong { wait } => assert!(wait >= 19 * SECOND, "{wait:?}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
    for caller in ahead {
        caller.abort();
    }
}

#[tokio::test(start_paused = true)]
async fn a_caller_that_gives_up_leaves_the_line() {
    let limiter = Arc::new(RateLimiter::new(Plan::RPS_5_DAILY_10K));
    let ahead: Vec<_> = (0..100)
        .map(|_| {
            let limiter = limiter.clone();
            tokio::spawn(async move { drop(limiter.acquire(far()).await) })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1)).await;
    assert_eq!(limiter.waiting.load(Ordering::SeqCst), 99);
    for caller in &ahead {
        caller.abort();
    }
    for caller in ahead {
        let _ = caller.await;
    }
    assert_eq!(limiter.waiting.load(Ordering::SeqCst), 0);
    let start = Instant::now();
    send(&limiter).await;
    assert!(start.elapsed() <= SECOND, "{:?}", start.elapsed());
    // The cancelled callers used none of the day.
    assert!(limiter.remaining_today() >= Some(9_990));
}

#[tokio::test]
async fn a_token_dropped_without_sending_gives_its_unit_back() {
    let limiter = RateLimiter::new(plan(1000, Some(1)));
    let Admission::Go(token) = limiter.acquire(far()).await else {
        panic!("the first request may go");
    };
    assert_eq!(limiter.remaining_today(), Some(0), "reserved while held");
    drop(token);
    assert_eq!(limiter.remaining_today(), Some(1));
    send(&limiter).await;
    assert_eq!(limiter.remaining_today(), Some(0));
    assert!(matches!(
        limiter.acquire(far()).await,
        Admission::DailyBudgetSpent { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn the_daily_budget_fails_fast_once_spent() {
    let limiter = RateLimiter::new(plan(1000, Some(3)));
    for _ in 0..3 {
        send(&limiter).await;
    }
    assert_eq!(limiter.remaining_today(), Some(0));
    let start = Instant::now();
    match limiter.acquire(far()).await {
        Admission::DailyBudgetSpent { resets_in } => {
            assert!(resets_in <= DAY && resets_in > HOUR, "{resets_in:?}")
        }
        other => panic!("the fourth request must not go: {other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn a_rolling_window_returns_each_unit_a_day_after_it_was_sent() {
    let limiter = RateLimiter::new(plan(1000, Some(3)));
    assert_eq!(
        limiter.resets_in(),
        Some(Duration::ZERO),
        "nothing used yet"
    );
    for _ in 0..3 {
        send(&limiter).await;
        tokio::time::sleep(HOUR).await;
    }
    // Sent at 0 h, 1 h and 2 h; now 3 h.
    assert_eq!(limiter.remaining_today(), Some(0));
    let resets_in = limiter.resets_in().unwrap();
    assert!(
        resets_in <= 21 * HOUR && resets_in > 21 * HOUR - SECOND,
        "{resets_in:?}"
    );
    tokio::time::sleep(21 * HOUR).await;
    assert_eq!(limiter.remaining_today(), Some(1), "the first unit is back");
    tokio::time::sleep(HOUR).await;
    assert_eq!(limiter.remaining_today(), Some(2));
    send(&limiter).await;
    assert_eq!(limiter.remaining_today(), Some(1));
}

fn at(text: &str) -> Now {
    Now {
        mono: Instant::now(),
        wall: DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc),
    }
}

fn sent(daily: &mut DailyUse, now: Now) {
    daily.reserve(now).unwrap();
    daily.record_sent(now);
}

#[test]
fn a_reset_time_returns_the_whole_budget_at_that_time_of_day() {
    // Midnight in Sydney without daylight saving: 14:00 UTC.
    let window = DailyWindow::ResetAt {
        hour: 0,
        minute: 0,
        utc_offset_minutes: 600,
    };
    let mut daily = DailyUse::new(2, window);
    sent(&mut daily, at("2026-11-25T13:00:00Z"));
    sent(&mut daily, at("2026-11-25T13:30:00Z"));
    let now = at("2026-11-25T13:45:00Z");
    assert_eq!(daily.remaining(now), 0);
    assert_eq!(daily.reserve(now), Err(Duration::from_secs(15 * 60)));
    assert_eq!(daily.resets_in(now), Duration::from_secs(15 * 60));
    let after = at("2026-11-25T14:00:00Z");
    assert_eq!(daily.remaining(after), 2);
    assert_eq!(daily.resets_in(after), DAY);
}

#[test]
fn a_reset_time_west_of_utc_counts_from_the_local_time_of_day() {
    // 09:30 at UTC−05:00 is 14:30 UTC.
    let window = DailyWindow::ResetAt {
        hour: 9,
        minute: 30,
        utc_offset_minutes: -300,
    };
    let mut daily = DailyUse::new(5, window);
    sent(&mut daily, at("2026-11-25T14:29:00Z"));
    assert_eq!(daily.remaining(at("2026-11-25T14:29:59Z")), 4);
    assert_eq!(
        daily.resets_in(at("2026-11-25T14:29:00Z")),
        Duration::from_secs(60)
    );
    assert_eq!(daily.remaining(at("2026-11-25T14:30:00Z")), 5);
    // Before the reset on a later day, sends of the day before still count
    // only if they are in the current period: here they are not.
    sent(&mut daily, at("2026-11-26T10:00:00Z"));
    assert_eq!(daily.remaining(at("2026-11-26T14:29:00Z")), 4);
}

#[test]
fn a_reserved_unit_counts_until_it_is_sent_or_given_back() {
    let mut daily = DailyUse::new(1, DailyWindow::Rolling);
    let now = at("2026-11-25T10:00:00Z");
    daily.reserve(now).unwrap();
    assert_eq!(daily.reserve(now), Err(DAY), "only reserved: a day at most");
    daily.give_back();
    assert_eq!(daily.remaining(now), 1);
}

#[test]
fn a_reset_time_out_of_range_is_refused() {
    for window in [
        DailyWindow::ResetAt {
            hour: 24,
            minute: 0,
            utc_offset_minutes: 0,
        },
        DailyWindow::ResetAt {
            hour: 0,
            minute: 60,
            utc_offset_minutes: 0,
        },
        DailyWindow::ResetAt {
            hour: 0,
            minute: 0,
            utc_offset_minutes: 1_440,
        },
        DailyWindow::ResetAt {
            hour: 0,
            minute: 0,
            utc_offset_minutes: i16::MIN,
        },
    ] {
        let err = Plan::RPS_5_DAILY_10K
            .with_daily_window(window)
            .expect_err("out of range");
        assert!(err.to_string().contains("out of range"), "{err}");
    }
    let plan = Plan::RPS_5_DAILY_10K
        .with_daily_window(DailyWindow::ResetAt {
            hour: 23,
            minute: 59,
            utc_offset_minutes: -1_439,
        })
        .unwrap();
    assert_ne!(plan.daily_window(), DailyWindow::Rolling);
}
