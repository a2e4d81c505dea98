//! Campaigns: one dynamic message per spreadsheet, the way Whispir sends
//! in bulk, instead of one request per row.
//!
//! Whispir sends a whole file of rows in one process: the rows are uploaded
//! as a private resource (`resourceCreate`, CSV in base64), then one message
//! names the resource, the column that holds each row's address, and
//! `@@column@@` tags in its text, which Whispir fills from each row. 10,000
//! rows cost 3 requests (look for an earlier upload, upload, send) instead
//! of 10,000.
//!
//! ```
//! use whispir::campaign::Campaign;
//!
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let sandbox = whispir_sandbox::Sandbox::start().await?;
//! # let client = sandbox.client();
//! let rows = "name,mobile\nAnn,61400000001\nBob,61400000002\n";
//! let campaign = Campaign::from_csv(rows)?
//!     .name("spring-sale")
//!     .sms("mobile", "Hi @@name@@, the sale starts today.");
//! let sent = campaign.send(&client).await?;
//! for chunk in sent.chunks() {
//!     println!("rows {:?}: message {}", chunk.rows(), chunk.message().message_id());
//! }
//! # Ok(()) }
//! ```
//!
//! Everything Whispir would refuse, or send wrongly, is refused before the
//! first upload ([`Campaign::plan`]), naming the row (its 1-based number
//! among the data rows) or the tag: a tag that names no column and no tag
//! Whispir fills itself ([`SYSTEM_TAGS`]), an address that is not one
//! ([`crate::recipients::kind_of`]), a text longer than Whispir takes once
//! a row's values are in it, a row too large to upload.
//!
//! **Limits.** Whispir takes at most 10 MB in one request (its 413 answer
//! names 10,485,760 bytes), and an upload travels in base64, a third
//! larger: a chunk's CSV may hold at most [`MOST_CSV_BYTES`]. Whispir's
//! bulk messages take at most 10,000 recipients (its Bulk Message page;
//! the API documents no row limit), so a chunk holds at most
//! [`MOST_ROWS_PER_CHUNK`] rows. Larger campaigns are split into several
//! chunks, each its own upload and its own message.
//!
//! **Reruns.** Each step of a chunk can be called on its own
//! ([`Chunk::find_upload`], [`Chunk::upload`], [`Chunk::send`],
//! [`Chunk::find_sent`], [`SentChunk::results`]), and each
//! chunk has names a rerun recognises: its upload's name and its message's
//! label carry a fingerprint of the campaign (its rows, text and channel)
//! and the chunk's number, so a process that restarts finds the upload it
//! made instead of repeating it, and can look for the message by its label
//! before sending again ([`Chunk::find_sent`] calls it not sent only when
//! a whole listing over the time of the send proves it). Nothing here
//! sends a chunk twice: a send that fails is not retried.
//!
//! Whispir keeps resources about 30 days; delete each chunk's upload once
//! its results are in ([`UploadedResource::delete`]).

use std::collections::{BTreeMap, HashMap};
use std::ops::{ControlFlow, RangeInclusive};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use whispir_errors::Error;

use crate::enums::{EmailType, ResourceScope};
use crate::generated::Client;
use crate::location::Accepted;
use crate::message_range::{SentBetween, Walk};
use crate::recipients::{RecipientKind, kind_of};
use crate::runtime::pagination::ListStream as _;
use crate::types::{Email, Message, MessageListSortOrder, MessageResource, Resource, builder};

/// The most bytes Whispir takes in one request: its 413 answer says
/// "HTTP content length exceeded 10485760 bytes".
pub const MOST_REQUEST_BYTES: usize = 10_485_760;

/// What an upload's JSON adds around the base64 content (name, scope,
/// media type, quotes and braces), with room to spare.
const UPLOAD_ENVELOPE_BYTES: usize = 1_024;

/// The most CSV bytes in one chunk: base64 makes every 3 bytes 4, and the
/// upload request must stay within [`MOST_REQUEST_BYTES`].
pub const MOST_CSV_BYTES: usize = (MOST_REQUEST_BYTES - UPLOAD_ENVELOPE_BYTES) / 4 * 3;

// The base64 of the largest chunk, with its envelope, fits in one request.
const _: () = assert!(MOST_CSV_BYTES.div_ceil(3) * 4 + UPLOAD_ENVELOPE_BYTES <= MOST_REQUEST_BYTES);

/// The most rows in one chunk: Whispir's bulk messages take at most 10,000
/// recipients (its Bulk Message page, "split your file into multiple files
/// and send a separate bulk message for each"); the API's pages name no
/// limit of their own, so the SDK keeps to this one.
pub const MOST_ROWS_PER_CHUNK: usize = 10_000;

/// The longest subject, or SMS body, Whispir takes, in characters (the
/// spec's `maxLength`), checked on each row's text once its tags are filled.
const MOST_TEXT_CHARACTERS: usize = 1570;

/// The longest message label Whispir takes (the spec's `maxLength`).
const MOST_LABEL_CHARACTERS: usize = 48;

/// The longest campaign name kept in labels and upload names, so that a
/// label stays within [`MOST_LABEL_CHARACTERS`].
const MOST_NAME_CHARACTERS: usize = 24;

