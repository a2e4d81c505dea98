//! The `whispir-sandbox` binary (feature `cli`): it prints where it
//! listens, with which credentials, the `export` lines for
//! `Client::from_env` and a `curl` line that sends a message, then serves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn the_binary_prints_its_url_and_credentials_then_serves() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_whispir-sandbox"))
        .args(["--port", "0", "--fault", "workspaceList:status=503*1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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

    // An operator sees each request on stderr, without its credentials.
    let mut logged = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(line) = logged.next_line().await.unwrap() {
            let done = line == "GET /workspaces workspaceList 200";
            seen.push(line);
            if done {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("a line per request on stderr: {seen:?}"));
    assert_eq!(seen[0], "GET /workspaces workspaceList 503");
    assert!(
        seen.iter()
            .all(|line| !line.contains(&password) && !line.contains(&key))
    );

    // The export block names exactly what `Client::from_env` reads.
    let exports: Vec<(String, String)> = printed
        .iter()
        .filter_map(|line| line.trim_start().strip_prefix("export "))
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap();
            (name.to_string(), value.to_string())
        })
        .collect();
    assert_eq!(
        exports,
        [
            ("WHISPIR_BASE_URL".to_string(), base_url.clone()),
            ("WHISPIR_USERNAME".to_string(), user.clone()),
            ("WHISPIR_PASSWORD".to_string(), password.clone()),
            ("WHISPIR_API_KEY".to_string(), key.clone()),
        ]
    );

    // The curl line sends a message, with the vendor media types.
    let curl = printed
        .iter()
        .map(|line| line.trim_start())
        .find(|line| line.starts_with("curl "))
        .unwrap()
        .to_string();
    assert!(
        curl.contains("Content-Type: application/vnd.whispir.message-v1+json"),
        "{curl}"
    );
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok()
    {
        let output = Command::new("sh")
            .args(["-c", &curl])
            .output()
            .await
            .unwrap();
        let answer = String::from_utf8_lossy(&output.stdout);
        assert!(answer.starts_with("HTTP/1.1 202"), "{curl}\n{answer}");
    } else {
        eprintln!("curl is not installed: the printed curl line was not run");
    }
    child.kill().await.unwrap();
}
