//! `--otlp`: a bulk send in the embedded sandbox exports its metrics to a
//! tiny OTLP/HTTP receiver on loopback, which decodes them; a collector
//! that is gone or never answers neither fails the command nor holds it up
//! past the bound, and is said once on stderr without the headers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message as _;
use support::write_csv;

/// What the receiver took: each export's decoded body and its headers.
type Received = Arc<Mutex<Vec<(ExportMetricsServiceRequest, HeaderMap)>>>;

/// An OTLP/HTTP receiver on a free loopback port, on a runtime of its own.
struct Receiver {
    address: SocketAddr,
    received: Received,
    _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let received: Received = Arc::default();
        let store = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/v1/metrics",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let store = Arc::clone(&store);
                async move {
                    let request = ExportMetricsServiceRequest::decode(body).expect("OTLP protobuf");
                    store.lock().unwrap().push((request, headers));
                    ""
                }
            }),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await });
        Self {
            address,
            received,
            _runtime: runtime,
        }
    }

    fn base(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The data points of `name` in the last export that has it: unit,
    /// attributes (sorted `key=value`) and value.
    fn sums(&self, name: &str) -> Vec<(String, Vec<String>, u64)> {
        self.sums_of("whispir-cli", name)
    }

    /// The same, for a counter of the meter `meter`.
    fn sums_of(&self, meter: &str, name: &str) -> Vec<(String, Vec<String>, u64)> {
        let received = self.received.lock().unwrap();
        let mut points = Vec::new();
        for (request, _) in received.iter().rev() {
            for resource in &request.resource_metrics {
                for scope in &resource.scope_metrics {
                    for metric in scope.metrics.iter().filter(|m| m.name == name) {
                        let scope_name = scope.scope.as_ref().map(|s| s.name.as_str());
                        assert_eq!(scope_name, Some(meter), "{name}'s meter");
                        let Some(Data::Sum(sum)) = &metric.data else {
                            panic!("{name} is not a sum: {:?}", metric.data);
                        };
                        assert!(sum.is_monotonic, "{name} is a counter");
                        for point in &sum.data_points {
                            let mut attributes: Vec<String> = point
                                .attributes
                                .iter()
                                .map(|kv| format!("{}={}", kv.key, text(&kv.value)))
                                .collect();
                            attributes.sort();
                            let value = match point.value {
                                Some(
                                    opentelemetry_proto::tonic::metrics::v1::number_data_point::Value::AsInt(v),
                                ) => u64::try_from(v).unwrap(),
                                other => panic!("{name}: not an integer: {other:?}"),
                            };
                            points.push((metric.unit.clone(), attributes, value));
                        }
                    }
                }
            }
            if !points.is_empty() {
                break;
            }
        }
        points.sort();
        points
    }

    /// The resource attribute `key` of the first export.
    fn resource_attribute(&self, key: &str) -> Option<String> {
        let received = self.received.lock().unwrap();
        let (request, _) = received.first()?;
        let resource = request.resource_metrics.first()?.resource.as_ref()?;
        resource
            .attributes
            .iter()
            .find(|kv| kv.key == key)
            .map(|kv| text(&kv.value))
    }
}

fn text(value: &Option<opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        other => format!("{other:?}"),
    }
}

/// `whispir --sandbox ARGS` in `dir`, with only these variables.
fn whispir(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = assert_cmd::Command::new(support::bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.join("none.toml"))
        .current_dir(dir)
        .arg("--sandbox")
        .args(args)
        .timeout(Duration::from_secs(60));
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

/// A `--per-row` bulk send: one request a row, so that a run can be
/// stopped between rows.
const BULK: [&str; 7] = [
    "bulk",
    "send",
    "r.csv",
    "--per-row",
    "--template",
    "Hi {name}",
    "--plan",
];

fn rows(outcome: &str, value: u64) -> (String, Vec<String>, u64) {
    rows_in("per_row", outcome, value)
}

fn rows_in(mode: &str, outcome: &str, value: u64) -> (String, Vec<String>, u64) {
    (
        "{row}".to_owned(),
        vec![
            format!("whispir.bulk.mode={mode}"),
            format!("whispir.row.outcome={outcome}"),
        ],
        value,
    )
}

#[test]
fn a_dynamic_bulk_send_exports_its_rows_by_chunk_and_a_rerun_its_rows_already_done() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 5);
    let base = receiver.base();
    let args = [
        "--otlp",
        base.as_str(),
        "bulk",
        "send",
        "r.csv",
        "--template",
        "Hi {name}",
        "--rows-per-chunk",
        "2",
    ];
    let output = whispir(dir.path(), &args, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        receiver.sums("whispir.bulk.rows"),
        [rows_in("dynamic", "sent", 5)]
    );

    receiver.received.lock().unwrap().clear();
    let output = whispir(dir.path(), &args, &[]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        receiver.sums("whispir.bulk.rows"),
        [rows_in("dynamic", "already_done", 5)]
    );
}

