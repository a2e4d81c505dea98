//! Callbacks: Whispir-style payloads POSTed to a callback's URL with its
//! auth mode, each attempt recorded as a callback call.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::{item_uri, not_found, page, show};
use crate::state::AppState;
use crate::store::{IdStyle, Record};
use crate::xml;

const CALLBACKS: &str = "callbacks";

/// The collection holding the calls of every callback: one collection, so
/// that one bound ([`Limits::max_callback_calls`](crate::Limits)) holds
/// for them all.
const CALLS: &str = "callbackcalls";

/// The path of one callback's calls, under which each call is shown.
fn calls_path(callback_id: &str) -> String {
    format!("callbacks/{callback_id}/calls")
}

/// Whether a recorded call is one of this callback's.
fn is_call_of(record: &Record, callback_id: &str) -> bool {
    record.value.pointer("/callback/id").and_then(Value::as_str) == Some(callback_id)
}

/// A callback URL fit to record: without query, fragment or user info,
/// where keys travel (`?auth=` and whatever secret the URL was given);
/// `-` when it is not a URL, as its parts cannot then be told apart.
fn recordable_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "-".to_string();
    };
    parsed.set_query(None);
    parsed.set_fragment(None);
    // Both fail only for URLs that cannot have user info at all.
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.to_string()
}

/// What happened to a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// A recipient replied.
    Reply,
    /// The message could not be delivered to a recipient.
    Undeliverable,
}

/// One event to tell a callback about.
#[derive(Debug, Clone)]
pub(crate) struct CallbackEvent {
    /// Reply or undeliverable.
    pub kind: EventKind,
    /// The message.
    pub message_id: String,
    /// The message's URL.
    pub message_location: String,
    /// The recipient concerned.
    pub from: String,
    /// `sms`, `email` or `voice`.
    pub channel: &'static str,
    /// The reply's text, or `Undeliverable`.
    pub content: String,
    /// When (`dd/MM/yy HH:mm`).
    pub acknowledged: String,
    /// The message's `callbackParameters`.
    pub parameters: Value,
}

impl CallbackEvent {
    /// Who the event is about, as Whispir's `from` object.
    fn responder(&self) -> Value {
        if self.from.contains('@') {
            json!({"name": self.from, "email": self.from})
        } else {
            json!({"name": self.from, "mobile": self.from})
        }
    }

    /// The body Whispir sends: `messageid`, `messagelocation`, `from`,
    /// `responseMessage` and the `customParameters` of the message.
    pub fn payload(&self) -> Value {
        let mut response = json!({
            "channel": self.channel.to_uppercase(),
            "acknowledged": self.acknowledged,
            "content": self.content,
        });
        if self.kind == EventKind::Undeliverable {
            response["undeliverable"] = json!(self.channel.to_uppercase());
        }
        let mut payload = json!({
            "messageid": self.message_id,
            "messagelocation": self.message_location,
            "from": self.responder(),
            "responseMessage": response,
        });
        if self.parameters.as_object().is_some_and(|p| !p.is_empty()) {
            payload["customParameters"] = self.parameters.clone();
        }
        payload
    }
}

/// Finds the callback a message names (by id or by name), and POSTs the
/// event to it when it wants this kind of event.
pub(crate) async fn notify(state: &Arc<AppState>, callback: Option<&str>, event: CallbackEvent) {
    let Some(wanted) = callback else {
        return;
    };
    let found: Option<Record> = lock(&state.store)
        .list(&None, CALLBACKS)
        .iter()
        .find(|record| {
            record.id == wanted || record.value.get("name").and_then(Value::as_str) == Some(wanted)
        })
        .cloned();
    let Some(record) = found else {
        return;
    };
    let switch = match event.kind {
        EventKind::Reply => "/callbacks/reply",
        EventKind::Undeliverable => "/callbacks/undeliverable",
    };
    if record.value.pointer(switch).and_then(Value::as_str) != Some("enabled") {
        return;
    }
    deliver(state, &record, &event).await;
}