/// Tags Whispir fills itself, whatever the rows hold: the date and time of
/// the send ("system variables"), and what it knows of the message and its
/// sender. Tags that read a contact's record (`@@first_name@@`,
/// `@@recipient_role@@`, …) are not here: a row is no contact, so they must
/// name a column.
pub const SYSTEM_TAGS: [&str; 15] = [
    "dd",
    "mm",
    "yy",
    "yyyy",
    "day",
    "month",
    "hrs",
    "min",
    "date",
    "time",
    "messagelabel",
    "messagecategories",
    "web_link",
    "sender_email",
    "sender_full_name",
];

/// Why a campaign cannot be sent; every variant names the row (1-based,
/// counting data rows only) or the tag or column at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CampaignError {
    /// The CSV text cannot be read.
    #[error("row {row}: the CSV cannot be read: {reason}")]
    Csv {
        /// The data row (0 for the header line).
        row: usize,
        /// What the CSV reader said.
        reason: String,
    },
    /// A record is not a flat object of text, numbers and booleans, or its
    /// fields differ from the first record's.
    #[error("row {row}: {reason}")]
    Record {
        /// The data row.
        row: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// The campaign has no rows.
    #[error("the campaign has no rows: give at least one row after the header")]
    NoRows,
    /// Neither `sms` nor `email` was given, or both.
    #[error("{0}")]
    Channel(&'static str),
    /// The column named as the address column is not in the rows.
    #[error("the address column {column:?} is not in the rows (columns: {columns})")]
    NoSuchColumn {
        /// The column asked for.
        column: String,
        /// The columns the rows have, comma-separated.
        columns: String,
    },
    /// A tag names no column and is no tag Whispir fills itself.
    #[error(
        "the tag @@{tag}@@ names no column (columns: {columns}) and is no tag Whispir fills itself: add the column or fix the tag"
    )]
    UnknownTag {
        /// The tag, without its `@@`.
        tag: String,
        /// The columns the rows have, comma-separated.
        columns: String,
    },
    /// A row's address is not one the channel can send to.
    #[error("row {row}: {column} {value:?} is not {wanted}")]
    BadAddress {
        /// The data row.
        row: usize,
        /// The address column.
        column: String,
        /// The value in it.
        value: String,
        /// What it should be (`a mobile number (3 to 15 digits, an optional leading +)`).
        wanted: &'static str,
    },
    /// A row's text, with its values filled in, is longer than Whispir takes.
    #[error(
        "row {row}: the {part} is {characters} characters long with the row's values in it; Whispir takes at most 1570"
    )]
    TextTooLong {
        /// The data row.
        row: usize,
        /// `subject` or `body`.
        part: &'static str,
        /// Its length in characters.
        characters: usize,
    },
    /// One row alone is larger than one upload may be.
    #[error(
        "row {row}: the row is {bytes} bytes, too large to upload: one upload holds at most {limit} bytes of CSV (Whispir takes 10 MB per request, in base64)"
    )]
    RowTooLarge {
        /// The data row.
        row: usize,
        /// Its size as CSV, header included.
        bytes: usize,
        /// [`MOST_CSV_BYTES`].
        limit: usize,
    },
    /// The chunk size asked for is 0 or above [`MOST_ROWS_PER_CHUNK`].
    #[error("rows_per_chunk is {0}: give 1 to 10000")]
    RowsPerChunk(usize),
    /// A request of a chunk failed; the chunks before it were sent.
    #[error("chunk {chunk} (rows {first_row} to {last_row}): {source}")]
    Request {
        /// The chunk's number, from 1.
        chunk: usize,
        /// Its first data row.
        first_row: usize,
        /// Its last data row.
        last_row: usize,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },
}

/// The channel of a campaign and the column that holds its addresses.
#[derive(Debug, Clone)]
enum Channel {
    Sms {
        column: String,
        text: String,
    },
    Email {
        column: String,
        subject: String,
        body: String,
    },
}

/// Rows and a message with `@@tags@@`, sent as one dynamic message per
/// chunk of at most 10,000 rows. Build it with [`Campaign::from_csv`] or
/// [`Campaign::from_records`], give it a channel ([`Campaign::sms`] or
/// [`Campaign::email`]), then [`Campaign::send`] it, or [`Campaign::plan`]
/// it to run each step yourself.
#[derive(Debug, Clone)]
pub struct Campaign {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    channel: Result<Option<Channel>, &'static str>,
    name: String,
    rows_per_chunk: usize,
    callback_id: Option<String>,
    workspace_id: Option<String>,
}

impl Campaign {
    /// A campaign over CSV text: the first line names the columns, every
    /// other line is a row (quoted fields may hold `,` and line breaks). A
    /// byte-order mark before the first column (spreadsheets write one) is
    /// dropped.
    pub fn from_csv(text: &str) -> Result<Self, CampaignError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let columns: Vec<String> = reader
            .headers()
            .map_err(|err| CampaignError::Csv {
                row: 0,
                reason: err.to_string(),
            })?
            .iter()
            .map(|column| column.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for (index, record) in reader.records().enumerate() {
            let record = record.map_err(|err| CampaignError::Csv {
                row: index + 1,
                reason: err.to_string(),
            })?;
            rows.push(record.iter().map(str::to_string).collect());
        }
        Self::new(columns, rows)
    }

