//! What the sandbox refuses to hold or wait for: the body of a request it
//! refuses, connections past the limit, idle connections, tokens and
//! callback calls past their bounds, and keys in recorded callback URLs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use whispir_sandbox::{FAILING_NUMBER, Limits, Sandbox, SandboxBuilder};

const CONTACT: &str = "application/vnd.whispir.contact-v1+json";
const MESSAGE: &str = "application/vnd.whispir.message-v1+json";
const CALLBACK: &str = "application/vnd.whispir.api-callback-v1+json";

/// Longer than any answer should take here; what must not come within it
/// is waited for a shorter time.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn start(builder: SandboxBuilder) -> Sandbox {
    builder.start().await.expect("the sandbox starts")
}

fn limits(change: impl FnOnce(&mut Limits)) -> SandboxBuilder {
    let mut limits = Limits::default();
    change(&mut limits);
    Sandbox::builder().limits(limits)
}

async fn connect(sandbox: &Sandbox) -> TcpStream {
    TcpStream::connect(sandbox.base_url().trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads one response head (status line and headers), or what arrived
/// before the stream ended.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A plain HTTP client with the sandbox's credentials.
fn authorized(sandbox: &Sandbox, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
    let credentials = sandbox.credentials();
    reqwest::Client::new()
        .request(method, format!("{}{path}", sandbox.base_url()))
        .basic_auth(&credentials.user, Some(&credentials.password))
        .header("x-api-key", &credentials.api_key)
}

#[tokio::test]
async fn a_request_without_an_api_key_is_refused_while_its_endless_body_still_arrives() {
    let sandbox = start(Sandbox::builder()).await;
    let (mut reader, mut writer) = connect(&sandbox).await.into_split();
    writer
        .write_all(
            format!(
                "POST /contacts HTTP/1.1\r\nHost: sandbox\r\nContent-Type: {CONTACT}\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // A body that never ends: a sandbox that read it before checking the
    // key would answer only when its body timeout (30 s) struck.
    let endless = tokio::spawn(async move {
        let chunk = format!("1000\r\n{}\r\n", "x".repeat(0x1000));
        while writer.write_all(chunk.as_bytes()).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let head = tokio::time::timeout(PROMPTLY, read_head(&mut reader))
        .await
        .expect("an answer while the body is still arriving");
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
    endless.abort();
}

/// Sends a POST with `Expect: 100-continue` and returns the first response
/// head: `100 Continue` when the sandbox asks for the body.
async fn first_head_of_an_expecting_post(sandbox: &Sandbox, password: &str) -> String {
    let credentials = sandbox.credentials();
    let basic = base64_basic(&credentials.user, password);
    let mut stream = connect(sandbox).await;
    let body = "{\"firstName\": \"Ann\"}";
    stream
        .write_all(
            format!(
                "POST /contacts HTTP/1.1\r\nHost: sandbox\r\nContent-Type: {CONTACT}\r\n\
                 Authorization: Basic {basic}\r\nx-api-key: {}\r\n\
                 Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
                credentials.api_key,
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    tokio::time::timeout(PROMPTLY, read_head(&mut stream))
        .await
        .expect("a first answer")
}

fn base64_basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

#[tokio::test]
async fn wrong_credentials_are_refused_without_asking_for_the_body() {
    let sandbox = start(Sandbox::builder()).await;
    let refused = first_head_of_an_expecting_post(&sandbox, "wrong").await;
    assert!(refused.starts_with("HTTP/1.1 401 "), "{refused}");
    // The same request with the right password is asked for its body: the
    // sandbox's HTTP server sends 100 Continue exactly when the body is read.
    let password = sandbox.credentials().password.clone();
    let accepted = first_head_of_an_expecting_post(&sandbox, &password).await;
    assert!(accepted.starts_with("HTTP/1.1 100 "), "{accepted}");
}

#[tokio::test]
async fn past_the_most_connections_a_new_one_waits_until_another_closes() {
    let sandbox = start(limits(|limits| limits.max_connections = 2)).await;
    let first = connect(&sandbox).await;
    let _second = connect(&sandbox).await;
    let mut third = connect(&sandbox).await;
    third
        .write_all(b"GET /workspaces HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(500), read_head(&mut third)).await;
    assert!(
        early.is_err(),
        "a third connection was served while two were open: {early:?}"
    );
    drop(first);
    let head = tokio::time::timeout(PROMPTLY, read_head(&mut third))
        .await
        .expect("an answer once a connection closed");
    assert!(head.starts_with("HTTP/1.1 403 "), "{head}");
}

/// Reads until the sandbox closes the connection; what arrived.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    stream.read_to_end(&mut received).await.unwrap();
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_connection_idle_past_the_idle_timeout_is_closed() {
    let sandbox = start(limits(|limits| limits.idle_timeout_millis = 200)).await;

    let mut silent = connect(&sandbox).await;
    let closed = tokio::time::timeout(PROMPTLY, read_until_closed(&mut silent)).await;
    assert_eq!(closed.as_deref(), Ok(""), "a silent connection is closed");

    // After an answer, a keep-alive connection waiting for its next request
    // is idle too.
    let mut kept_alive = connect(&sandbox).await;
    kept_alive
        .write_all(b"GET /workspaces HTTP/1.1\r\nHost: sandbox\r\n\r\n")
        .await
        .unwrap();
    let received = tokio::time::timeout(PROMPTLY, read_until_closed(&mut kept_alive))
        .await
        .expect("the idle connection is closed after its answer");
    assert!(received.starts_with("HTTP/1.1 403 "), "{received}");
    assert!(
        !received.to_ascii_lowercase().contains("connection: close"),
        "the answer itself kept the connection alive: {received}"
    );
}

#[tokio::test]
async fn past_the_most_tokens_the_oldest_issued_token_is_refused() {
    let sandbox = start(limits(|limits| limits.max_tokens = 2)).await;
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let issued: Value = authorized(&sandbox, reqwest::Method::POST, "/auth")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        tokens.push(issued["token"].as_str().unwrap().to_string());
    }
    let status_with = |token: String| {
        let request = reqwest::Client::new()
            .get(format!("{}/workspaces", sandbox.base_url()))
            .bearer_auth(token)
            .header("x-api-key", &sandbox.credentials().api_key);
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(
        status_with(tokens[0].clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(status_with(tokens[1].clone()).await, StatusCode::OK);
    assert_eq!(status_with(tokens[2].clone()).await, StatusCode::OK);
    let configured = sandbox.credentials().bearer_token.clone();
    assert_eq!(status_with(configured).await, StatusCode::OK);
}

/// A URL nothing listens on: callbacks to it fail, and are recorded.
async fn unreachable_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{address}/hook")
}

/// Creates a callback told of undeliverable messages; its id.
async fn create_callback(sandbox: &Sandbox, name: &str, url: &str, key: &str) -> String {
    let created = authorized(sandbox, reqwest::Method::POST, "/callbacks")
        .header("content-type", CALLBACK)
        .body(
            json!({
                "name": name, "url": url, "auth": {"type": "queryparam", "key": key},
                "contentType": "json", "removeHTML": "disabled", "retriesEnabled": false,
                "email": "ops@example.com",
                "callbacks": {"reply": "disabled", "undeliverable": "enabled"}
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_string()
}

/// Sends an undeliverable message naming a callback; the message's id.
async fn send_undeliverable(sandbox: &Sandbox, callback: &str) -> String {
    let sent = authorized(sandbox, reqwest::Method::POST, "/messages")
        .header("content-type", MESSAGE)
        .body(
            json!({"to": FAILING_NUMBER, "subject": "Hi", "body": "Hello", "callbackId": callback})
                .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::ACCEPTED);
    let location = sent.headers()["location"].to_str().unwrap();
    location.rsplit('/').next().unwrap().to_string()
}

async fn recorded_calls(sandbox: &Sandbox, callback_id: &str) -> Vec<Value> {
    let listed: Value = authorized(
        sandbox,
        reqwest::Method::GET,
        &format!("/callbacks/{callback_id}/calls"),
    )
    .send()
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    listed["calls"].as_array().cloned().unwrap_or_default()
}

/// Waits until the callback's recorded calls include one for the message.
async fn wait_for_call(sandbox: &Sandbox, callback_id: &str, message_id: &str) -> Vec<Value> {
    for _ in 0..100 {
        let calls = recorded_calls(sandbox, callback_id).await;
        if calls.iter().any(|call| call["messageId"] == message_id) {
            return calls;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no call recorded for message {message_id}");
}

#[tokio::test]
async fn past_the_most_callback_calls_the_oldest_is_dropped() {
    let sandbox = start(
        limits(|limits| limits.max_callback_calls = 2).message_step(Duration::from_millis(10)),
    )
    .await;
    let callback_id = create_callback(&sandbox, "bounded", &unreachable_url().await, "k").await;
    let mut messages = Vec::new();
    for _ in 0..3 {
        let message_id = send_undeliverable(&sandbox, "bounded").await;
        wait_for_call(&sandbox, &callback_id, &message_id).await;
        messages.push(message_id);
    }
    let kept: Vec<Value> = recorded_calls(&sandbox, &callback_id)
        .await
        .iter()
        .map(|call| call["messageId"].clone())
        .collect();
    assert_eq!(kept, [json!(messages[1]), json!(messages[2])]);
}

#[tokio::test]
async fn a_recorded_callback_call_keeps_no_key_of_the_callback_url() {
    let sandbox = start(Sandbox::builder().message_step(Duration::from_millis(10))).await;
    let url = unreachable_url().await;
    let callback_id = create_callback(
        &sandbox,
        "keyed",
        &format!("{url}?token=secret-in-url"),
        "secret-query-key",
    )
    .await;
    let message_id = send_undeliverable(&sandbox, "keyed").await;
    let calls = wait_for_call(&sandbox, &callback_id, &message_id).await;
    let recorded = calls[0].to_string();
    assert!(!recorded.contains("secret-in-url"), "{recorded}");
    assert!(!recorded.contains("secret-query-key"), "{recorded}");
    assert_eq!(calls[0]["callback"]["url"], url.as_str());
    assert_eq!(calls[0]["status"], "FAILED");
    assert!(
        calls[0]["callback"]["statusMessage"]
            .as_str()
            .unwrap()
            .starts_with("the callback URL could not be reached"),
        "{recorded}"
    );
}
