//! The `whispir-sandbox` binary: it prints where it listens and with which
//! credentials, then serves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_its_url_and_credentials_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_whispir-sandbox"))
        .args(["--port", "0", "--fault", "workspaceList:status=503*1"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let done = line.starts_with("Press Ctrl-C");
            printed.push(line);
            if done {
                break;
            }
        }
    })
    .await
    .expect("the banner within 30 s");
    let base_url = printed[0].rsplit(' ').next().unwrap().to_string();
    assert!(base_url.starts_with("http://127.0.0.1:"), "{printed:?}");
    let value = |label: &str| {
        let line = printed
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap();
        line.rsplit(' ').next().unwrap().to_string()
    };
    let (user, password, key) = (value("user:"), value("password:"), value("API key:"));

    // This process starts no sandbox, which would install reqwest's TLS
    // provider; without one, building a plain client panics.
    whispir::install_tls_provider();
    let http = reqwest::Client::new();
    let get = || {
        http.get(format!("{base_url}/workspaces"))
            .basic_auth(&user, Some(&password))
            .header("x-api-key", &key)
            .send()
    };
    assert_eq!(
        get().await.unwrap().status(),
        503,
        "the fault given on the command line"
    );
    assert_eq!(get().await.unwrap().status(), 200);
    child.kill().await.unwrap();
}
