//! What a test asserts on: the messages the sandbox accepted and the
//! requests it received, as typed records.

use axum::http::HeaderMap;
use serde_json::Value;

/// What the sandbox writes instead of a credential's value in a
/// [`RecordedRequest`]'s headers.
pub const REDACTED: &str = "[redacted]";

/// Headers whose values are credentials, never recorded.
const SECRET_HEADERS: [&str; 3] = ["authorization", "proxy-authorization", "x-api-key"];

/// The largest request body a [`RecordedRequest`] keeps (64 KiB); a larger
/// one is recorded by its size alone.
pub const MAX_RECORDED_BODY: usize = 64 * 1024;

/// A message the sandbox accepted for sending (by `messageCreate` or a
/// scenario run), as a test asserts on it. See [`Sandbox::sent_messages`].
///
/// [`Sandbox::sent_messages`]: crate::Sandbox::sent_messages
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SentMessage {
    /// The message's id.
    pub message_id: String,
    /// Its URL, as `Location` gave it.
    pub location: String,
    /// The workspace it was sent in.
    pub workspace_id: String,
    /// The recipients, in order: `to` split on Whispir's `,` separator.
    pub to: Vec<String>,
    /// The subject: an SMS's first line, or an email's subject.
    pub subject: String,
    /// The SMS body: the rest of an SMS's text, when there is any.
    pub body: Option<String>,
    /// The email part, when the message has one.
    pub email: Option<SentEmail>,
    /// The whole message as the sandbox accepted it (voice, web, callback
    /// and every other field).
    pub message: Value,
    /// For a dynamic message (one whose `resource` names uploaded rows):
    /// the row, from 1, this delivery went to; its tags are filled with
    /// the row's values and `to` is the row's address.
    pub row: Option<usize>,
}

impl SentMessage {
    /// What an SMS recipient reads: Whispir sends the subject, then the
    /// body on the next line, so this is `subject + "\n" + body`, or the
    /// subject alone without a body. [`whispir::types::Message::sms`]
    /// splits a text this way, so `text()` gives its text back.
    pub fn text(&self) -> String {
        match &self.body {
            Some(body) => format!("{}\n{body}", self.subject),
            None => self.subject.clone(),
        }
    }

    /// Reads a message as the sandbox stored it.
    pub(crate) fn read(
        message_id: &str,
        location: &str,
        workspace_id: &str,
        message: &Value,
    ) -> Self {
        let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_string);
        let to = message
            .get("to")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|recipient| !recipient.is_empty())
            .map(str::to_string)
            .collect();
        let email = message
            .get("email")
            .filter(|email| email.is_object())
            .map(|email| SentEmail {
                body: text(email.get("body")).unwrap_or_default(),
                content_type: text(email.get("type")),
                footer: text(email.get("footer")),
            });
        SentMessage {
            message_id: message_id.to_string(),
            location: location.to_string(),
            workspace_id: workspace_id.to_string(),
            to,
            subject: text(message.get("subject")).unwrap_or_default(),
            body: text(message.get("body")),
            email,
            message: message.clone(),
            row: None,
        }
    }
}

/// The email part of a [`SentMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SentEmail {
    /// The email's body.
    pub body: String,
    /// Its `type`: `text/plain` or `text/html`.
    pub content_type: Option<String>,
    /// Its footer.
    pub footer: Option<String>,
}

/// A request the sandbox received, and what it answered. See
/// [`Sandbox::requests`].
///
/// [`Sandbox::requests`]: crate::Sandbox::requests
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RecordedRequest {
    /// The spec's `operationId` of the operation it reached; `None` for a
    /// path or method the API does not have.
    pub operation_id: Option<String>,
    /// The method, e.g. `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query parameters, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers in order, names in lower case; the values of
    /// `Authorization`, `Proxy-Authorization` and `x-api-key` are
    /// [`REDACTED`].
    pub headers: Vec<(String, String)>,
    /// The body, when it is JSON of at most [`MAX_RECORDED_BODY`] bytes;
    /// a callback's key (`auth.key`) is [`REDACTED`].
    pub body: Option<Value>,
    /// The body's size in bytes (0 when the sandbox answered before
    /// reading it, e.g. for missing credentials).
    pub body_len: usize,
    /// The status answered; `None` when the sandbox dropped the connection
    /// instead (a reset fault).
    pub status: Option<u16>,
}

