//! Settling rows whose send may have happened (left `sending` by a crash,
//! or answered in a way that does not say) by listing the messages Whispir
//! holds and matching their labels to the journal's rows.
//!
//! A row whose label is listed was sent. A row is called not sent only
//! when absence is proved:
//!
//! - its request began at least the settle time ago (Whispir accepts a
//!   message *for processing* and may list it later), and
//! - a listing that covers its time came back whole: Whispir lists only
//!   the last 7 days unless given a date range, so the listing asks for
//!   the range from the oldest such request (less [`CLOCK_MARGIN_MS`], for
//!   clocks that disagree) to a month past now ([`AHEAD_MARGIN_MS`], for a
//!   server clock that runs ahead), which also bounds how many pages it
//!   reads, whatever their order. Whole means as many
//!   distinct messages as every page stated, the same total throughout.
//!   Whispir lists only the calling user's messages unless asked for the
//!   shared view; when the journal does not know the user (a token), the
//!   shared view is listed too.
//!
//! Anything else (an error, a row whose request time the journal lacks)
//! leaves the row uncertain with the reason, for `bulk resolve`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use chrono::{DateTime, Duration, Utc};
use whispir::types::{MessageListSortOrder, MessageListViewType};
use whispir::{RetryConfig, SentBetween, Walk};

use crate::bulk::journal::Header;
use crate::config::Connection;

/// How far the listing reaches past each row's request, for a client clock
/// and a server clock that disagree.
pub const CLOCK_MARGIN_MS: i64 = 10 * 60 * 1000;

/// How far past now the listing reaches, for a server whose clock runs
/// ahead of this machine's (it stamps our messages later than we sent
/// them): a month. A server with a right clock holds no message dated
/// after now, so reaching far costs no page.
pub const AHEAD_MARGIN_MS: i64 = 31 * 24 * 3600 * 1000;

/// What the listing showed about the uncertain rows.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Rows found, with their message ids.
    pub sent: BTreeMap<u64, Option<String>>,
    /// Rows provably not sent.
    pub absent: BTreeSet<u64>,
    /// Rows that stay uncertain, each with the reason.
    pub unsettled: BTreeMap<u64, String>,
}

/// Lists messages and settles what it can of `uncertain` (each row with
/// the time its request began, if the journal has it), at `now` (Unix
/// ms), which must be at least the settle time after every request.
pub async fn reconcile(
    conn: &Connection,
    header: &Header,
    uncertain: &BTreeMap<u64, Option<i64>>,
    now: i64,
) -> Reconciled {
    let mut result = Reconciled::default();
    let mut known = BTreeSet::new();
    for (row, requested) in uncertain {
        match requested {
            Some(at) if *at > now => {
                // Dated by a clock since set back: its true time is unknown.
                result.unsettled.insert(
                    *row,
                    "the journal dates its request later than this machine's clock now: the \
                     clock was set back, so no listing can be sure to cover it"
                        .into(),
                );
            }
            Some(_) => {
                known.insert(*row);
            }
            None => {
                result.unsettled.insert(
                    *row,
                    "the journal does not say when its request began, so no listing can \
                     prove it absent"
                        .into(),
                );
            }
        }
    }
    let Some(oldest) = known
        .iter()
        .filter_map(|row| uncertain.get(row).copied().flatten())
        .min()
    else {
        return result;
    };
    let instant =
        |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let from = instant(oldest.saturating_sub(CLOCK_MARGIN_MS));
    let to = instant(now.saturating_add(AHEAD_MARGIN_MS));
    let range = match SentBetween::new(from, to) {
        Ok(range) => range,
        Err(err) => {
            for row in &known {
                result
                    .unsettled
                    .insert(*row, format!("no listing can cover it: {err}"));
            }
            return result;
        }
    };
    let mut views = vec![None];
    if header
        .destination
        .as_ref()
        .is_none_or(|to| to.user.is_none())
    {
        views.push(Some(MessageListViewType::Shared));
    }
    let mut incomplete = None;
    for view in views {
        if let Err(reason) = list(conn, header, &known, range, view, &mut result.sent).await {
            incomplete.get_or_insert(reason);
        }
        if known.iter().all(|row| result.sent.contains_key(row)) {
            break;
        }
    }
    for row in known {
        if result.sent.contains_key(&row) {
            continue;
        }
        match &incomplete {
            None => {
                result.absent.insert(row);
            }
            Some(reason) => {
                result.unsettled.insert(row, reason.clone());
            }
        }
    }
    result
}