    /// A campaign over records: each serializes (serde) to an object whose
    /// fields are the columns, with text, numbers, booleans or nothing
    /// (`None`, an empty cell) as values. Every record has the first
    /// record's fields.
    pub fn from_records<T: Serialize>(
        records: impl IntoIterator<Item = T>,
    ) -> Result<Self, CampaignError> {
        let mut columns: Vec<String> = Vec::new();
        let mut rows = Vec::new();
        for (index, record) in records.into_iter().enumerate() {
            let row = index + 1;
            let refused = |reason: String| CampaignError::Record { row, reason };
            let value = serde_json::to_value(&record)
                .map_err(|err| refused(format!("the record cannot be serialized: {err}")))?;
            let Value::Object(fields) = value else {
                return Err(refused(
                    "the record is not a struct or map: each record is one row".into(),
                ));
            };
            if columns.is_empty() {
                columns = fields.keys().cloned().collect();
            } else if !fields.keys().eq(columns.iter()) {
                let keys: Vec<&str> = fields.keys().map(String::as_str).collect();
                return Err(refused(format!(
                    "its fields ({}) differ from the first record's ({})",
                    keys.join(", "),
                    columns.join(", ")
                )));
            }
            let mut cells = Vec::with_capacity(fields.len());
            for (field, value) in fields {
                cells.push(match value {
                    Value::String(text) => text,
                    Value::Null => String::new(),
                    Value::Bool(_) | Value::Number(_) => value.to_string(),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(refused(format!(
                            "field {field} is a list or an object: a cell holds text, a number or a boolean"
                        )));
                    }
                });
            }
            rows.push(cells);
        }
        Self::new(columns, rows)
    }

    fn new(columns: Vec<String>, rows: Vec<Vec<String>>) -> Result<Self, CampaignError> {
        if rows.is_empty() {
            return Err(CampaignError::NoRows);
        }
        Ok(Self {
            columns,
            rows,
            channel: Ok(None),
            name: "campaign".to_string(),
            rows_per_chunk: MOST_ROWS_PER_CHUNK,
            callback_id: None,
            workspace_id: None,
        })
    }

    /// Sends an SMS to the number in `column` of each row, with `text`
    /// (its `@@tags@@` filled from the row). As with
    /// [`Message::sms`], the first line is the message's subject.
    pub fn sms(mut self, column: impl Into<String>, text: impl Into<String>) -> Self {
        self.set_channel(Channel::Sms {
            column: column.into(),
            text: text.into(),
        });
        self
    }

    /// Sends a plain-text email to the address in `column` of each row,
    /// with `subject` and `body` (their `@@tags@@` filled from the row).
    pub fn email(
        mut self,
        column: impl Into<String>,
        subject: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        self.set_channel(Channel::Email {
            column: column.into(),
            subject: subject.into(),
            body: body.into(),
        });
        self
    }

    fn set_channel(&mut self, channel: Channel) {
        self.channel = match self.channel {
            Ok(None) => Ok(Some(channel)),
            _ => Err(
                "a campaign has one channel: give either sms or email (send a second campaign for the other)",
            ),
        };
    }

    /// The campaign's name (default `campaign`): the start of each chunk's
    /// message label and upload name. Letters, digits and `-` are kept, at
    /// most 24 of them.
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        let kept: String = name
            .as_ref()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(MOST_NAME_CHARACTERS)
            .collect();
        let kept = kept.trim_matches('-');
        self.name = if kept.is_empty() {
            "campaign".to_string()
        } else {
            kept.to_string()
        };
        self
    }

    /// The most rows in one chunk (1 to [`MOST_ROWS_PER_CHUNK`], the
    /// default); a chunk also ends before its CSV outgrows [`MOST_CSV_BYTES`].
    pub fn rows_per_chunk(mut self, rows: usize) -> Self {
        self.rows_per_chunk = rows;
        self
    }

    /// The callback Whispir notifies of replies and failed deliveries; each
    /// notification carries the row's values in its custom parameters.
    pub fn callback_id(mut self, id: impl Into<String>) -> Self {
        self.callback_id = Some(id.into());
        self
    }

    /// The workspace to upload to and send from (default: the company's).
    pub fn workspace_id(mut self, id: impl Into<String>) -> Self {
        self.workspace_id = Some(id.into());
        self
    }

    /// The number of data rows.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// Checks everything Whispir would refuse and splits the rows into
    /// chunks, without a request: the chunks to upload and send, in order.
    pub fn plan(&self) -> Result<Plan, CampaignError> {
        let channel = match &self.channel {
            Ok(Some(channel)) => channel,
            Ok(None) => {
                return Err(CampaignError::Channel(
                    "the campaign has no channel: call sms(column, text) or email(column, subject, body)",
                ));
            }
            Err(reason) => return Err(CampaignError::Channel(reason)),
        };
        if self.rows_per_chunk == 0 || self.rows_per_chunk > MOST_ROWS_PER_CHUNK {
            return Err(CampaignError::RowsPerChunk(self.rows_per_chunk));
        }
        let listed = || self.columns.join(", ");
        let (column, subject, body, wanted_kind, wanted) = match channel {
            Channel::Sms { column, text } => {
                let (subject, body) = split_sms(text);
                (
                    column,
                    subject,
                    body,
                    RecipientKind::Number,
                    "a mobile number (3 to 15 digits, an optional leading +)",
                )
            }
            Channel::Email {
                column,
                subject,
                body,
            } => (
                column,
                subject.clone(),
                Some(body.clone()),
                RecipientKind::Address,
                "an email address",
            ),
        };
        let address_at = self
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| CampaignError::NoSuchColumn {
                column: column.clone(),
                columns: listed(),
            })?;
        let by_tag: HashMap<String, usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| (tag_name(column), index))
            .collect();
        let texts = [Some(subject.as_str()), body.as_deref()];
        for text in texts.into_iter().flatten() {
            for tag in tags(text) {
                let known = by_tag.contains_key(&tag_name(tag))
                    || SYSTEM_TAGS.contains(&tag.to_ascii_lowercase().as_str());
                if !known {
                    return Err(CampaignError::UnknownTag {
                        tag: tag.to_string(),
                        columns: listed(),
                    });
                }
            }
        }
        for (index, cells) in self.rows.iter().enumerate() {
            let row = index + 1;
            let address = cells.get(address_at).map(|a| a.trim()).unwrap_or("");
            if kind_of(address) != Some(wanted_kind) {
                return Err(CampaignError::BadAddress {
                    row,
                    column: column.clone(),
                    value: address.to_string(),
                    wanted,
                });
            }
            for (part, text) in [
                ("subject", Some(subject.as_str())),
                ("body", body.as_deref()),
            ] {
                let Some(text) = text else { continue };
                let characters = fill(text, |tag| {
                    by_tag
                        .get(&tag_name(tag))
                        .and_then(|&at| cells.get(at))
                        .map(String::as_str)
                })
                .chars()
                .count();
                let limited = part == "subject" || matches!(channel, Channel::Sms { .. });
                if limited && characters > MOST_TEXT_CHARACTERS {
                    return Err(CampaignError::TextTooLong {
                        row,
                        part,
                        characters,
                    });
                }
            }
        }
        let message = DynamicMessage {
            subject,
            body,
            channel: channel.clone(),
            callback_id: self.callback_id.clone(),
        };
        self.chunks(message, address_at)
    }

    /// The rows split into chunks within the limits, each with its CSV.
    fn chunks(&self, message: DynamicMessage, address_at: usize) -> Result<Plan, CampaignError> {
        let header = csv_line(&self.columns);
        let mut pieces: Vec<(usize, String, Vec<String>)> = Vec::new();
        let mut csv = header.clone();
        let mut addresses = Vec::new();
        let mut first_row = 1;
        for (index, cells) in self.rows.iter().enumerate() {
            let row = index + 1;
            let line = csv_line(cells);
            if header.len() + line.len() > MOST_CSV_BYTES {
                return Err(CampaignError::RowTooLarge {
                    row,
                    bytes: header.len() + line.len(),
                    limit: MOST_CSV_BYTES,
                });
            }
            if addresses.len() == self.rows_per_chunk || csv.len() + line.len() > MOST_CSV_BYTES {
                pieces.push((
                    first_row,
                    std::mem::replace(&mut csv, header.clone()),
                    addresses,
                ));
                addresses = Vec::new();
                first_row = row;
            }
            csv.push_str(&line);
            addresses.push(cells.get(address_at).cloned().unwrap_or_default());
        }
        pieces.push((first_row, csv, addresses));
        let fingerprint = fingerprint(&message, &pieces);
        let of = pieces.len();
        let chunks = pieces
            .into_iter()
            .enumerate()
            .map(|(index, (first_row, csv, addresses))| {
                let number = index + 1;
                let suffix = format!("{number}of{of}");
                Chunk {
                    number,
                    first_row,
                    upload_name: format!("{}-{fingerprint:016x}-{suffix}.csv", self.name),
                    label: truncate(
                        format!("{}-{:08x}-{suffix}", self.name, fingerprint >> 32),
                        MOST_LABEL_CHARACTERS,
                    ),
                    csv,
                    addresses,
                    message: message.clone(),
                    workspace_id: self.workspace_id.clone(),
                }
            })
            .collect();
        Ok(Plan { chunks })
    }

    /// Checks the campaign ([`Campaign::plan`]), then uploads and sends each
    /// chunk in turn, reusing an upload an earlier run made
    /// ([`Chunk::upload_once`]). A failed request ends the campaign with an
    /// error naming the chunk and its rows; chunks before it were sent.
    ///
    /// This does not look for messages an earlier, interrupted run sent: a
    /// caller that must survive a crash between a send and its record keeps
    /// its own journal and calls the steps of [`Plan::chunks`] itself.
    pub async fn send(&self, client: &Client) -> Result<CampaignSent, CampaignError> {
        let plan = self.plan()?;
        let mut sent = Vec::with_capacity(plan.chunks.len());
        for chunk in &plan.chunks {
            let failed = |err: Error| CampaignError::Request {
                chunk: chunk.number,
                first_row: chunk.first_row,
                last_row: chunk.last_row(),
                source: Box::new(err),
            };
            let resource = chunk.upload_once(client).await.map_err(failed)?;
            sent.push(chunk.send(client, resource).await.map_err(failed)?);
        }
        Ok(CampaignSent { chunks: sent })
    }
}