#[test]
fn a_bulk_send_exports_its_rows_to_the_collector_and_a_rerun_its_rows_already_done() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 4);

    let base = receiver.base();
    let mut args = vec!["--otlp", base.as_str()];
    args.extend(BULK);
    args.push("30");
    let output = whispir(
        dir.path(),
        &args,
        &[("OTEL_EXPORTER_OTLP_HEADERS", "x-collector-token=t0ken-1")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("metrics"), "no warning: {stderr}");
    assert_eq!(receiver.sums("whispir.bulk.rows"), [rows("sent", 4)]);
    assert_eq!(
        receiver.resource_attribute("service.name").as_deref(),
        Some("whispir")
    );
    // The headers of OTEL_EXPORTER_OTLP_HEADERS reach the collector.
    let headers = receiver.received.lock().unwrap()[0].1.clone();
    assert_eq!(headers["x-collector-token"], "t0ken-1");

    // The standard variable instead of the flag; the journal says every
    // row went in the first run.
    receiver.received.lock().unwrap().clear();
    let mut args = BULK.to_vec();
    args.push("30");
    let output = whispir(
        dir.path(),
        &args,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.base().as_str())],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        receiver.sums("whispir.bulk.rows"),
        [rows("already_done", 4)]
    );
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn warnings(stderr: &str) -> usize {
    stderr.matches("metrics are not exported to").count()
}

#[test]
fn a_collector_that_is_gone_fails_nothing_and_is_said_once_without_its_headers() {
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 3);
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let mut args = vec!["--otlp", endpoint.as_str()];
    args.extend(BULK);
    args.push("30");
    let started = Instant::now();
    let output = whispir(
        dir.path(),
        &args,
        &[(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer s3cret-t0ken",
        )],
    );
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(warnings(&stderr), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{endpoint}/v1/metrics")),
        "{stderr}"
    );
    assert!(
        !stderr.contains("s3cret-t0ken"),
        "a header was printed: {stderr}"
    );
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn a_collector_that_never_answers_holds_the_exit_up_at_most_the_bound() {
    // Accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 1);
    let mut args = vec!["--otlp", endpoint.as_str()];
    args.extend(BULK);
    args.push("30");
    // One row: what follows it is the flush alone.
    let started = Instant::now();
    let output = whispir(dir.path(), &args, &[]);
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(warnings(&stderr), 1, "{stderr}");
    // 3 s of flush at most, and the command's own second or two.
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
    assert!(!held.lock().unwrap().is_empty(), "the export was tried");
}

