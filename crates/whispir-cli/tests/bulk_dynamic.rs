//! `whispir bulk send` as dynamic messages (the default), counted at the
//! sandbox: every row reaches its recipient with its own text in at most
//! three requests a chunk; what the campaign refuses is refused before any
//! upload; and SIGKILL at each moment of a chunk (its upload held, its
//! send held, its send carried out with the answer held) followed by a
//! rerun sends no chunk twice and reuses the upload. Each moment is made
//! by the sandbox holding a request, and the kill waits for the journal
//! line or the sandbox state that proves the moment was reached.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::bin;
use whispir_sandbox::{Fault, FaultRule, Limits, Sandbox};

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

async fn whispir(sandbox: &Sandbox, dir: &Path, args: &[&str]) -> Output {
    let mut command = command(sandbox, dir, args);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Row `i`'s number (from 0).
fn mobile(i: usize) -> String {
    format!("614{:08}", 20_000 + i)
}

/// `rows` rows: a number, a name and a code of each row's own.
fn write_rows(path: &Path, rows: usize) {
    let mut text = String::from("to,First Name,code\n");
    for i in 0..rows {
        text.push_str(&format!("{},Person {i},C{i:05}\n", mobile(i)));
    }
    std::fs::write(path, text).unwrap();
}

fn expected_text(i: usize) -> String {
    format!("Hi Person {i}, your code is C{i:05}.")
}

const TEMPLATE: &str = "Hi {First Name}, your code is {code}.";

async fn sandbox(faults: Vec<FaultRule>) -> Sandbox {
    let mut builder = Sandbox::builder()
        .limits(Limits {
            max_recorded_requests: 5_000,
            max_sent_messages: 10_000,
            ..Limits::default()
        })
        .message_step(Duration::from_millis(20));
    for fault in faults {
        builder = builder.fault(fault);
    }
    builder.start().await.unwrap()
}

/// How many requests of each operation the sandbox answered.
fn operations(sandbox: &Sandbox) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for request in sandbox.requests() {
        *counts
            .entry(request.operation_id.clone().unwrap_or_default())
            .or_insert(0) += 1;
    }
    counts
}

/// Deliveries per recipient.
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

/// The resources the CLI uploaded, by name.
async fn resources(sandbox: &Sandbox) -> BTreeMap<String, String> {
    let listed = sandbox
        .client()
        .resource_list()
        .send()
        .await
        .unwrap()
        .into_inner();
    listed
        .resources
        .into_iter()
        .filter(|resource| resource.name.starts_with("bulk-"))
        .map(|resource| (resource.name, resource.id.unwrap_or_default()))
        .collect()
}

fn journal(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("r.journal")).unwrap_or_default()
}

