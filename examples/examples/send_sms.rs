//! Sends one SMS and prints what Whispir answered.
//!
//! `cargo run -p whispir-examples --example send_sms` (an embedded sandbox unless
//! `WHISPIR_API_KEY` is set; `WHISPIR_TO` picks the recipient).

use whispir::types::Message;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
    let to = target.recipient();
    let sent = target
        .client
        .message_create()
        .body(Message::sms(
            &to,
            "Your order has shipped.\nIt arrives on Friday.",
        ))
        .send()
        .await?;
    println!("status:     {}", sent.status());
    println!("message id: {}", sent.message_id().unwrap_or("(none)"));
    if let Some(location) = sent.location() {
        println!("location:   {location}");
    }
    Ok(())
}