/// A collector that answers every request with a redirect to `target`.
fn redirecting_to(target: String) -> String {
    use std::io::{Read as _, Write as _};

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            // The request's head and body, then the redirect.
            let mut request = Vec::new();
            let mut buffer = [0; 4096];
            while let Ok(read) = stream.read(&mut buffer) {
                if read == 0 {
                    break;
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text
                        .lines()
                        .find_map(|line| line.strip_prefix("content-length:"))
                        .and_then(|value| value.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let _ = write!(
                stream,
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}/v1/metrics\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    endpoint
}

#[test]
fn a_collector_that_redirects_is_not_followed_with_the_headers() {
    let elsewhere = Receiver::start();
    let endpoint = redirecting_to(elsewhere.base());
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 1);
    let mut args = vec!["--otlp", endpoint.as_str()];
    args.extend(BULK);
    args.push("30");
    let output = whispir(
        dir.path(),
        &args,
        &[("OTEL_EXPORTER_OTLP_HEADERS", "x-api-key=s3cret-t0ken")],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(warnings(&stderr), 1, "{stderr}");
    assert!(
        elsewhere.received.lock().unwrap().is_empty(),
        "the redirect was followed, headers and all"
    );
}

#[test]
fn an_otlp_endpoint_that_is_not_an_http_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = whispir(
        dir.path(),
        &["--otlp", "localhost:4318", "messages", "list"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("http://localhost:4318"));
}

/// Starts `whispir --sandbox --otlp RECEIVER bulk send r.csv --plan 5` on
/// 40 rows and waits until it has sent one.
fn a_bulk_send_under_way(receiver: &Receiver, dir: &std::path::Path) -> std::process::Child {
    a_bulk_send_exporting_to(&receiver.base(), dir)
}

/// The same, exporting to `endpoint`.
fn a_bulk_send_exporting_to(endpoint: &str, dir: &std::path::Path) -> std::process::Child {
    write_csv(&dir.join("r.csv"), 40);
    let mut args = vec!["--sandbox", "--otlp", endpoint];
    args.extend(BULK);
    args.push("5");
    let child = std::process::Command::new(support::bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.join("none.toml"))
        .current_dir(dir)
        .args(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while journal_lines(dir, "sent ") == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "nothing sent");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

fn journal_lines(dir: &std::path::Path, prefix: &str) -> u64 {
    std::fs::read_to_string(dir.join("r.sandbox.journal"))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.starts_with(prefix))
        .count() as u64
}

fn interrupt(child: &std::process::Child) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn a_bulk_send_stopped_by_ctrl_c_exports_its_rows_before_it_exits() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let child = a_bulk_send_under_way(&receiver, dir.path());
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    let sent = journal_lines(dir.path(), "sent ");
    assert!(sent < 40, "stopped early: {sent}");
    assert_eq!(receiver.sums("whispir.bulk.rows"), [rows("sent", sent)]);
}

#[test]
fn a_bulk_send_stopped_at_once_by_a_second_ctrl_c_exports_its_rows_before_it_exits() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let child = a_bulk_send_under_way(&receiver, dir.path());
    interrupt(&child);
    // While the rows taken before the first wait for their turn in the plan.
    std::thread::sleep(Duration::from_millis(50));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Ctrl-C again"), "{stderr}");
    let (sent, uncertain) = (
        journal_lines(dir.path(), "sent "),
        journal_lines(dir.path(), "uncertain "),
    );
    let mut expected = vec![rows("sent", sent)];
    if uncertain > 0 {
        assert_eq!(output.status.code(), Some(9), "{stderr}");
        expected.push(rows("may_have_been_sent", uncertain));
    } else {
        assert_eq!(output.status.code(), Some(130), "{stderr}");
    }
    expected.sort();
    assert_eq!(receiver.sums("whispir.bulk.rows"), expected);
}

#[test]
fn a_second_ctrl_c_sends_no_more_rows_while_the_last_figures_go() {
    // A collector that accepts and never answers: the flush takes seconds.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let child = a_bulk_send_exporting_to(&endpoint, dir.path());
    interrupt(&child);
    // While the rows taken before the first wait for their turn in the plan.
    std::thread::sleep(Duration::from_millis(50));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("Ctrl-C again"), "{stderr}");
    let journal = std::fs::read_to_string(dir.path().join("r.sandbox.journal")).unwrap();
    let lines: Vec<&str> = journal.lines().collect();
    let stopped = lines
        .iter()
        .position(|line| line.starts_with("uncertain "))
        .unwrap_or(lines.len());
    let late: Vec<&&str> = lines[stopped..]
        .iter()
        .filter(|line| line.starts_with("sending ") || line.starts_with("sent "))
        .collect();
    assert!(
        late.is_empty(),
        "sent after stopping at once: {late:?}\n{journal}"
    );
}

