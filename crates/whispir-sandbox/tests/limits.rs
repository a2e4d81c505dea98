//! What the sandbox refuses to hold or wait for: the body of a request it
//! refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use whispir_sandbox::{Sandbox, SandboxBuilder};

const CONTACT: &str = "application/vnd.whispir.contact-v1+json";

/// Longer than any answer should take here; what must not come within it
/// is waited for a shorter time.
const PROMPTLY: Duration = Duration::from_secs(5);

async fn start(builder: SandboxBuilder) -> Sandbox {
    builder.start().await.expect("the sandbox starts")
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