/// The message each chunk sends, without its resource.
#[derive(Debug, Clone)]
struct DynamicMessage {
    subject: String,
    body: Option<String>,
    channel: Channel,
    callback_id: Option<String>,
}

/// A checked campaign split into chunks: upload and send each in order.
#[derive(Debug, Clone)]
pub struct Plan {
    chunks: Vec<Chunk>,
}

impl Plan {
    /// The chunks, in row order.
    pub fn chunks(&self) -> &[Chunk] {
        &self.chunks
    }
}

/// Up to 10,000 rows of a campaign: one upload and one dynamic message.
#[derive(Debug, Clone)]
pub struct Chunk {
    number: usize,
    first_row: usize,
    upload_name: String,
    label: String,
    csv: String,
    addresses: Vec<String>,
    message: DynamicMessage,
    workspace_id: Option<String>,
}

impl Chunk {
    /// Its number, from 1.
    pub fn number(&self) -> usize {
        self.number
    }

    /// Its data rows, 1-based, in the campaign's numbering.
    pub fn rows(&self) -> RangeInclusive<usize> {
        self.first_row..=self.last_row()
    }

    fn last_row(&self) -> usize {
        self.first_row + self.addresses.len().saturating_sub(1)
    }

    /// The name its upload gets: the campaign's name, its fingerprint and
    /// the chunk's number (`spring-sale-1f2e…-1of3.csv`), the same on every
    /// run of the same campaign.
    pub fn upload_name(&self) -> &str {
        &self.upload_name
    }

