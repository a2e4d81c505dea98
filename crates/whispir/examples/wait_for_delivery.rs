//! Sends an SMS and waits until Whispir reports it delivered (or failed).
//!
//! `cargo run -p whispir --example wait_for_delivery`

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use whispir::types::Message;
use whispir::{WaitOptions, WaitOutcome};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = common::Target::from_env().await?;
    let client = &target.client;
    let sent = client
        .message_create()
        .body(Message::sms(target.recipient(), "Your code is 482913"))
        .send()
        .await?;
    println!("sent message {}", sent.message_id().unwrap_or("(none)"));
    let options = WaitOptions {
        deadline: Duration::from_secs(60),
        initial_interval: Duration::from_millis(250),
        max_interval: Duration::from_secs(5),
    };
    let statuses = match sent.wait(client, options).await? {
        WaitOutcome::Finished(statuses) => {
            println!("no recipient is pending any more:");
            statuses
        }
        WaitOutcome::DeadlineReached(Some(statuses)) => {
            println!("still pending after 60 s; last status:");
            statuses
        }
        WaitOutcome::DeadlineReached(None) => {
            println!("no status after 60 s");
            return Ok(());
        }
    };
    for status in &statuses.message_statuses {
        for category in &status.categories {
            println!(
                "  {:<10} {}",
                category
                    .name
                    .as_ref()
                    .map_or_else(|| "?".to_string(), ToString::to_string),
                category.recipient_count.unwrap_or(0)
            );
        }
    }
    Ok(())
}
