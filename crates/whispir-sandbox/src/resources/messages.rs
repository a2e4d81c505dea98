//! Messages: sending (and running scenarios), a status that moves on
//! over time, replies, and the callbacks they trigger.
//!
//! Every recipient is pending for one step, sent for the next, then
//! received (delivered) or, for the configured failing recipients,
//! undeliverable. A reply makes it acknowledged.
//!
//! The list is Whispir's: newest first, only the last 7 days of the
//! sandbox's clock unless the four `criteria…` parameters name a range
//! (read in UTC, the sandbox's time zone), only the API user's messages
//! unless `viewType=shared`, and a message only once its processing
//! delay has passed.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::answers::{Answer, Call};
use crate::delivery::{Delivery, Reply, Stage};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::{filter, item_uri, not_found, page, paginate, show, sort, sort_fields};
use crate::recorded::SentMessage;
use crate::resources::callbacks::{self, CallbackEvent, EventKind};
use crate::state::AppState;
use crate::store::IdStyle;

const MESSAGES: &str = "messages";

/// What the message list holds without date criteria: Whispir's default.
const DEFAULT_WINDOW_MILLIS: i64 = 7 * 24 * 3600 * 1000;

/// `GET …/messages`: the messages of the window, newest first.
pub(crate) fn list(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let (from, to) = window(call)?;
    let shared = call
        .query("viewType")
        .is_some_and(|view| view.eq_ignore_ascii_case("shared"));
    let listed: Vec<(String, Value)> = {
        let store = lock(&call.state.store);
        store
            .list(&call.workspace, MESSAGES)
            .iter()
            .filter(|record| shared || !record.other_user)
            .filter(|record| {
                let created = record.value.get("createdTime").and_then(Value::as_i64);
                created.is_some_and(|created| (from..=to).contains(&created))
            })
            .map(|record| {
                let uri = item_uri(call, &call.workspace, MESSAGES, &record.id);
                (record.id.clone(), show(record, &uri))
            })
            .collect()
    };
    let delay = call.state.messages.processing_delay();
    let mut items: Vec<Value> = {
        let deliveries = lock(&call.state.deliveries);
        listed
            .into_iter()
            .filter(|(id, _)| {
                delay.is_zero()
                    || deliveries
                        .get(id)
                        .is_none_or(|delivery| delivery.created.elapsed() >= delay)
            })
            .map(|(_, item)| item)
            .collect()
    };
    filter(call, &mut items);
    let fields = sort_fields(call);
    if fields.is_empty() {
        sort(&mut items, &["createdTime"]);
    } else {
        sort(&mut items, &fields);
    }
    // Newest first unless asked otherwise, as Whispir's examples list them.
    let ascending = match call.query("sortOrder") {
        Some(order) => order.eq_ignore_ascii_case("asc"),
        None => call.query("sortFields").is_some_and(|f| !f.is_empty()),
    };
    if !ascending {
        items.reverse();
    }
    paginate(call, items)
}

/// The range of `createdTime`s (Unix ms, both included) the list holds:
/// the four `criteria…` parameters, or the last 7 days.
fn window(call: &Call<'_>) -> Result<(i64, i64), ApiFailure> {
    const NAMES: [&str; 4] = [
        "criteriaFromDate",
        "criteriaFromTime",
        "criteriaToDate",
        "criteriaToTime",
    ];
    // An empty value names no date: the same as leaving the parameter out.
    let given: Vec<Option<&str>> = NAMES
        .iter()
        .map(|name| call.query(name).filter(|value| !value.trim().is_empty()))
        .collect();
    if given.iter().all(Option::is_none) {
        let now = call.state.clock.now_millis();
        return Ok((now.saturating_sub(DEFAULT_WINDOW_MILLIS), now));
    }
    let missing: Vec<&str> = NAMES
        .iter()
        .zip(&given)
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        // Each parameter is well formed on its own: 422, not 400.
        return Err(ApiFailure::unprocessable(&[format!(
            "a date search needs all four of {}; missing: {}",
            NAMES.join(", "),
            missing.join(", ")
        )]));
    }
    let instant = |date: Option<&str>, time: Option<&str>, which: &str| {
        let text = format!("{} {}", date.unwrap_or(""), time.unwrap_or(""));
        chrono::NaiveDateTime::parse_from_str(&text, "%d/%m/%Y %H:%M")
            .map(|at| at.and_utc().timestamp_millis())
            .map_err(|_| {
                // Text the spec allows but that names no date: 422.
                ApiFailure::unprocessable(&[format!(
                    "the {which} of the date search, {text:?}, is not dd/mm/yyyy and hh:mm"
                )])
            })
    };
    let from = instant(given[0], given[1], "start")?;
    // The end names a minute: the whole of it is in the range.
    let to = instant(given[2], given[3], "end")?.saturating_add(59_999);
    Ok((from, to))
}

