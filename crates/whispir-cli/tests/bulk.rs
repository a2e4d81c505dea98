//! `whispir bulk`: checking a CSV, refusing a locked journal, Ctrl-C, and
//! a send killed with SIGKILL again and again that still sends every row
//! exactly once, all against one sandbox process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{SandboxProcess, assert_no_secret, write_csv};

/// Messages per recipient among those whose label starts with `bulk-`.
fn bulk_messages_by_recipient(sandbox: &SandboxProcess) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for message in sandbox.messages() {
        if message["label"]
            .as_str()
            .is_some_and(|l| l.starts_with("bulk-"))
        {
            *counts
                .entry(message["to"].as_str().unwrap().to_string())
                .or_insert(0) += 1;
        }
    }
    counts
}

fn status(sandbox: &SandboxProcess, journal: &str) -> Value {
    let output = sandbox
        .command()
        .args(["--json", "bulk", "status", "r.csv", "--journal", journal])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn a_csv_with_bad_rows_names_each_and_sends_nothing() {
    let sandbox = SandboxProcess::start();
    std::fs::write(
        sandbox.path("bad.csv"),
        "to,name\n,Ava\n+61 400 000 002,Ben\n61400000001,\n",
    )
    .unwrap();
    let output = sandbox
        .command()
        .args([
            "bulk",
            "send",
            "--per-row",
            "bad.csv",
            "--template",
            "Hi {name}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "row 2, column to: empty",
        "row 3, column to",
        "row 4, column name: empty",
    ] {
        assert!(stderr.contains(expected), "{stderr}");
    }
    assert!(!sandbox.path("bad.journal").exists());
    assert!(bulk_messages_by_recipient(&sandbox).is_empty());
}

#[test]
fn a_template_naming_no_column_is_a_usage_error_and_sends_nothing() {
    let sandbox = SandboxProcess::start();
    write_csv(&sandbox.path("r.csv"), 3);
    let output = sandbox
        .command()
        .args([
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {nmae}",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a bad flag, not a bad file");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--template: {nmae} names no column"),
        "{stderr}"
    );
    assert!(bulk_messages_by_recipient(&sandbox).is_empty());
}

#[test]
fn a_dry_run_checks_and_sends_nothing() {
    let sandbox = SandboxProcess::start();
    write_csv(&sandbox.path("r.csv"), 3);
    let output = sandbox
        .command()
        .args([
            "--json",
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
            "--dry-run",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["toSend"], 3);
    assert!(bulk_messages_by_recipient(&sandbox).is_empty());
}

#[test]
fn a_finished_run_is_not_sent_again_and_resolve_refuses_a_settled_row() {
    let sandbox = SandboxProcess::start();
    write_csv(&sandbox.path("r.csv"), 5);
    for _ in 0..2 {
        let output = sandbox
            .command()
            .args([
                "--json",
                "bulk",
                "send",
                "--per-row",
                "r.csv",
                "--template",
                "Hi {name}",
                "--plan",
                "30",
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_no_secret(&output, &sandbox.secrets());
    }
    assert_eq!(status(&sandbox, "r.journal")["sent"], 5);
    let counts = bulk_messages_by_recipient(&sandbox);
    assert_eq!(counts.len(), 5);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
    let output = sandbox
        .command()
        .args(["bulk", "resolve", "r.csv", "2", "sent"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_second_run_on_a_locked_journal_refuses_and_ctrl_c_leaves_a_journal_that_resumes() {
    let sandbox = SandboxProcess::start();
    write_csv(&sandbox.path("r.csv"), 40);
    // At 5 a second, 40 rows take 8 s: time to try a second run.
    let first = sandbox
        .std_command()
        .args([
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
            "--plan",
            "5",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let journal = sandbox.path("r.journal");
    let started = Instant::now();
    while std::fs::read_to_string(&journal).map_or(true, |t| !t.contains("sent ")) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the first run never sent"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = sandbox
        .command()
        .args([
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
        ])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("in use by another whispir run"));
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &first.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let output = first.wait_with_output().unwrap();
    assert_eq!(
        output.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stopped = status(&sandbox, "r.journal");
    assert!(stopped["sent"].as_u64().unwrap() < 40);
    assert_eq!(
        stopped["uncertain"].as_array().unwrap().len(),
        0,
        "in-flight sends finished"
    );
    let output = sandbox
        .command()
        .args([
            "bulk",
            "send",
            "--per-row",
            "r.csv",
            "--template",
            "Hi {name}",
            "--plan",
            "30",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(status(&sandbox, "r.journal")["sent"], 40);
    let counts = bulk_messages_by_recipient(&sandbox);
    assert_eq!(counts.len(), 40);
    assert!(counts.values().all(|n| *n == 1), "{counts:?}");
}

#[test]
fn a_send_killed_again_and_again_sends_every_row_exactly_once() {
    killed_again_and_again(&SandboxProcess::start(), Duration::ZERO, "1");
}

#[test]
fn a_send_killed_again_and_again_sends_every_row_exactly_once_despite_a_processing_delay() {
    // Whispir lists a message only once processed; the settle time (2 s)
    // covers the delay (600 ms) with room for a loaded machine.
    let sandbox = SandboxProcess::start_with(&["--processing-delay-ms", "600"]);
    killed_again_and_again(&sandbox, Duration::from_millis(600), "2");
}

fn killed_again_and_again(sandbox: &SandboxProcess, processing_delay: Duration, settle: &str) {
    let rows = 300;
    write_csv(&sandbox.path("r.csv"), rows);
    let args = [
        "bulk",
        "send",
        "--per-row",
        "r.csv",
        "--template",
        "Hi {name}",
        "--plan",
        "30",
        "--settle",
        settle,
    ];
    let kills = 6;
    for kill in 0..kills {
        let mut child = sandbox
            .std_command()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Somewhere in the first 2.5 s of a run (300 rows take 10 s).
        std::thread::sleep(Duration::from_millis(300 + fastrand::u64(..2200)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let journal = std::fs::read_to_string(sandbox.path("r.journal")).unwrap_or_default();
        eprintln!("kill {kill}: {} journal lines", journal.lines().count());
    }
    let output = sandbox.command().args(args).output().unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 9)),
        "exit {code:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary = status(sandbox, "r.journal");
    let uncertain = summary["uncertain"].as_array().unwrap().len();
    assert!(uncertain <= 2, "{summary}");
    assert_eq!(
        summary["sent"].as_u64().unwrap() as usize + uncertain,
        rows,
        "{summary}"
    );
    // The newest sends show once processed.
    std::thread::sleep(processing_delay);
    let counts = bulk_messages_by_recipient(sandbox);
    assert!(
        counts.values().all(|n| *n == 1),
        "a recipient got two messages: {counts:?}"
    );
    assert!(
        counts.len() >= rows - uncertain,
        "{} of {rows} recipients got theirs",
        counts.len()
    );
}
