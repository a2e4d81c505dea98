//! Receive Whispir callbacks: a receiver on a loopback port, and a local
//! sender standing in for Whispir that posts a reply (JSON, key in a
//! header), a delivery failure (XML, key in the query) and a retry of the
//! reply, which the handler recognises and skips.
//!
//! Run with `cargo run -p whispir-callbacks --example receive_callbacks`.
//! (Against the sandbox, the sender's part is the sandbox's: send a
//! message with a `callbackId` and it posts the same requests.)

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::mpsc;
use whispir_callbacks::{AuthMode, Callback, CallbackKey, CallbackKind, Deduplicator, Receiver};

const HEADER_KEY: &str = "example-header-key-1";
const QUERY_KEY: &str = "example-query-key-2";

const REPLY_JSON: &str = r#"{
  "messageid": "5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
  "messagelocation": "https://api.au.whispir.com/messages/5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
  "from": {"name": "Ada Lovelace", "mobile": "+61400111222"},
  "responseMessage": {"channel": "SMS", "acknowledged": "14/03/24 09:41", "content": "Confirmed"},
  "customParameters": {"orderId": "ORD-42"}
}"#;

const UNDELIVERABLE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns2:deliveryResponse xmlns:ns2="http://schemas.api.whispir.com">
  <messageid>0A1B2C3D4E5F60718293A4B5C6D7E8F9</messageid>
  <messagelocation>https://api.au.whispir.com/messages/0A1B2C3D4E5F60718293A4B5C6D7E8F9</messagelocation>
  <from><name>Charles Babbage</name><mobile>+61400999888</mobile></from>
  <responseMessage>
    <channel>SMS</channel>
    <undeliverable>14/03/24 09:45</undeliverable>
    <content>The number is not in service</content>
  </responseMessage>
</ns2:deliveryResponse>"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The receiver: one key per mode this URL is registered with.
    let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new(HEADER_KEY)?)
        .accept(AuthMode::QueryParam, CallbackKey::new(QUERY_KEY)?);
    // Whispir retries for up to a day: remember events a little longer.
    let seen = Arc::new(Deduplicator::new(10_000, Duration::from_secs(25 * 3600)));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel();
    let service = receiver.into_service(move |callback: Callback| {
        let seen = Arc::clone(&seen);
        let done = done_tx.clone();
        async move {
            if seen.first_time(&callback) {
                print_callback(&callback);
            } else {
                println!(
                    "retry of {} ({:?}): already handled",
                    callback.message_id,
                    callback.kind()
                );
            }
            done.send(()).map_err(|_| "the example has finished")
        }
    });
    let app = Router::new().route_service("/whispir/callbacks", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/whispir/callbacks", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // The sender, doing what Whispir does.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let posts = [
        client
            .post(&url)
            .header("X-Whispir-Callback-Key", HEADER_KEY)
            .header("Content-Type", "application/json")
            .body(REPLY_JSON),
        client
            .post(format!("{url}?auth={QUERY_KEY}"))
            .header("Content-Type", "application/xml")
            .body(UNDELIVERABLE_XML),
        client
            .post(&url)
            .header("X-Whispir-Callback-Key", HEADER_KEY)
            .header("Content-Type", "application/json")
            .body(REPLY_JSON),
    ];
    for post in posts {
        let status = post.send().await?.status();
        println!("  -> the receiver answered {status}");
        tokio::time::timeout(Duration::from_secs(5), done_rx.recv()).await?;
    }
    let refused = client
        .post(&url)
        .header("X-Whispir-Callback-Key", "a-guess")
        .header("Content-Type", "application/json")
        .body(REPLY_JSON)
        .send()
        .await?;
    println!(
        "a request with a wrong key was answered {}",
        refused.status()
    );
    Ok(())
}

fn print_callback(callback: &Callback) {
    let who = callback
        .from
        .as_ref()
        .and_then(|from| from.name.as_deref())
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
