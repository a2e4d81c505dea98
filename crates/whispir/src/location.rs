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
///
/// Only some channels report delivery: SMS (the network's delivery
/// receipt) and RCS. An email is Received only when the recipient's mail
/// program sends a read receipt, which most never do; voice, web, social
/// and WhatsApp messages report none Whispir documents. Their recipients
/// stay Sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum WaitUntil {
    /// The last state the message's channels report (the default): as
    /// [`WaitUntil::Delivered`] when every channel of the message gives
    /// delivery receipts (SMS, RCS), as [`WaitUntil::Sent`] when one does
    /// not (email, voice, web, social, WhatsApp). A message whose channels
    /// the handle does not know (one made with [`Accepted::from_location`],
    /// or sent from a template) waits as for `Delivered`.
    #[default]
    Settled,
    /// Every recipient reached a final state: delivered (Received), replied
    /// (Acknowledged) or failed (Undeliverable). Nobody is Pending or Sent.
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
    /// What to wait for: the last state the message's channels report
    /// (the default), delivery, or only the send.
    pub until: WaitUntil,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            deadline: Duration::from_secs(300),
            initial_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(30),
            until: WaitUntil::Settled,
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
    /// (no recipient counted yet) shows nothing, and neither does one with
    /// a recipient in a category this SDK does not know (it may not be
    /// final). The counts do not say which channels a message has:
    /// [`WaitUntil::Settled`] counts as [`WaitUntil::Delivered`] here.
    pub fn reached(&self, until: WaitUntil) -> bool {
        self.total() > 0
            && self.other == 0
            && match until {
                WaitUntil::Delivered | WaitUntil::Settled => self.unfinished() == 0,
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
    /// [`WaitUntil`]): known for a message this client sent (not from a
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
    /// [`WaitOutcome::DeadlineReached`]. Whispir processes an accepted
    /// message after its 202, so a 404 before any status was seen is asked
    /// again within the deadline (a message never found ends the wait with
    /// that 404 at the deadline). A recipient in a category this SDK does
    /// not know keeps the wait going until the deadline (it may not be
    /// final), with a warning naming the category; the outcome's
    /// [`DeliveryCounts::other`] counts them. Other errors that a retry
    /// cannot fix end the wait.
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
        let until = match (options.until, self.receipts) {
            (WaitUntil::Settled, Some(false)) => WaitUntil::Sent,
            (WaitUntil::Settled, _) => WaitUntil::Delivered,
            (until, _) => until,
        };
        let mut last = None;
        let mut unknown_told = false;
        // A 404 before any status: asked again, and the answer at the
        // deadline if nothing else came.
        let mut not_found: Option<Error> = None;
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
                return deadline_reached(last, not_found);
            };
            match answer {
                Ok(status) => {
                    let status = status.into_inner();
                    let counts = DeliveryCounts::of(&status);
                    if counts.reached(until) {
                        return Ok(WaitOutcome::Finished(status));
                    }
                    if counts.other > 0 && !unknown_told {
                        unknown_told = true;
                        tracing::warn!(
                            message_id = %self.message_id,
                            categories = ?unknown_categories(&status),
                            "recipients are in a delivery category this SDK does not know: waiting until the deadline"
                        );
                    }
                    last = Some(status);
                }
                Err(err) => {
                    let asked = match err.refusal() {
                        // The limiter held the poll back longer than one call
                        // may wait; the wait has its own, longer deadline.
                        Some(Refusal::PauseTooLong { wait }) => *wait,
                        // Whispir processes an accepted message after its 202:
                        // until its status was once seen, it may be unknown.
                        None if last.is_none() && err.status() == Some(StatusCode::NOT_FOUND) => {
                            tracing::debug!(
                                message_id = %self.message_id,
                                "the message's status is not there yet: asking again"
                            );
                            Duration::ZERO
                        }
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
                    if err.status() == Some(StatusCode::NOT_FOUND) {
                        not_found = Some(err);
                    }
                }
            }
            if Instant::now()
                .checked_add(pause)
                .is_none_or(|end| end > deadline)
            {
                return deadline_reached(last, not_found);
            }
            tokio::time::sleep(pause).await;
            interval = interval.saturating_mul(2).min(max_interval);
        }
    }
}

/// The end of a wait at its deadline: the last status seen, or the 404
/// the message's status answered every time (it never appeared).
fn deadline_reached(
    last: Option<MessageStatusCollection>,
    not_found: Option<Error>,
) -> Result<WaitOutcome, Error> {
    match (last, not_found) {
        (None, Some(err)) => Err(err),
        (last, _) => Ok(WaitOutcome::DeadlineReached(last)),
    }
}

/// The names of the categories of `status` this SDK does not know.
fn unknown_categories(status: &MessageStatusCollection) -> Vec<String> {
    use crate::enums::DeliveryCategoryName as Name;
    status
        .message_statuses
        .iter()
        .flat_map(|s| &s.categories)
        .filter_map(|category| match &category.name {
            Some(Name::Unknown(name)) => Some(name.clone()),
            _ => None,
        })
        .collect()
}

/// Whether every channel of a message gives delivery receipts (see
/// [`WaitUntil`]), from the JSON body that sent it: `None` when the body
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

    #[test]
    fn an_unknown_category_is_not_final() {
        let counts = DeliveryCounts {
            received: 1,
            other: 1,
            ..DeliveryCounts::default()
        };
        assert!(!counts.reached(WaitUntil::Delivered));
        assert!(!counts.reached(WaitUntil::Sent));
    }

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
