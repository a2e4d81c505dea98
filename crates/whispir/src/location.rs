//! What 201 Created and 202 Accepted point at: the new resource, or the
//! message being sent, by the `Location` header; fetching what was
//! created, and waiting for a message's delivery. Above the generated
//! client (it calls it); the data types are the runtime's (`sent`).

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use whispir_errors::{Error, Refusal, same_origin};

use crate::generated::Client;
use crate::runtime::call::get_json;
use crate::runtime::operations::OperationSpec;
pub use crate::runtime::sent::{Accepted, Created, Sent};
use crate::types::{Message, MessageStatusCollection};

/// What a message send came back with: accepted for sending (202, with
/// the message's `Location`), or scheduled (200, echoing the [`Message`]).
pub type MessageSent = crate::runtime::sent::Sent<Message>;

impl Created {
    /// Reads the created resource, with the vendor media type of the
    /// operation that reads resources at that URL. Credentials are only
    /// sent to the client's own origin.
    pub async fn fetch<T: DeserializeOwned>(&self, client: &Client) -> Result<T, Error> {
        let base = Url::parse(&client.baseurl)
            .map_err(|err| Error::invalid_request(None, err.to_string()))?;
        if !same_origin(&base, self.location()) {
            return Err(Error::invalid_request(
                None,
                format!(
                    "the created resource is at another origin ({}); the SDK does not send credentials there",
                    self.location().origin().ascii_serialization()
                ),
            ));
        }
        let base_path = base.path().trim_end_matches('/');
        let path = self
            .location()
            .path()
            .strip_prefix(base_path)
            .unwrap_or(self.location().path());
        let spec = OperationSpec::reading(path).ok_or_else(|| {
            Error::invalid_request(None, format!("no operation reads resources at {path}"))
        })?;
        Ok(get_json::<T>(
            (&client.client, &client.inner),
            self.location().clone(),
            spec,
        )
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

impl MessageSent {
    /// Polls the message's delivery status until every recipient is
    /// delivered, replied or undeliverable (or what [`WaitOptions::until`]
    /// asks for), or the deadline passes; see [`Accepted::wait`].
    pub async fn wait(&self, client: &Client, options: WaitOptions) -> Result<WaitOutcome, Error> {
        match self.accepted() {
            Some(accepted) => accepted.wait(client, options).await,
            None => Err(Error::protocol(
                Some("messageCreate"),
                Some(self.status()),
                "the answer names no message to follow (no usable Location header); \
                 a scheduled message is sent later",
            )),
        }
    }
}

impl Accepted {
    /// The recipients not in a final state yet (Pending or Sent), read from
    /// the detailed status view page by page: whom a wait that reached its
    /// deadline is still waiting for.
    pub async fn unfinished_recipients(&self, client: &Client) -> Result<Vec<String>, Error> {
        use crate::runtime::pagination::ListStream as _;
        let mut call = client
            .message_status_list()
            .message_id(self.message_id())
            .view(crate::types::MessageStatusListView::Detailed);
        if let Some(workspace) = self.workspace_id() {
            call = call.workspace_id(workspace);
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
        let until = match (options.until, self.delivery_receipts()) {
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
            let mut call = client.message_status_list().message_id(self.message_id());
            if let Some(workspace) = self.workspace_id() {
                call = call.workspace_id(workspace);
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
                            message_id = %self.message_id(),
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
                                message_id = %self.message_id(),
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

#[cfg(test)]
mod tests {
    use super::*;

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