    /// The label its message gets (`spring-sale-1f2e3d4c-1of3`), the same
    /// on every run of the same campaign.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The CSV it uploads: the header line, then its rows.
    pub fn csv(&self) -> &str {
        &self.csv
    }

    /// The upload an earlier run made of this chunk: a private resource
    /// with its [`Chunk::upload_name`]. One list request.
    pub async fn find_upload(&self, client: &Client) -> Result<Option<UploadedResource>, Error> {
        let mut list = client.resource_list().name(self.upload_name.as_str());
        if let Some(workspace) = &self.workspace_id {
            list = list.workspace_id(workspace.as_str());
        }
        let mut found = list.stream();
        while let Some(resource) = found.try_next().await? {
            if resource.name == self.upload_name
                && let Some(id) = resource.id
            {
                return Ok(Some(self.uploaded(id, true)));
            }
        }
        Ok(None)
    }

    /// Uploads the chunk's CSV as a private resource named
    /// [`Chunk::upload_name`]. One request.
    pub async fn upload(&self, client: &Client) -> Result<UploadedResource, Error> {
        let resource = Resource::builder()
            .name(self.upload_name.as_str())
            .scope(ResourceScope::Private)
            .mime_type("text/csv")
            .deref_uri(base64::engine::general_purpose::STANDARD.encode(&self.csv));
        let mut call = client.resource_create().body(resource);
        if let Some(workspace) = &self.workspace_id {
            call = call.workspace_id(workspace.as_str());
        }
        let answer = call.send().await?;
        let id = crate::location::Created::from_response(&answer)
            .ok()
            .and_then(|created| created.id().map(str::to_string))
            .or_else(|| answer.into_inner().id)
            .ok_or_else(|| {
                Error::protocol(
                    Some("resourceCreate"),
                    None,
                    "the upload's answer names no resource id (no Location, no id)",
                )
            })?;
        Ok(self.uploaded(id, false))
    }

    /// The upload an earlier run made, else a new one: at most two requests.
    pub async fn upload_once(&self, client: &Client) -> Result<UploadedResource, Error> {
        match self.find_upload(client).await? {
            Some(found) => Ok(found),
            None => self.upload(client).await,
        }
    }

    fn uploaded(&self, id: String, reused: bool) -> UploadedResource {
        UploadedResource {
            id,
            workspace_id: self.workspace_id.clone(),
            reused,
        }
    }

    /// The upload an earlier run recorded, by its resource id, without a
    /// request (a run that keeps its own journal need not list resources
    /// again). Whispir refuses the send if the resource is gone.
    pub fn recorded_upload(&self, id: impl Into<String>) -> UploadedResource {
        self.uploaded(id.into(), true)
    }

    /// The chunk as an earlier run sent it: its message (recorded, or found
    /// by [`Chunk::find_sent`]) from `resource`, for [`SentChunk::results`].
    pub fn sent_as(&self, message: Accepted, resource: UploadedResource) -> SentChunk {
        SentChunk {
            number: self.number,
            first_row: self.first_row,
            label: self.label.clone(),
            addresses: self.addresses.clone(),
            message,
            resource,
        }
    }

