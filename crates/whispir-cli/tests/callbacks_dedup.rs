//! `whispir callbacks listen --dedup`: two replicas (OS processes) sharing
//! a real `redis-server` print each event once across a retry to the
//! other replica and a restart, and follow `--when-dedup-unavailable`
//! while Redis is down. Without `redis-server` on the `PATH` the test
//! fails under CI (`CI=true`) and is skipped elsewhere.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KEY: &str = "cb-key-123";

struct Redis {
    port: u16,
    child: Child,
}

impl Redis {
    fn start(port: u16) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "redis-server is missing: CI must run this test"
            );
            eprintln!("SKIPPED: redis-server is not installed");
            return None;
        }
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self { port, child })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One `whispir callbacks listen --dedup` process.
struct Replica {
    child: Child,
    address: String,
}

impl Replica {
    fn start(redis_url: &str, extra: &[&str]) -> Self {
        let mut child = Command::new(support::bin())
            .args(["callbacks", "listen", "--port", "0", "--key", KEY])
            .args(["--dedup", redis_url])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        // Keep draining stderr, so that the process never blocks on it.
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest);
            eprint!("{rest}");
        });
        Self { child, address }
    }

    /// Posts a reply with `content`; the status code.
    fn post(&self, content: &str) -> u16 {
        let body = format!(
            r#"{{"messageid":"M1","from":{{"mobile":"+61400000001"}},"responseMessage":{{"channel":"SMS","acknowledged":"01/02/24 10:00","content":"{content}"}}}}"#
        );
        let mut stream = TcpStream::connect(&self.address).unwrap();
        write!(
            stream,
            "POST /cb HTTP/1.1\r\nHost: x\r\nX-Whispir-Callback-Key: {KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
            .get(9..12)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"))
    }

    /// Kills the process (SIGKILL) and gives the contents it printed.
    fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut printed = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut printed)
            .unwrap();
        printed
            .lines()
            .map(|line| {
                let callback: serde_json::Value = serde_json::from_str(line).unwrap();
                callback["responseMessage"]["content"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }
}

#[test]
fn replicas_print_each_event_once_across_a_retry_elsewhere_a_restart_and_redis_down() {
    let Some(mut redis) = Redis::start(free_port()) else {
        return;
    };
    let url = redis.url();
    let a = Replica::start(&url, &[]);
    let b = Replica::start(&url, &[]);
    assert_eq!(a.post("YES"), 200);
    assert_eq!(b.post("YES"), 200, "the retry on the other replica");
    assert_eq!(b.post("NO"), 200, "another reply is another event");
    let printed_a = a.kill();
    let a = Replica::start(&url, &[]);
    assert_eq!(a.post("YES"), 200, "the retry on a restarted replica");
    assert_eq!(a.post("NO"), 200);

    // Redis down: refused by default, printed by a replica told to act.
    redis.stop();
    let acting = Replica::start(&url, &["--when-dedup-unavailable", "act"]);
    assert_eq!(a.post("MAYBE"), 503, "refused: Whispir retries later");
    assert_eq!(acting.post("MAYBE"), 200);

    let mut printed: Vec<String> = [printed_a, b.kill(), a.kill(), acting.kill()].concat();
    printed.sort();
    assert_eq!(printed, ["MAYBE", "NO", "YES"]);
}

#[test]
fn an_empty_dedup_url_is_refused_rather_than_listening_without_dedup() {
    // `--dedup "$REDIS_URL"` with the variable unset: starting without
    // de-duplication would act on every retry to another replica again.
    let mut child = Command::new(support::bin())
        .args(["callbacks", "listen", "--port", "0", "--key", KEY])
        .args(["--dedup", ""])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`--dedup \"\"` started listening without de-duplication");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("--dedup"), "{stderr}");
}
