//! Support for the tests of a plan shared through Redis: a `redis-server`
//! of the test's own on a free loopback port, an API stand-in that counts
//! requests by arrival time, and the report of the `quota_worker` binary
//! the tests start as separate processes.

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener as StdListener, TcpStream as StdStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A `redis-server` on 127.0.0.1 with a temporary directory, without
/// persistence; stopped (and its directory removed) when dropped.
pub struct RedisServer {
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
    /// Arguments besides port, address, directory and persistence.
    extra: Vec<&'static str>,
}

impl RedisServer {
    /// Starts `redis-server` on a free port. Without one on the `PATH`, a
    /// test stops here: loudly under CI (`CI=true`), where it must run,
    /// and with `None` (the caller returns) elsewhere.
    pub fn start() -> Option<Self> {
        Self::start_with(Vec::new())
    }

    /// A Redis Cluster node (`--cluster-enabled yes`), alone: it answers
    /// `cluster_enabled:1` and refuses keys with `CLUSTERDOWN`.
    pub fn start_cluster_node() -> Option<Self> {
        Self::start_with(vec!["--cluster-enabled", "yes"])
    }

    fn start_with(extra: Vec<&'static str>) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .output()
            .is_err()
        {
            if std::env::var("CI").is_ok_and(|ci| ci == "true") {
                panic!(
                    "redis-server is missing: CI must run the shared-quota tests (.ci/run installs it)"
                );
            }
            eprintln!(
                "SKIPPED: redis-server is not installed (apt-get install redis-server runs these tests)"
            );
            return None;
        }
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("whispir-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory for redis-server");
        let mut server = Self {
            port,
            dir,
            child: None,
            extra,
        };
        server.restart();
        Some(server)
    }

    /// `redis://127.0.0.1:port/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL: no goodbye to its clients).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server without ending it (SIGSTOP): its clients get no
    /// answer, its data stays.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Lets a frozen server go on (SIGCONT).
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("redis-server runs");
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill {signal} failed");
    }

    /// Starts the server again on the same port, empty, and waits until it
    /// answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(&self.dir)
            .args(["--save", "", "--appendonly", "no"])
            .args(&self.extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let started = Instant::now();
        while !self.answers() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not answer PING within 10 s on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one inline command (`HGET key field`) and returns the raw
    /// reply, e.g. `$1\r\n2\r\n`.
    pub fn command(&self, line: &str) -> String {
        let mut stream = StdStream::connect(("127.0.0.1", self.port)).expect("redis-server is up");
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("a timeout");
        stream
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("the command is sent");
        let mut reply = [0u8; 512];
        let read = stream.read(&mut reply).expect("a reply");
        String::from_utf8_lossy(&reply[..read]).into_owned()
    }

    fn answers(&self) -> bool {
        let Ok(mut stream) = StdStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The API stand-in: answers every request 200 with a message, unless the
/// sliding second before it already holds `per_second` requests, then 429
/// as the API would; records every request's arrival time.
pub struct CountingServer {
    /// `http://127.0.0.1:port`.
    pub uri: String,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    refused: Arc<Mutex<u64>>,
}

impl CountingServer {
    /// Starts the server on the current tokio runtime.
    pub async fn start(per_second: usize) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let uri = format!("http://{}", listener.local_addr().expect("address"));
        let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let refused: Arc<Mutex<u64>> = Arc::default();
        let window: Arc<Mutex<VecDeque<Instant>>> = Arc::default();
        let (arrivals_, refused_) = (arrivals.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (arrivals, refused, window) =
                    (arrivals_.clone(), refused_.clone(), window.clone());
                tokio::spawn(serve(socket, per_second, arrivals, refused, window));
            }
        });
        Self {
            uri,
            arrivals,
            refused,
        }
    }

    /// Every request's arrival, in order.
    pub fn arrivals(&self) -> Vec<Instant> {
        let mut arrivals = self.arrivals.lock().expect("lock").clone();
        arrivals.sort();
        arrivals
    }

    /// Requests answered 429 for being over the plan.
    pub fn refused(&self) -> u64 {
        *self.refused.lock().expect("lock")
    }
}

async fn serve(
    mut socket: TcpStream,
    per_second: usize,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    refused: Arc<Mutex<u64>>,
    window: Arc<Mutex<VecDeque<Instant>>>,
) {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        // One request head (the workers send GETs without a body).
        let end = loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => data.extend_from_slice(&buffer[..read]),
            }
        };
        data.drain(..end);
        let now = Instant::now();
        arrivals.lock().expect("lock").push(now);
        let over = {
            let mut window = window.lock().expect("lock");
            while window
                .front()
                .is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1))
            {
                window.pop_front();
            }
            window.push_back(now);
            window.len() > per_second
        };
        let answer: &[u8] = if over {
            *refused.lock().expect("lock") += 1;
            b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 24\r\n\r\n{\"to\":\"1\",\"subject\":\"x\"}"
        };
        if socket.write_all(answer).await.is_err() {
            return;
        }
    }
}

/// The most arrivals in any sliding second.
pub fn busiest_second(sorted: &[Instant]) -> usize {
    (0..sorted.len())
        .map(|i| {
            sorted[i..]
                .iter()
                .take_while(|t| **t < sorted[i] + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// What one `quota_worker` process did, from the JSON line it prints last.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Requests answered 2xx.
    pub ok: u64,
    /// Refused by the client: the daily budget was spent.
    pub daily_spent: u64,
    /// Refused by the client: the shared quota's store was unavailable.
    pub store_unavailable: u64,
    /// Refused by the client: the wait was longer than the call's budget.
    pub pause_too_long: u64,
    /// Refused by the API for quota (403 over QPS/QPD, 429).
    pub api_throttled: u64,
    /// Any other failure.
    pub other: u64,
    /// `Client::remaining_today()` at the end.
    pub remaining_today: Option<u64>,
}

impl WorkerReport {
    /// The report as the worker prints it.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "ok": self.ok,
            "daily_spent": self.daily_spent,
            "store_unavailable": self.store_unavailable,
            "pause_too_long": self.pause_too_long,
            "api_throttled": self.api_throttled,
            "other": self.other,
            "remaining_today": self.remaining_today,
        })
        .to_string()
    }

    /// The report from a worker's last line of output.
    pub fn from_output(stdout: &str) -> Self {
        let line = stdout.lines().last().unwrap_or_default();
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("a worker printed no report ({err}): {stdout:?}"));
        let count = |name: &str| value[name].as_u64().unwrap_or(0);
        Self {
            ok: count("ok"),
            daily_spent: count("daily_spent"),
            store_unavailable: count("store_unavailable"),
            pause_too_long: count("pause_too_long"),
            api_throttled: count("api_throttled"),
            other: count("other"),
            remaining_today: value["remaining_today"].as_u64(),
        }
    }
}
