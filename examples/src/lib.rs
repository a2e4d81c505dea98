//! The examples of whispir-rs (`examples/*.rs`, run with `cargo run -p
//! whispir-examples --example send_sms`), in a crate of their own so that
//! running one builds only the SDK, the sandbox and what the examples use.
//!
//! This library is what they share: how every example gets its client:
//! the real API when `WHISPIR_API_KEY`
//! is set (with `WHISPIR_USERNAME`/`WHISPIR_PASSWORD` or `WHISPIR_TOKEN`,
//! and `WHISPIR_REGION` or `WHISPIR_BASE_URL`), otherwise an embedded
//! sandbox, so that every example runs without a Whispir account.

use std::time::Duration;

use whispir::Client;
use whispir_sandbox::Sandbox;

/// Where an example sends: the client, and the sandbox it talks to (kept
/// alive as long as the example runs).
pub struct Target {
    /// The client every example calls through.
    pub client: Client,
    /// The embedded sandbox, when the real API is not configured.
    pub sandbox: Option<Sandbox>,
}

impl Target {
    /// The real API from the environment, or a fresh sandbox.
    pub async fn from_env() -> anyhow::Result<Self> {
        if std::env::var_os("WHISPIR_API_KEY").is_some() {
            eprintln!("sending to the real Whispir API (WHISPIR_API_KEY is set)");
            return Ok(Self {
                client: Client::from_env()?,
                sandbox: None,
            });
        }
        let sandbox = Sandbox::builder()
            // Delivery moves on quickly, so that waiting examples finish fast.
            .message_step(Duration::from_millis(200))
            .start()
            .await?;
        eprintln!(
            "WHISPIR_API_KEY is not set: sending to an embedded sandbox at {}",
            sandbox.base_url()
        );
        Ok(Self {
            client: sandbox.client().clone(),
            sandbox: Some(sandbox),
        })
    }

    /// The recipient to use: `WHISPIR_TO`, or a sandbox number.
    pub fn recipient(&self) -> String {
        std::env::var("WHISPIR_TO").unwrap_or_else(|_| "61400000001".to_string())
    }
}
