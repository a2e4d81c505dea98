//! What failures look like, and how to branch on them: a wrong API key, a
//! message that does not exist, a spent quota (against the sandbox only),
//! and an id the SDK refuses before sending anything.
//!
//! `cargo run -p whispir-examples --example handle_errors`

use whispir::{Client, Credentials, RetryConfig};
use whispir_sandbox::{Quota, Sandbox};

/// What a service would do with each failure.
fn advice(err: &whispir::Error) -> &'static str {
    if err.is_auth() {
        "check WHISPIR_API_KEY and the credentials"
    } else if err.is_not_found() {
        "nothing to do: it is gone"
    } else if err.is_throttled() {
        "slow down and try again after retry_after()"
    } else if err.is_invalid() || err.is_invalid_request() {
        "fix the request: the message says what"
    } else if err.may_have_been_processed() {
        "check whether it happened before sending again"
    } else if err.is_retryable() {
        "safe to try again"
    } else {
        "give up and report it"
    }
}

fn show(what: &str, err: &whispir::Error) {
    println!("== {what}");
    println!("{err}");
    println!("-- {{:#}}:\n{err:#}");
    println!("-- what to do: {}\n", advice(err));
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
    let client = &target.client;

    let base_url = match &target.sandbox {
        Some(sandbox) => sandbox.base_url().to_string(),
        None => {
            std::env::var("WHISPIR_BASE_URL").unwrap_or_else(|_| whispir::Region::Au.base_url())
        }
    };
    let wrong_key = Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic("someone", "wrong"))
        .api_key("not-a-real-key")
        .build()?;
    if let Err(err) = wrong_key.message_list().send().await {
        show("wrong credentials", &err);
    }

    if let Err(err) = client
        .message_retrieve()
        .message_id("0000DEADBEEF")
        .send()
        .await
    {
        show("a message that does not exist", &err);
    }

    // Over the plan's daily quota: shown against a sandbox that allows one
    // request a day (never against the real API, whose quota is yours).
    if target.sandbox.is_some() {
        let strict = Sandbox::builder()
            .quota(Quota {
                per_day: Some(1),
                ..Quota::default()
            })
            .start()
            .await?;
        let client = strict
            .client_builder()
            .retry(RetryConfig::disabled())
            .build()?;
        for _ in 0..2 {
            if let Err(err) = client.message_list().send().await {
                show("over the plan's quota", &err);
            }
        }
    }

    match client.contact_delete().contact_id("..").send().await {
        Err(err) => show("an id that would leave its place in the URL", &err),
        Ok(_) => println!("unexpected: the SDK sent a request for `..`"),
    }
    Ok(())
}
