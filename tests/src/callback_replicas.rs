//! Support for the tests of callbacks acted on once across replicas: the
//! `callback_replica` binary as a child process, and the log its handler
//! writes (one line when it starts on an event, one when it has acted).

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The key every replica accepts, in the `X-Whispir-Callback-Key` header.
pub const KEY: &str = "replica-callback-key-1";

/// One `callback_replica` process; killed (SIGKILL) when dropped.
pub struct Replica {
    child: Child,
    /// Where it takes callbacks: `http://127.0.0.1:port/cb`.
    pub url: String,
}

/// How a replica is started.
#[derive(Debug, Clone)]
pub struct ReplicaOptions {
    /// The Redis URL of the shared store.
    pub redis: String,
    /// The lease of a claim, in milliseconds.
    pub lease_ms: u64,
    /// How long the handler takes, in milliseconds.
    pub handler_ms: u64,
    /// `refuse` or `act`: what happens while Redis is down.
    pub unavailable: &'static str,
    /// The handler's log, shared by every replica of a test.
    pub log: PathBuf,
}

impl Replica {
    /// Starts `binary` (the test's `CARGO_BIN_EXE_callback_replica`) and
    /// waits until it listens.
    pub fn start(binary: &str, options: &ReplicaOptions) -> Self {
        let mut child = Command::new(binary)
            .arg(format!("redis={}", options.redis))
            .arg(format!("lease_ms={}", options.lease_ms))
            .arg(format!("handler_ms={}", options.handler_ms))
            .arg(format!("unavailable={}", options.unavailable))
            .arg(format!("log={}", options.log.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the replica starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut first)
            .expect("the replica says where it listens");
        let url = first
            .strip_prefix("listening ")
            .map(|url| url.trim().to_string())
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        Self { child, url }
    }

    /// Its process id, as the log names it.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills it with SIGKILL: no goodbye, no release of its claims.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One line of the handlers' log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// `started` or `acted`.
    pub step: String,
    /// The reply's text.
    pub content: String,
    /// The replica's process id.
    pub pid: u32,
}

/// The lines of the handlers' log at `path` so far.
pub fn read_log(path: &Path) -> Vec<LogLine> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            Some(LogLine {
                step: parts.next()?.to_string(),
                content: parts.next()?.to_string(),
                pid: parts.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// The replicas' pids that acted on `content`, in order.
pub fn acted_on(path: &Path, content: &str) -> Vec<u32> {
    read_log(path)
        .into_iter()
        .filter(|line| line.step == "acted" && line.content == content)
        .map(|line| line.pid)
        .collect()
}
