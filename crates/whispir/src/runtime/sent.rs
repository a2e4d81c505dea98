//! What 201 Created and 202 Accepted point at, as the runtime reads them:
//! the new resource, or the message being sent, by the `Location` header,
//! and what a message send came back with. Following them (fetching what
//! was created, waiting for a message's delivery) calls the generated
//! client, so it lives above it, in `location`.

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use whispir_errors::{Error, resource_id};

use crate::runtime::response::Response;

/// A resource the API created (201): its URL and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    location: Url,
    id: Option<String>,
}

impl Created {
    /// The created resource of a 201 answer, from its `Location`.
    pub fn from_response<T>(response: &Response<T>) -> Result<Self, Error> {
        let location = response.location().cloned().ok_or_else(|| {
            Error::protocol(
                None,
                Some(response.status()),
                "the answer has no usable Location header",
            )
        })?;
        let id = resource_id(&location).map(str::to_string);
        Ok(Self { location, id })
    }

    /// The URL of the new resource.
    pub fn location(&self) -> &Url {
        &self.location
    }

    /// The new resource's id: the last segment of its URL.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
}

/// What a message send came back with: accepted for sending (202, with
/// the message's `Location`), or scheduled (200, echoing the message, of
/// type `M`). Users name it [`MessageSent`](crate::location::MessageSent),
/// with the generated `Message`; waiting for it is in `location`.
#[derive(Debug, Clone)]
pub struct Sent<M> {
    status: StatusCode,
    headers: HeaderMap,
    /// The `Location` when it names no message (else it is `accepted`'s).
    location: Option<Url>,
    accepted: Option<Accepted>,
    // Boxed: a message is about 2 KiB, and a send's outcome is moved often.
    scheduled: Option<Box<M>>,
}

impl<M> Sent<M> {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        location: Option<Url>,
        scheduled: Option<Box<M>>,
        receipts: Option<bool>,
    ) -> Self {
        let (location, accepted) = match location.map(Accepted::parse) {
            None => (None, None),
            Some(Ok(accepted)) => (
                None,
                Some(Accepted {
                    receipts,
                    ..accepted
                }),
            ),
            Some(Err((location, err))) => {
                tracing::warn!(%err, "the message was sent but its Location names no message");
                (Some(location), None)
            }
        };
        Self {
            status,
            headers,
            location,
            accepted,
            scheduled,
        }
    }

    /// The status: `202 Accepted` for a message being sent, `200 OK` for a
    /// scheduled one.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The message's URL, from the `Location` header.
    pub fn location(&self) -> Option<&Url> {
        self.accepted
            .as_ref()
            .map(Accepted::location)
            .or(self.location.as_ref())
    }

    /// The message id, from its `Location`.
    pub fn message_id(&self) -> Option<&str> {
        self.accepted.as_ref().map(Accepted::message_id)
    }

    /// The accepted message, to follow its delivery.
    pub fn accepted(&self) -> Option<&Accepted> {
        self.accepted.as_ref()
    }

    /// The scheduled message the API echoed (a 200 answer).
    pub fn scheduled(&self) -> Option<&M> {
        self.scheduled.as_deref()
    }
}

/// A message send the API accepted (202), to be followed by its `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    location: Url,
    workspace_id: Option<String>,
    message_id: String,
    /// Whether every channel of the message gives delivery receipts, when
    /// known (a message this client sent).
    receipts: Option<bool>,
}

impl Accepted {
    /// The accepted message at `location`, a message URL such as
    /// `https://api.au.whispir.com/workspaces/AB/messages/CD` (a trailing
    /// slash is allowed).
    pub fn from_location(location: Url) -> Result<Self, Error> {
        Self::parse(location).map_err(|(_, err)| err)
    }

    /// Like [`Accepted::from_location`], handing the URL back on failure.
    fn parse(location: Url) -> Result<Self, (Url, Error)> {
        // The last four segments are all a message URL needs; a trailing
        // slash adds an empty one after the id.
        let mut last = [None; 4];
        if let Some(segments) = location.path_segments() {
            let segments = segments.rev().skip_while(|segment| segment.is_empty());
            for (slot, segment) in last.iter_mut().zip(segments) {
                *slot = Some(segment);
            }
        }
        let (workspace_id, message_id) = match last {
            [
                Some(id),
                Some("messages"),
                Some(workspace),
                Some("workspaces"),
            ] if !id.is_empty() => (Some(workspace.to_string()), id.to_string()),
            [Some(id), Some("messages"), ..] if !id.is_empty() => (None, id.to_string()),
            _ => {
                let err = Error::protocol(
                    Some("messageCreate"),
                    None,
                    format!("the Location {location} is not a message URL"),
                );
                return Err((location, err));
            }
        };
        Ok(Self {
            location,
            workspace_id,
            message_id,
            receipts: None,
        })
    }

    /// Whether every channel of the message gives delivery receipts (see
    /// [`WaitUntil`](crate::location::WaitUntil)): known for a message this client sent (not from a
    /// template), `None` otherwise.
    pub fn delivery_receipts(&self) -> Option<bool> {
        self.receipts
    }

    /// The URL of the message.
    pub fn location(&self) -> &Url {
        &self.location
    }

    /// The message id.
    pub fn message_id(&self) -> &str {
        &self.message_id
    }

    /// The workspace of the message, when its URL names one.
    pub fn workspace_id(&self) -> Option<&str> {
        self.workspace_id.as_deref()
    }
}

/// Whether every channel of a message gives delivery receipts (see
/// [`WaitUntil`](crate::location::WaitUntil)), from the JSON body that sent it: `None` when the body
/// does not say (not JSON, or a template's channels).
pub(crate) fn receipts_of(body: &[u8]) -> Option<bool> {
    let message: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body).ok()?;
    let given = |key: &str| message.get(key).is_some_and(|value| !value.is_null());
    if given("messageTemplateId") || given("messageTemplateName") {
        return None;
    }
    let without_receipts = ["email", "voice", "web", "social", "whatsapp"]
        .into_iter()
        .any(given);
    Some(!without_receipts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_voice_web_social_and_whatsapp_give_no_delivery_receipts() {
        assert_eq!(receipts_of(br#"{"to":"1","subject":"Hi"}"#), Some(true));
        assert_eq!(
            receipts_of(br#"{"to":"1","subject":"Hi","body":"x","rcs":{}}"#),
            Some(true)
        );
        for channel in ["email", "voice", "web", "social", "whatsapp"] {
            let body = format!(r#"{{"to":"1","subject":"Hi","body":"x","{channel}":{{}}}}"#);
            assert_eq!(receipts_of(body.as_bytes()), Some(false), "{channel}");
        }
        assert_eq!(receipts_of(br#"{"to":"1","messageTemplateId":"T1"}"#), None);
        assert_eq!(receipts_of(b"not json"), None);
    }
}
