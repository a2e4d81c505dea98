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
//!   clocks that disagree) to now (plus the margin), which also bounds how
//!   many pages it reads, whatever their order. Whispir lists only the
//!   calling user's messages unless asked for the shared view; when the
//!   journal does not know the user (a token), the shared view is listed
//!   too.
//!
//! Anything else (an error, a row whose request time the journal lacks)
//! leaves the row uncertain with the reason, for `bulk resolve`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use whispir::types::{MessageListSortOrder, MessageListViewType};
use whispir::{ListStream as _, SentBetween};

use crate::bulk::journal::Header;
use crate::config::Connection;

/// How far the listing reaches past each row's request, for a client clock
/// and a server clock that disagree.
pub const CLOCK_MARGIN_MS: i64 = 10 * 60 * 1000;

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
    let Some(oldest) = uncertain.values().flatten().min().copied() else {
        return result;
    };
    let instant =
        |ms: i64| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let from = instant(oldest.saturating_sub(CLOCK_MARGIN_MS));
    let to = instant(now.saturating_add(CLOCK_MARGIN_MS));
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
    // The date range bounds the listing; no page cap may end it early.
    // Newest first, so that the rows of a recent run are found early; the
    // order is not relied on: only the range's end ends the listing.
    let mut items = request.stream().max_pages(u32::MAX);
    loop {
        let message = match items.try_next().await {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(()),
            Err(err) => return Err(format!("listing messages failed: {err}")),
        };
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
                return Ok(());
            }
        }
    }
}

/// How long until every request of `uncertain` is `settle` old, at `now`.
pub fn settle_wait(uncertain: &BTreeMap<u64, Option<i64>>, settle: Duration, now: i64) -> i64 {
    uncertain.values().flatten().max().map_or(0, |latest| {
        latest
            .saturating_add(settle.num_milliseconds())
            .saturating_sub(now)
            .max(0)
    })
}
