//! The shared limiter's Lua scripts, run on a real `redis-server` one call
//! at a time: what the store decides, on its own clock, whatever the
//! processes asking it do. The four-process runs (`shared_quota.rs`) show
//! the whole; these show each rule of the sliding window on its own.

use std::time::Duration;

use redis::Script;
use redis::aio::MultiplexedConnection;
use whispir_tests::shared_quota::RedisServer;

const TAKE: &str = include_str!("../../crates/whispir/src/runtime/rate_limit/shared/take.lua");
const CONFIRM: &str =
    include_str!("../../crates/whispir/src/runtime/rate_limit/shared/confirm.lua");

/// The window the limiter uses by default (a second and
/// `whispir::rate_limit::DEFAULT_DELAY_SPREAD`), in µs.
const WINDOW: i64 = 1_025_000;
/// Slack for the time between two script calls of one test.
const SLACK: i64 = 200_000;

struct Quota {
    connection: MultiplexedConnection,
    state: String,
    sent: String,
    recent: String,
    per_second: u32,
}

impl Quota {
    async fn new(redis: &RedisServer, key: &str, per_second: u32) -> Self {
        let client = redis::Client::open(redis.url()).unwrap();
        Self {
            connection: client.get_multiplexed_async_connection().await.unwrap(),
            state: format!("whispir:{{{key}}}:state"),
            sent: format!("whispir:{{{key}}}:sent"),
            recent: format!("whispir:{{{key}}}:recent"),
            per_second,
        }
    }

    /// One `TAKE`: turns 1 µs apart (only the window spaces them), no
    /// daily cap, no hand-over hold, booked up to 10 s ahead.
    async fn take(&mut self, name: &str) -> Vec<i64> {
        Script::new(TAKE)
            .key(&self.state)
            .key(&self.sent)
            .key(&self.recent)
            .arg(1) // spacing
            .arg(2_000) // lateness absorbed
            .arg(0) // no daily cap
            .arg(-1) // rolling
            .arg(0) // hand-over hold
            .arg("take")
            .arg(10_000_000) // horizon
            .arg(WINDOW)
            .arg(self.per_second)
            .arg(name)
            .invoke_async(&mut self.connection)
            .await
            .unwrap()
    }

    /// `TAKE`, which must book a turn for `name`: its wait (µs).
    async fn book(&mut self, name: &str) -> i64 {
        let answer = self.take(name).await;
        assert_eq!((answer[0], answer.len()), (0, 5), "{answer:?}");
        answer[4]
    }

    async fn confirm(&mut self, name: &str) -> Vec<i64> {
        Script::new(CONFIRM)
            .key(&self.state)
            .key(&self.recent)
            .arg(name)
            .arg(WINDOW)
            .arg(self.per_second)
            .invoke_async(&mut self.connection)
            .await
            .unwrap()
    }

    /// When `name` is recorded as sent, on the store's clock (µs).
    async fn sent_at(&mut self, name: &str) -> Option<i64> {
        let score: Option<f64> = redis::cmd("ZSCORE")
            .arg(&self.recent)
            .arg(name)
            .query_async(&mut self.connection)
            .await
            .unwrap();
        score.map(|score| score as i64)
    }

    async fn now(&mut self) -> i64 {
        let (seconds, micros): (i64, i64) = redis::cmd("TIME")
            .query_async(&mut self.connection)
            .await
            .unwrap();
        seconds * 1_000_000 + micros
    }

    /// Every send recorded, in time order.
    async fn log(&mut self) -> Vec<i64> {
        let log: Vec<(String, f64)> = redis::cmd("ZRANGE")
            .arg(&self.recent)
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .query_async(&mut self.connection)
            .await
            .unwrap();
        log.into_iter().map(|(_, at)| at as i64).collect()
    }

    /// No window holds more than the plan: any `per_second + 1` sends in
    /// a row span the window at least.
    async fn assert_window_kept(&mut self) {
        let log = self.log().await;
        let n = self.per_second as usize;
        for run in log.windows(n + 1) {
            assert!(
                run[n] - run[0] >= WINDOW,
                "{} sends within {} µs: {log:?}",
                n + 1,
                run[n] - run[0]
            );
        }
    }
}