    /// Looks for the message an earlier run sent for this chunk, by its
    /// [`Chunk::label`], among the calling user's messages sent since
    /// `since` (when that run began its send).
    ///
    /// Whispir lists only the last 7 days unless given a date range, so the
    /// listing asks for the messages from `since` (less
    /// [`FIND_SENT_CLOCK_MARGIN`], for clocks that disagree) to a month
    /// past now (for a server clock that runs ahead). It says
    /// [`SentSearch::NotSent`] only when that listing came back whole: as
    /// many distinct messages as every page stated, the same total
    /// throughout; anything less is [`SentSearch::Unproven`] with the
    /// reason, as is a `since` later than this machine's clock now (a
    /// clock set back since the send was dated: its true time is not
    /// known). Whispir accepts a message for processing and lists it
    /// later: absence proves nothing until the send is older than that
    /// delay, which the caller waits out (the CLI's `--settle`).
    pub async fn find_sent(
        &self,
        client: &Client,
        since: DateTime<Utc>,
    ) -> Result<SentSearch, Error> {
        let now = DateTime::<Utc>::from(std::time::SystemTime::now());
        if since > now {
            // The clock that dated the send has been set back since: the
            // send's true time is unknown, so no range can be sure to hold it.
            return Ok(SentSearch::Unproven(format!(
                "the send is dated {since}, later than this machine's clock now ({now}): the \
                 clock was set back, so no listing can be sure to cover the time of the send"
            )));
        }
        let from = since - FIND_SENT_CLOCK_MARGIN;
        let to = now.max(since) + chrono::Duration::days(31);
        let range = match SentBetween::new(from, to) {
            Ok(range) => range,
            Err(err) => {
                return Ok(SentSearch::Unproven(format!(
                    "no listing can cover it: {err}"
                )));
            }
        };
        let mut list = client
            .message_list()
            .sent_between(range)
            .sort_fields("createdTime")
            .sort_order(MessageListSortOrder::Desc);
        if let Some(workspace) = &self.workspace_id {
            list = list.workspace_id(workspace.as_str());
        }
        // The first message with the chunk's label, and its own link.
        let mut found: Option<Option<reqwest::Url>> = None;
        let walk = list
            .walk_whole(|message| {
                if message.label.as_deref() != Some(self.label.as_str()) {
                    return ControlFlow::Continue(());
                }
                let own = message
                    .link
                    .iter()
                    .flat_map(|links| links.iter())
                    .find(|link| {
                        link.rel
                            .as_deref()
                            .is_none_or(|rel| rel.eq_ignore_ascii_case("self"))
                    });
                found = Some(
                    own.and_then(|link| link.uri.as_deref())
                        .and_then(|uri| reqwest::Url::parse(uri).ok()),
                );
                ControlFlow::Break(())
            })
            .await?;
        match (walk, found) {
            (_, Some(Some(url))) => Accepted::from_location(url).map(SentSearch::Sent),
            (_, Some(None)) => Ok(SentSearch::Unproven(
                "a message with the chunk's label is listed without a usable link to it".into(),
            )),
            (Walk::Incomplete(reason), None) => Ok(SentSearch::Unproven(reason)),
            (Walk::Whole | Walk::Stopped, None) => Ok(SentSearch::NotSent),
        }
    }

    /// The dynamic message this chunk sends from `resource`: its text with
    /// `@@tags@@`, the address column, the chunk's label.
    pub fn message(&self, resource: &UploadedResource) -> Result<Message, Error> {
        let message = &self.message;
        let mut source = MessageResource::builder().resource_id(resource.id.as_str());
        // No `to`: Whispir reads a dynamic message's recipients from the
        // rows its resource names, and its examples send none.
        let mut built = Message::builder()
            .subject(message.subject.as_str())
            .label(self.label.as_str())
            .callback_id(message.callback_id.clone());
        match &message.channel {
            Channel::Sms { column, .. } => {
                source = source.sms_mapping_field(column.as_str());
                built = built.body(message.body.clone());
            }
            Channel::Email { column, .. } => {
                source = source.email_mapping_field(column.as_str());
                built = built.email(
                    Email::builder()
                        .body(message.body.clone().unwrap_or_default())
                        .type_(EmailType::TextPlain),
                );
            }
        }
        let built: builder::Message = built.resource(source);
        Ok(Message::try_from(built)?)
    }

    /// Sends the chunk's dynamic message from `resource`. One request,
    /// never repeated by the SDK: Whispir sends one message per row. With
    /// the feature `opentelemetry`, its rows count in `whispir.campaign.rows`
    /// by the send's outcome.
    pub async fn send(
        &self,
        client: &Client,
        resource: UploadedResource,
    ) -> Result<SentChunk, Error> {
        let sent = self.send_message(client, resource).await;
        let rows = u64::try_from(self.addresses.len()).unwrap_or(u64::MAX);
        let metrics = &client.context().policy().metrics;
        metrics.campaign_rows(rows, sent.as_ref().map(|_| ()));
        sent
    }

    async fn send_message(
        &self,
        client: &Client,
        resource: UploadedResource,
    ) -> Result<SentChunk, Error> {
        let mut call = client.message_create().body(self.message(&resource)?);
        if let Some(workspace) = &self.workspace_id {
            call = call.workspace_id(workspace.as_str());
        }
        let sent = call.send().await?;
        let message = sent.accepted().cloned().ok_or_else(|| {
            Error::protocol(
                Some("messageCreate"),
                Some(sent.status()),
                "the send was accepted but its answer names no message (no usable Location)",
            )
        })?;
        Ok(self.sent_as(message, resource))
    }
}

