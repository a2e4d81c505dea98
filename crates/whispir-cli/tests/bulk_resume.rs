//! `whispir bulk send` resumed as operators resume it, against sandboxes
//! that behave as Whispir documents (counted at the server): days later,
//! against another destination, at once after an uncertain answer, after
//! a torn journal line and after a fixed CSV; and against a server whose
//! listing is not sorted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{bin, write_csv};
use whispir_sandbox::{Fault, FaultRule, Quota, Sandbox};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

/// `whispir ARGS` in `dir` against `sandbox`, credentials from the
/// environment (`extra` adds or overrides variables).
async fn whispir(sandbox: &Sandbox, dir: &Path, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut command = command(sandbox, dir, args);
    for (name, value) in extra {
        command.env(name, value);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// `whispir ARGS` in `dir` against `sandbox`, not started yet.
fn command(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> std::process::Command {
    let credentials = sandbox.credentials();
    let mut command = std::process::Command::new(bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.join("none.toml"))
        .env("WHISPIR_BASE_URL", sandbox.base_url())
        .env("WHISPIR_USERNAME", &credentials.user)
        .env("WHISPIR_PASSWORD", &credentials.password)
        .env("WHISPIR_API_KEY", &credentials.api_key)
        .current_dir(dir)
        .args(args);
    command
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Messages the sandbox accepted, per recipient.
fn received(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in sandbox.sent_messages() {
        for to in &message.to {
            *counts.entry(to.clone()).or_insert(0) += 1;
        }
    }
    counts
}

fn assert_each_once(sandbox: &Sandbox, rows: usize) {
    let counts = received(sandbox);
    assert!(
        counts.values().all(|n| *n == 1),
        "a recipient got two messages: {counts:?}"
    );
    assert_eq!(counts.len(), rows, "{counts:?}");
}

/// Sends that Whispir carries out but whose answer never arrives: the
/// rows end `uncertain`.
fn lost_answers(times: u32) -> FaultRule {
    FaultRule::always(Fault::ResetAfterActing)
        .on("messageCreate")
        .times(times)
}

const SEND: [&str; 7] = [
    "bulk",
    "send",
    "--per-row",
    "r.csv",
    "--template",
    "Hi {name}",
    "--plan",
];

fn send_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = SEND.to_vec();
    args.push("30");
    args.extend_from_slice(extra);
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_resumed_eight_days_later_finds_its_rows_through_the_date_range() {
    let sandbox = Sandbox::builder()
        .fault(lost_answers(5))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 8);
    let began = chrono::Utc::now() - chrono::Duration::seconds(1);
    let first = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    assert_eq!(sandbox.sent_messages().len(), 8, "Whispir took all eight");
    // Eight days on, Whispir's default listing no longer holds them.
    sandbox.advance_clock(Duration::from_secs(8 * 24 * 3600));
    let second = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_each_once(&sandbox, 8);
    let journal = std::fs::read_to_string(dir.path().join("r.journal")).unwrap();
    assert_eq!(journal.matches("reconciled").count(), 5, "{journal}");
    assert!(!journal.contains("absent"), "{journal}");

    // An operator checking by hand finds them the same way.
    let list = |extra: Vec<String>| {
        let mut args = vec![
            "--json".to_string(),
            "messages".into(),
            "list".into(),
            "--all".into(),
        ];
        args.extend(extra);
        args
    };
    let recent = list(vec![]);
    let recent: Vec<&str> = recent.iter().map(String::as_str).collect();
    let shown = whispir(&sandbox, dir.path(), &recent, &[]).await;
    assert!(
        support::json_lines(&shown.stdout).is_empty(),
        "7-day window"
    );
    let since = list(vec!["--since".into(), began.to_rfc3339()]);
    let since: Vec<&str> = since.iter().map(String::as_str).collect();
    let shown = whispir(&sandbox, dir.path(), &since, &[]).await;
    assert_eq!(
        support::json_lines(&shown.stdout).len(),
        8,
        "{}",
        stderr(&shown)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_refuses_another_destination_naming_both_and_sends_nothing() {
    let first_server = Sandbox::builder()
        .fault(lost_answers(2))
        .start()
        .await
        .unwrap();
    let other_server = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 6);
    let first = whispir(
        &first_server,
        dir.path(),
        &send_args(&["--settle", "0"]),
        &[],
    )
    .await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    let journal_before = std::fs::read_to_string(dir.path().join("r.journal")).unwrap();

    let elsewhere = whispir(
        &other_server,
        dir.path(),
        &send_args(&["--settle", "0"]),
        &[],
    )
    .await;
    assert_eq!(elsewhere.status.code(), Some(2), "{}", stderr(&elsewhere));
    let text = stderr(&elsewhere);
    assert!(
        text.contains(first_server.base_url()) && text.contains(other_server.base_url()),
        "{text}"
    );
    assert!(other_server.sent_messages().is_empty());

    // Another workspace or another user of the same server: refused too.
    let workspace = whispir(
        &first_server,
        dir.path(),
        &send_args(&["--settle", "0"]),
        &[("WHISPIR_WORKSPACE", "B2C3D4E5F60718293A4B")],
    )
    .await;
    assert_eq!(workspace.status.code(), Some(2), "{}", stderr(&workspace));
    assert!(stderr(&workspace).contains("workspace B2C3D4E5F60718293A4B"));
    let user = whispir(
        &first_server,
        dir.path(),
        &send_args(&["--settle", "0"]),
        &[("WHISPIR_USERNAME", "someone.else")],
    )
    .await;
    assert_eq!(user.status.code(), Some(2), "{}", stderr(&user));
    assert_eq!(first_server.sent_messages().len(), 6);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("r.journal")).unwrap(),
        journal_before,
        "a refused run writes nothing"
    );
    let status = whispir(
        &first_server,
        dir.path(),
        &["--json", "bulk", "status", "r.csv"],
        &[],
    )
    .await;
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert!(
        status["sendsTo"]
            .as_str()
            .unwrap()
            .starts_with(first_server.base_url()),
        "{status}"
    );

    // A rehearsal in the embedded sandbox keeps a journal of its own.
    let rehearsal = whispir(
        &first_server,
        dir.path(),
        &[
            "--sandbox",
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
            "--plan",
            "30",
        ],
        &[],
    )
    .await;
    assert_eq!(rehearsal.status.code(), Some(0), "{}", stderr(&rehearsal));
    assert!(dir.path().join("r.sandbox.journal").exists());
    assert_eq!(first_server.sent_messages().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_immediate_rerun_after_an_uncertain_answer_waits_for_the_listing() {
    // Whispir took the row, the answer was lost, and the listing shows it
    // only 1.5 s after the 202.
    let sandbox = Sandbox::builder()
        .processing_delay(Duration::from_millis(1500))
        .fault(lost_answers(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 3);
    let first = whispir(&sandbox, dir.path(), &send_args(&["--settle", "5"]), &[]).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    let started = Instant::now();
    let second = whispir(&sandbox, dir.path(), &send_args(&["--settle", "5"]), &[]).await;
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert!(stderr(&second).contains("waiting"), "{}", stderr(&second));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the rerun did not wait"
    );
    assert_each_once(&sandbox, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_journal_line_is_cut_away_and_sends_nothing_again() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Rows on lines 2 to 13: `failed 12` is what a torn `failed 123` leaves.
    write_csv(&dir.path().join("r.csv"), 12);
    let first = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let path = dir.path().join("r.journal");
    let whole = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{whole}failed 12")).unwrap();
    let second = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_each_once(&sandbox, 12);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        whole,
        "the torn line is cut away"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_check_is_the_sdks_and_a_fixed_csv_resumes_its_journal() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    // A number with spaces: the SDK refuses it, so the dry run must too.
    std::fs::write(&csv, "to,name\n61400010000,Ava\n+61 400 010 001,Ben\n").unwrap();
    let dry = whispir(
        &sandbox,
        dir.path(),
        &[
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
            "--dry-run",
        ],
        &[],
    )
    .await;
    assert_eq!(dry.status.code(), Some(5), "{}", stderr(&dry));
    assert!(
        stderr(&dry).contains("row 3, column to"),
        "{}",
        stderr(&dry)
    );

    // A row Whispir refuses (422: nothing sent) fails alone...
    std::fs::write(
        &csv,
        "to,name\n61400010000,Ava\n61400010001,Ben\n61400010002,Cy\n",
    )
    .unwrap();
    sandbox.add_fault("messageCreate:status=422*1".parse().unwrap());
    let first = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert_eq!(sandbox.sent_messages().len(), 2);
    let refused: Vec<String> = ["61400010000", "61400010001", "61400010002"]
        .into_iter()
        .filter(|to| !sandbox.sent_messages().iter().any(|m| m.to == [*to]))
        .map(String::from)
        .collect();
    assert_eq!(refused.len(), 1);
    // ...and once its row is changed (never sent: taken as it is now), the
    // same journal sends only that row.
    let fixed_csv = std::fs::read_to_string(&csv).unwrap().replace(
        &format!("{},", refused[0]),
        &format!("{},Fixed ", refused[0]),
    );
    std::fs::write(&csv, fixed_csv).unwrap();
    let fixed = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    assert_each_once(&sandbox, 3);

    // A row already sent that changed is named and refused.
    std::fs::write(
        &csv,
        "to,name\n61400010000,Ava\n61400010001,Ben\n61400010009,Cy\n",
    )
    .unwrap();
    let changed = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(changed.status.code(), Some(2), "{}", stderr(&changed));
    assert!(
        stderr(&changed).contains("row 4 was sent and differs now"),
        "{}",
        stderr(&changed)
    );
    assert_each_once(&sandbox, 3);
}

/// FNV-1a, 64 bits, as the journal writes its digests.
fn fnv(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|part| part.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

const MESSAGE_MEDIA: &str = "application/vnd.whispir.message-v1+json";

fn has_date_criteria(request: &Request) -> bool {
    request
        .url
        .query_pairs()
        .filter(|(name, _)| name.starts_with("criteria"))
        .count()
        == 4
}

fn offset_of(request: &Request) -> usize {
    request
        .url
        .query_pairs()
        .find(|(name, _)| name == "offset")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// One page of 20 messages, `createdTime`s in no order, from `offset` of
/// `total`.
fn unsorted_page(offset: usize, total: usize, label_at: Option<(usize, &str)>) -> Value {
    let now = chrono::Utc::now().timestamp_millis();
    let messages: Vec<Value> = (offset..(offset + 20).min(total))
        .map(|i| {
            let label = match label_at {
                Some((at, label)) if at == i => label.to_string(),
                _ => format!("other-{i}"),
            };
            json!({
                "to": "61400000001", "subject": "s", "label": label,
                "createdTime": now - i64::try_from((i * 7919) % 3600).unwrap() * 1000,
            })
        })
        .collect();
    json!({
        "messages": messages,
        "status": format!("{} to {} of {total}", offset + 1, (offset + 20).min(total)),
        "link": if offset + 20 < total { json!([{"uri": "next", "rel": "next", "method": "GET"}]) } else { json!([]) },
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsorted_listing_is_read_over_the_date_range_only() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = "to,text\n61400020000,One\n61400020001,Two\n61400020002,Three\n";
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let id = "0123456789ab";
    // Row 2 was answered without a verdict, row 3 was cut off by a crash,
    // both two minutes ago; row 4 never started.
    let at = chrono::Utc::now().timestamp_millis() - 120_000;
    let journal = format!(
        "whispir-bulk-journal 1 id={id} created={at} digest={} rows=3 base={} user=ops workspace=- sandbox=no\n\
         sending 2 {at} {}\nuncertain 2\nsending 3 {at} {}\n",
        fnv(&[csv.as_bytes(), b"\0", b"\0no template"]),
        server.uri(),
        fnv(&[b"61400020000", b"\0", b"One"]),
        fnv(&[b"61400020001", b"\0", b"Two"]),
    );
    std::fs::write(dir.path().join("r.journal"), journal).unwrap();
    // Over the date range: 60 messages in no order, row 2's among them.
    let label = format!("bulk-{id}-2");
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(has_date_criteria)
        .respond_with(move |request: &Request| {
            let offset = offset_of(request);
            if offset >= 60 {
                return ResponseTemplate::new(200)
                    .set_body_raw(r#"{"status": "No records found"}"#, MESSAGE_MEDIA);
            }
            let page = unsorted_page(offset, 60, Some((47, label.as_str())));
            ResponseTemplate::new(200).set_body_raw(page.to_string(), MESSAGE_MEDIA)
        })
        .expect(1..=4)
        .mount(&server)
        .await;
    // Without a range the list would never end.
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(|request: &Request| !has_date_criteria(request))
        .respond_with(|request: &Request| {
            let page = unsorted_page(offset_of(request), usize::MAX / 2, None);
            ResponseTemplate::new(200).set_body_raw(page.to_string(), MESSAGE_MEDIA)
        })
        .expect(0)
        .mount(&server)
        .await;
    let location = format!("{}/messages/ABCDEF0123456789ABCD", server.uri());
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", location.as_str())
                .set_body_raw(
                    r#""Your request has been accepted for processing""#,
                    MESSAGE_MEDIA,
                ),
        )
        .expect(2)
        .mount(&server)
        .await;
    let run = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        let base = server.uri();
        move || {
            std::process::Command::new(bin())
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("WHISPIR_CONFIG", dir.join("none.toml"))
                .env("WHISPIR_BASE_URL", base)
                .env("WHISPIR_USERNAME", "ops")
                .env("WHISPIR_PASSWORD", "pw")
                .env("WHISPIR_API_KEY", "key")
                .current_dir(&dir)
                .args([
                    "bulk",
                    "send",
                    "--per-row",
                    "r.csv",
                    "--plan",
                    "30",
                    "--settle",
                    "0",
                ])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(run.status.code(), Some(0), "{}", stderr(&run));
    let journal = std::fs::read_to_string(dir.path().join("r.journal")).unwrap();
    assert!(journal.contains("reconciled 2 sent"), "{journal}");
    assert!(journal.contains("reconciled 3 absent"), "{journal}");
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_quota_exits_6_and_the_rest_waits_for_the_next_run() {
    let sandbox = Sandbox::builder()
        .quota(Quota {
            per_day: Some(3),
            ..Quota::default()
        })
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 6);
    let run = whispir(&sandbox, dir.path(), &send_args(&[]), &[]).await;
    assert_eq!(run.status.code(), Some(6), "{}", stderr(&run));
    assert!(stderr(&run).contains("quota"), "{}", stderr(&run));
    let sent = sandbox.sent_messages().len();
    assert!(sent <= 3, "{sent}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_listing_cannot_settle_stays_uncertain_with_the_reason() {
    let sandbox = Sandbox::builder()
        .fault(lost_answers(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 3);
    let first = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    // The listing fails: nothing proves the row absent, so it is not sent.
    sandbox.add_fault(FaultRule::always(Fault::Status { status: 503 }).on("messageList"));
    let second = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(second.status.code(), Some(9), "{}", stderr(&second));
    let status = whispir(
        &sandbox,
        dir.path(),
        &["--json", "bulk", "status", "r.csv"],
        &[],
    )
    .await;
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    let reason = status["uncertainReasons"]["2"].as_str().unwrap_or_default();
    assert!(reason.contains("listing messages failed"), "{status}");
    assert_each_once(&sandbox, 3);
    // Once Whispir lists again, the row is found, not sent again.
    sandbox.clear_faults();
    let third = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_each_once(&sandbox, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_stops_at_once_recording_the_sends_in_flight_and_a_rerun_sends_each_row_once()
 {
    let sandbox = Sandbox::start().await.unwrap();
    // Every send takes 3 s to be answered: rows stay in flight.
    sandbox.add_fault("messageCreate:latency=3000".parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 8);
    let child = command(&sandbox, dir.path(), &send_args(&[]))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let journal = dir.path().join("r.journal");
    let started = Instant::now();
    while std::fs::read_to_string(&journal).map_or(true, |t| !t.contains("sending ")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nothing in flight"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let interrupt = || {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    };
    interrupt();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = Instant::now();
    interrupt();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        before.elapsed() < Duration::from_secs(2),
        "stopped at once, not after the 3 s answers"
    );
    assert_eq!(output.status.code(), Some(9), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("may have been sent"),
        "{}",
        stderr(&output)
    );
    let text = std::fs::read_to_string(&journal).unwrap();
    let sending: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("sending "))
        .filter_map(|rest| rest.split(' ').next())
        .collect();
    assert!(!sending.is_empty());
    for row in &sending {
        assert!(
            text.lines().any(|line| line == format!("uncertain {row}")),
            "row {row} in flight is recorded as uncertain: {text}"
        );
    }
    // A rerun settles them from the listing and sends each row once.
    sandbox.clear_faults();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rerun = whispir(&sandbox, dir.path(), &send_args(&["--settle", "1"]), &[]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_each_once(&sandbox, 8);
}

/// `whispir ARGS` in `dir` against the server at `base`, as user `ops`.
async fn whispir_at(base: &str, dir: &Path, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.join("none.toml"))
        .env("WHISPIR_BASE_URL", base)
        .env("WHISPIR_USERNAME", "ops")
        .env("WHISPIR_PASSWORD", "pw")
        .env("WHISPIR_API_KEY", "key")
        .current_dir(dir)
        .args(args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// A journal for the three rows of `csv` against `base`, with row 2
/// answered without a verdict two minutes ago.
/// Runs the send again against `server`, which cannot prove row 2 absent:
/// the run ends with 9 and row 2 is not sent again. The journal after it.
async fn rerun_leaves_row_2_uncertain(server: &MockServer, dir: &Path) -> String {
    let run = whispir_at(
        &server.uri(),
        dir,
        &[
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--plan",
            "30",
            "--settle",
            "0",
        ],
    )
    .await;
    assert_eq!(run.status.code(), Some(9), "{}", stderr(&run));
    let journal = std::fs::read_to_string(dir.join("r.journal")).unwrap();
    assert!(!journal.contains("reconciled 2 absent"), "{journal}");
    journal
}

fn journal_with_row_2_uncertain(csv: &str, id: &str, base: &str) -> String {
    let at = chrono::Utc::now().timestamp_millis() - 120_000;
    format!(
        "whispir-bulk-journal 1 id={id} created={at} digest={} rows=3 base={base} user=ops workspace=- sandbox=no\n\
         sending 2 {at} {}\nuncertain 2\n",
        fnv(&[csv.as_bytes(), b"\0", b"\0no template"]),
        fnv(&[b"61400020000", b"\0", b"One"]),
    )
}

/// Mounts an accepting `POST /messages`, expected `times` times.
async fn accept_sends(server: &MockServer, times: u64) {
    let location = format!("{}/messages/ABCDEF0123456789ABCD", server.uri());
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(
            ResponseTemplate::new(202)
                .insert_header("location", location.as_str())
                .set_body_raw(
                    r#""Your request has been accepted for processing""#,
                    MESSAGE_MEDIA,
                ),
        )
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_ends_before_its_stated_total_proves_nothing_absent() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = "to,text\n61400020000,One\n61400020001,Two\n61400020002,Three\n";
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let id = "0123456789ab";
    std::fs::write(
        dir.path().join("r.journal"),
        journal_with_row_2_uncertain(csv, id, &server.uri()),
    )
    .unwrap();
    // The first page states 60 messages and links to no next one; the
    // next offset answers "No records found". Row 2's message is the 48th.
    let label = format!("bulk-{id}-2");
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(move |request: &Request| {
            let offset = offset_of(request);
            if offset >= 20 {
                return ResponseTemplate::new(200)
                    .set_body_raw(r#"{"status": "No records found"}"#, MESSAGE_MEDIA);
            }
            let mut page = unsorted_page(offset, 60, Some((47, label.as_str())));
            page["link"] = json!([]);
            ResponseTemplate::new(200).set_body_raw(page.to_string(), MESSAGE_MEDIA)
        })
        .mount(&server)
        .await;
    // Rows 3 and 4 only: row 2 may have been sent.
    accept_sends(&server, 2).await;
    let journal = rerun_leaves_row_2_uncertain(&server, dir.path()).await;
    assert!(journal.contains("unsettled 2 "), "{journal}");
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_repeats_its_pages_proves_nothing_absent() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = "to,text\n61400020000,One\n61400020001,Two\n61400020002,Three\n";
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let id = "0123456789ab";
    std::fs::write(
        dir.path().join("r.journal"),
        journal_with_row_2_uncertain(csv, id, &server.uri()),
    )
    .unwrap();
    // A server that ignores `offset` after the first page: it serves the
    // first page's messages again under the later pages' status lines,
    // so row 2's message (the 48th) is never seen.
    let first = unsorted_page(0, 60, None);
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(move |request: &Request| {
            let offset = offset_of(request);
            let mut page = first.clone();
            let shown = unsorted_page(offset.min(60), 60, None);
            page["status"] = shown["status"].clone();
            page["link"] = shown["link"].clone();
            ResponseTemplate::new(200).set_body_raw(page.to_string(), MESSAGE_MEDIA)
        })
        .mount(&server)
        .await;
    accept_sends(&server, 2).await;
    rerun_leaves_row_2_uncertain(&server, dir.path()).await;
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_whose_total_changes_while_read_proves_nothing_absent() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let csv = "to,text\n61400020000,One\n61400020001,Two\n61400020002,Three\n";
    std::fs::write(dir.path().join("r.csv"), csv).unwrap();
    let id = "0123456789ab";
    std::fs::write(
        dir.path().join("r.journal"),
        journal_with_row_2_uncertain(csv, id, &server.uri()),
    )
    .unwrap();
    // 60 messages on the first page, 40 from the second on (twenty were
    // removed before the walk's offset, so twenty shifted past it unseen,
    // row 2's among them).
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(move |request: &Request| {
            let offset = offset_of(request);
            let total = if offset == 0 { 60 } else { 40 };
            if offset >= total {
                return ResponseTemplate::new(200)
                    .set_body_raw(r#"{"status": "No records found"}"#, MESSAGE_MEDIA);
            }
            let page = unsorted_page(offset, total, None);
            ResponseTemplate::new(200).set_body_raw(page.to_string(), MESSAGE_MEDIA)
        })
        .mount(&server)
        .await;
    accept_sends(&server, 2).await;
    let run = whispir_at(
        &server.uri(),
        dir.path(),
        &[
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--plan",
            "30",
            "--settle",
            "0",
        ],
    )
    .await;
    assert_eq!(run.status.code(), Some(9), "{}", stderr(&run));
    let journal = std::fs::read_to_string(dir.path().join("r.journal")).unwrap();
    assert!(journal.contains("unsettled 2 "), "{journal}");
    server.verify().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_base_url_spelled_differently_resumes_the_journal() {
    let sandbox = Sandbox::builder()
        .fault(lost_answers(1))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 3);
    let first = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    // Refused, it would be advised to start a new journal: every row again.
    let spelled = format!("{}/", sandbox.base_url().replacen("http://", "HTTP://", 1));
    let second = whispir(
        &sandbox,
        dir.path(),
        &send_args(&["--settle", "0"]),
        &[("WHISPIR_BASE_URL", spelled.as_str())],
    )
    .await;
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    assert_each_once(&sandbox, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_be_written_after_sends_began_exits_9() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 30);
    let credentials = sandbox.credentials();
    // Files may grow to one block only (a write past it fails with EFBIG
    // rather than killing the process): the journal fills up mid-run.
    let mut command = std::process::Command::new("sh");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.path().join("none.toml"))
        .env("WHISPIR_BASE_URL", sandbox.base_url())
        .env("WHISPIR_USERNAME", &credentials.user)
        .env("WHISPIR_PASSWORD", &credentials.password)
        .env("WHISPIR_API_KEY", &credentials.api_key)
        .current_dir(dir.path())
        .args(["-c", "trap '' XFSZ; ulimit -f 1; exec \"$0\" \"$@\""])
        .arg(bin())
        .args(send_args(&["--settle", "0"]));
    let full = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert!(!sandbox.sent_messages().is_empty(), "{}", stderr(&full));
    assert_eq!(full.status.code(), Some(9), "{}", stderr(&full));
    // With room again, the rows that may have gone out are found, and the
    // rest are sent: each once.
    let rerun = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_each_once(&sandbox, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_clock_two_days_ahead_still_finds_the_rows() {
    let sandbox = Sandbox::builder()
        .clock_ahead(Duration::from_secs(2 * 24 * 3600))
        .fault(lost_answers(3))
        .start()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 6);
    let first = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    let second = whispir(&sandbox, dir.path(), &send_args(&["--settle", "0"]), &[]).await;
    assert_each_once(&sandbox, 6);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
}
