//! End to end with the sandbox: callbacks registered through the SDK, in
//! every auth mode and both content types, reach the axum receiver as the
//! typed payloads; a callback registered with a key the receiver does not
//! accept is answered 401 and never reaches the handler.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use axum::Router;
use tokio::sync::mpsc;
use whispir::types;
use whispir_callbacks::{AuthMode, Callback, CallbackKey, CallbackKind, Channel, Receiver};
use whispir_sandbox::{FAILING_NUMBER, Sandbox};

const KEY: &str = "sandbox-callback-key-1";

/// A receiver accepting `KEY` in every mode, handing callbacks to a channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Callback>) {
    let key = || CallbackKey::new(KEY).unwrap();
    let receiver = Receiver::new(AuthMode::QueryParam, key())
        .and_then(|receiver| receiver.accept(AuthMode::HttpHeader, key()))
        .and_then(|receiver| receiver.accept(AuthMode::BasicAuth, key()))
        .and_then(|receiver| receiver.accept(AuthMode::BearerToken, key()))
        .unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let service = receiver.into_service(move |callback: Callback| {
        let tx = tx.clone();
        async move { tx.send(callback).map_err(|_| "the test has finished") }
    });
    let app = Router::new().route_service("/hooks", service);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn register(
    client: &whispir::Client,
    name: &str,
    url: &str,
    mode: &str,
    key: &str,
    content: &str,
) -> String {
    let callback: types::Callback = serde_json::from_value(serde_json::json!({
        "name": name, "url": url, "auth": {"type": mode, "key": key},
        "contentType": content, "removeHTML": "disabled", "retriesEnabled": false,
        "email": "ops@example.com",
        "callbacks": {"reply": "enabled", "undeliverable": "enabled"}
    }))
    .unwrap();
    let created = client
        .callback_create()
        .body(callback)
        .send()
        .await
        .unwrap();
    created.id().expect("the new callback's id").to_string()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Callback>) -> Callback {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a callback within 10 s")
        .expect("the receiver runs")
}

#[tokio::test]
async fn every_auth_mode_and_content_type_reaches_the_receiver_typed() {
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let (url, mut rx) = receiver().await;
    for mode in ["queryparam", "httpheader", "basicauth", "bearertoken"] {
        for content in ["json", "xml"] {
            let name = format!("hook-{mode}-{content}");
            register(client, &name, &url, mode, KEY, content).await;
            let message: types::Message = serde_json::from_value(serde_json::json!({
                "to": format!("61400000002,{FAILING_NUMBER}"), "subject": "Hi", "body": "Reply YES",
                "callbackId": name, "callbackParameters": {"order": "42"}
            }))
            .unwrap();
            let sent = client.message_create().body(message).send().await.unwrap();
            let message_id = sent.message_id().expect("a message id").to_string();

            let failed = next(&mut rx).await;
            assert_eq!(
                failed.kind(),
                CallbackKind::Undeliverable,
                "{mode} {content}"
            );
            assert_eq!(failed.message_id, message_id);
            assert_eq!(
                failed.from.as_ref().and_then(|f| f.mobile.as_deref()),
                Some(FAILING_NUMBER)
            );

            assert!(
                sandbox
                    .simulate_reply(&message_id, "61400000002", "YES")
                    .await
            );
            let reply = next(&mut rx).await;
            assert_eq!(reply.kind(), CallbackKind::Reply, "{mode} {content}");
            assert_eq!(reply.message_id, message_id);
            let response = reply.response_message.as_ref().expect("the reply");
            assert_eq!(response.content.as_deref(), Some("YES"));
            assert_eq!(response.channel, Some(Channel::Sms));
            assert_eq!(
                reply.custom_parameters.get("order").map(String::as_str),
                Some("42")
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_key_is_refused_with_401_and_never_handled() {
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(20))
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let (url, mut rx) = receiver().await;
    let callback_id = register(
        client,
        "wrong-key",
        &url,
        "httpheader",
        "not-the-key",
        "json",
    )
    .await;
    let message: types::Message = serde_json::from_value(serde_json::json!({
        "to": FAILING_NUMBER, "subject": "Hi", "callbackId": "wrong-key"
    }))
    .unwrap();
    client.message_create().body(message).send().await.unwrap();
    // The sandbox records the call with the receiver's answer.
    let mut calls = Vec::new();
    for _ in 0..100 {
        let answer = client
            .callback_call_list()
            .callback_id(callback_id.as_str())
            .send()
            .await
            .unwrap()
            .into_inner();
        calls = serde_json::to_value(&answer).unwrap()["calls"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !calls.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["callback"]["statusCode"], 401, "{calls:?}");
    assert!(
        tokio::time::timeout(Duration::from_millis(200), rx.recv())
            .await
            .is_err(),
        "the handler never saw it"
    );
}