fn status(sandbox: &Sandbox, dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["--json", "bulk", "status", "r.csv"];
    args.extend_from_slice(extra);
    let output = command(sandbox, dir, &args).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_gets_its_own_text_in_at_most_three_requests_a_chunk() {
    let sandbox = sandbox(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let rows = 2_500;
    write_rows(&dir.path().join("r.csv"), rows);
    let send = [
        "bulk",
        "send",
        "r.csv",
        "--template",
        TEMPLATE,
        "--rows-per-chunk",
        "1000",
    ];
    let output = whispir(&sandbox, dir.path(), &send).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let counts = operations(&sandbox);
    assert_eq!(counts.get("resourceCreate"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("messageCreate"), Some(&3), "{counts:?}");
    let requests: usize = counts.values().sum();
    assert!(requests <= 3 * 3, "three chunks: {counts:?}");
    assert_each_once(&sandbox, rows);
    for message in sandbox.sent_messages() {
        assert!(message.row.is_some(), "a dynamic message's delivery");
        let to = &message.to[0];
        let index: usize = to[3..].parse::<usize>().unwrap() - 20_000;
        assert_eq!(message.text(), expected_text(index), "{to}");
    }

    // Each row's chunk and state, then each recipient's result.
    let summary = status(&sandbox, dir.path(), &[]);
    assert_eq!(summary["mode"], "dynamic");
    assert_eq!(summary["sent"], rows);
    let outcomes = summary["rowOutcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), rows);
    assert_eq!(outcomes[0]["row"], 2);
    assert_eq!(outcomes[0]["chunk"], 1);
    assert_eq!(outcomes[rows - 1]["chunk"], 3);
    assert!(outcomes.iter().all(|row| row["state"] == "sent"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let results = status(&sandbox, dir.path(), &["--results"]);
    let outcomes = results["rowOutcomes"].as_array().unwrap();
    assert_eq!(outcomes[0]["to"], mobile(0));
    assert_eq!(outcomes[rows - 1]["to"], mobile(rows - 1));
    assert!(
        outcomes.iter().all(|row| row["category"] == "Received"),
        "{}",
        outcomes[0]
    );

    // A rerun sends nothing; the other mode is refused, naming both.
    let before = sandbox.requests().len();
    let again = whispir(&sandbox, dir.path(), &send).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(sandbox.requests().len(), before, "nothing to send");
    let per_row = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "send", "r.csv", "--template", TEMPLATE, "--per-row"],
    )
    .await;
    assert_eq!(per_row.status.code(), Some(2), "{}", stderr(&per_row));
    let text = stderr(&per_row);
    assert!(
        text.contains("dynamic") && text.contains("per-row"),
        "{text}"
    );
    assert_each_once(&sandbox, rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_tag_or_address_in_a_late_row_is_refused_before_any_upload() {
    let sandbox = sandbox(vec![]).await;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    write_rows(&csv, 8_000);
    let refused = |output: &Output, code: i32, names: &str| {
        assert_eq!(output.status.code(), Some(code), "{}", stderr(output));
        assert!(
            stderr(output).contains(names),
            "{names}: {}",
            stderr(output)
        );
        assert!(sandbox.requests().is_empty(), "nothing was uploaded");
        assert!(!dir.path().join("r.journal").exists());
    };
    let tag = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "send", "r.csv", "--template", "Hi {nmae}"],
    )
    .await;
    refused(&tag, 2, "{nmae} names no column");
    let at = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "send", "r.csv", "--template", "Hi @@name@@ {code}"],
    )
    .await;
    refused(&at, 2, "--template");

    // Row 7,312 of the file (data row 7,311): two recipients in one cell,
    // which one message per row can send and one dynamic message cannot.
    let text = std::fs::read_to_string(&csv).unwrap();
    let late = mobile(7_310);
    let two = text.replace(&late, &format!("\"{late},61400000001\""));
    std::fs::write(&csv, &two).unwrap();
    let output = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "send", "r.csv", "--template", TEMPLATE],
    )
    .await;
    refused(&output, 5, "row 7312, column to");
    assert!(stderr(&output).contains("--per-row"), "{}", stderr(&output));
    let per_row = whispir(
        &sandbox,
        dir.path(),
        &[
            "bulk",
            "send",
            "r.csv",
            "--template",
            TEMPLATE,
            "--per-row",
            "--dry-run",
        ],
    )
    .await;
    assert_eq!(per_row.status.code(), Some(0), "{}", stderr(&per_row));

    // A number no channel can read, in the same late row.
    std::fs::write(&csv, text.replace(&late, "0400 007 311")).unwrap();
    let output = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "send", "r.csv", "--template", TEMPLATE],
    )
    .await;
    refused(&output, 5, "row 7312, column to");

    let both = whispir(
        &sandbox,
        dir.path(),
        &[
            "bulk",
            "send",
            "r.csv",
            "--per-row",
            "--rows-per-chunk",
            "5",
        ],
    )
    .await;
    refused(&both, 2, "--rows-per-chunk");
    assert!(sandbox.sent_messages().is_empty());
}