impl RecordedRequest {
    /// One line for a person watching the sandbox: method, path (no
    /// query, which may hold search terms), the operation it reached and
    /// the status answered, e.g. `POST /workspaces/1/messages
    /// messageCreate 202`; `-` for no operation, `dropped` for a
    /// connection dropped instead of answered.
    pub fn summary(&self) -> String {
        let status = self
            .status
            .map_or_else(|| "dropped".to_string(), |status| status.to_string());
        format!(
            "{} {} {} {status}",
            self.method,
            self.path,
            self.operation_id.as_deref().unwrap_or("-")
        )
    }

    /// A header's value (the first, when repeated), by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Records a request: the credentials in its headers redacted, the
    /// body kept when it is small JSON.
    pub(crate) fn new(
        method: &str,
        path: &str,
        query: Option<&str>,
        headers: &HeaderMap,
        body: Option<&[u8]>,
    ) -> Self {
        let headers = headers
            .iter()
            .map(|(name, value)| {
                let name = name.as_str().to_string();
                let value = if SECRET_HEADERS.contains(&name.as_str()) {
                    REDACTED.to_string()
                } else {
                    String::from_utf8_lossy(value.as_bytes()).into_owned()
                };
                (name, value)
            })
            .collect();
        let query = url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        let body_len = body.map_or(0, <[u8]>::len);
        let mut body: Option<Value> = body
            .filter(|body| body.len() <= MAX_RECORDED_BODY)
            .and_then(|body| serde_json::from_slice(body).ok());
        // A callback's key (`auth.key`) is a credential like the headers'.
        if let Some(key) = body
            .as_mut()
            .and_then(|body| body.get_mut("auth"))
            .and_then(|auth| auth.get_mut("key"))
        {
            *key = Value::String(REDACTED.to_string());
        }
        RecordedRequest {
            operation_id: None,
            method: method.to_string(),
            path: path.to_string(),
            query,
            headers,
            body,
            body_len,
            status: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use axum::http::HeaderValue;
    use serde_json::json;

    use super::*;

    #[test]
    fn an_sms_reads_as_its_subject_then_its_body() {
        let two_lines = SentMessage::read(
            "A1",
            "http://sandbox/messages/A1",
            "W1",
            &json!({"to": "61400000001, 61400000002", "subject": "Reminder", "body": "At 3 pm."}),
        );
        assert_eq!(two_lines.to, vec!["61400000001", "61400000002"]);
        assert_eq!(two_lines.text(), "Reminder\nAt 3 pm.");
        let one_line = SentMessage::read("A2", "", "W1", &json!({"to": "1", "subject": "Hi"}));
        assert_eq!(one_line.text(), "Hi");
        assert_eq!(one_line.email, None);
    }

    #[test]
    fn the_email_part_is_typed() {
        let sent = SentMessage::read(
            "A1",
            "",
            "W1",
            &json!({"to": "a@example.com", "subject": "Invoice",
                    "email": {"body": "Attached.", "type": "text/plain"}}),
        );
        let email = sent.email.unwrap();
        assert_eq!(email.body, "Attached.");
        assert_eq!(email.content_type.as_deref(), Some("text/plain"));
        assert_eq!(email.footer, None);
    }

    #[test]
    fn credentials_are_redacted_and_only_json_bodies_are_kept() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", HeaderValue::from_static("Basic c2VjcmV0"));
        headers.insert("x-api-key", HeaderValue::from_static("secret-key"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let json = RecordedRequest::new(
            "POST",
            "/messages",
            Some("a=1&b=x%20y"),
            &headers,
            Some(br#"{"to": "1"}"#),
        );
        assert_eq!(json.header("Authorization"), Some(REDACTED));
        assert_eq!(json.header("X-API-Key"), Some(REDACTED));
        assert_eq!(json.header("content-type"), Some("application/json"));
        assert!(!format!("{json:?}").contains("secret"));
        assert_eq!(json.query[1], ("b".to_string(), "x y".to_string()));
        assert_eq!(json.body, Some(json!({"to": "1"})));
        let callback = RecordedRequest::new(
            "POST",
            "/callbacks",
            None,
            &headers,
            Some(br#"{"name": "c", "auth": {"type": "httpheader", "key": "secret-cb"}}"#),
        );
        let auth = callback.body.as_ref().map(|body| body["auth"].clone());
        assert_eq!(auth, Some(json!({"type": "httpheader", "key": REDACTED})));
        let xml = RecordedRequest::new("POST", "/", None, &headers, Some(b"<a/>"));
        assert_eq!((xml.body, xml.body_len), (None, 4));
        let big = vec![b' '; MAX_RECORDED_BODY + 1];
        let big = RecordedRequest::new("POST", "/", None, &headers, Some(&big));
        assert_eq!(big.body, None);
    }
}