/// The recipients of a `to` field, separated by `,` as Whispir reads them.
fn recipients(to: &str) -> Vec<String> {
    to.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from)
        .collect()
}

/// `POST …/messages`: 202 with `Location`, or 200 with the message when
/// it is scheduled.
pub(crate) fn create(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let body = call.body.clone().unwrap_or_else(|| json!({}));
    let bulk = call
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|media| media.contains("bulkmessage"))
        // A dynamic message may leave `to` out: its rows are the recipients.
        || crate::resources::dynamic::is_dynamic(&body);
    let list_exists = |name: &str| {
        lock(&call.state.store)
            .list(&call.workspace, "distributionlists")
            .iter()
            .any(|list| list.value.get("name").and_then(Value::as_str) == Some(name))
    };
    crate::recipients::check_message(&body, bulk, list_exists)?;
    let rows = crate::resources::dynamic::rows(call.state, &call.workspace, &body)?;
    let scheduled = body.get("messageType").and_then(Value::as_str) == Some("SCHEDULED");
    let (id, location) = send(call.state, &call.base, call.workspace_id(), body, rows)?;
    if scheduled {
        let store = lock(&call.state.store);
        let record = store
            .get(&call.workspace, MESSAGES, &id)
            .ok_or_else(|| not_found(MESSAGES, &id))?;
        return Ok(Answer::ok(show(record, &location)).at(location));
    }
    Ok(Answer {
        status: StatusCode::ACCEPTED,
        body: Some(json!("Your request has been accepted for processing")),
        location: None,
    }
    .at(location))
}

/// `POST …/scenarios/{id}`: sends the scenario's message; 202 with the
/// message's `Location`.
pub(crate) fn run_scenario(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let id = call.bound.item_id().unwrap_or("");
    let scenario = lock(&call.state.store)
        .get(&call.workspace, "scenarios", id)
        .map(|record| record.value.clone())
        .ok_or_else(|| not_found("scenarios", id))?;
    let mut message = scenario
        .get("message")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(map) = message.as_object_mut() {
        for field in ["to", "subject"] {
            let given = map
                .get(field)
                .and_then(Value::as_str)
                .is_some_and(|v| !v.is_empty());
            if !given {
                let fallback = scenario.get(field).cloned().unwrap_or_else(|| json!(""));
                map.insert(field.into(), fallback);
            }
        }
    }
    let rows = crate::resources::dynamic::rows(call.state, &call.workspace, &message)?;
    let (_, location) = send(call.state, &call.base, call.workspace_id(), message, rows)?;
    Ok(Answer::empty(StatusCode::ACCEPTED).at(location))
}

/// Stores a message, starts its life and returns its id and URL. A
/// dynamic message goes to its `rows`, one delivery each.
pub(crate) fn send(
    state: &Arc<AppState>,
    base: &str,
    workspace: &str,
    mut message: Value,
    rows: Option<Vec<crate::resources::dynamic::Row>>,
) -> Result<(String, String), ApiFailure> {
    let to = message
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let recipients = match &rows {
        Some(rows) => rows.iter().map(|row| row.address.clone()).collect(),
        None => recipients(&to),
    };
    let channel = if message.get("email").is_some() && message.get("body").is_none() {
        "email"
    } else if message.get("voice").is_some() && message.get("body").is_none() {
        "voice"
    } else {
        "sms"
    };
    if let Some(map) = message.as_object_mut() {
        map.insert("createdTime".into(), json!(state.clock.now_millis()));
        map.insert("direction".into(), json!("OUTGOING"));
        map.insert("from".into(), json!("Whispir Sandbox"));
    }
    let callback = message
        .get("callbackId")
        .and_then(Value::as_str)
        .map(String::from);
    let parameters = message
        .get("callbackParameters")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let scope = Some(workspace.to_string());
    let sent = message.clone();
    let id = lock(&state.store).insert(&scope, MESSAGES, message, IdStyle::Hex);
    let location = format!("{base}/workspaces/{workspace}/messages/{id}");
    match &rows {
        Some(rows) => {
            let mut log = lock(&state.sent);
            for row in rows {
                let mut one = SentMessage::read(&id, &location, workspace, &row.message);
                one.row = Some(row.number);
                log.push(one);
            }
        }
        None => lock(&state.sent).push(SentMessage::read(&id, &location, workspace, &sent)),
    }
    let failing = &state.messages.failing_recipients;
    let delivery = Delivery {
        created: Instant::now(),
        recipients: recipients
            .into_iter()
            .map(|r| {
                // A row whose address Whispir cannot read fails on its own.
                let unreadable = rows.is_some() && whispir::recipients::kind_of(&r).is_none();
                let fails = unreadable || failing.iter().any(|f| same_address(f, &r));
                (r, fails)
            })
            .collect(),
        replies: Vec::new(),
        callback,
        parameters,
        channel,
        location: location.clone(),
        rows: rows.into_iter().flatten().map(|row| row.values).collect(),
    };
    lock(&state.deliveries).insert(id.clone(), delivery);
    let life_state = Arc::clone(state);
    let life_id = id.clone();
    state.spawn(async move { live(life_state, life_id).await });
    Ok((id, location))
}