/// How far before the given `since` [`Chunk::find_sent`] lists, for a
/// client clock and a server clock that disagree.
pub const FIND_SENT_CLOCK_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// What the message list says about a chunk's message ([`Chunk::find_sent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SentSearch {
    /// It is listed: an earlier run sent it.
    Sent(Accepted),
    /// It is not listed, and the listing was whole over the time it could
    /// have been sent in: it was not sent (once the send is older than the
    /// time Whispir takes to list a message).
    NotSent,
    /// It is not listed, but the listing proves nothing; why.
    Unproven(String),
}

/// A chunk's upload: a private resource Whispir keeps about 30 days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedResource {
    id: String,
    workspace_id: Option<String>,
    reused: bool,
}

impl UploadedResource {
    /// The resource's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether an earlier run made it ([`Chunk::find_upload`]).
    pub fn was_reused(&self) -> bool {
        self.reused
    }

    /// Whether Whispir still holds it: `false` only when Whispir answers
    /// 404 for it (it expired, about 30 days after its upload, or was
    /// deleted). One request, which reads the resource back.
    ///
    /// A send from a resource that is gone is refused: a caller whose send
    /// was refused for certain ([`Error::may_have_been_processed`] false)
    /// and whose resource is gone uploads the chunk again
    /// ([`Chunk::upload`]) and sends it from the new one.
    pub async fn exists(&self, client: &Client) -> Result<bool, Error> {
        let mut call = client.resource_retrieve().resource_id(self.id.as_str());
        if let Some(workspace) = &self.workspace_id {
            call = call.workspace_id(workspace.as_str());
        }
        match call.send().await {
            Ok(_) => Ok(true),
            Err(err) if err.is_not_found() => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Deletes it, once its message's results are in. One request.
    pub async fn delete(&self, client: &Client) -> Result<(), Error> {
        let mut call = client.resource_delete().resource_id(self.id.as_str());
        if let Some(workspace) = &self.workspace_id {
            call = call.workspace_id(workspace.as_str());
        }
        call.send().await.map(|_| ())
    }
}

/// What [`Campaign::send`] sent: one [`SentChunk`] per chunk.
#[derive(Debug, Clone)]
pub struct CampaignSent {
    chunks: Vec<SentChunk>,
}

impl CampaignSent {
    /// Each chunk's message and upload, in row order.
    pub fn chunks(&self) -> &[SentChunk] {
        &self.chunks
    }
}

/// A chunk sent: its message, its upload, and the rows it went to.
#[derive(Debug, Clone)]
pub struct SentChunk {
    number: usize,
    first_row: usize,
    label: String,
    addresses: Vec<String>,
    message: Accepted,
    resource: UploadedResource,
}

/// Where one row's message stands, from the message's status and replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientResult {
    /// The data row, 1-based, in the campaign's numbering.
    pub row: usize,
    /// The address the row was sent to.
    pub address: String,
    /// Whispir's category (`Pending`, `Sent`, `Received`, `Acknowledged`,
    /// `Undeliverable`), `None` when the status does not list the row yet.
    pub category: Option<String>,
    /// The channel's status code (`PENDING`, `SENT`, `DELIVRD`, `READ`,
    /// `FAILED`, …), when listed.
    pub status: Option<String>,
    /// The replies from the row's address, oldest first.
    pub replies: Vec<String>,
}

impl SentChunk {
    /// Its number, from 1.
    pub fn number(&self) -> usize {
        self.number
    }

    /// Its data rows, 1-based, in the campaign's numbering.
    pub fn rows(&self) -> RangeInclusive<usize> {
        self.first_row..=self.first_row + self.addresses.len().saturating_sub(1)
    }

    /// Its message's label, as [`Chunk::label`].
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The dynamic message: one message id for every row of the chunk
    /// (reading it back shows the `@@tags@@` unfilled).
    pub fn message(&self) -> &Accepted {
        &self.message
    }

    /// The upload the message was sent from; delete it once done.
    pub fn resource(&self) -> &UploadedResource {
        &self.resource
    }

