//! The daily request budget: which window it counts in, and the units
//! reserved for requests about to be sent.

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Days, FixedOffset, NaiveTime, TimeZone as _, Utc};
use tokio::time::Instant;

/// When a plan's daily budget comes back.
///
/// Whispir does not document when its daily count resets, so the default
/// is [`DailyWindow::Rolling`]: it never sends more than the plan allows in
/// any 24 hours, whatever the server's reset time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DailyWindow {
    /// At most the daily budget in any 24 hours: each request's unit comes
    /// back 24 hours after it was sent.
    #[default]
    Rolling,
    /// The whole budget comes back at a fixed time of day, at a fixed
    /// offset from UTC. The offset does not follow daylight saving time: for
    /// a zone with DST, give its current offset (and set it again when the
    /// offset changes).
    ResetAt {
        /// Hour of the reset, 0–23.
        hour: u8,
        /// Minute of the reset, 0–59.
        minute: u8,
        /// The zone's offset from UTC in minutes, e.g. `600` for Sydney in
        /// winter (UTC+10:00) or `-300` for New York in winter (UTC−05:00);
        /// at most ±1,439 (23:59).
        utc_offset_minutes: i16,
    },
}

/// A [`DailyWindow::ResetAt`] with a time of day or offset out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "the daily reset time {hour:02}:{minute:02} at UTC offset {utc_offset_minutes} minutes is out of range: use an hour 0-23, a minute 0-59 and an offset within ±1439 minutes"
)]
pub struct InvalidDailyWindow {
    hour: u8,
    minute: u8,
    utc_offset_minutes: i16,
}

/// A reset time checked once, so that counting never meets a bad one.
#[derive(Debug, Clone, Copy)]
struct ResetTime {
    time: NaiveTime,
    offset: FixedOffset,
}

impl DailyWindow {
    /// Checks a reset time; `Rolling` is always valid.
    pub(crate) fn validate(self) -> Result<Self, InvalidDailyWindow> {
        match self {
            DailyWindow::Rolling => Ok(self),
            DailyWindow::ResetAt { .. } => self.reset_time().map(|_| self),
        }
    }

    fn reset_time(self) -> Result<Option<ResetTime>, InvalidDailyWindow> {
        let DailyWindow::ResetAt {
            hour,
            minute,
            utc_offset_minutes,
        } = self
        else {
            return Ok(None);
        };
        let invalid = InvalidDailyWindow {
            hour,
            minute,
            utc_offset_minutes,
        };
        let time = NaiveTime::from_hms_opt(u32::from(hour), u32::from(minute), 0).ok_or(invalid)?;
        // `east_opt` refuses a full day or more.
        let offset = FixedOffset::east_opt(i32::from(utc_offset_minutes) * 60).ok_or(invalid)?;
        Ok(Some(ResetTime { time, offset }))
    }
}

impl ResetTime {
    /// The last reset at or before `now`, and the next one after it.
    fn period(self, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let local = now.with_timezone(&self.offset);
        let today = local.date_naive().and_time(self.time);
        // A fixed offset maps every local time to exactly one instant.
        let today = self
            .offset
            .from_local_datetime(&today)
            .single()
            .map_or(now, |t| t.with_timezone(&Utc));
        if today <= now {
            (today, today.checked_add_days(Days::new(1)).unwrap_or(now))
        } else {
            (today.checked_sub_days(Days::new(1)).unwrap_or(now), today)
        }
    }
}

/// 24 hours.
pub(crate) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The current time on both clocks the budget uses: the monotonic one for
/// rolling windows, the calendar one for resets at a time of day.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Now {
    pub(crate) mono: Instant,
    pub(crate) wall: DateTime<Utc>,
}

impl Now {
    pub(crate) fn current() -> Self {
        Self {
            mono: Instant::now(),
            wall: DateTime::from(std::time::SystemTime::now()),
        }
    }
}

/// Units used today: sent requests in the current window plus units
/// reserved by callers that are about to send.
#[derive(Debug)]
pub(crate) struct DailyUse {
    limit: u32,
    reset: Option<ResetTime>,
    reserved: u32,
    sent: Sent,
}

