//! Lists the messages of the default workspace, page by page.
//!
//! `cargo run -p whispir-examples --example list_messages`

use whispir::ListStream as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let target = whispir_examples::Target::from_env().await?;
    let mut messages = target.client.message_list().stream();
    let mut count = 0;
    while let Some(message) = messages.try_next().await? {
        count += 1;
        // A dynamic message has no `to`: the rows of its resource are its recipients.
        let to = message.to.as_deref().unwrap_or("(resource rows)");
        println!("{count:>3}. to {to:<16} {}", message.subject);
        if count == 50 {
            println!("… (stopping at 50)");
            break;
        }
    }
    println!("{count} messages");
    Ok(())
}