    /// Each row's status and replies, in row order: the message's detailed
    /// status and its replies, matched to rows by address. Rows sharing an
    /// address take its entries in order.
    ///
    /// Both lists page by 20, so 10,000 rows cost at least 500 requests
    /// (500 quota units) for the status alone: for large campaigns,
    /// Whispir's callbacks, which carry each row's values, are cheaper.
    pub async fn results(&self, client: &Client) -> Result<Vec<RecipientResult>, Error> {
        let workspace = self.message.workspace_id();
        let mut status = client
            .message_status_list()
            .message_id(self.message.message_id())
            .view(crate::types::MessageStatusListView::Detailed);
        let mut responses = client
            .message_response_list()
            .message_id(self.message.message_id())
            .view(crate::types::MessageResponseListView::Detailed);
        if let Some(workspace) = workspace {
            status = status.workspace_id(workspace);
            responses = responses.workspace_id(workspace);
        }
        let mut results: Vec<RecipientResult> = self
            .addresses
            .iter()
            .enumerate()
            .map(|(index, address)| RecipientResult {
                row: self.first_row + index,
                address: address.clone(),
                category: None,
                status: None,
                replies: Vec::new(),
            })
            .collect();
        let mut rows_of: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (index, address) in self.addresses.iter().enumerate() {
            rows_of
                .entry(same_address(address))
                .or_default()
                .push(index);
        }
        let mut next_of: HashMap<String, usize> = HashMap::new();
        let mut statuses = status.stream();
        while let Some(entry) = statuses.try_next().await? {
            let channel = entry.status.first();
            let Some(who) = channel
                .and_then(|c| c.destination.clone())
                .or_else(|| entry.name.clone())
            else {
                continue;
            };
            let key = same_address(&who);
            let Some(rows) = rows_of.get(&key) else {
                continue;
            };
            let next = next_of.entry(key).or_default();
            if let Some(result) = rows.get(*next).and_then(|&at| results.get_mut(at)) {
                result.category = entry.info.clone();
                result.status = channel.and_then(|c| c.status.clone());
                *next += 1;
            }
        }
        let mut replies = responses.stream();
        while let Some(reply) = replies.try_next().await? {
            let from = reply.from.as_ref().and_then(|from| {
                [&from.mobile, &from.email, &from.voice, &from.name]
                    .into_iter()
                    .flatten()
                    .find(|who| rows_of.contains_key(&same_address(who)))
                    .cloned()
            });
            let content = reply.response_message.and_then(|message| message.content);
            if let (Some(from), Some(content)) = (from, content) {
                let first = rows_of
                    .get(&same_address(&from))
                    .and_then(|rows| rows.first());
                if let Some(result) = first.and_then(|&at| results.get_mut(at)) {
                    result.replies.push(content);
                }
            }
        }
        Ok(results)
    }
}

/// An address as compared: without spaces and `+`, in lower case.
fn same_address(address: &str) -> String {
    address
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '+')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The name a column is tagged by: Whispir offers a column `First Name` as
/// `@@first_name@@` (lower case, spaces as `_`).
pub fn tag_name(column: &str) -> String {
    column
        .trim()
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .flat_map(char::to_lowercase)
        .collect()
}

/// The `@@tags@@` of `text`, without their `@@`, in order.
pub fn tags(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find("@@")?;
            let after = &rest[start + 2..];
            let end = after.find("@@")?;
            let tag = &after[..end];
            if !tag.is_empty() && !tag.chars().any(char::is_whitespace) {
                rest = &after[end + 2..];
                return Some(tag);
            }
            // `@@` not closing a tag: start again at the second `@@`.
            rest = &rest[start + 2..];
        }
    })
}

/// `text` with each tag `value_of` knows replaced by its value; other tags
/// are kept as written.
pub fn fill<'a>(text: &str, value_of: impl Fn(&str) -> Option<&'a str>) -> String {
    let mut filled = String::with_capacity(text.len());
    let mut rest = text;
    for tag in tags(text) {
        let written = format!("@@{tag}@@");
        let Some(at) = rest.find(&written) else {
            continue;
        };
        filled.push_str(&rest[..at]);
        filled.push_str(value_of(tag).unwrap_or(&written));
        rest = &rest[at + written.len()..];
    }
    filled.push_str(rest);
    filled
}

/// An SMS text as a message carries it: the first line as the subject,
/// the rest as the body (as [`Message::sms`] does).
fn split_sms(text: &str) -> (String, Option<String>) {
    match text.split_once('\n') {
        Some((first, rest)) => (
            first.trim_end_matches('\r').to_string(),
            Some(rest.to_string()),
        ),
        None => (text.to_string(), None),
    }
}

/// One CSV line (quoted where needed), ending in `\n`.
fn csv_line(cells: &[String]) -> String {
    let mut line = String::new();
    for (index, cell) in cells.iter().enumerate() {
        if index > 0 {
            line.push(',');
        }
        if cell.contains([',', '"', '\n', '\r']) || cell.trim() != cell {
            line.push('"');
            line.push_str(&cell.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(cell);
        }
    }
    line.push('\n');
    line
}

/// A fingerprint of the campaign (its message, channel and every chunk's
/// CSV): FNV-1a, 64 bits, the same on every platform and release.
fn fingerprint(message: &DynamicMessage, pieces: &[(usize, String, Vec<String>)]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for byte in bytes {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        hash ^= 0xff;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    };
    let (kind, column) = match &message.channel {
        Channel::Sms { column, .. } => ("sms", column),
        Channel::Email { column, .. } => ("email", column),
    };
    feed(kind.as_bytes());
    feed(column.as_bytes());
    feed(message.subject.as_bytes());
    feed(message.body.as_deref().unwrap_or("").as_bytes());
    feed(message.callback_id.as_deref().unwrap_or("").as_bytes());
    for (_, csv, _) in pieces {
        feed(csv.as_bytes());
    }
    hash
}

fn truncate(mut text: String, characters: usize) -> String {
    if let Some((at, _)) = text.char_indices().nth(characters) {
        text.truncate(at);
    }
    text
}

#[cfg(test)]
mod tests;
