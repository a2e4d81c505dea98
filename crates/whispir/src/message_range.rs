//! A range of instants for the message list, written as Whispir's date
//! criteria.
//!
//! Whispir lists only the last 7 days of messages unless the four
//! `criteria…` parameters are given together: `criteriaFromDate` and
//! `criteriaToDate` as `dd/mm/yyyy`, `criteriaFromTime` and
//! `criteriaToTime` as `hh:mm`. Its documentation does not say in which
//! time zone it reads them (the account's, the server's or UTC), so
//! [`SentBetween`] writes the range in UTC widened by [`ZONE_MARGIN`] at
//! each end: whatever zone Whispir reads it in, the range it lists holds
//! every instant asked for. The listing may therefore hold messages up to
//! that much outside the range; [`SentBetween::contains`] tells them apart
//! by their `createdTime`.

use chrono::{DateTime, Duration, DurationRound as _, Utc};

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::ops::ControlFlow;

use whispir_errors::Error;

use crate::generated::builder::MessageList;
use crate::runtime::pagination::{ListRequest as _, MAX_PAGE_SIZE};
use crate::types::Message;

/// How far [`SentBetween`] widens each end of its range: a day covers every
/// time zone in use (UTC−12 to UTC+14) and its daylight-saving shifts.
pub const ZONE_MARGIN: Duration = Duration::days(1);

/// Messages sent between two instants, for
/// [`MessageList::sent_between`].
///
/// ```
/// use chrono::{Duration, Utc};
/// use whispir::SentBetween;
///
/// let now = Utc::now();
/// let range = SentBetween::new(now - Duration::days(30), now)?;
/// let criteria = range.criteria();
/// assert_eq!(criteria.from_date.len(), "dd/mm/yyyy".len());
/// assert_eq!(criteria.to_time.len(), "hh:mm".len());
/// # Ok::<(), whispir::InvalidRange>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentBetween {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

/// A range that ends before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the range of messages ends ({to}) before it starts ({from}); give the earlier instant first"
)]
pub struct InvalidRange {
    /// Where the range was to start.
    pub from: DateTime<Utc>,
    /// Where it was to end.
    pub to: DateTime<Utc>,
}

/// The four `criteria…` parameters as Whispir reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateCriteria {
    /// `criteriaFromDate`, `dd/mm/yyyy`.
    pub from_date: String,
    /// `criteriaFromTime`, `hh:mm`.
    pub from_time: String,
    /// `criteriaToDate`, `dd/mm/yyyy`.
    pub to_date: String,
    /// `criteriaToTime`, `hh:mm`.
    pub to_time: String,
}

impl SentBetween {
    /// Messages sent from `from` to `to` (both included).
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, InvalidRange> {
        if to < from {
            return Err(InvalidRange { from, to });
        }
        Ok(SentBetween { from, to })
    }

    /// Messages sent from `from` until now.
    pub fn since(from: DateTime<Utc>) -> Result<Self, InvalidRange> {
        // Without chrono's `clock` feature, which `whispir` does not turn on.
        Self::new(from, DateTime::from(std::time::SystemTime::now()))
    }

    /// Where the range starts.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// Where it ends.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// Whether a message created at `created_ms` (its `createdTime`, Unix
    /// milliseconds) lies in the range itself, not only in its widening.
    pub fn contains(&self, created_ms: i64) -> bool {
        (self.from.timestamp_millis()..=self.to.timestamp_millis()).contains(&created_ms)
    }

    /// The criteria Whispir is sent: the range in UTC, widened by
    /// [`ZONE_MARGIN`] at each end and to whole minutes (the start rounded
    /// down, the end up).
    pub fn criteria(&self) -> DateCriteria {
        let minute = Duration::minutes(1);
        let from = self
            .from
            .checked_sub_signed(ZONE_MARGIN)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let from = from.duration_trunc(minute).unwrap_or(from);
        let to = self
            .to
            .checked_add_signed(ZONE_MARGIN)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let to = match to.duration_trunc(minute) {
            Ok(whole) if whole == to => whole,
            Ok(whole) => whole.checked_add_signed(minute).unwrap_or(whole),
            Err(_) => to,
        };
        DateCriteria {
            from_date: from.format("%d/%m/%Y").to_string(),
            from_time: from.format("%H:%M").to_string(),
            to_date: to.format("%d/%m/%Y").to_string(),
            to_time: to.format("%H:%M").to_string(),
        }
    }
}

