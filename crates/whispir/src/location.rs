//! What 201 Created and 202 Accepted point at: the new resource, or the
//! message being sent, by the `Location` header.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use whispir_errors::{Error, Refusal, resource_id, same_origin};

use crate::call::get_json;
use crate::generated::Client;
use crate::operations::OperationSpec;
use crate::response::Response;
use crate::types::{Message, MessageStatusCollection};

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
        Ok(get_json::<T>(client, self.location.clone(), spec)
            .await?
            .into_inner())
    }
}

/// The shortest pause between two polls of [`Accepted::wait`]: shorter
/// intervals (zero included) are raised to it. It is the spacing of the
/// smallest plan (5 requests per second), so that one wait alone never
/// polls faster than any plan allows, and a tiny interval cannot spend the
/// daily budget on back-to-back polls.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// What [`Accepted::wait`] waits for, in Whispir's delivery categories
/// (Pending, Sent, Received, Acknowledged, Undeliverable).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WaitUntil {
    /// Every recipient reached a final state: delivered (Received), replied
    /// (Acknowledged) or failed (Undeliverable). Nobody is Pending or Sent.
    #[default]
    Delivered,
    /// Every recipient left Whispir: nobody is Pending, but recipients may
    /// still be Sent (on their way through the carrier, not yet delivered).
    Sent,
}

/// How [`Accepted::wait`] polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up (without an error) after this long.
    pub deadline: Duration,
    /// The first pause between two polls; it doubles up to `max_interval`.
    /// At least [`MIN_POLL_INTERVAL`].
    pub initial_interval: Duration,
    /// The longest pause between two polls. At least [`MIN_POLL_INTERVAL`].
    pub max_interval: Duration,
    /// What to wait for: delivery (the default) or only the send.
    pub until: WaitUntil,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(300),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            until: WaitUntil::Delivered,
        }
    }
}

/// How many recipients of a message are in each delivery category, read
/// from a status summary ([`DeliveryCounts::of`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Waiting to be sent.
    pub pending: u64,
    /// Sent, not yet delivered.
    pub sent: u64,
    /// Delivered.
    pub received: u64,
    /// Delivered and replied to.
    pub acknowledged: u64,
    /// Failed for good.
    pub undeliverable: u64,
    /// In a category this SDK does not know.
    pub other: u64,
}

impl DeliveryCounts {
    /// The counts of a status summary (all its entries added up).
    pub fn of(status: &MessageStatusCollection) -> Self {
        use crate::enums::DeliveryCategoryName as Name;
        let mut counts = Self::default();
        for category in status.message_statuses.iter().flat_map(|s| &s.categories) {
            let n = u64::try_from(category.recipient_count.unwrap_or(0)).unwrap_or(0);
            let slot = match &category.name {
                Some(Name::Pending) => &mut counts.pending,
                Some(Name::Sent) => &mut counts.sent,
                Some(Name::Received) => &mut counts.received,
                Some(Name::Acknowledged) => &mut counts.acknowledged,
                Some(Name::Undeliverable) => &mut counts.undeliverable,
                Some(Name::Unknown(_)) | None => &mut counts.other,
            };
            *slot = slot.saturating_add(n);
        }
        counts
    }

    /// Every recipient counted.
    pub fn total(&self) -> u64 {
        [
            self.pending,
            self.sent,
            self.received,
            self.acknowledged,
            self.undeliverable,
            self.other,
        ]
        .iter()
        .fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// Recipients delivered (Received or Acknowledged).
    pub fn delivered(&self) -> u64 {
        self.received.saturating_add(self.acknowledged)
    }

    /// Recipients not in a final state yet (Pending or Sent).
    pub fn unfinished(&self) -> u64 {
        self.pending.saturating_add(self.sent)
    }

    /// Whether the counts show what `until` waits for. An empty summary
    /// (no recipient counted yet) shows nothing.
    pub fn reached(&self, until: WaitUntil) -> bool {
        self.total() > 0
            && match until {
                WaitUntil::Delivered => self.unfinished() == 0,
                WaitUntil::Sent => self.pending == 0,
            }
    }
}

impl std::fmt::Display for DeliveryCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pending, {} sent, {} received, {} acknowledged, {} undeliverable",
            self.pending, self.sent, self.received, self.acknowledged, self.undeliverable
        )?;
        if self.other > 0 {
            write!(f, ", {} other", self.other)?;
        }
        Ok(())
    }
}

