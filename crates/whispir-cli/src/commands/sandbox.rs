//! `whispir sandbox`: an offline Whispir until Ctrl-C, as the
//! `whispir-sandbox` binary runs it.

use serde_json::json;
use std::sync::Arc;

use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use whispir_sandbox::{RecordedRequest, Sandbox};

use crate::cli::SandboxArgs;
use crate::exit::{CliError, ExitClass};
use crate::output::Output;

/// Runs `sandbox`. It prints the sandbox's own made-up credentials (as
/// `WHISPIR_*` settings): they open nothing but this sandbox.
pub async fn run(out: Output, args: SandboxArgs) -> Result<ExitClass, CliError> {
    let mut builder = Sandbox::builder()
        .host(args.host)
        .port(args.port)
        .empty(args.empty);
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
    let sandbox = builder
        .start()
        .await
        .map_err(|err| CliError::failure(format!("cannot start the sandbox: {err}")))?;
    let credentials = sandbox.credentials();
    let value = json!({
        "baseUrl": sandbox.base_url(),
        "username": credentials.user,
        "password": credentials.password,
        "apiKey": credentials.api_key,
        "workspace": sandbox.default_workspace_id(),
    });
    out.object(&value, || {
        vec![
            format!("whispir sandbox listening on {}", sandbox.base_url()),
            "Use it from another terminal with:".into(),
            format!("  export WHISPIR_BASE_URL={}", sandbox.base_url()),
            format!("  export WHISPIR_USERNAME={}", credentials.user),
            format!("  export WHISPIR_PASSWORD={}", credentials.password),
            format!("  export WHISPIR_API_KEY={}", credentials.api_key),
            "Press Ctrl-C to stop.".into(),
        ]
    })?;
    if !args.quiet {
        tokio::spawn(print_requests(sandbox.watch_requests(), out.json));
    }
    tokio::signal::ctrl_c()
        .await
        .map_err(|err| CliError::io("cannot wait for Ctrl-C", err))?;
    sandbox.stop();
    Ok(ExitClass::Success)
}

/// One line on stderr per answered request, for an operator watching
/// sends arrive: text, or a JSON object with `--json`.
async fn print_requests(mut answered: Receiver<Arc<RecordedRequest>>, json: bool) {
    loop {
        match answered.recv().await {
            Ok(request) if json => eprintln!(
                "{}",
                json!({
                    "method": request.method,
                    "path": request.path,
                    "operation": request.operation_id,
                    "status": request.status,
                })
            ),
            Ok(request) => eprintln!("{}", request.summary()),
            Err(RecvError::Lagged(missed)) => eprintln!("({missed} requests not shown)"),
            Err(RecvError::Closed) => break,
        }
    }
}
