//! `whispir messages list|show|status|responses` and `whispir wait`.

use std::time::Duration;

use serde_json::{Value, json};
use whispir::types::{MessageListSortOrder, MessageResponseListView, MessageStatusListView};
use whispir::{Accepted, DeliveryCounts, ListStream as _, WaitOptions, WaitUntil};

use crate::cli::{MessageListArgs, MessagesCommand, Until, WaitArgs};
use crate::commands::send::counts_json;
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::output::{Output, item_id, text, to_json};

/// Runs `messages`.
pub async fn run(
    conn: &Connection,
    out: Output,
    command: MessagesCommand,
) -> Result<ExitClass, CliError> {
    match command {
        MessagesCommand::List(args) => list(conn, out, &args).await?,
        MessagesCommand::Show { message_id } => {
            let mut request = conn.client.message_retrieve().message_id(&message_id);
            if let Some(workspace) = &conn.workspace {
                request = request.workspace_id(workspace);
            }
            let message = to_json(request.send().await?.body())?;
            out.object(&message, || {
                vec![
                    format!("id:       {message_id}"),
                    format!("to:       {}", text(&message, "to")),
                    format!("subject:  {}", text(&message, "subject")),
                    format!("body:     {}", text(&message, "body")),
                    format!("label:    {}", text(&message, "label")),
                    format!("created:  {}", created(&message)),
                ]
            })?;
        }
        MessagesCommand::Status {
            message_id,
            detailed,
        } => {
            let mut request = conn.client.message_status_list().message_id(&message_id);
            if let Some(workspace) = &conn.workspace {
                request = request.workspace_id(workspace);
            }
            if detailed {
                request = request.view(MessageStatusListView::Detailed);
            }
            let status = request.send().await?.into_inner();
            let mut value = to_json(&status)?;
            if !detailed {
                let counts = DeliveryCounts::of(&status);
                value = json!({"messageId": message_id, "counts": counts_json(&counts), "status": value});
                out.object(&value, || vec![counts.to_string()])?;
            } else {
                let rows = value
                    .get("messageStatuses")
                    .and_then(Value::as_array)
                    .map(|items| {
                        items
                            .iter()
                            .map(|item| vec![text(item, "name"), text(item, "info")])
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                if out.json {
                    out.object(&value, Vec::new)?;
                } else {
                    out.table(&["RECIPIENT", "STATUS"], &rows)?;
                }
            }
        }
        MessagesCommand::Responses { message_id } => {
            let mut request = conn
                .client
                .message_response_list()
                .message_id(&message_id)
                .view(MessageResponseListView::Detailed);
            if let Some(workspace) = &conn.workspace {
                request = request.workspace_id(workspace);
            }
            let responses = to_json(request.send().await?.body())?;
            let items: Vec<Value> = responses
                .get("messageresponses")
                .or_else(|| responses.get("messageResponses"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if out.json {
                for item in &items {
                    out.json_line(item)?;
                }
            } else {
                let rows: Vec<Vec<String>> = items
                    .iter()
                    .map(|item| {
                        let from = item
                            .get("from")
                            .map(|from| text(from, "name"))
                            .unwrap_or_default();
                        let reply = item.get("responseMessage");
                        vec![
                            from,
                            reply.map(|r| text(r, "acknowledged")).unwrap_or_default(),
                            reply.map(|r| text(r, "content")).unwrap_or_default(),
                        ]
                    })
                    .collect();
                out.table(&["FROM", "WHEN", "REPLY"], &rows)?;
            }
        }
    }
    Ok(ExitClass::Success)
}

/// When a message was created, as RFC 3339 (its `createdTime` is in ms).
fn created(message: &Value) -> String {
    message
        .get("createdTime")
        .and_then(Value::as_i64)
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

async fn list(conn: &Connection, out: Output, args: &MessageListArgs) -> Result<(), CliError> {
    let mut request = conn
        .client
        .message_list()
        .sort_fields("createdTime")
        .sort_order(MessageListSortOrder::Desc);
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    let range = match args.since {
        Some(since) => {
            let until = args.until.unwrap_or_else(chrono::Utc::now);
            let range = whispir::SentBetween::new(since, until)
                .map_err(|err| CliError::usage(format!("--since and --until: {err}")))?;
            request = request.sent_between(range);
            Some(range)
        }
        None => None,
    };
    if args.shared {
        request = request.view_type(whispir::types::MessageListViewType::Shared);
    }
    let mut items = request.stream();
    let mut rows = Vec::new();
    let mut shown = 0usize;
    let args_list = &args.list;
    while args_list.all || shown < args_list.limit {
        let Some(message) = items.try_next().await? else {
            break;
        };
        // Whispir is asked for a day more at each end (its time zone is
        // not documented): show only the range asked for.
        if let Some(range) = range
            && !message.created_time.is_some_and(|at| range.contains(at))
        {
            continue;
        }
        shown += 1;
        let value = to_json(&message)?;
        if out.json {
            out.json_line(&value)?;
        } else {
            rows.push(vec![
                item_id(&value),
                text(&value, "to"),
                text(&value, "subject"),
                text(&value, "label"),
                created(&value),
            ]);
        }
    }
    if !out.json {
        out.table(&["ID", "TO", "SUBJECT", "LABEL", "CREATED"], &rows)?;
    }
    Ok(())
}

/// Runs `wait`: follows a message's delivery by its id.
pub async fn wait(conn: &Connection, out: Output, args: &WaitArgs) -> Result<ExitClass, CliError> {
    let path = match &conn.workspace {
        Some(workspace) => format!("/workspaces/{workspace}/messages/{}", args.message_id),
        None => format!("/messages/{}", args.message_id),
    };
    let url = whispir::reqwest::Url::parse(&format!("{}{path}", conn.base_url))
        .map_err(|err| CliError::usage(format!("message id {:?}: {err}", args.message_id)))?;
    let accepted = Accepted::from_location(url)?;
    let options = WaitOptions {
        deadline: Duration::from_secs(args.deadline),
        until: match args.until {
            Until::Delivered => WaitUntil::Delivered,
            Until::Sent => WaitUntil::Sent,
        },
        ..WaitOptions::default()
    };
    let outcome = accepted.wait(&conn.client, options).await?;
    let counts = outcome.counts();
    let value = json!({
        "messageId": args.message_id,
        "finished": outcome.is_finished(),
        "counts": counts_json(&counts),
    });
    out.object(&value, || {
        let verdict = if outcome.is_finished() {
            "finished"
        } else {
            "deadline reached"
        };
        vec![format!("{verdict}: {counts}")]
    })?;
    Ok(if outcome.is_finished() {
        ExitClass::Success
    } else {
        ExitClass::Failure
    })
}