/// Whether two recipients are the same, ignoring `+` and spaces.
fn same_address(a: &str, b: &str) -> bool {
    let clean = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace() && *c != '+')
            .collect::<String>()
            .to_lowercase()
    };
    clean(a) == clean(b)
}

/// A message's life after it is sent: once delivered, undeliverable
/// callbacks and automatic replies.
async fn live(state: Arc<AppState>, id: String) {
    tokio::time::sleep(state.messages.step() * 2).await;
    let Some(delivery) = lock(&state.deliveries).get(&id).cloned() else {
        return;
    };
    for (recipient, fails) in &delivery.recipients {
        if *fails {
            let event = CallbackEvent {
                kind: EventKind::Undeliverable,
                message_id: id.clone(),
                message_location: delivery.location.clone(),
                from: recipient.clone(),
                channel: delivery.channel,
                content: "Undeliverable".to_string(),
                acknowledged: whispir_time(&state),
                parameters: delivery.parameters_of(recipient),
            };
            callbacks::notify(&state, delivery.callback.as_deref(), event).await;
        } else if let Some(text) = state.messages.auto_reply.clone() {
            reply(&state, &id, recipient, &text).await;
        }
    }
}

/// Records a reply to a message and calls its callback.
pub(crate) async fn reply(state: &Arc<AppState>, message_id: &str, from: &str, text: &str) -> bool {
    let acknowledged = whispir_time(state);
    let delivery = {
        let mut deliveries = lock(&state.deliveries);
        let Some(delivery) = deliveries.get_mut(message_id) else {
            return false;
        };
        delivery.replies.push(Reply {
            from: from.to_string(),
            content: text.to_string(),
            acknowledged: acknowledged.clone(),
        });
        delivery.clone()
    };
    let event = CallbackEvent {
        kind: EventKind::Reply,
        message_id: message_id.to_string(),
        message_location: delivery.location.clone(),
        from: from.to_string(),
        channel: delivery.channel,
        content: text.to_string(),
        acknowledged,
        parameters: delivery.parameters_of(from),
    };
    callbacks::notify(state, delivery.callback.as_deref(), event).await;
    true
}

/// Now, as Whispir writes reply times.
fn whispir_time(state: &AppState) -> String {
    state.clock.now().format("%d/%m/%y %H:%M").to_string()
}

/// The life of a message of this call, or 404. Messages loaded from data
/// were delivered long ago.
fn delivery_of(call: &Call<'_>) -> Result<(String, Delivery), ApiFailure> {
    let id = call.bound.param("messageId").unwrap_or("").to_string();
    let message = lock(&call.state.store)
        .get(&call.workspace, MESSAGES, &id)
        .map(|record| record.value.clone())
        .ok_or_else(|| not_found(MESSAGES, &id))?;
    if let Some(delivery) = lock(&call.state.deliveries).get(&id) {
        return Ok((id, delivery.clone()));
    }
    let to = message.get("to").and_then(Value::as_str).unwrap_or("");
    let long_ago = Instant::now()
        .checked_sub(call.state.messages.step() * 3)
        .unwrap_or_else(Instant::now);
    let location = item_uri(call, &call.workspace, MESSAGES, &id);
    Ok((
        id,
        Delivery {
            created: long_ago,
            recipients: recipients(to).into_iter().map(|r| (r, false)).collect(),
            replies: Vec::new(),
            callback: None,
            parameters: json!({}),
            channel: "sms",
            location,
            rows: Vec::new(),
        },
    ))
}