#[test]
fn a_second_ctrl_c_counts_the_dynamic_chunk_in_flight_as_may_have_been_sent() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    write_csv(&dir.path().join("r.csv"), 40);
    let base = receiver.base();
    // Five requests a second: a chunk's send waits 200 ms after its upload.
    let child = std::process::Command::new(support::bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.path().join("none.toml"))
        .current_dir(dir.path())
        .args([
            "--sandbox",
            "--otlp",
            base.as_str(),
            "bulk",
            "send",
            "r.csv",
        ])
        .args([
            "--template",
            "Hi {name}",
            "--rows-per-chunk",
            "10",
            "--plan",
            "5",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while journal_lines(dir.path(), "chunk 2 sending") == 0 {
        if started.elapsed() > Duration::from_secs(30) {
            let output = child.wait_with_output().unwrap();
            panic!("no chunk 2: {}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    interrupt(&child);
    std::thread::sleep(Duration::from_millis(20));
    interrupt(&child);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(9), "{stderr}");
    assert_eq!(journal_lines(dir.path(), "chunk 2 sent"), 0, "{stderr}");
    assert_eq!(
        receiver.sums("whispir.bulk.rows"),
        [
            rows_in("dynamic", "may_have_been_sent", 10),
            rows_in("dynamic", "sent", 10)
        ]
    );
}

#[test]
fn callbacks_listen_exports_the_callbacks_it_received_and_refused() {
    use std::io::{BufRead as _, Read as _, Write as _};

    let receiver = Receiver::start();
    let base = receiver.base();
    let mut child = std::process::Command::new(support::bin())
        .args([
            "--otlp",
            base.as_str(),
            "callbacks",
            "listen",
            "--port",
            "0",
        ])
        .args(["--mode", "header", "--key", "cb-key-123"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the address")
        .to_string();
    let post = |key: &str| {
        let body = r#"{"messageid":"M1","responseMessage":{"acknowledged":"t","content":"Yes"}}"#;
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "POST /cb HTTP/1.1\r\nHost: x\r\nX-Whispir-Callback-Key: {key}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(post("wrong").starts_with("HTTP/1.1 401"));
    assert!(post("cb-key-123").starts_with("HTTP/1.1 200"));
    assert!(post("cb-key-123").starts_with("HTTP/1.1 200"));
    interrupt(&child);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(!rest.contains("cb-key-123"), "{rest}");
    let callbacks = |name| receiver.sums_of("whispir-callbacks", name);
    let unit = || "{callback}".to_owned();
    assert_eq!(
        callbacks("whispir.callbacks.received"),
        [(unit(), vec![], 2)]
    );
    assert_eq!(
        callbacks("whispir.callbacks.refused"),
        [(unit(), vec!["whispir.refusal.reason=bad_key".to_owned()], 1)]
    );
}

/// `whispir --otlp RECEIVER ARGS` against an API that never answers,
/// interrupted by Ctrl-C once its request has reached the API.
fn interrupted_while_waiting_for_the_api(args: &[&str]) -> std::process::Output {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.json"),
        r#"{"to": "61400000104", "subject": "S", "body": "Hi"}"#,
    )
    .unwrap();
    let child = std::process::Command::new(support::bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.path().join("none.toml"))
        .current_dir(dir.path())
        .env("WHISPIR_BASE_URL", &api)
        .env("WHISPIR_API_KEY", "k")
        .env("WHISPIR_USERNAME", "u")
        .env("WHISPIR_PASSWORD", "p")
        .args(["--otlp", receiver.base().as_str()])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while held.lock().unwrap().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no request came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(&child);
    child.wait_with_output().unwrap()
}

#[test]
fn ctrl_c_ends_a_read_without_its_own_handling_with_130_after_the_flush() {
    let output = interrupted_while_waiting_for_the_api(&["messages", "list"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // An exit of its own (not the signal's), after the flush.
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted by Ctrl-C"), "{stderr}");
}

#[test]
fn ctrl_c_during_a_send_says_it_may_have_gone_with_9() {
    // The request reached the API: it may have been carried out, and
    // sending again could send twice (130 reads as "run it again").
    for args in [
        &["send", "sms", "--to", "61400000104", "--text", "Hi"][..],
        &["api", "message-create", "--body", "m.json"][..],
    ] {
        let output = interrupted_while_waiting_for_the_api(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(9), "{args:?}: {stderr}");
        assert!(stderr.contains("check before sending again"), "{stderr}");
    }
}

#[test]
fn ctrl_c_ends_a_command_waiting_for_stdin() {
    let receiver = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(support::bin())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("WHISPIR_CONFIG", dir.path().join("none.toml"))
        .env("WHISPIR_BASE_URL", "http://127.0.0.1:9")
        .env("WHISPIR_API_KEY", "k")
        .env("WHISPIR_USERNAME", "u")
        .env("WHISPIR_PASSWORD", "p")
        .args(["--otlp", receiver.base().as_str()])
        .args(["api", "contact-create", "--body", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Kept open and empty: the command waits for its body.
    let _stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(800));
    interrupt(&child);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("Ctrl-C did not end a command reading stdin");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(9), "{stderr}");
}
