//! Every everyday command of the `whispir` binary, run against a sandbox
//! process: output parsed as JSON, exit codes, and no secret printed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::io::{Read as _, Write as _};
use std::process::Stdio;

use serde_json::Value;
use support::{SandboxProcess, assert_no_secret, json_lines};

fn json(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

fn send_sms(sandbox: &SandboxProcess, to: &str) -> String {
    let output = sandbox
        .command()
        .args(["--json", "send", "sms", "--to", to, "--text", "Hello"])
        .output()
        .unwrap();
    assert_no_secret(&output, &sandbox.secrets());
    json(&output)["messageId"]
        .as_str()
        .expect("an id")
        .to_string()
}

#[test]
fn send_sms_prints_the_message_id_and_the_sandbox_lists_it_with_its_label() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args([
            "--json",
            "--verbose",
            "send",
            "sms",
            "--to",
            "61400000101",
            "--text",
            "Hi",
            "--label",
            "tag-1",
        ])
        .output()
        .unwrap();
    assert_no_secret(&output, &sandbox.secrets());
    let id = json(&output)["messageId"].as_str().unwrap().to_string();
    let listed = sandbox.messages();
    let message = listed
        .iter()
        .find(|m| m["label"] == "tag-1")
        .expect("the label is kept and listed");
    assert_eq!(message["to"], "61400000101");
    let shown = json(
        &sandbox
            .command()
            .args(["--json", "messages", "show", &id])
            .output()
            .unwrap(),
    );
    assert_eq!(shown["label"], "tag-1");
}

#[test]
fn send_sms_takes_a_list_by_name_and_a_sender_alias() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args([
            "--json",
            "send",
            "sms",
            "--to",
            "61400000102",
            "--list",
            "Customers",
            "--text",
            "Doors open at 9",
            "--from",
            "Marketing",
            "--label",
            "by-list",
        ])
        .output()
        .unwrap();
    assert_no_secret(&output, &sandbox.secrets());
    json(&output);
    let listed = sandbox.messages();
    let message = listed
        .iter()
        .find(|m| m["label"] == "by-list")
        .expect("sent and listed");
    assert_eq!(message["to"], "61400000102,Customers");
    assert_eq!(message["features"]["aliasOption"]["aliasName"], "Marketing");
}

#[test]
fn swapped_recipient_and_text_are_refused_before_sending_and_the_text_is_not_echoed() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args([
            "send",
            "sms",
            "--to",
            "Running late today",
            "--text",
            "61400000103",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5), "refused before sending");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("look swapped"), "{stderr}");
    assert!(!stderr.contains("Running late"), "{stderr}");
    // A list's bare name in --to is refused with the flag that names a list.
    let output = sandbox
        .command()
        .args(["send", "sms", "--to", "Customers", "--text", "Hi"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--list"), "{stderr}");
    assert!(sandbox.messages().iter().all(|m| m["to"] != "Customers"));
}

#[test]
fn send_email_with_wait_prints_the_delivery_counts() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args([
            "--json",
            "send",
            "email",
            "--to",
            "a@example.com",
            "--subject",
            "S",
            "--body",
            "B",
            "--wait",
            "--deadline",
            "20",
        ])
        .output()
        .unwrap();
    assert_no_secret(&output, &sandbox.secrets());
    let value = json(&output);
    assert_eq!(value["finished"], true);
    assert_eq!(value["counts"]["received"], 1);
}