fn detailed(call: &Call<'_>) -> bool {
    call.query("view")
        .is_some_and(|view| view.eq_ignore_ascii_case("detailed"))
}

fn percentage(count: usize, total: usize) -> String {
    if total == 0 {
        return "0%".into();
    }
    format!("{}%", count * 100 / total)
}

/// `GET …/messages/{id}/messagestatus`: counts per category (summary) or
/// each recipient's state (`view=detailed`).
pub(crate) fn status_list(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let (_, delivery) = delivery_of(call)?;
    let stages: Vec<(String, Stage)> = delivery
        .recipients
        .iter()
        .map(|(recipient, fails)| {
            (
                recipient.clone(),
                delivery.stage(call.state.messages.step(), recipient, *fails),
            )
        })
        .collect();
    let total = stages.len();
    let items = if detailed(call) {
        stages
            .iter()
            .map(|(recipient, stage)| {
                json!({
                    "name": recipient,
                    "info": stage.category(),
                    "status": [{"destination": recipient, "status": stage.code(), "type": delivery.channel}],
                })
            })
            .collect()
    } else {
        let categories: Vec<Value> = [
            Stage::Sent,
            Stage::Pending,
            Stage::Received,
            Stage::Acknowledged,
            Stage::Undeliverable,
        ]
        .into_iter()
        .map(|category| {
            let count = stages
                .iter()
                .filter(|(_, stage)| *stage == category)
                .count();
            json!({
                "name": category.category(),
                "recipientCount": count,
                "percentageTotal": percentage(count, total),
            })
        })
        .collect();
        vec![json!({"categories": categories, "link": []})]
    };
    page(call, items)
}

/// `GET …/messages/{id}/messageresponses`: reply counts per category
/// (summary) or each reply (`view=detailed`).
pub(crate) fn response_list(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let (_, delivery) = delivery_of(call)?;
    let total = delivery.recipients.len();
    let items = if detailed(call) {
        delivery
            .replies
            .iter()
            .map(|reply| {
                json!({
                    "from": {"name": reply.from, "mobile": reply.from},
                    "responseCategory": "notmatched",
                    "responseMessage": {
                        "channel": delivery.channel.to_uppercase(),
                        "acknowledged": reply.acknowledged,
                        "content": reply.content,
                    },
                })
            })
            .collect()
    } else {
        let replied = delivery
            .recipients
            .iter()
            .filter(|(r, _)| delivery.replies.iter().any(|reply| reply.from == *r))
            .count();
        let silent = total.saturating_sub(replied);
        vec![
            json!({"type": "noresponse", "responseCount": silent.to_string(), "percentageTotal": percentage(silent, total)}),
            json!({"type": "notmatched", "responseCount": replied.to_string(), "percentageTotal": percentage(replied, total)}),
        ]
    };
    page(call, items)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn recipients_split_on_commas_only() {
        assert_eq!(
            recipients("61400000001, 61400000002,a@example.com"),
            vec!["61400000001", "61400000002", "a@example.com"]
        );
        assert_eq!(recipients("1;2"), vec!["1;2"]);
        assert!(recipients(" , ").is_empty());
    }

    #[test]
    fn a_dynamic_rows_callbacks_carry_its_values_under_the_messages_parameters() {
        let row = |name: &str| {
            let mut values = serde_json::Map::new();
            values.insert("name".into(), json!(name));
            values.insert("order".into(), json!("row's own"));
            values
        };
        let delivery = Delivery {
            created: Instant::now(),
            recipients: vec![("61400000001".into(), false), ("61400000002".into(), false)],
            replies: Vec::new(),
            callback: None,
            parameters: json!({"order": "42"}),
            channel: "sms",
            location: String::new(),
            rows: vec![row("Ann"), row("Bob")],
        };
        assert_eq!(
            delivery.parameters_of("61400000002"),
            json!({"order": "42", "name": "Bob"})
        );
        assert_eq!(
            delivery.parameters_of("61400000009"),
            json!({"order": "42"})
        );
    }

    #[test]
    fn addresses_compare_without_plus_or_spaces() {
        assert!(same_address("+61 400 000 999", "61400000999"));
        assert!(!same_address("61400000998", "61400000999"));
    }
}