#[tokio::test]
async fn a_turn_past_the_plan_is_booked_a_window_after_the_oldest_of_the_last_ones() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "window", 3).await;
    let start = quota.now().await;
    for name in ["a:0", "a:1", "b:0"] {
        let wait = quota.book(name).await;
        assert!(wait < SLACK, "the first three go at once: {wait}");
    }
    let wait = quota.book("c:0").await;
    assert!(wait > WINDOW - SLACK && wait <= WINDOW, "{wait}");
    let first = quota.sent_at("a:0").await.unwrap();
    assert_eq!(quota.sent_at("c:0").await, Some(first + WINDOW));
    assert!(first >= start);
    quota.assert_window_kept().await;
}

#[tokio::test]
async fn a_late_turn_moves_to_when_it_is_sent_and_pushes_the_turns_after_it() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "late", 3).await;
    quota.book("a:0").await;
    let booked = quota.sent_at("a:0").await.unwrap();
    quota.book("b:0").await;
    quota.book("c:0").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The first turn's process woke 50 ms late: its send moves to now.
    assert_eq!(quota.confirm("a:0").await, vec![0]);
    let moved = quota.sent_at("a:0").await.unwrap();
    assert!(moved >= booked + 50_000, "{booked} -> {moved}");
    // Two more turns fill the window after the other two; the third
    // after them waits a window from the late send, not from its booking.
    quota.book("b:1").await;
    quota.book("c:1").await;
    quota.book("a:1").await;
    assert_eq!(quota.sent_at("a:1").await, Some(moved + WINDOW));
    quota.assert_window_kept().await;
}

#[tokio::test]
async fn a_turn_that_cannot_go_when_it_is_late_is_void_and_forgotten() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "very-late", 2).await;
    quota.book("stalled:0").await;
    // Its process stalls for more than a window; meanwhile others send the
    // whole plan.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    quota.book("b:0").await;
    quota.book("c:0").await;
    // Sent now it would be a third in the window: void, so that its
    // process books a new turn instead of waiting for this one (which
    // others keep filling) until its deadline.
    assert_eq!(quota.confirm("stalled:0").await, vec![3]);
    assert_eq!(quota.sent_at("stalled:0").await, None);
    let wait = quota.book("stalled:1").await;
    let oldest = quota.sent_at("b:0").await.unwrap();
    assert_eq!(quota.sent_at("stalled:1").await, Some(oldest + WINDOW));
    assert!(wait <= WINDOW, "{wait}");
    quota.assert_window_kept().await;
}

#[tokio::test]
async fn a_late_turn_gives_way_to_a_pause_the_api_asked_for() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "paused", 5).await;
    quota.book("a:0").await;
    let now = quota.now().await;
    let _: i64 = redis::cmd("HSET")
        .arg(&quota.state)
        .arg("api_pause")
        .arg(now + 5_000_000)
        .query_async(&mut quota.connection)
        .await
        .unwrap();
    let answer = quota.confirm("a:0").await;
    assert_eq!(answer[0], 2, "{answer:?}");
    assert!(
        answer[1] > 5_000_000 - SLACK && answer[1] <= 5_000_000,
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_late_turn_is_void_once_the_store_forgot_it_or_holds_everyone() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "restarted", 5).await;
    quota.book("a:0").await;
    // A hand-over hold (a process back from its fallback): give way.
    let now = quota.now().await;
    let _: i64 = redis::cmd("HSET")
        .arg(&quota.state)
        .arg("pause")
        .arg(now + 2_000_000)
        .query_async(&mut quota.connection)
        .await
        .unwrap();
    assert_eq!(quota.confirm("a:0").await, vec![3]);
    // Redis restarted empty: the turn it booked is gone with it.
    quota.book("a:1").await;
    let _: i64 = redis::cmd("DEL")
        .arg(&quota.state)
        .arg(&quota.recent)
        .query_async(&mut quota.connection)
        .await
        .unwrap();
    assert_eq!(quota.confirm("a:1").await, vec![3]);
}