impl MessageList<'_> {
    /// Lists the messages sent in `range` (and, as Whispir's time zone is
    /// not documented, up to [`ZONE_MARGIN`] either side of it): sets all
    /// four `criteria…` parameters, without which Whispir lists only the
    /// last 7 days.
    ///
    /// ```
    /// use chrono::{Duration, Utc};
    /// use whispir::{ListStream as _, SentBetween};
    ///
    /// # #[tokio::main]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = whispir_sandbox::Sandbox::start().await?;
    /// let month = SentBetween::since(Utc::now() - Duration::days(30))?;
    /// let mut messages = sandbox.client().message_list().sent_between(month).stream();
    /// while let Some(message) = messages.try_next().await? {
    ///     println!("{}", message.subject);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn sent_between(self, range: SentBetween) -> Self {
        let criteria = range.criteria();
        self.criteria_from_date(criteria.from_date)
            .criteria_from_time(criteria.from_time)
            .criteria_to_date(criteria.to_date)
            .criteria_to_time(criteria.to_time)
    }

    /// Reads this listing page by page ([`MAX_PAGE_SIZE`] at a time), giving
    /// each message to `visit` until it answers [`ControlFlow::Break`], and
    /// says whether the listing was whole: what proving a message absent
    /// needs. It is [`Walk::Whole`] only when every page stated the same
    /// total and as many distinct messages were read as that total; a page
    /// without a total, a total that changes while it is read, a listing
    /// that ends early, or one that repeats or skips messages is
    /// [`Walk::Incomplete`], with the reason. No page cap ends the walk:
    /// bound the listing itself (with [`MessageList::sent_between`]).
    pub async fn walk_whole<F>(self, mut visit: F) -> Result<Walk, Error>
    where
        F: FnMut(&Message) -> ControlFlow<()>,
    {
        let mut offset: u32 = 0;
        let mut stated: Option<u64> = None;
        let mut seen = HashSet::new();
        loop {
            let page = self
                .clone()
                .window(MAX_PAGE_SIZE, offset)
                .fetch_page()
                .await?;
            let count = page.items.len();
            match (stated, page.total) {
                (Some(before), Some(now)) if before != now => {
                    return Ok(Walk::Incomplete(format!(
                        "the message list's total changed from {before} to {now} while it was \
                         read, so it may have skipped messages"
                    )));
                }
                (None, Some(total)) => stated = Some(total),
                (_, None) if count > 0 => {
                    return Ok(Walk::Incomplete(format!(
                        "the page of the message list at offset {offset} did not state the \
                         total, so its end cannot be checked"
                    )));
                }
                _ => {}
            }
            let total = stated.unwrap_or(0);
            for message in &page.items {
                let mut hasher = DefaultHasher::new();
                serde_json::to_string(message)
                    .unwrap_or_default()
                    .hash(&mut hasher);
                seen.insert(hasher.finish());
                if visit(message).is_break() {
                    return Ok(Walk::Stopped);
                }
            }
            let Some(next) = u32::try_from(count)
                .ok()
                .and_then(|count| offset.checked_add(count))
            else {
                return Ok(Walk::Incomplete(format!(
                    "the message list holds more messages ({total}) than can be paged through"
                )));
            };
            if count == 0 || u64::from(next) >= total {
                let distinct = u64::try_from(seen.len()).unwrap_or(u64::MAX);
                if u64::from(next) == total && distinct == total {
                    return Ok(Walk::Whole);
                }
                return Ok(Walk::Incomplete(format!(
                    "the message list stated {total} messages but {distinct} distinct ones were \
                     read, so it may have left some out"
                )));
            }
            offset = next;
        }
    }
}

/// How [`MessageList::walk_whole`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Walk {
    /// Every message was read and the listing was whole: a message it did
    /// not hold was not in the range listed.
    Whole,
    /// The visitor stopped the walk.
    Stopped,
    /// The listing proves nothing absent: why.
    Incomplete(String),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use chrono::TimeZone as _;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn criteria_are_the_range_in_utc_widened_by_a_day_each_side() {
        let range = SentBetween::new(at(2026, 3, 1, 9, 5, 30), at(2026, 3, 9, 17, 40, 10)).unwrap();
        assert_eq!(
            range.criteria(),
            DateCriteria {
                from_date: "28/02/2026".into(),
                from_time: "09:05".into(),
                to_date: "10/03/2026".into(),
                to_time: "17:41".into(),
            }
        );
    }

    #[test]
    fn an_end_on_a_whole_minute_is_not_rounded_further() {
        let range = SentBetween::new(at(2026, 1, 1, 0, 0, 0), at(2026, 12, 31, 23, 59, 0)).unwrap();
        let criteria = range.criteria();
        assert_eq!(
            (criteria.from_date.as_str(), criteria.from_time.as_str()),
            ("31/12/2025", "00:00")
        );
        assert_eq!(
            (criteria.to_date.as_str(), criteria.to_time.as_str()),
            ("01/01/2027", "23:59")
        );
    }

    #[test]
    fn a_range_that_ends_before_it_starts_is_refused_naming_both_ends() {
        let err = SentBetween::new(at(2026, 3, 2, 0, 0, 0), at(2026, 3, 1, 0, 0, 0)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("2026-03-01") && text.contains("2026-03-02"),
            "{text}"
        );
    }

    #[test]
    fn contains_tells_the_range_from_its_widening() {
        let range = SentBetween::new(at(2026, 3, 1, 0, 0, 0), at(2026, 3, 2, 0, 0, 0)).unwrap();
        assert!(range.contains(at(2026, 3, 1, 12, 0, 0).timestamp_millis()));
        assert!(!range.contains(at(2026, 2, 28, 12, 0, 0).timestamp_millis()));
    }
}