#[test]
fn messages_status_responses_and_wait_follow_a_sent_message() {
    let sandbox = SandboxProcess::start();
    let id = send_sms(&sandbox, "61400000102");
    let waited = json(
        &sandbox
            .command()
            .args(["--json", "wait", &id, "--deadline", "20"])
            .output()
            .unwrap(),
    );
    assert_eq!(waited["finished"], true);
    assert_eq!(waited["counts"]["delivered"], 1);
    let status = json(
        &sandbox
            .command()
            .args(["--json", "messages", "status", &id])
            .output()
            .unwrap(),
    );
    assert_eq!(status["counts"]["total"], 1);
    let output = sandbox
        .command()
        .args(["--json", "messages", "responses", &id])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = sandbox
        .command()
        .args(["messages", "list", "--limit", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("ID\tTO"), "a table: {text}");
    assert_eq!(text.lines().count(), 3, "{text}");
}

#[test]
fn contacts_are_created_shown_updated_listed_and_deleted() {
    let sandbox = SandboxProcess::start();
    let created = json(
        &sandbox
            .command()
            .args([
                "--json",
                "contacts",
                "create",
                "--first-name",
                "Dana",
                "--last-name",
                "Lee",
                "--mobile",
                "61400000103",
                "--email",
                "dana@example.com",
                "--timezone",
                "Australia/Perth",
                "--country",
                "Australia",
            ])
            .output()
            .unwrap(),
    );
    assert_eq!(created["contact"]["timezone"], "Australia/Perth");
    let id = created["contactId"].as_str().expect("an id").to_string();
    let shown = json(
        &sandbox
            .command()
            .args(["--json", "contacts", "show", &id])
            .output()
            .unwrap(),
    );
    assert_eq!(shown["firstName"], "Dana");
    json(
        &sandbox
            .command()
            .args(["--json", "contacts", "update", &id, "--last-name", "Park"])
            .output()
            .unwrap(),
    );
    let shown = json(
        &sandbox
            .command()
            .args(["--json", "contacts", "show", &id])
            .output()
            .unwrap(),
    );
    assert_eq!(shown["lastName"], "Park");
    let output = sandbox
        .command()
        .args(["--json", "contacts", "list", "--all"])
        .output()
        .unwrap();
    assert!(
        json_lines(&output.stdout)
            .iter()
            .any(|c| c["lastName"] == "Park")
    );
    json(
        &sandbox
            .command()
            .args(["--json", "contacts", "delete", &id])
            .output()
            .unwrap(),
    );
    let output = sandbox
        .command()
        .args(["contacts", "show", &id])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4), "not found");
}

#[test]
fn a_contact_missing_fields_is_refused_naming_the_flags_and_nothing_is_filled_in() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args([
            "contacts",
            "create",
            "--first-name",
            "Dana",
            "--last-name",
            "Lee",
            "--mobile",
            "61400000104",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("give --email, --timezone, --country"),
        "{stderr}"
    );
    for api_name in [
        "workEmailAddress1",
        "workCountry",
        "--first-name",
        "--mobile",
    ] {
        assert!(!stderr.contains(api_name), "{api_name} in {stderr}");
    }
}

#[test]
fn the_sandbox_prints_a_line_per_request_without_credentials_unless_quiet() {
    let mut child = std::process::Command::new(support::bin())
        .args(["--json", "sandbox", "--port", "0"])
        .env("WHISPIR_CONFIG", "/nonexistent/whispir.toml")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap();
    let output = assert_cmd::Command::new(support::bin())
        .args([
            "--json",
            "send",
            "sms",
            "--to",
            "61400000105",
            "--text",
            "Hi",
        ])
        .env("WHISPIR_CONFIG", "/nonexistent/whispir.toml")
        .env("WHISPIR_BASE_URL", info["baseUrl"].as_str().unwrap())
        .env("WHISPIR_USERNAME", info["username"].as_str().unwrap())
        .env("WHISPIR_PASSWORD", info["password"].as_str().unwrap())
        .env("WHISPIR_API_KEY", info["apiKey"].as_str().unwrap())
        .output()
        .unwrap();
    json(&output);
    // The line is printed once the answer is written: give it a moment.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    let lines: Vec<Value> = stderr
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let sent = lines
        .iter()
        .find(|line| line["operation"] == "messageCreate")
        .unwrap_or_else(|| panic!("a line for the send: {stderr}"));
    assert_eq!(sent["method"], "POST");
    assert_eq!(sent["status"], 202);
    for secret in ["password", "apiKey"] {
        let value = info[secret].as_str().unwrap();
        assert!(!stderr.contains(value), "{secret} printed: {stderr}");
    }
}