/// How waiting for a message ended.
#[derive(Debug, Clone)]
pub enum WaitOutcome {
    /// What the wait waited for was reached ([`WaitOptions::until`]): the
    /// delivery status then.
    Finished(MessageStatusCollection),
    /// The deadline passed first: the last status seen, if any.
    DeadlineReached(Option<MessageStatusCollection>),
}

impl WaitOutcome {
    /// Whether what the wait waited for was reached.
    pub fn is_finished(&self) -> bool {
        matches!(self, WaitOutcome::Finished(_))
    }

    /// The last delivery status seen, if any.
    pub fn status(&self) -> Option<&MessageStatusCollection> {
        match self {
            WaitOutcome::Finished(status) | WaitOutcome::DeadlineReached(Some(status)) => {
                Some(status)
            }
            WaitOutcome::DeadlineReached(None) => None,
        }
    }

    /// Recipients per delivery category in the last status seen (all zero
    /// when none was seen).
    pub fn counts(&self) -> DeliveryCounts {
        self.status().map(DeliveryCounts::of).unwrap_or_default()
    }
}

/// What a message send came back with: accepted for sending (202, with
/// the message's `Location`), or scheduled (200, echoing the message).
#[derive(Debug, Clone)]
pub struct MessageSent {
    status: StatusCode,
    headers: HeaderMap,
    /// The `Location` when it names no message (else it is `accepted`'s).
    location: Option<Url>,
    accepted: Option<Accepted>,
    // Boxed: a message is about 2 KiB, and a send's outcome is moved often.
    scheduled: Option<Box<Message>>,
}