/// 30 rows in chunks of 10; the sandbox holds chunk 1's request (faults
/// that strike once); the run is killed with SIGKILL once `reached` says
/// the moment came (the journal line written, or the sandbox's state
/// changed); then a rerun, against a sandbox without faults, finishes.
async fn killed_then_rerun(
    faults: Vec<FaultRule>,
    reached: impl Fn(&Sandbox, &str) -> bool,
    cut_journal_to: Option<&str>,
) -> (Sandbox, tempfile::TempDir, BTreeMap<String, usize>) {
    let sandbox = sandbox(faults).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 30);
    let args = [
        "bulk",
        "send",
        "r.csv",
        "--template",
        TEMPLATE,
        "--rows-per-chunk",
        "10",
        "--settle",
        "0",
    ];
    let mut child = command(&sandbox, dir.path(), &args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !reached(&sandbox, &journal(dir.path())) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the moment never came; journal:\n{}",
            journal(dir.path())
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // A held request the killed run made has its faults already; one it
    // had not made yet never will be: the rerun meets none.
    sandbox.clear_faults();
    let killed = journal(dir.path());
    if let Some(line) = cut_journal_to {
        // The journal as a kill just before the next line leaves it.
        let end = killed.find(line).unwrap() + line.len();
        let end = end + killed[end..].find('\n').unwrap() + 1;
        std::fs::write(dir.path().join("r.journal"), &killed[..end]).unwrap();
    }
    let rerun = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "{}\njournal:\n{}",
        stderr(&rerun),
        journal(dir.path())
    );
    assert_each_once(&sandbox, 30);
    let messages: std::collections::BTreeSet<String> = sandbox
        .sent_messages()
        .into_iter()
        .map(|message| message.message_id.clone())
        .collect();
    assert_eq!(messages.len(), 3, "one dynamic message per chunk");
    let summary = status(&sandbox, dir.path(), &[]);
    assert_eq!(summary["sent"], 30, "{summary}");
    // The CLI's requests, before this test's own listing.
    let counts = operations(&sandbox);
    let names = resources(&sandbox).await;
    assert_eq!(names.len(), 3, "one upload per chunk: {names:?}");
    (sandbox, dir, counts)
}

/// The resource id the journal recorded for chunk 1.
fn recorded_upload(journal: &str) -> String {
    journal
        .lines()
        .find_map(|line| line.strip_prefix("chunk 1 uploaded "))
        .unwrap()
        .to_string()
}