/// Reads one view of the listing over `range`, adding the rows it finds
/// to `sent`; `Err` with the reason when it did not come back whole.
async fn list(
    conn: &Connection,
    header: &Header,
    wanted: &BTreeSet<u64>,
    range: SentBetween,
    view: Option<MessageListViewType>,
    sent: &mut BTreeMap<u64, Option<String>>,
) -> Result<(), String> {
    let mut request = conn
        .client
        .message_list()
        .sent_between(range)
        .sort_fields("createdTime")
        .sort_order(MessageListSortOrder::Desc);
    if let Some(view) = view {
        request = request.view_type(view);
    }
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    // The date range bounds the listing, and the walk proves it whole (or
    // says why not). Newest first, so that the rows of a recent run are
    // found early; the order is not relied on.
    let walk = request
        .walk_whole(|message| {
            if let Some(row) = message
                .label
                .as_deref()
                .and_then(|label| header.row_of(label))
                && wanted.contains(&row)
            {
                let id = message
                    .link
                    .as_ref()
                    .and_then(|links| {
                        links
                            .iter()
                            .find(|link| link.rel.as_deref() == Some("self"))
                    })
                    .and_then(|link| link.uri.as_deref())
                    .and_then(|uri| uri.rsplit('/').next())
                    .map(String::from);
                sent.insert(row, id);
                if wanted.iter().all(|row| sent.contains_key(row)) {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
        .await
        .map_err(|err| format!("listing messages failed: {err}"))?;
    match walk {
        Walk::Whole | Walk::Stopped => Ok(()),
        Walk::Incomplete(reason) => Err(reason),
    }
}

/// How long until every request of `uncertain` is `settle` old, at `now`.
/// The journal holds when a row's first attempt began; the SDK may send
/// the message again (when the server provably did not act) for up to its
/// retry window later, and the attempt Whispir took must be `settle` old.
/// (Every attempt has begun by now: with no settle there is no wait.)
pub fn settle_wait(uncertain: &BTreeMap<u64, Option<i64>>, settle: Duration, now: i64) -> i64 {
    let retries = if settle > Duration::zero() {
        i64::try_from(RetryConfig::default().max_elapsed.as_millis()).unwrap_or(i64::MAX)
    } else {
        0
    };
    // A request stamped after `now` was stamped by a clock that has since
    // been set back: at least no time has passed since it, so the whole
    // window from now is enough (and waiting out the clock's error is not).
    let most = retries.saturating_add(settle.num_milliseconds());
    uncertain.values().flatten().max().map_or(0, |latest| {
        latest
            .saturating_add(most)
            .saturating_sub(now)
            .clamp(0, most)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_stamped_in_the_future_waits_the_window_not_the_clocks_error() {
        // Stamped a day ahead of now (this machine's clock was set back).
        let day = 24 * 3600 * 1000;
        let uncertain = BTreeMap::from([(2, Some(day))]);
        assert_eq!(settle_wait(&uncertain, Duration::seconds(60), 0), 90_000);
        assert_eq!(settle_wait(&uncertain, Duration::zero(), 0), 0);
    }

    #[test]
    fn the_settle_time_counts_from_the_last_retry_that_may_have_begun() {
        // The first attempt began at 0; a retry may begin up to 30 s later
        // and be the one Whispir took, so 60 s of settle end at 90 s.
        let uncertain = BTreeMap::from([(2, Some(0)), (3, None)]);
        assert_eq!(
            settle_wait(&uncertain, Duration::seconds(60), 60_000),
            30_000
        );
        assert_eq!(settle_wait(&uncertain, Duration::seconds(60), 90_000), 0);
        assert_eq!(
            settle_wait(&BTreeMap::from([(3, None)]), Duration::seconds(60), 0),
            0
        );
    }
}
