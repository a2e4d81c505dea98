//! `whispir-sandbox`: serves an offline Whispir until Ctrl-C, after
//! printing how to use it (built with the `cli` feature).

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tokio::sync::broadcast::error::RecvError;
use whispir_sandbox::{FaultRule, OverQuota, Sandbox, SandboxCredentials};

/// An offline, stateful Whispir API for trying the SDK and testing code.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port of the second listener, the target of cross-origin redirect faults (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    second_port: u16,
    /// A JSON or YAML config file (credentials, quota, messages, faults); flags add to it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Start without demo data.
    #[arg(long)]
    empty: bool,
    /// A JSON or YAML data file to load.
    #[arg(long)]
    data: Option<PathBuf>,
    /// A fault: [OPERATION:]KIND[=VALUE][*TIMES], e.g. `messageCreate:status=503*2`, `latency=200`.
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<FaultRule>,
    /// Requests allowed per second.
    #[arg(long)]
    per_second: Option<u32>,
    /// Requests allowed per day.
    #[arg(long)]
    per_day: Option<u32>,
    /// Answer over the per-second quota with 429 and Retry-After instead of 403.
    #[arg(long)]
    too_many_requests: bool,
    /// Milliseconds each step of a message's life takes (pending, sent, delivered).
    #[arg(long)]
    message_step_ms: Option<u64>,
    /// Make every delivered recipient reply with this text.
    #[arg(long)]
    auto_reply: Option<String>,
    /// Print nothing per request (by default one line each on stderr:
    /// method, path, operation, status).
    #[arg(long)]
    quiet: bool,
    /// Milliseconds before an accepted message shows in the message list.
    #[arg(long, value_name = "MS")]
    processing_delay_ms: Option<u64>,
    /// Seconds the sandbox's clock runs ahead of the machine's (dates new
    /// messages and ends the message list's 7-day window).
    #[arg(long, value_name = "SECS")]
    clock_ahead_secs: Option<u64>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let mut message = err.to_string();
            let mut source = err.source();
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            eprintln!("whispir-sandbox: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Sandbox::builder();
    if let Some(path) = &args.config {
        builder = builder.config_file(path)?;
    }
    builder = builder
        .host(args.host)
        .port(args.port)
        .second_port(args.second_port);
    if args.empty {
        builder = builder.empty(true);
    }
    if let Some(path) = args.data {
        builder = builder.data_file(path);
    }
    for fault in args.faults {
        builder = builder.fault(fault);
    }
    if args.per_second.is_some() || args.per_day.is_some() || args.too_many_requests {
        let quota = whispir_sandbox::Quota {
            per_second: args.per_second,
            per_day: args.per_day,
            over_quota: if args.too_many_requests {
                OverQuota::TooManyRequests
            } else {
                OverQuota::Forbidden
            },
        };
        builder = builder.quota(quota);
    }
    if let Some(step) = args.message_step_ms {
        builder = builder.message_step(std::time::Duration::from_millis(step));
    }
    if let Some(ms) = args.processing_delay_ms {
        builder = builder.processing_delay(std::time::Duration::from_millis(ms));
    }
    if let Some(secs) = args.clock_ahead_secs {
        builder = builder.clock_ahead(std::time::Duration::from_secs(secs));
    }
    if let Some(text) = args.auto_reply {
        builder = builder.auto_reply(text);
    }
    let sandbox = builder.start().await?;
    let credentials = sandbox.credentials();
    println!("whispir-sandbox listening on {}", sandbox.base_url());
    println!("  second listener: {}", sandbox.second_base_url());
    println!("  user:            {}", credentials.user);
    println!("  password:        {}", credentials.password);
    println!("  API key:         {}", credentials.api_key);
    println!("  bearer token:    {}", credentials.bearer_token);
    if let Some(workspace) = sandbox.default_workspace_id() {
        println!("  workspace:       {workspace}");
    }
    println!("Use it from another terminal (whispir::Client::from_env reads these):");
    for line in exports(sandbox.base_url(), credentials) {
        println!("  {line}");
    }
    if sandbox.default_workspace_id().is_some() {
        println!("Send a message:");
        println!("  {}", curl_send(sandbox.base_url(), credentials));
    } else {
        println!("No workspace yet: create one (POST /workspaces) before sending messages.");
    }
    println!("Press Ctrl-C to stop.");
    if !args.quiet {
        let mut answered = sandbox.watch_requests();
        tokio::spawn(async move {
            loop {
                match answered.recv().await {
                    Ok(request) => eprintln!("{}", request.summary()),
                    Err(RecvError::Lagged(missed)) => eprintln!("({missed} requests not shown)"),
                    Err(RecvError::Closed) => break,
                }
            }
        });
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// The `export` lines that point `whispir::Client::from_env` (and the
/// `whispir` command) at the sandbox.
fn exports(base_url: &str, credentials: &SandboxCredentials) -> [String; 4] {
    [
        ("WHISPIR_BASE_URL", base_url),
        ("WHISPIR_USERNAME", credentials.user.as_str()),
        ("WHISPIR_PASSWORD", credentials.password.as_str()),
        ("WHISPIR_API_KEY", credentials.api_key.as_str()),
    ]
    .map(|(name, value)| format!("export {name}={}", shell_word(value)))
}

/// One `curl` command that sends an SMS through the sandbox, with
/// Whispir's vendor media types.
fn curl_send(base_url: &str, credentials: &SandboxCredentials) -> String {
    const MEDIA: &str = "application/vnd.whispir.message-v1+json";
    let user = format!("{}:{}", credentials.user, credentials.password);
    let key = format!("x-api-key: {}", credentials.api_key);
    format!(
        "curl -i -u {} -H {} -H {} -H {} -d {} {}",
        shell_word(&user),
        shell_word(&key),
        shell_word(&format!("Content-Type: {MEDIA}")),
        shell_word(&format!("Accept: {MEDIA}")),
        shell_word(r#"{"to": "61400000001", "subject": "Hello from the sandbox"}"#),
        shell_word(&format!("{base_url}/messages")),
    )
}

/// A value as one shell word: bare when it is safe, else single-quoted.
fn shell_word(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:@%+=,".contains(&b));
    if safe {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("sandbox-user"), "sandbox-user");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