fn held(operation: &str, fault: Fault) -> FaultRule {
    FaultRule::always(fault).on(operation).times(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_during_the_upload_the_rerun_finds_the_upload() {
    // The upload is made, its answer held: the journal never learns its id.
    let made = std::sync::Mutex::new(None::<String>);
    let (_sandbox, dir, counts) = killed_then_rerun(
        vec![held("resourceCreate", Fault::HoldAnswer { millis: 30_000 })],
        |sandbox, journal| {
            if !journal.contains("chunk 1 uploading") {
                return false;
            }
            let listed = tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(resources(sandbox))
            });
            let first = listed.into_values().next();
            let done = first.is_some();
            *made.lock().unwrap() = first;
            done
        },
        None,
    )
    .await;
    let journal = journal(dir.path());
    assert_eq!(
        Some(recorded_upload(&journal)),
        made.lock().unwrap().clone(),
        "the rerun recorded the upload the killed run made: {journal}"
    );
    assert_eq!(counts.get("messageCreate"), Some(&3), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_the_send_is_held_unacted_the_rerun_proves_it_absent_and_sends_once() {
    // The send is held, then dropped unacted: the chunk was not sent.
    let (_sandbox, dir, counts) = killed_then_rerun(
        vec![
            held("messageCreate", Fault::Latency { millis: 30_000 }),
            held("messageCreate", Fault::ResetBeforeActing),
        ],
        |_, journal| journal.contains("chunk 1 sending"),
        None,
    )
    .await;
    let journal = journal(dir.path());
    assert!(journal.contains("chunk 1 reconciled absent"), "{journal}");
    assert_eq!(
        journal.matches("chunk 1 uploaded").count(),
        1,
        "the upload was reused: {journal}"
    );
    assert_eq!(counts.get("resourceCreate"), Some(&3), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_between_upload_and_send_the_rerun_sends_from_the_recorded_upload() {
    // As above, with the journal cut back to its `uploaded` line: a kill
    // after the upload was recorded and before the send began.
    let (_sandbox, dir, counts) = killed_then_rerun(
        vec![
            held("messageCreate", Fault::Latency { millis: 30_000 }),
            held("messageCreate", Fault::ResetBeforeActing),
        ],
        |_, journal| journal.contains("chunk 1 sending"),
        Some("chunk 1 uploaded"),
    )
    .await;
    let journal = journal(dir.path());
    assert!(
        !journal.contains("reconciled"),
        "nothing to settle: {journal}"
    );
    assert_eq!(counts.get("resourceCreate"), Some(&3), "{counts:?}");
    assert_eq!(counts.get("resourceList"), None, "the id was recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_send_before_its_record_the_rerun_finds_it_and_sends_it_not_again() {
    // The send is carried out, its answer held: the journal says only
    // `sending`.
    let (_sandbox, dir, counts) = killed_then_rerun(
        vec![held("messageCreate", Fault::HoldAnswer { millis: 30_000 })],
        |sandbox, journal| {
            journal.contains("chunk 1 sending") && !sandbox.sent_messages().is_empty()
        },
        None,
    )
    .await;
    let journal = journal(dir.path());
    assert!(journal.contains("chunk 1 reconciled sent"), "{journal}");
    assert_eq!(counts.get("resourceCreate"), Some(&3), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_the_listing_cannot_settle_stays_uncertain_until_resolved() {
    // The send is carried out but its answer lost; the listing then fails.
    let sandbox = sandbox(vec![held("messageCreate", Fault::ResetAfterActing)]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 4);
    let args = [
        "bulk",
        "send",
        "r.csv",
        "--template",
        TEMPLATE,
        "--settle",
        "0",
    ];
    let first = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    sandbox.add_fault(FaultRule::always(Fault::Status { status: 503 }).on("messageList"));
    let second = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(second.status.code(), Some(9), "{}", stderr(&second));
    let summary = status(&sandbox, dir.path(), &[]);
    let reason = summary["chunks"][0]["uncertainReason"].as_str().unwrap();
    assert!(reason.contains("listing messages failed"), "{summary}");
    assert_eq!(summary["uncertain"].as_array().unwrap().len(), 4);
    assert_eq!(received(&sandbox).len(), 4, "sent once, never again");

    // An operator who found the message in Whispir says so for any row.
    let resolve = whispir(
        &sandbox,
        dir.path(),
        &["bulk", "resolve", "r.csv", "3", "sent"],
    )
    .await;
    assert_eq!(resolve.status.code(), Some(0), "{}", stderr(&resolve));
    assert!(journal(dir.path()).ends_with("chunk 1 resolved sent\n"));
    let done = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(done.status.code(), Some(0), "{}", stderr(&done));
    assert_each_once(&sandbox, 4);
    assert_eq!(status(&sandbox, dir.path(), &[])["sent"], 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_cut_while_its_chunks_were_planned_is_planned_on() {
    // The first run is refused its upload (nothing made), and its journal
    // is cut back to the first `planned` line, as a crash while the plan
    // was written leaves it.
    let sandbox = sandbox(vec![held("resourceCreate", Fault::Status { status: 503 })]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 30);
    let args = [
        "bulk",
        "send",
        "r.csv",
        "--template",
        TEMPLATE,
        "--rows-per-chunk",
        "10",
    ];
    let first = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let written = journal(dir.path());
    let end = written.find("chunk 2 planned").unwrap();
    std::fs::write(dir.path().join("r.journal"), &written[..end]).unwrap();
    let rerun = whispir(&sandbox, dir.path(), &args).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_each_once(&sandbox, 30);
    assert_eq!(journal(dir.path()).matches(" planned ").count(), 3);
}

/// Sends SIGINT to `child`.
fn interrupt(child: &std::process::Child) {
    let sent = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// A run of 30 rows in chunks of 10 whose first send is carried out and
/// its answer held 3 s, interrupted once (or twice) while held.
async fn interrupted(twice: bool) -> (Sandbox, tempfile::TempDir, Output) {
    let sandbox = sandbox(vec![held(
        "messageCreate",
        Fault::HoldAnswer { millis: 3_000 },
    )])
    .await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 30);
    let mut child = command(&sandbox, dir.path(), &RUN_OF_THREE)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let in_flight =
        || journal(dir.path()).contains("chunk 1 sending") && !sandbox.sent_messages().is_empty();
    while !in_flight() {
        assert!(started.elapsed() < Duration::from_secs(20), "never sent");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    interrupt(&child);
    // The second only once the first was taken (its line on stderr).
    let stderr_pipe = child.stderr.take().unwrap();
    let (lines, seen) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead as _;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr_pipe).lines() {
            let line = line.unwrap();
            let _ = lines.send(line.clone());
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    loop {
        let line = seen.recv_timeout(Duration::from_secs(20)).unwrap();
        if line.contains("Ctrl-C: taking no more chunks") {
            break;
        }
    }
    if twice {
        interrupt(&child);
    }
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let output = Output {
        status,
        stdout: Vec::new(),
        stderr: reader.join().unwrap().into_bytes(),
    };
    sandbox.clear_faults();
    (sandbox, dir, output)
}

const RUN_OF_THREE: [&str; 9] = [
    "bulk",
    "send",
    "r.csv",
    "--template",
    TEMPLATE,
    "--rows-per-chunk",
    "10",
    "--settle",
    "0",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_lets_the_chunk_in_flight_finish_and_takes_no_more() {
    let (sandbox, dir, output) = interrupted(false).await;
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let summary = status(&sandbox, dir.path(), &[]);
    assert_eq!(summary["sent"], 10, "{summary}");
    assert_eq!(summary["chunks"][1]["state"], "not started", "{summary}");
    let rerun = whispir(&sandbox, dir.path(), &RUN_OF_THREE).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_each_once(&sandbox, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_records_the_send_in_flight_as_uncertain_and_a_rerun_finds_it() {
    let (sandbox, dir, output) = interrupted(true).await;
    assert_eq!(output.status.code(), Some(9), "{}", stderr(&output));
    assert!(journal(dir.path()).contains("chunk 1 uncertain"));
    let rerun = whispir(&sandbox, dir.path(), &RUN_OF_THREE).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert!(journal(dir.path()).contains("chunk 1 reconciled sent"));
    assert_each_once(&sandbox, 30);
}

/// 20 rows in chunks of 10, with `--settle 0`.
const RUN_OF_TWO: [&str; 9] = [
    "bulk",
    "send",
    "r.csv",
    "--template",
    TEMPLATE,
    "--rows-per-chunk",
    "10",
    "--settle",
    "0",
];

/// Deletes the resource `id` as Whispir's 30 days do.
async fn delete_resource(sandbox: &Sandbox, id: &str) {
    sandbox
        .client()
        .resource_delete()
        .resource_id(id)
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_resumed_after_its_upload_expired_uploads_again_and_sends_once() {
    // Chunk 1 is uploaded, its send refused (nothing sent); then its
    // resource goes, as one does 30 days after its upload.
    let sandbox = sandbox(vec![held("messageCreate", Fault::Status { status: 400 })]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 20);
    let first = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    let written = journal(dir.path());
    assert!(written.contains("chunk 1 failed"), "{written}");
    assert!(sandbox.sent_messages().is_empty());
    let gone = recorded_upload(&written);
    let name = resources(&sandbox)
        .await
        .into_iter()
        .find(|(_, id)| *id == gone)
        .unwrap()
        .0;
    delete_resource(&sandbox, &gone).await;

    let rerun = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    let written = journal(dir.path());
    assert_eq!(
        rerun.status.code(),
        Some(0),
        "{}\njournal:\n{written}",
        stderr(&rerun)
    );
    assert!(
        written.contains(&format!("chunk 1 upload-gone {gone}\n")),
        "{written}"
    );
    assert_each_once(&sandbox, 20);
    let messages: std::collections::BTreeSet<String> = sandbox
        .sent_messages()
        .into_iter()
        .map(|message| message.message_id.clone())
        .collect();
    assert_eq!(messages.len(), 2, "one dynamic message per chunk");
    // The new upload has the name the first had, and the journal has it.
    let names = resources(&sandbox).await;
    assert_eq!(names.len(), 2, "{names:?}");
    let again = &names[&name];
    assert_ne!(*again, gone);
    assert!(
        written.contains(&format!("chunk 1 uploaded {again}\n")),
        "{written}"
    );
    // And the journal reads back: a third run has nothing to do.
    let before = sandbox.requests().len();
    let third = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert_eq!(sandbox.requests().len(), before);
}

/// `whispir ARGS` as [`command`], with its files limited to `bytes` each
/// (a full disk, as the journal meets it: writes past it fail).
fn with_file_limit(sandbox: &Sandbox, dir: &Path, bytes: usize, args: &[&str]) -> Output {
    let limited = command(sandbox, dir, args);
    let mut command = std::process::Command::new("sh");
    command
        .env_clear()
        .envs(limited.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(dir)
        .arg("-c")
        // Ignored, SIGXFSZ lets the write fail instead of killing.
        .arg(format!(
            "trap '' XFSZ; exec prlimit --fsize={bytes}:{bytes} \"$@\""
        ))
        .arg("sh")
        .arg(bin())
        .args(args);
    command.output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_be_written_with_a_chunk_uncertain_exits_9() {
    // Chunk 1's send is carried out, its answer lost: uncertain.
    let sandbox = sandbox(vec![held("messageCreate", Fault::ResetAfterActing)]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 20);
    let first = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    // The rerun cannot settle it (the listing fails), nor write that down.
    sandbox.add_fault(FaultRule::always(Fault::Status { status: 503 }).on("messageList"));
    let size = journal(dir.path()).len();
    let rerun = with_file_limit(&sandbox, dir.path(), size, &RUN_OF_TWO);
    assert_eq!(journal(dir.path()).len(), size, "nothing could be written");
    let text = stderr(&rerun);
    assert_eq!(rerun.status.code(), Some(9), "{text}");
    assert!(
        text.contains("cannot write the journal") && text.contains("chunk 1 may have been sent"),
        "{text}"
    );
    assert_each_once(&sandbox, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_dated_after_the_clock_now_stays_uncertain_in_both_modes() {
    for (mode, sending) in [("dynamic", "chunk 1 sending "), ("--per-row", "sending 2 ")] {
        // The send is carried out, its answer lost: uncertain.
        let sandbox = sandbox(vec![held("messageCreate", Fault::ResetAfterActing)]).await;
        let dir = tempfile::tempdir().unwrap();
        write_rows(&dir.path().join("r.csv"), 1);
        let mut args = vec![
            "bulk",
            "send",
            "r.csv",
            "--template",
            TEMPLATE,
            "--settle",
            "0",
        ];
        if mode == "--per-row" {
            args.push(mode);
        }
        let first = whispir(&sandbox, dir.path(), &args).await;
        assert_eq!(first.status.code(), Some(9), "{mode}: {}", stderr(&first));
        // As a clock a day fast dated it, since set right.
        let written = journal(dir.path());
        let at = written.find(sending).unwrap() + sending.len();
        let end = at + written[at..].find([' ', '\n']).unwrap();
        let stamped: i64 = written[at..end].parse().unwrap();
        let ahead = (stamped + 24 * 3600 * 1000).to_string();
        let edited = format!("{}{ahead}{}", &written[..at], &written[end..]);
        std::fs::write(dir.path().join("r.journal"), edited).unwrap();

        let rerun = whispir(&sandbox, dir.path(), &args).await;
        let written = journal(dir.path());
        assert_eq!(
            rerun.status.code(),
            Some(9),
            "{mode}: {}\n{written}",
            stderr(&rerun)
        );
        assert!(written.contains("clock was set back"), "{mode}: {written}");
        assert_each_once(&sandbox, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_ctrl_c_with_no_send_in_flight_exits_9_while_a_chunk_is_uncertain() {
    // Chunk 1 is left uncertain; chunks 2 and 3 were never begun.
    let (sandbox, dir, output) = interrupted(true).await;
    assert_eq!(output.status.code(), Some(9), "{}", stderr(&output));
    // The rerun cannot settle chunk 1; chunk 2's upload is held, and two
    // Ctrl-C stop the run there, with no send in flight.
    sandbox.add_fault(FaultRule::always(Fault::Status { status: 503 }).on("messageList"));
    sandbox.add_fault(held("resourceCreate", Fault::Latency { millis: 5_000 }));
    let child = command(&sandbox, dir.path(), &RUN_OF_THREE)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !journal(dir.path()).contains("chunk 2 uploading") {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never uploaded"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    interrupt(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    interrupt(&child);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(9), "{text}");
    assert!(text.contains("a chunk may have been sent"), "{text}");
    assert_eq!(received(&sandbox).len(), 10, "chunk 1 only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_while_a_gone_upload_is_checked_reports_the_chunk_not_sent() {
    // As a_run_resumed_after_its_upload_expired…: chunk 1's upload is gone.
    let sandbox = sandbox(vec![held("messageCreate", Fault::Status { status: 400 })]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 20);
    let first = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    delete_resource(&sandbox, &recorded_upload(&journal(dir.path()))).await;
    // The rerun's check of the upload is held; Ctrl-C meanwhile.
    sandbox.add_fault(held("resourceRetrieve", Fault::Latency { millis: 3_000 }));
    let mut args = vec!["--json"];
    args.extend_from_slice(&RUN_OF_TWO);
    let child = command(&sandbox, dir.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while journal(dir.path()).matches("chunk 1 failed").count() < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "never refused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    interrupt(&child);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    let summary: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary["chunks"][0]["state"], "not sent", "{summary}");
    assert!(sandbox.sent_messages().is_empty());
    let rerun = whispir(&sandbox, dir.path(), &RUN_OF_TWO).await;
    assert_eq!(rerun.status.code(), Some(0), "{}", stderr(&rerun));
    assert_each_once(&sandbox, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_row_journal_written_before_modes_is_refused_by_the_default_mode() {
    // A per-row run leaves row 2 uncertain; its header then loses its
    // `mode=`, as a journal written before journals named their mode.
    let sandbox = sandbox(vec![held("messageCreate", Fault::ResetAfterActing)]).await;
    let dir = tempfile::tempdir().unwrap();
    write_rows(&dir.path().join("r.csv"), 3);
    let per_row = [
        "bulk",
        "send",
        "r.csv",
        "--template",
        TEMPLATE,
        "--per-row",
        "--settle",
        "0",
    ];
    let first = whispir(&sandbox, dir.path(), &per_row).await;
    assert_eq!(first.status.code(), Some(9), "{}", stderr(&first));
    let written = journal(dir.path());
    assert!(written.contains(" mode=per-row\n"), "{written}");
    let old = written.replacen(" mode=per-row\n", "\n", 1);
    std::fs::write(dir.path().join("r.journal"), &old).unwrap();
    let before = sandbox.requests().len();
    let default = whispir(&sandbox, dir.path(), &per_row[..per_row.len() - 3]).await;
    let text = stderr(&default);
    assert_eq!(default.status.code(), Some(2), "{text}");
    assert!(
        text.contains("per-row") && text.contains("with --per-row"),
        "{text}"
    );
    assert_eq!(
        sandbox.requests().len(),
        before,
        "nothing was asked of Whispir"
    );
    assert_eq!(journal(dir.path()), old, "the journal is as it was");
}
