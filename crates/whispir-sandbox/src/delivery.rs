//! The life of a sent message: its recipients, their stages, its replies.

use std::time::{Duration, Instant};

use serde_json::Value;

/// Where a recipient's message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Queued (Whispir's `PENDING`).
    Pending,
    /// Handed to the network (`SENT`).
    Sent,
    /// Delivered (`DELIVRD`, shown as Received).
    Received,
    /// Replied to (`READ`, shown as Acknowledged).
    Acknowledged,
    /// Could not be delivered (`FAILED`).
    Undeliverable,
}

impl Stage {
    /// The category name of the summary view.
    pub fn category(self) -> &'static str {
        match self {
            Stage::Pending => "Pending",
            Stage::Sent => "Sent",
            Stage::Received => "Received",
            Stage::Acknowledged => "Acknowledged",
            Stage::Undeliverable => "Undeliverable",
        }
    }

    /// The status code of the detailed view.
    pub fn code(self) -> &'static str {
        match self {
            Stage::Pending => "PENDING",
            Stage::Sent => "SENT",
            Stage::Received => "DELIVRD",
            Stage::Acknowledged => "READ",
            Stage::Undeliverable => "FAILED",
        }
    }
}

/// A reply to a message.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// Who replied.
    pub from: String,
    /// What they wrote.
    pub content: String,
    /// When, as Whispir writes it (`dd/MM/yy HH:mm`).
    pub acknowledged: String,
}

/// The life of one sent message.
#[derive(Debug, Clone)]
pub(crate) struct Delivery {
    /// When it was accepted.
    pub created: Instant,
    /// Its recipients and whether each one fails.
    pub recipients: Vec<(String, bool)>,
    /// Replies, oldest first.
    pub replies: Vec<Reply>,
    /// The callback (id or name) to notify, if any.
    pub callback: Option<String>,
    /// Values echoed back in each callback.
    pub parameters: Value,
    /// `sms`, `email` or `voice`.
    pub channel: &'static str,
    /// Where the message can be read.
    pub location: String,
    /// A dynamic message's row values, by recipient (empty otherwise).
    pub rows: Vec<serde_json::Map<String, Value>>,
}

impl Delivery {
    /// What a callback about `recipient` carries: the message's callback
    /// parameters, and for a dynamic message the recipient's row values.
    pub(crate) fn parameters_of(&self, recipient: &str) -> Value {
        let mut parameters = self.parameters.clone();
        let row = self
            .recipients
            .iter()
            .position(|(r, _)| r == recipient)
            .and_then(|at| self.rows.get(at));
        if let (Some(map), Some(row)) = (parameters.as_object_mut(), row) {
            for (column, value) in row {
                map.entry(column.clone()).or_insert_with(|| value.clone());
            }
        }
        parameters
    }

    /// Where a recipient stands now.
    /// `step` is how long each of `PENDING` and `SENT` lasts.
    pub fn stage(&self, step: Duration, recipient: &str, fails: bool) -> Stage {
        if self.replies.iter().any(|reply| reply.from == recipient) {
            return Stage::Acknowledged;
        }
        let elapsed = self.created.elapsed();
        if elapsed < step {
            Stage::Pending
        } else if elapsed < step * 2 {
            Stage::Sent
        } else if fails {
            Stage::Undeliverable
        } else {
            Stage::Received
        }
    }
}
