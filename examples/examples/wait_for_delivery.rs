//! Sends an SMS and waits until Whispir reports it delivered (or failed).
//!
//! `cargo run -p whispir-examples --example wait_for_delivery`

use std::time::Duration;

use whispir::types::Message;
use whispir::{WaitOptions, WaitUntil};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
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
        // The default: every recipient delivered, replied or undeliverable.
        until: WaitUntil::Delivered,
    };
    let outcome = sent.wait(client, options).await?;
    let counts = outcome.counts();
    if outcome.is_finished() {
        println!("every recipient is done: {counts}");
    } else {
        println!("not done after 60 s: {counts}");
        if let Some(accepted) = sent.accepted() {
            for recipient in accepted.unfinished_recipients(client).await? {
                println!("  still on its way to {recipient}");
            }
        }
    }
    println!(
        "delivered to {} of {} recipients",
        counts.delivered(),
        counts.total()
    );
    Ok(())
}
