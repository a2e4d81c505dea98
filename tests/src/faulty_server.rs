//! A deliberately unreliable message endpoint on 127.0.0.1 for
//! fault-injection tests: it resets connections, answers 500, 503, 429 or
//! 403 over-QPS, or answers late, and counts how often it acted on each
//! message (keyed by the message's `subject`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// What the server does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Act on it and answer 202.
    Accept,
    /// Reset the connection before acting.
    ResetBeforeActing,
    /// Act on it, then reset the connection without answering.
    ResetAfterActing,
    /// Act on it and answer 500.
    ActThenFail,
    /// Answer 503 without acting.
    Unavailable,
    /// Answer 429 without acting.
    TooManyRequests,
    /// Answer 403 `ERR_403_DEVELOPER_OVER_QPS` without acting.
    OverQps,
    /// Act on it and answer 202 after a delay.
    Slow(Duration),
}

/// The server and what it has seen.
pub struct FaultyServer {
    /// `http://127.0.0.1:port`.
    pub uri: String,
    acted: Arc<Mutex<HashMap<String, u32>>>,
    requests: Arc<Mutex<u64>>,
}

impl FaultyServer {
    /// Starts the server; `choose` picks the fault for the n-th request.
    pub async fn start(choose: impl Fn(u64) -> Fault + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let uri = format!("http://{}", listener.local_addr().expect("address"));
        let acted = Arc::new(Mutex::new(HashMap::new()));
        let requests = Arc::new(Mutex::new(0u64));
        let choose = Arc::new(choose);
        let (acted_, requests_) = (acted.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let n = {
                    let mut count = requests_.lock().expect("lock");
                    *count += 1;
                    *count
                };
                let fault = choose(n);
                tokio::spawn(serve(socket, fault, acted_.clone()));
            }
        });
        Self {
            uri,
            acted,
            requests,
        }
    }

    /// How often the server acted on the message with this subject.
    pub fn acted_on(&self, subject: &str) -> u32 {
        self.acted
            .lock()
            .expect("lock")
            .get(subject)
            .copied()
            .unwrap_or(0)
    }

    /// Requests received in all.
    pub fn requests(&self) -> u64 {
        *self.requests.lock().expect("lock")
    }
}

async fn read_request(socket: &mut TcpStream) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    let mut buffer = [0u8; 4096];
    let header_end = loop {
        let read = socket.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while data.len() < header_end + length {
        let read = socket.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        data.extend_from_slice(&buffer[..read]);
    }
    Some(data[header_end..header_end + length].to_vec())
}

fn subject_of(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["subject"].as_str().map(str::to_string))
        .unwrap_or_default()
}

async fn reset(socket: TcpStream) {
    // A zero linger makes closing send RST instead of FIN.
    let _ = socket.set_zero_linger();
    drop(socket);
}

async fn answer(mut socket: TcpStream, status: &str, extra: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n{extra}\r\n{{}}"
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

async fn serve(mut socket: TcpStream, fault: Fault, acted: Arc<Mutex<HashMap<String, u32>>>) {
    let Some(body) = read_request(&mut socket).await else {
        return;
    };
    let act = || {
        *acted
            .lock()
            .expect("lock")
            .entry(subject_of(&body))
            .or_insert(0) += 1;
    };
    match fault {
        Fault::Accept => {
            act();
            answer(socket, "202 Accepted", "location: /messages/AB\r\n").await;
        }
        Fault::ResetBeforeActing => reset(socket).await,
        Fault::ResetAfterActing => {
            act();
            reset(socket).await;
        }
        Fault::ActThenFail => {
            act();
            answer(socket, "500 Internal Server Error", "").await;
        }
        Fault::Unavailable => answer(socket, "503 Service Unavailable", "").await,
        Fault::TooManyRequests => answer(socket, "429 Too Many Requests", "").await,
        Fault::OverQps => {
            answer(
                socket,
                "403 Forbidden",
                "x-error-code: ERR_403_DEVELOPER_OVER_QPS\r\n",
            )
            .await
        }
        Fault::Slow(delay) => {
            act();
            tokio::time::sleep(delay).await;
            answer(socket, "202 Accepted", "location: /messages/AB\r\n").await;
        }
    }
}
