//! `whispir send sms|email`: one message, optionally followed to delivery.

use std::time::Duration;

use serde_json::{Value, json};
use whispir::Recipient;
use whispir::types::{self, Message, builder};
use whispir::{DeliveryCounts, WaitOptions};

use crate::cli::{SendCommand, SendWaitArgs};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::output::Output;

/// Runs `send`.
pub async fn run(
    conn: &Connection,
    out: Output,
    command: SendCommand,
) -> Result<ExitClass, CliError> {
    let (message, from, label, wait) = match command {
        SendCommand::Sms(args) => (
            Message::sms(recipients(args.to, args.list), &args.text),
            args.from,
            args.label,
            args.wait,
        ),
        SendCommand::Email(args) => (
            Message::email(recipients(args.to, args.list), &args.subject, &args.body),
            args.from,
            args.label,
            args.wait,
        ),
    };
    let message = match label {
        Some(label) => message.label(label),
        None => message,
    };
    let message = match from {
        Some(alias) => message.features(
            types::Features::builder()
                .alias_option(types::FeaturesAliasOption::builder().alias_name(alias)),
        ),
        None => message,
    };
    send(conn, out, message, &wait).await
}

/// `--to` (text: numbers, addresses, MRIs) and each `--list` (a list's
/// name), in that order.
fn recipients(to: Option<String>, lists: Vec<String>) -> Vec<Recipient> {
    to.into_iter()
        .map(Recipient::from)
        .chain(lists.into_iter().map(Recipient::list))
        .collect()
}

async fn send(
    conn: &Connection,
    out: Output,
    message: builder::Message,
    wait: &SendWaitArgs,
) -> Result<ExitClass, CliError> {
    let mut request = conn.client.message_create().body(message);
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    let sent = request.send().await?;
    let id = sent.message_id().map(String::from);
    let mut value = json!({
        "messageId": id,
        "location": sent.location().map(|url| url.as_str()),
        "status": sent.status().as_u16(),
    });
    if !wait.wait {
        return out
            .object(&value, || match &id {
                Some(id) => vec![format!("accepted: message {id}")],
                None => vec![format!("accepted ({})", sent.status())],
            })
            .map(|()| ExitClass::Success);
    }
    let options = WaitOptions {
        deadline: Duration::from_secs(wait.deadline),
        ..WaitOptions::default()
    };
    let outcome = sent.wait(&conn.client, options).await?;
    let counts = outcome.counts();
    value["finished"] = json!(outcome.is_finished());
    value["counts"] = counts_json(&counts);
    out.object(&value, || {
        let verdict = if outcome.is_finished() {
            "delivery finished"
        } else {
            "deadline reached"
        };
        vec![
            format!("accepted: message {}", id.as_deref().unwrap_or("-")),
            format!("{verdict}: {counts}"),
        ]
    })?;
    Ok(if outcome.is_finished() {
        ExitClass::Success
    } else {
        ExitClass::Failure
    })
}

/// Delivery counts as JSON.
pub fn counts_json(counts: &DeliveryCounts) -> Value {
    json!({
        "pending": counts.pending,
        "sent": counts.sent,
        "received": counts.received,
        "acknowledged": counts.acknowledged,
        "undeliverable": counts.undeliverable,
        "other": counts.other,
        "total": counts.total(),
        "delivered": counts.delivered(),
    })
}