#[derive(Debug)]
enum Sent {
    /// When each request of the last 24 hours was sent, oldest first; never
    /// more than the daily limit.
    Rolling(VecDeque<Instant>),
    /// Requests sent since the reset that started `period`.
    SinceReset {
        period: Option<DateTime<Utc>>,
        count: u32,
    },
}

impl DailyUse {
    /// The use of a budget of `limit` requests counted in `window`, which
    /// [`DailyWindow::validate`] accepted (an invalid one counts as rolling).
    pub(crate) fn new(limit: u32, window: DailyWindow) -> Self {
        let reset = window.reset_time().ok().flatten();
        let sent = match reset {
            None => Sent::Rolling(VecDeque::new()),
            Some(_) => Sent::SinceReset {
                period: None,
                count: 0,
            },
        };
        Self {
            limit,
            reset,
            reserved: 0,
            sent,
        }
    }

    /// Forgets the sends that left the window.
    fn expire(&mut self, now: Now) {
        match (&mut self.sent, self.reset) {
            (Sent::Rolling(sent), _) => {
                while sent
                    .front()
                    .is_some_and(|t| now.mono.saturating_duration_since(*t) >= DAY)
                {
                    sent.pop_front();
                }
            }
            (Sent::SinceReset { period, count }, Some(reset)) => {
                let (start, _) = reset.period(now.wall);
                if *period != Some(start) {
                    *period = Some(start);
                    *count = 0;
                }
            }
            (Sent::SinceReset { .. }, None) => {}
        }
    }

    fn sent_count(&self) -> u32 {
        match &self.sent {
            Sent::Rolling(sent) => u32::try_from(sent.len()).unwrap_or(u32::MAX),
            Sent::SinceReset { count, .. } => *count,
        }
    }

    /// Units neither sent in the window nor reserved.
    pub(crate) fn remaining(&mut self, now: Now) -> u32 {
        self.expire(now);
        self.limit
            .saturating_sub(self.sent_count())
            .saturating_sub(self.reserved)
    }

    /// Until the next unit comes back: when the oldest send leaves a
    /// rolling window (zero if nothing was sent in it), or the next reset.
    pub(crate) fn resets_in(&mut self, now: Now) -> Duration {
        self.expire(now);
        match (&self.sent, self.reset) {
            (Sent::Rolling(sent), _) => sent.front().map_or(Duration::ZERO, |oldest| {
                DAY.saturating_sub(now.mono.saturating_duration_since(*oldest))
            }),
            (Sent::SinceReset { .. }, Some(reset)) => {
                let (_, next) = reset.period(now.wall);
                (next - now.wall).to_std().unwrap_or(Duration::ZERO)
            }
            (Sent::SinceReset { .. }, None) => Duration::ZERO,
        }
    }

    /// `Some(wait)` when no unit is left: how long until one comes back.
    pub(crate) fn spent(&mut self, now: Now) -> Option<Duration> {
        if self.remaining(now) > 0 {
            return None;
        }
        // Units only reserved (none sent yet) come back when their callers
        // send or give up; a full day is the honest upper bound.
        Some(match self.resets_in(now) {
            Duration::ZERO => DAY,
            wait => wait,
        })
    }

    /// Reserves a unit for a request about to be sent, or says how long
    /// until one comes back.
    pub(crate) fn reserve(&mut self, now: Now) -> Result<(), Duration> {
        if let Some(wait) = self.spent(now) {
            return Err(wait);
        }
        self.reserved += 1;
        Ok(())
    }

    /// A reserved unit was used: its request is being sent now.
    pub(crate) fn record_sent(&mut self, now: Now) {
        self.reserved = self.reserved.saturating_sub(1);
        self.expire(now);
        match &mut self.sent {
            Sent::Rolling(sent) => {
                // Bounded by the limit: only reserved units are recorded.
                if sent.len() < usize::try_from(self.limit).unwrap_or(usize::MAX) {
                    sent.push_back(now.mono);
                }
            }
            Sent::SinceReset { count, .. } => *count = count.saturating_add(1),
        }
    }

    /// A reserved unit was not used: it goes back to the budget.
    pub(crate) fn give_back(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }
}
