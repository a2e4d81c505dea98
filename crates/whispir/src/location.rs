//! What 201 Created and 202 Accepted point at: the new resource, or the
//! message being sent, by the `Location` header.

use std::time::Duration;

use reqwest::header::{ACCEPT, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use whispir_errors::{Error, RawBody, resolve_location, resource_id, same_origin};

use crate::ResponseValue;
use crate::execute::execute;
use crate::generated::Client;
use crate::operations::OperationSpec;
use crate::types::MessageStatusCollection;

fn location_of<T>(response: &ResponseValue<T>, what: &str) -> Result<Url, Error> {
    let status = response.status();
    // The client made every Location absolute; a relative one left here had
    // nothing to resolve against.
    let base = Url::parse("whispir-rs:/")
        .map_err(|err| Error::protocol(None, Some(status), err.to_string()))?;
    let url = resolve_location(&base, response.headers())
        .map_err(|err| Error::protocol(None, Some(status), format!("{what}: {err}")))?;
    if url.scheme() == "whispir-rs" {
        return Err(Error::protocol(
            None,
            Some(status),
            format!("{what}: the Location {} is not an absolute URL", url.path()),
        ));
    }
    Ok(url)
}

/// A resource the API created (201): its URL and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    location: Url,
    id: Option<String>,
}

impl Created {
    /// Reads the `Location` of a 201 answer.
    pub fn from_response<T>(response: &ResponseValue<T>) -> Result<Self, Error> {
        let location = location_of(response, "a created resource")?;
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

    /// Reads the created resource, with the vendor media type of the
    /// operation that reads resources at that URL. Credentials are only
    /// sent to the client's own origin.
    pub async fn fetch<T: DeserializeOwned>(&self, client: &Client) -> Result<T, Error> {
        let base = Url::parse(&client.baseurl)
            .map_err(|err| Error::invalid_request(None, err.to_string()))?;
        if !same_origin(&base, &self.location) {
            return Err(Error::invalid_request(
                None,
                format!(
                    "the created resource is at another origin ({}); the SDK does not send credentials there",
                    self.location.origin().ascii_serialization()
                ),
            ));
        }
        let base_path = base.path().trim_end_matches('/');
        let path = self
            .location
            .path()
            .strip_prefix(base_path)
            .unwrap_or(self.location.path());
        let spec = OperationSpec::reading(path).ok_or_else(|| {
            Error::invalid_request(None, format!("no operation reads resources at {path}"))
        })?;
        get_json(client, self.location.clone(), spec).await
    }
}

async fn get_json<T: DeserializeOwned>(
    client: &Client,
    url: Url,
    spec: &OperationSpec,
) -> Result<T, Error> {
    let mut request = reqwest::Request::new(Method::GET, url);
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static(spec.accept));
    client.inner.authenticate(&mut request);
    let response = execute(&client.client, &client.inner, request, spec.operation_id)
        .await
        .map_err(|err| {
            whispir_errors::progenitor::from_reqwest(
                Some(spec.operation_id),
                Some(Method::GET),
                err,
            )
        })?;
    let status = response.status();
    if !status.is_success() {
        return Err(
            progenitor_client::Error::<crate::ByteStream>::UnexpectedResponse(response).into(),
        );
    }
    let bytes = response.bytes().await.map_err(|err| {
        whispir_errors::progenitor::from_reqwest(Some(spec.operation_id), Some(Method::GET), err)
    })?;
    serde_json::from_slice(&bytes).map_err(|err| {
        let limit = whispir_errors::DEFAULT_BODY_LIMIT;
        let raw = RawBody::new(bytes.slice(..bytes.len().min(limit)), bytes.len() > limit);
        Error::decode(
            Some(spec.operation_id),
            Some(Method::GET),
            Some(status),
            raw,
            err,
        )
    })
}

/// How [`Accepted::wait`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up (without an error) after this long.
    pub deadline: Duration,
    /// The first pause between two polls; it doubles up to `max_interval`.
    pub initial_interval: Duration,
    /// The longest pause between two polls.
    pub max_interval: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(300),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
        }
    }
}

/// How waiting for a message ended.
#[derive(Debug, Clone)]
pub enum WaitOutcome {
    /// No recipient is pending any more: the final delivery status.
    Finished(MessageStatusCollection),
    /// The deadline passed first: the last status seen, if any.
    DeadlineReached(Option<MessageStatusCollection>),
}

/// A message send the API accepted (202), to be followed by its `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    location: Url,
    workspace_id: Option<String>,
    message_id: String,
}

impl Accepted {
    /// Reads the `Location` of a 202 answer to a message send.
    pub fn from_response<T>(response: &ResponseValue<T>) -> Result<Self, Error> {
        if response.status() != StatusCode::ACCEPTED {
            return Err(Error::protocol(
                Some("messageCreate"),
                Some(response.status()),
                "only a 202 Accepted answer can be followed; a 200 means the message was scheduled",
            ));
        }
        let location = location_of(response, "an accepted message")?;
        let segments: Vec<&str> = location
            .path_segments()
            .map(Iterator::collect)
            .unwrap_or_default();
        let (workspace_id, message_id) = match segments.as_slice() {
            [.., "workspaces", workspace, "messages", id] => {
                (Some((*workspace).to_string()), (*id).to_string())
            }
            [.., "messages", id] => (None, (*id).to_string()),
            _ => {
                return Err(Error::protocol(
                    Some("messageCreate"),
                    Some(response.status()),
                    format!("the Location {location} is not a message URL"),
                ));
            }
        };
        Ok(Self {
            location,
            workspace_id,
            message_id,
        })
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

    /// Polls the message's delivery status with exponential backoff until no
    /// recipient is pending or the deadline passes. Throttling answers are
    /// waited out (`Retry-After` honoured). Dropping the future stops
    /// polling and loses nothing: the handle can wait again.
    pub async fn wait(&self, client: &Client, options: WaitOptions) -> Result<WaitOutcome, Error> {
        let deadline = Instant::now() + options.deadline;
        let mut interval = options.initial_interval;
        let mut last = None;
        loop {
            let mut call = client
                .message_status_list()
                .message_id(self.message_id.as_str());
            if let Some(workspace) = &self.workspace_id {
                call = call.workspace_id(workspace.as_str());
            }
            let mut pause = interval;
            match call.send().await {
                Ok(status) => {
                    let status = status.into_inner();
                    if is_final(&status) {
                        return Ok(WaitOutcome::Finished(status));
                    }
                    last = Some(status);
                }
                Err(err) => {
                    let err = Error::from(err);
                    if !err.is_retryable() {
                        return Err(err);
                    }
                    pause = pause.max(err.retry_after().unwrap_or_default());
                }
            }
            if Instant::now() + pause > deadline {
                return Ok(WaitOutcome::DeadlineReached(last));
            }
            tokio::time::sleep(pause).await;
            interval = (interval * 2).min(options.max_interval);
        }
    }
}

/// Whether no recipient of the message is pending any more.
fn is_final(status: &MessageStatusCollection) -> bool {
    use crate::enums::DeliveryCategoryName;
    let categories: Vec<_> = status
        .message_statuses
        .iter()
        .flat_map(|s| &s.categories)
        .collect();
    !categories.is_empty()
        && categories
            .iter()
            .filter(|c| c.name == Some(DeliveryCategoryName::Pending))
            .all(|c| c.recipient_count.unwrap_or(0) == 0)
}