#[test]
fn output_csv_prints_a_header_then_a_row_per_item_and_one_row_for_a_result() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args(["--output", "csv", "contacts", "list", "--all"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "ID");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert!(!rows.is_empty(), "the demo contacts");
    assert!(rows.iter().all(|row| row.len() == headers.len()));
    let output = sandbox
        .command()
        .args([
            "--output",
            "csv",
            "send",
            "sms",
            "--to",
            "61400000106",
            "--text",
            "Hi, there",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let id_at = headers.iter().position(|h| h == "messageId").unwrap();
    assert!(!row[id_at].is_empty());
    // --json and --output name one choice: both at once is a usage error.
    let output = sandbox
        .command()
        .args(["--json", "--output", "csv", "contacts", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_commands_help_lists_its_own_options_before_the_global_ones() {
    let output = assert_cmd::Command::new(support::bin())
        .args(["send", "sms", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    let own = help.find("--text").expect("its own flag");
    let global = help.find("Global options:").expect("a heading apart");
    assert!(own < global, "{help}");
    assert!(help[global..].contains("--profile"), "{help}");
    assert!(!help[..global].contains("--profile"), "{help}");
}

#[test]
fn an_unknown_message_exits_with_not_found() {
    let sandbox = SandboxProcess::start();
    let output = sandbox
        .command()
        .args(["messages", "show", "ABCDEF0123456789ABCD"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("whispir: messageRetrieve: 404"));
}

#[test]
fn refused_credentials_exit_with_auth_and_are_not_printed() {
    let sandbox = SandboxProcess::start();
    for verbose in [false, true] {
        let mut command = sandbox.command();
        command.env("WHISPIR_PASSWORD", "wrong-password-xyz");
        if verbose {
            command.arg("--verbose");
        }
        let output = command.args(["messages", "list"]).output().unwrap();
        assert_eq!(output.status.code(), Some(3));
        assert_no_secret(&output, &["wrong-password-xyz", &sandbox.api_key]);
    }
}

#[test]
fn no_credentials_names_what_to_set_and_exits_with_auth() {
    let output = assert_cmd::Command::new(support::bin())
        .env_clear()
        .env("WHISPIR_CONFIG", "/nonexistent/whispir.toml")
        .args(["messages", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("WHISPIR_API_KEY") && stderr.contains("--sandbox"),
        "{stderr}"
    );
}

#[test]
fn a_profile_of_the_config_file_overrides_the_environment() {
    let sandbox = SandboxProcess::start();
    let config = sandbox.path("config.toml");
    std::fs::write(
        &config,
        format!(
            "[profiles.local]\nbase_url = \"{}\"\nusername = \"{}\"\npassword = \"{}\"\napi_key = \"{}\"\n",
            sandbox.base_url, sandbox.username, sandbox.password, sandbox.api_key
        ),
    )
    .unwrap();
    support::owner_only(&config);
    let output = sandbox
        .command()
        .env("WHISPIR_CONFIG", &config)
        .env("WHISPIR_PASSWORD", "wrong")
        .args(["--profile", "local", "--json", "messages", "list"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let output = sandbox
        .command()
        .env("WHISPIR_CONFIG", &config)
        .args(["--profile", "missing", "messages", "list"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn the_embedded_sandbox_needs_no_credentials() {
    let output = assert_cmd::Command::new(support::bin())
        .env_clear()
        .args([
            "--sandbox",
            "--json",
            "send",
            "sms",
            "--to",
            "61400000104",
            "--text",
            "Hi",
        ])
        .output()
        .unwrap();
    assert!(json(&output)["messageId"].is_string());
}

#[test]
fn a_bad_flag_exits_with_usage() {
    let output = assert_cmd::Command::new(support::bin())
        .args(["send", "sms"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn completions_are_printed_for_a_shell() {
    let output = assert_cmd::Command::new(support::bin())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("whispir"));
}

#[test]
fn callbacks_listen_prints_a_verified_callback_and_refuses_a_wrong_key() {
    let mut child = std::process::Command::new(support::bin())
        .args([
            "callbacks",
            "listen",
            "--port",
            "0",
            "--mode",
            "header",
            "--key",
            "cb-key-123",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stderr, &mut line).unwrap();
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
            "POST /cb HTTP/1.1\r\nHost: x\r\nX-Whispir-Callback-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    };
    assert!(post("wrong").starts_with("HTTP/1.1 401"));
    assert!(post("cb-key-123").starts_with("HTTP/1.1 200"));
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut printed = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut printed).unwrap();
    let callback: Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(callback["messageid"], "M1");
    let _ = child.kill();
    let _ = child.wait();
}