/// A restart from a snapshot (RDB or AOF, or a failover to a replica that
/// lagged) keeps the state but forgets turns booked after it: a process
/// holding one must not move someone else's (names are unique, so the
/// turn is simply unknown, and void).
#[tokio::test]
async fn a_turn_booked_after_the_snapshot_a_restart_came_back_with_is_void() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "restored", 1).await;
    quota.book("a:0").await;
    let mut dumps = Vec::new();
    for key in [&quota.state, &quota.recent] {
        let dump: Vec<u8> = redis::cmd("DUMP")
            .arg(key)
            .query_async(&mut quota.connection)
            .await
            .unwrap();
        dumps.push((key.clone(), dump));
    }
    // B books the next turn, a window after A's; its process will be late.
    quota.book("b:0").await;
    // Redis comes back from the snapshot; C books the turn B had.
    for (key, dump) in &dumps {
        let _: () = redis::cmd("RESTORE")
            .arg(key)
            .arg(0)
            .arg(dump)
            .arg("REPLACE")
            .query_async(&mut quota.connection)
            .await
            .unwrap();
    }
    quota.book("c:0").await;
    let c_at = quota.sent_at("c:0").await.unwrap();
    let now = quota.now().await;
    tokio::time::sleep(Duration::from_micros(
        u64::try_from(c_at - now).unwrap_or(0) + 50_000,
    ))
    .await;
    // B wakes late: its turn is unknown, not C's to move.
    assert_eq!(quota.confirm("b:0").await, vec![3]);
    assert_eq!(quota.sent_at("c:0").await, Some(c_at));
    quota.assert_window_kept().await;
}

const COUNT_FALLBACK: &str =
    include_str!("../../crates/whispir/src/runtime/rate_limit/shared/count_fallback.lua");

/// `COUNT_FALLBACK` for sends `(name, µs ago)`, rolling (`reset` -1) or
/// with a fixed reset: how many it counted.
async fn count_fallback(quota: &mut Quota, reset: i64, sends: &[(&str, i64)]) -> i64 {
    let script = Script::new(COUNT_FALLBACK);
    let mut script = script.key(&quota.state);
    script
        .key(&quota.sent)
        .key(format!(
            "{}:fallback",
            quota.state.trim_end_matches(":state")
        ))
        .arg(reset);
    for (name, age) in sends {
        script.arg(*name).arg(*age);
    }
    script.invoke_async(&mut quota.connection).await.unwrap()
}

#[tokio::test]
async fn fallback_sends_join_the_rolling_daily_count_once_each() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "fallback-rolling", 10).await;
    let now = quota.now().await;
    let sends = [("p:fallback:0", 3_000_000), ("p:fallback:1", 1_000_000)];
    assert_eq!(count_fallback(&mut quota, -1, &sends).await, 2);
    // The same batch again (its first answer lost), and one send more.
    let more = [sends[0], sends[1], ("p:fallback:2", 500_000)];
    assert_eq!(count_fallback(&mut quota, -1, &more).await, 1);
    let log: Vec<(String, f64)> = redis::cmd("ZRANGE")
        .arg(&quota.sent)
        .arg(0)
        .arg(-1)
        .arg("WITHSCORES")
        .query_async(&mut quota.connection)
        .await
        .unwrap();
    assert_eq!(log.len(), 3, "{log:?}");
    // Each at the time it was sent, on the store's clock.
    let first = log[0].1 as i64;
    assert!((first - (now - 3_000_000)).abs() < SLACK, "{log:?}");
    // A send more than a day old has left the window already.
    let old = [("p:fallback:3", 86_400_000_001)];
    assert_eq!(count_fallback(&mut quota, -1, &old).await, 0);
}

#[tokio::test]
async fn fallback_sends_join_a_fixed_periods_count_once_each() {
    let _turn = super::ONE_AT_A_TIME.lock().await;
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let mut quota = Quota::new(&redis, "fallback-reset", 10).await;
    let day: i64 = 86_400_000_000;
    // A reset one hour ago (µs after midnight UTC).
    let reset = (quota.now().await - 3_600_000_000).rem_euclid(day);
    let count = |quota: &mut Quota| {
        let state = quota.state.clone();
        let mut connection = quota.connection.clone();
        async move {
            let count: Option<i64> = redis::cmd("HGET")
                .arg(&state)
                .arg("count")
                .query_async(&mut connection)
                .await
                .unwrap();
            count
        }
    };
    // Two sends in this period, one before the reset (the period before).
    let sends = [
        ("q:fallback:0", 7_200_000_000),
        ("q:fallback:1", 60_000_000),
        ("q:fallback:2", 1_000_000),
    ];
    assert_eq!(count_fallback(&mut quota, reset, &sends).await, 2);
    assert_eq!(count(&mut quota).await, Some(2));
    assert_eq!(count_fallback(&mut quota, reset, &sends).await, 0);
    assert_eq!(count(&mut quota).await, Some(2));
}
