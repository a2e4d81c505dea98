//! One-time codes: sending one and verifying it.
//!
//! The sandbox sends nothing, so its codes are predictable: the first
//! `codeLength` digits of [`CODE_DIGITS`] (`123456` by default).

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::not_found;
use crate::store::IdStyle;

/// The digits every sandbox code is cut from.
pub const CODE_DIGITS: &str = "123456789012345";

const COLLECTION: &str = "otp";

/// `POST /otp/send-code`.
pub(crate) fn send_code(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let body = call.body.clone().unwrap_or_else(|| json!({}));
    let to = body
        .get("to")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let channel = body
        .get("channel")
        .and_then(Value::as_str)
        .unwrap_or("sms")
        .to_string();
    let length = body
        .get("codeLength")
        .and_then(Value::as_u64)
        .unwrap_or(6)
        .clamp(6, 15);
    let expires_in = body
        .get("expiresIn")
        .and_then(Value::as_i64)
        .unwrap_or(600)
        .clamp(0, 86_400);
    let expires_at = chrono::Utc::now() + chrono::Duration::seconds(expires_in);
    let code = CODE_DIGITS[..usize::try_from(length).unwrap_or(6)].to_string();
    let mut store = lock(&call.state.store);
    let id = store.new_id(IdStyle::Hex);
    let verify = format!("{}/otp/{id}/verify-code", call.base);
    let otp = json!({
        "id": id,
        "channel": channel,
        "codeLength": length,
        "to": to,
        "expiresAt": expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "status": "pending",
        "links": {"verify": verify},
    });
    store.insert(&None, COLLECTION, otp.clone(), IdStyle::Hex);
    lock(&call.state.otp_codes).insert(id, code);
    Ok(Answer {
        status: StatusCode::CREATED,
        body: Some(otp),
        location: None,
    }
    .at(verify))
}

/// `POST /otp/{otpId}/verify-code`: 200 with the code's status:
/// `verified`, or `invalid` (wrong code or recipient) or `expired`.
pub(crate) fn verify_code(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let id = call.bound.param("otpId").unwrap_or("");
    let body = call.body.clone().unwrap_or_else(|| json!({}));
    let given_code = body.get("code").and_then(Value::as_str).unwrap_or("");
    let given_to = body.get("to").and_then(Value::as_str).unwrap_or("");
    let mut store = lock(&call.state.store);
    let record = store
        .get_mut(&None, COLLECTION, id)
        .ok_or_else(|| not_found("otps", id))?;
    let expected = lock(&call.state.otp_codes)
        .get(id)
        .cloned()
        .unwrap_or_default();
    let expired = record
        .value
        .get("expiresAt")
        .and_then(Value::as_str)
        .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
        .is_some_and(|at| at < chrono::Utc::now());
    let right = record.value.get("to").and_then(Value::as_str) == Some(given_to)
        && !given_code.is_empty()
        && given_code == expected;
    let status = if record.value.get("status").and_then(Value::as_str) == Some("verified") {
        "verified"
    } else if expired {
        "expired"
    } else if right {
        "verified"
    } else {
        "invalid"
    };
    if let Some(map) = record.value.as_object_mut() {
        map.insert("status".into(), json!(status));
    }
    let mut answer = record.value.clone();
    if let Some(map) = answer.as_object_mut() {
        map.insert("id".into(), json!(id));
    }
    Ok(Answer::ok(answer))
}
