//! Receive Whispir callbacks from the sandbox: a receiver on a loopback
//! port, a callback registered with `CallbackSetup` (key in a header, the
//! same description for the registration and the receiver), and a message
//! sent with it to two numbers, one of which cannot be reached. The sandbox
//! posts the delivery failure, then a simulated reply; the handler prints
//! both, and would skip either if Whispir sent it again.
//!
//! Run with `cargo run -p whispir-examples --example receive_callbacks`.

use std::time::Duration;

use axum::Router;
use tokio::sync::mpsc;
use whispir::CallbackSetup;
use whispir::callbacks::{
    AuthMode, Callback, CallbackKey, CallbackKind, DEFAULT_REMEMBER_DONE, Deduplicator,
};
use whispir::types::Message;
use whispir_sandbox::{FAILING_NUMBER, Sandbox};

const KEY: &str = "example-callback-key-1";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The sending side, against an offline Whispir.
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(100))
        .start()
        .await?;
    let client = sandbox.client();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/whispir/callbacks", listener.local_addr()?);

    // One description: registered with Whispir, and the receiver for it.
    // Whispir retries for up to a day: the receiver acts once per event.
    let receiver =
        CallbackSetup::new("orders", &url, AuthMode::HttpHeader, CallbackKey::new(KEY)?)?
            .failures_to("ops@example.com")
            .dedup(Deduplicator::new(10_000, DEFAULT_REMEMBER_DONE))
            .register(client)
            .await?;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let service = receiver.into_service(move |callback: Callback| {
        let done = done_tx.clone();
        async move {
            print_callback(&callback);
            done.send(()).map_err(|_| "the example has finished")
        }
    });
    let app = Router::new().route_service("/whispir/callbacks", service);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("receiving callbacks at {url}");

    let message = Message::sms(
        ["61400000002", FAILING_NUMBER],
        "Your order ORD-42 is ready\nReply YES to confirm pickup tomorrow.",
    )
    .callback_id("orders")
    .callback_parameters(std::collections::BTreeMap::from([(
        "orderId".to_string(),
        "ORD-42".to_string(),
    )]));
    let sent = client.message_create().body(message).send().await?;
    let message_id = sent.message_id().unwrap_or_default().to_string();
    println!("sent message {message_id}");

    // The failure arrives as the message moves on; then the reply.
    tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await?;
    sandbox
        .simulate_reply(&message_id, "61400000002", "YES")
        .await;
    tokio::time::timeout(Duration::from_secs(10), done_rx.recv()).await?;
    Ok(())
}

fn print_callback(callback: &Callback) {
    let who = callback
        .from
        .as_ref()
        .and_then(|from| from.name.as_deref().or(from.mobile.as_deref()))
        .unwrap_or("someone");
    let channel = callback
        .channel()
        .map(|c| c.as_str())
        .unwrap_or("an unknown channel");
    match callback.kind() {
        CallbackKind::Reply => println!(
            "reply to {} from {who} on {channel}: {:?}",
            callback.message_id,
            callback.content().unwrap_or_default()
        ),
        CallbackKind::Undeliverable => println!(
            "message {} could not reach {who} on {channel}: {:?}",
            callback.message_id,
            callback.content().unwrap_or_default()
        ),
        CallbackKind::Unknown => println!("callback for {}: {callback:?}", callback.message_id),
    }
    for (name, value) in &callback.custom_parameters {
        println!("  {name} = {value}");
    }
}
