//! A small notification service, as a backend engineer writes it after
//! reading the README: functions returning `anyhow::Result`, `?` on every
//! call, errors shown with `{}`. The tests (`tests/first_hour.rs`) run each
//! against the sandbox, as the README's testing section says to.

use std::time::Duration;

use tokio::sync::mpsc;
use whispir::callbacks::{AuthMode, Callback, CallbackKey, Deduplicator};
use whispir::types::{Contact, Message};
use whispir::{CallbackSetup, Client, DeliveryCounts, ListStream as _, WaitOptions};

/// Sends one SMS to several people; gives the message id.
pub async fn tell_the_team(
    client: &Client,
    numbers: &[&str],
    text: &str,
) -> anyhow::Result<String> {
    let sent = client
        .message_create()
        .body(Message::sms(numbers, text))
        .send()
        .await?;
    Ok(sent.message_id().unwrap_or_default().to_string())
}

/// Sends a plain-text email; gives the message id.
pub async fn email(client: &Client, to: &str, subject: &str, body: &str) -> anyhow::Result<String> {
    let sent = client
        .message_create()
        .body(Message::email(to, subject, body))
        .send()
        .await?;
    Ok(sent.message_id().unwrap_or_default().to_string())
}

/// Sends an SMS and waits until every recipient is delivered or failed;
/// gives the final counts.
pub async fn send_and_wait(
    client: &Client,
    to: &str,
    text: &str,
) -> anyhow::Result<DeliveryCounts> {
    let sent = client
        .message_create()
        .body(Message::sms(to, text))
        .send()
        .await?;
    let outcome = sent
        .wait(
            client,
            WaitOptions {
                deadline: Duration::from_secs(30),
                initial_interval: Duration::from_millis(100),
                ..WaitOptions::default()
            },
        )
        .await?;
    anyhow::ensure!(
        outcome.is_finished(),
        "still on its way: {:?}",
        outcome.counts()
    );
    Ok(outcome.counts())
}

/// The subjects of the first `n` messages the API lists, in pages of the
/// largest size it serves.
pub async fn last_messages(client: &Client, n: usize) -> anyhow::Result<Vec<String>> {
    let mut messages = client
        .message_list()
        .limit(whispir::MAX_PAGE_SIZE)
        .stream()
        .max_items(n);
    let mut subjects = Vec::new();
    while let Some(message) = messages.try_next().await? {
        subjects.push(message.subject);
    }
    Ok(subjects)
}

/// Creates a contact, renames it, reads it back and deletes it; gives the
/// name read back.
pub async fn contact_round_trip(client: &Client, workspace: &str) -> anyhow::Result<String> {
    let contact = Contact::builder()
        .first_name("Ivy")
        .last_name("Stone")
        .work_mobile_phone1("61400000050")
        .work_email_address1("ivy.stone@example.com")
        .work_country("Australia")
        .timezone("Australia/Melbourne");
    let created = client
        .contact_create()
        .workspace_id(workspace)
        .body(contact.clone())
        .send()
        .await?;
    let id = created.id().unwrap_or_default().to_string();
    client
        .contact_update()
        .workspace_id(workspace)
        .contact_id(&id)
        .body(contact.first_name("Ivy-May"))
        .send()
        .await?;
    let read = client
        .contact_retrieve()
        .workspace_id(workspace)
        .contact_id(&id)
        .send()
        .await?
        .into_inner();
    client
        .contact_delete()
        .workspace_id(workspace)
        .contact_id(&id)
        .send()
        .await?;
    Ok(format!("{} {}", read.first_name, read.last_name))
}

/// What the service logs when a call fails: the error with `{}`.
pub async fn try_to_read(client: &Client, message_id: &str) -> String {
    match client
        .message_retrieve()
        .message_id(message_id)
        .send()
        .await
    {
        Ok(message) => format!("found: {}", message.subject),
        Err(e) if e.is_not_found() => format!("no such message: {e}"),
        Err(e) => format!("failed: {e}"),
    }
}

/// Registers a callback at `url` (served by [`callback_app`]) and gives
/// the router plus a channel of the callbacks it receives, once each.
pub async fn callback_app(
    client: &Client,
    url: &str,
    key: &str,
) -> anyhow::Result<(axum::Router, mpsc::UnboundedReceiver<Callback>)> {
    let receiver = CallbackSetup::new(
        "newcomer",
        url,
        AuthMode::HttpHeader,
        CallbackKey::new(key)?,
    )?
    .failures_to("ops@example.com")
    .dedup(Deduplicator::new(1_000, Duration::from_secs(25 * 3600)))
    .register(client)
    .await?;
    let (tx, rx) = mpsc::unbounded_channel();
    let service = receiver.into_service(move |callback: Callback| {
        let tx = tx.clone();
        async move {
            tx.send(callback).map_err(|_| "nobody listens")?;
            Ok::<_, &'static str>(())
        }
    });
    Ok((axum::Router::new().route_service("/whispir", service), rx))
}
