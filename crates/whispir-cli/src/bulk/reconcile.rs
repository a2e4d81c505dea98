//! After a crash: settles rows whose send was cut off by listing the
//! messages Whispir has and matching their labels to the journal's rows.
//!
//! A row whose label is listed was sent. A row whose label is missing from
//! a complete listing was not. The listing is complete when it ends, or
//! when, sorted newest first (checked as it is read), it reaches messages
//! older than the journal: nothing this journal sent can follow. Anything
//! else (an error, a list that is not sorted and stops early) leaves the
//! row uncertain, to be settled by `bulk resolve`.
//!
//! New messages sent by others while the listing pages push items to later
//! pages, so a newest-first listing sees some twice but misses none.

use std::collections::{BTreeMap, BTreeSet};

use whispir::ListStream as _;
use whispir::types::MessageListSortOrder;

use crate::bulk::journal::Header;
use crate::config::Connection;

/// Messages created this long before the journal still count, for clocks
/// that disagree.
const CLOCK_MARGIN_MS: i64 = 10 * 60 * 1000;

/// What the listing showed about the uncertain rows.
#[derive(Debug, Default)]
pub struct Reconciled {
    /// Rows found, with their message ids.
    pub sent: BTreeMap<u64, Option<String>>,
    /// Rows provably not sent.
    pub absent: BTreeSet<u64>,
    /// Why the listing could not prove absence, if it could not.
    pub incomplete: Option<String>,
}

/// Lists messages and settles what it can of `uncertain`.
pub async fn reconcile(
    conn: &Connection,
    header: &Header,
    uncertain: &BTreeSet<u64>,
) -> Reconciled {
    let mut result = Reconciled::default();
    let mut request = conn
        .client
        .message_list()
        .sort_fields("createdTime")
        .sort_order(MessageListSortOrder::Desc);
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    let mut items = request.stream();
    let oldest_wanted = header.created.saturating_sub(CLOCK_MARGIN_MS);
    let mut previous: Option<i64> = None;
    let mut sorted = true;
    let complete = loop {
        let message = match items.try_next().await {
            Ok(Some(message)) => message,
            Ok(None) => break true,
            Err(err) => {
                result.incomplete = Some(format!("listing messages failed: {err}"));
                break false;
            }
        };
        if let Some(row) = message
            .label
            .as_deref()
            .and_then(|label| header.row_of(label))
            && uncertain.contains(&row)
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
            result.sent.insert(row, id);
            if result.sent.len() == uncertain.len() {
                break true;
            }
        }
        if let Some(created) = message.created_time {
            sorted &= previous.is_none_or(|previous| created <= previous);
            previous = Some(created);
            if sorted && created < oldest_wanted {
                break true;
            }
        }
    };
    if complete {
        result.absent = uncertain
            .iter()
            .filter(|row| !result.sent.contains_key(row))
            .copied()
            .collect();
    }
    result
}
