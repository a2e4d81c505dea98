//! Sends a plain-text email and prints the message id.
//!
//! `cargo run -p whispir-examples --example send_email` (`WHISPIR_TO` picks the
//! address when sending for real).

use whispir::types::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
    let to = std::env::var("WHISPIR_TO").unwrap_or_else(|_| "ops@example.com".to_string());
    let sent = target
        .client
        .message_create()
        .body(Message::email(
            &to,
            "Disk space alert",
            "The disk of db-1 is 91% full.\n\nThis message was sent by whispir-rs.",
        ))
        .send()
        .await?;
    println!(
        "{} accepted as message {}",
        to,
        sent.message_id().unwrap_or("(none)")
    );
    Ok(())
}
