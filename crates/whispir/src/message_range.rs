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

use crate::generated::builder::MessageList;

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