/// POSTs an event to a callback's URL, retrying when it says so (to the
/// retry URLs of [`CallbackRetries`](crate::CallbackRetries) if any), and
/// records the outcome, with the URL last tried, as a callback call.
async fn deliver(state: &Arc<AppState>, callback: &Record, event: &CallbackEvent) {
    let config = &callback.value;
    let url = config
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let key = config
        .pointer("/auth/key")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mode = config
        .pointer("/auth/type")
        .and_then(Value::as_str)
        .unwrap_or("queryparam");
    let is_xml = config.get("contentType").and_then(Value::as_str) == Some("xml");
    let retries = config.get("retriesEnabled").and_then(Value::as_bool) == Some(true);
    let payload = event.payload();
    let (body, content_type) = if is_xml {
        (
            xml::from_json("ns2:deliveryResponse", &payload),
            "application/xml",
        )
    } else {
        (payload.to_string(), "application/json")
    };
    let schedule = &state.callback_retries;
    let attempts = if retries { schedule.attempts.max(1) } else { 1 };
    let mut outcome = (0u16, String::from("not attempted"));
    let mut attempted_url = url.as_str();
    for attempt in 0..attempts {
        tokio::time::sleep(schedule.delay_before(attempt)).await;
        attempted_url = schedule.url_for(attempt, &url);
        let mut request = state
            .http
            .post(attempted_url)
            .header("content-type", content_type)
            .body(body.clone());
        request = match mode {
            "httpheader" => request.header("X-Whispir-Callback-Key", &key),
            "basicauth" => request.header("Authorization", format!("Basic {key}")),
            "bearertoken" => request.header("Authorization", format!("Bearer {key}")),
            _ => request.query(&[("auth", key.as_str())]),
        };
        outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                (
                    status.as_u16(),
                    status.canonical_reason().unwrap_or("").to_string(),
                )
            }
            // The error's URL carries the key of `queryparam` callbacks.
            Err(err) => (
                0,
                format!(
                    "the callback URL could not be reached: {}",
                    err.without_url()
                ),
            ),
        };
        if (200..300).contains(&outcome.0) {
            break;
        }
    }
    let succeeded = (200..300).contains(&outcome.0);
    let call = json!({
        "messageId": event.message_id,
        "messageLocation": event.message_location,
        "from": event.responder(),
        "responseMessage": {
            "channel": event.channel,
            "acknowledged": event.acknowledged,
            "content": if event.content.is_empty() { "-".to_string() } else { event.content.clone() },
        },
        "status": if succeeded { "SUCCESS" } else { "FAILED" },
        "callback": {
            "id": callback.id,
            "name": config.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).unwrap_or("callback"),
            "url": recordable_url(attempted_url),
            "attemptedDate": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            "statusCode": outcome.0,
            "statusMessage": if outcome.1.is_empty() { "-".to_string() } else { outcome.1 },
        },
    });
    lock(&state.store).insert_keeping(
        &None,
        CALLS,
        call,
        IdStyle::Hex,
        state.limits.max_callback_calls,
    );
}

fn callback_id<'a>(call: &'a Call<'_>) -> Result<&'a str, ApiFailure> {
    let id = call.bound.param("callbackId").unwrap_or("");
    if lock(&call.state.store).get(&None, CALLBACKS, id).is_none() {
        return Err(not_found(CALLBACKS, id));
    }
    Ok(id)
}

/// `GET /callbacks/{id}/calls`: the calls made, optionally by `status`.
pub(crate) fn call_list(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let id = callback_id(call)?;
    let path = calls_path(id);
    let items: Vec<Value> = lock(&call.state.store)
        .list(&None, CALLS)
        .iter()
        .filter(|record| is_call_of(record, id))
        .map(|record| show(record, &item_uri(call, &None, &path, &record.id)))
        .collect();
    page(call, items)
}

/// `PUT /callbacks/{id}/calls?id=A,B`: sets the status of those calls.
pub(crate) fn call_update(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let id = callback_id(call)?;
    let status = call
        .body
        .as_ref()
        .and_then(|body| body.get("status"))
        .cloned()
        .unwrap_or_else(|| json!("SUCCESS"));
    let wanted: Vec<&str> = call
        .query("id")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    let mut store = lock(&call.state.store);
    for call_id in &wanted {
        if let Some(record) = store
            .get_mut(&None, CALLS, call_id)
            .filter(|record| is_call_of(record, id))
        {
            record.value["status"] = status.clone();
        }
    }
    Ok(Answer::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reply_payload_has_whispirs_fields() {
        let event = CallbackEvent {
            kind: EventKind::Reply,
            message_id: "ABC".into(),
            message_location: "http://127.0.0.1:1/workspaces/W/messages/ABC".into(),
            from: "61400000001".into(),
            channel: "sms",
            content: "Yes".into(),
            acknowledged: "09/01/26 13:22".into(),
            parameters: json!({"order": "42"}),
        };
        let payload = event.payload();
        assert_eq!(payload["messageid"], "ABC");
        assert_eq!(payload["from"]["mobile"], "61400000001");
        assert_eq!(payload["responseMessage"]["channel"], "SMS");
        assert_eq!(payload["responseMessage"]["content"], "Yes");
        assert_eq!(payload["customParameters"]["order"], "42");
    }

    #[test]
    fn retries_go_to_the_retry_urls_in_turn_and_start_over() {
        let retries = crate::CallbackRetries {
            attempts: 5,
            interval_millis: Some(50),
            retry_urls: vec!["http://b/".into(), "http://c/".into()],
        };
        let urls: Vec<&str> = (0..5).map(|n| retries.url_for(n, "http://a/")).collect();
        assert_eq!(
            urls,
            [
                "http://a/",
                "http://b/",
                "http://c/",
                "http://b/",
                "http://c/"
            ]
        );
        assert_eq!(retries.delay_before(0), Duration::ZERO);
        assert_eq!(retries.delay_before(3), Duration::from_millis(50));
    }

    #[test]
    fn by_default_retries_go_to_the_callbacks_url_twice_within_a_second_and_a_half() {
        let retries = crate::CallbackRetries::default();
        assert_eq!(retries.attempts, 3);
        assert_eq!(retries.url_for(2, "http://a/"), "http://a/");
        assert_eq!(retries.delay_before(1), Duration::from_millis(400));
        assert_eq!(retries.delay_before(2), Duration::from_millis(800));
    }

    #[test]
    fn a_recorded_url_keeps_no_query_fragment_or_user_info() {
        assert_eq!(
            recordable_url("https://user:pass@hooks.example.com:8443/in/a?auth=k&token=t#frag"),
            "https://hooks.example.com:8443/in/a"
        );
        assert_eq!(
            recordable_url("http://127.0.0.1:9/hook?secret"),
            "http://127.0.0.1:9/hook"
        );
        assert_eq!(recordable_url("not a url?auth=k"), "-");
        assert_eq!(recordable_url(""), "-");
    }
}