impl MessageSent {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        location: Option<Url>,
        scheduled: Option<Box<Message>>,
    ) -> Self {
        let (location, accepted) = match location.map(Accepted::parse) {
            None => (None, None),
            Some(Ok(accepted)) => (None, Some(accepted)),
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
    pub fn scheduled(&self) -> Option<&Message> {
        self.scheduled.as_deref()
    }

    /// Polls the message's delivery status until every recipient is
    /// delivered, replied or undeliverable (or what [`WaitOptions::until`]
    /// asks for), or the deadline passes; see [`Accepted::wait`].
    pub async fn wait(&self, client: &Client, options: WaitOptions) -> Result<WaitOutcome, Error> {
        match &self.accepted {
            Some(accepted) => accepted.wait(client, options).await,
            None => Err(Error::protocol(
                Some("messageCreate"),
                Some(self.status),
                "the answer names no message to follow (no usable Location header); \
                 a scheduled message is sent later",
            )),
        }
    }
}

/// A message send the API accepted (202), to be followed by its `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    location: Url,
    workspace_id: Option<String>,
    message_id: String,
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

    /// The recipients not in a final state yet (Pending or Sent), read from
    /// the detailed status view page by page: whom a wait that reached its
    /// deadline is still waiting for.
    pub async fn unfinished_recipients(&self, client: &Client) -> Result<Vec<String>, Error> {
        use crate::pagination::ListStream as _;
        let mut call = client
            .message_status_list()
            .message_id(self.message_id.as_str())
            .view(crate::types::MessageStatusListView::Detailed);
        if let Some(workspace) = &self.workspace_id {
            call = call.workspace_id(workspace.as_str());
        }
        let unfinished =
            |word: &str| word.eq_ignore_ascii_case("pending") || word.eq_ignore_ascii_case("sent");
        let mut recipients = call.stream();
        let mut found = Vec::new();
        while let Some(recipient) = recipients.try_next().await? {
            let waiting = recipient.info.as_deref().is_some_and(unfinished)
                || recipient
                    .status
                    .iter()
                    .filter_map(|channel| channel.status.as_deref())
                    .any(unfinished);
            if waiting {
                let destination = recipient.status.iter().find_map(|c| c.destination.clone());
                if let Some(who) = recipient.name.or(destination) {
                    found.push(who);
                }
            }
        }
        Ok(found)
    }

    /// Polls the message's delivery status with exponential backoff until
    /// what [`WaitOptions::until`] asks for is reached (by default every
    /// recipient delivered, replied or undeliverable: nobody Pending or
    /// Sent) or the deadline passes; a poll still out at the
    /// deadline is dropped. Polls are at least [`MIN_POLL_INTERVAL`] apart.
    ///
    /// Throttling is waited out within the deadline: an answer's
    /// `Retry-After`, and a pause of the client's rate limiter longer than
    /// one call may wait ([`Refusal::PauseTooLong`]). A pause that would
    /// outlast the deadline ends the wait at once with that error (its
    /// [`Error::retry_after`] says when to try again), and a spent daily
    /// budget ([`Refusal::DailyBudgetSpent`]) with its own: neither is a
    /// [`WaitOutcome::DeadlineReached`]. Other errors that a retry cannot
    /// fix end the wait too.
    ///
    /// Dropping the future stops polling and loses nothing: the handle can
    /// wait again.
    pub async fn wait(&self, client: &Client, options: WaitOptions) -> Result<WaitOutcome, Error> {
        let start = Instant::now();
        // A deadline too far to represent is no deadline: a day is plenty.
        let deadline = start
            .checked_add(options.deadline)
            .unwrap_or_else(|| start + Duration::from_secs(24 * 3600));
        let max_interval = options.max_interval.max(MIN_POLL_INTERVAL);
        let mut interval = options.initial_interval.max(MIN_POLL_INTERVAL);
        let mut last = None;
        loop {
            let mut call = client
                .message_status_list()
                .message_id(self.message_id.as_str());
            if let Some(workspace) = &self.workspace_id {
                call = call.workspace_id(workspace.as_str());
            }
            let mut pause = interval;
            // A poll is bounded by the deadline too: a slow answer ends the
            // wait on time (a status read is safe to drop mid-flight).
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(answer) = tokio::time::timeout(left, call.send()).await else {
                return Ok(WaitOutcome::DeadlineReached(last));
            };
            match answer {
                Ok(status) => {
                    let status = status.into_inner();
                    if DeliveryCounts::of(&status).reached(options.until) {
                        return Ok(WaitOutcome::Finished(status));
                    }
                    last = Some(status);
                }
                Err(err) => {
                    let asked = match err.refusal() {
                        // The limiter held the poll back longer than one call
                        // may wait; the wait has its own, longer deadline.
                        Some(Refusal::PauseTooLong { wait }) => *wait,
                        _ if err.is_retryable() => err.retry_after().unwrap_or_default(),
                        _ => return Err(err),
                    };
                    if Instant::now()
                        .checked_add(asked)
                        .is_none_or(|end| end > deadline)
                    {
                        // Throttled past the deadline: say so, with when to
                        // try again, rather than "the deadline passed".
                        return Err(err);
                    }
                    pause = pause.max(asked);
                }
            }
            if Instant::now()
                .checked_add(pause)
                .is_none_or(|end| end > deadline)
            {
                return Ok(WaitOutcome::DeadlineReached(last));
            }
            tokio::time::sleep(pause).await;
            interval = interval.saturating_mul(2).min(max_interval);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepted(location: &str) -> Result<Accepted, Error> {
        Accepted::from_location(
            Url::parse(location).map_err(|err| {
                Error::invalid_request(None, format!("test URL {location}: {err}"))
            })?,
        )
    }

    #[test]
    fn a_trailing_slash_after_the_message_id_keeps_the_id() -> Result<(), Error> {
        let message = accepted("https://api.au.whispir.com/workspaces/AB/messages/CD/")?;
        assert_eq!(
            (message.workspace_id(), message.message_id()),
            (Some("AB"), "CD")
        );
        let unscoped = accepted("https://api.au.whispir.com/messages/CD/")?;
        assert_eq!(
            (unscoped.workspace_id(), unscoped.message_id()),
            (None, "CD")
        );
        Ok(())
    }

    #[test]
    fn the_message_collection_itself_is_not_a_message() {
        assert!(accepted("https://api.au.whispir.com/workspaces/AB/messages/").is_err());
        assert!(accepted("https://api.au.whispir.com/messages").is_err());
    }
}
