//! The bulk journal: an append-only file, locked while a run or a
//! `resolve` uses it, where every state change of a row reaches the disk
//! (fsync) before the run goes on. A row is marked `sending` durably
//! before its send starts, so a crash never loses the fact that a send
//! may have happened.
//!
//! The first line says where the rows go (base URL, user, workspace, and
//! whether the embedded sandbox): a journal is never used against another
//! destination. A `sending` line carries the time of the request and a
//! digest of the row as sent, so that a fixed CSV can resume the journal
//! without sending a changed row that may already have gone out. A `csv`
//! line records that the run went on with another CSV file.
//!
//! A journal is for one way of sending, named in its first line (`mode`):
//! one message per row (`per-row`, the default of journals that do not
//! say), or one dynamic message per chunk of rows (`dynamic`, which also
//! records the template and the chunk size: a chunk's label fingerprints
//! its rows and text, so the journal holds to them). A dynamic journal
//! records each chunk's steps on `chunk N …` lines: `planned` (its label
//! and rows), `uploading`, `uploaded` (the resource id), then the same
//! send steps a row has, the `sent` line with the message's URL. An
//! `upload-gone` line (with the resource id) records that Whispir no
//! longer held the upload when a send from it was refused: the chunk is
//! uploaded again.
//!
//! Only whole lines count: a last line without its newline was cut short
//! by a crash (`failed 1234` torn to `failed 12` would name another row),
//! so it is ignored, and cut away when the journal is opened for writing.
//!
//! ```text
//! whispir-bulk-journal 1 id=3f9a0c1b2d4e created=1767225600000 digest=9c0f… rows=300 base=https://api.au.whispir.com user=ops workspace=- sandbox=no
//! sending 2 1767225601000 5b1d0c7e9a2f4c11
//! sent 2 A1D66F53B07106C72984
//! failed 3
//! uncertain 4
//! reconciled 5 sent 0B13…
//! reconciled 6 absent
//! unsettled 8 listing messages failed: …
//! resolved 7 sent
//! csv 77aa… 301
//! ```
//!
//! ```text
//! whispir-bulk-journal 1 id=… created=… digest=… rows=300 base=… user=ops workspace=- sandbox=no mode=dynamic rows-per-chunk=10000 template=Hi%20{name}
//! chunk 1 planned bulk-3f9a0c1b2d4e-9c0f1a2b-1of1 2-301
//! chunk 1 uploading
//! chunk 1 uploaded 4FBBC384BCE3DAABFE3
//! chunk 1 sending 1767225601000
//! chunk 1 sent https://api.au.whispir.com/messages/A1D66F53B07106C72984
//! ```

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fs4::fs_std::FileExt as _;

use crate::exit::{CliError, ExitClass};

const MAGIC: &str = "whispir-bulk-journal 1";

/// What the journal knows about a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowState {
    /// Its send started at this time (Unix ms) and no outcome was written.
    Sending(i64),
    /// Whispir accepted it.
    Sent(Option<String>),
    /// It was provably not sent: the next run sends it.
    NotSent,
    /// It may have been sent: it is never sent again blindly.
    Uncertain,
}

impl RowState {
    /// Whether the outcome of its send is unknown.
    pub fn is_uncertain(&self) -> bool {
        matches!(self, RowState::Sending(_) | RowState::Uncertain)
    }
}

/// Where a journal's rows are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The API's base URL (`embedded` for `--sandbox`, whose port changes
    /// with every run).
    pub base: String,
    /// The user name, if the credentials have one (a token has none).
    pub user: Option<String>,
    /// The workspace, if one was chosen.
    pub workspace: Option<String>,
    /// Whether the run went to the sandbox `--sandbox` embeds.
    pub sandbox: bool,
}

impl Destination {
    /// Whether both name the same place: base URLs are compared as URLs
    /// (scheme and host in any case, a default port written or not, a
    /// trailing slash or not), as a refusal would advise a new journal
    /// that sends every row there again.
    pub fn is_same(&self, other: &Destination) -> bool {
        let base = |to: &Destination| {
            whispir::reqwest::Url::parse(&to.base)
                .map_or_else(|_| to.base.clone(), String::from)
                .trim_end_matches('/')
                .to_string()
        };
        base(self) == base(other)
            && self.user == other.user
            && self.workspace == other.workspace
            && self.sandbox == other.sandbox
    }
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} as {} in {}{}",
            self.base,
            self.user.as_deref().unwrap_or("a token's user"),
            self.workspace
                .as_deref()
                .map_or("the default workspace".to_string(), |w| format!(
                    "workspace {w}"
                )),
            if self.sandbox {
                " (embedded sandbox)"
            } else {
                ""
            }
        )
    }
}

/// Writes a value as one word: `-` for none, `%` escapes for `%`,
/// whitespace and `=`.
fn word(value: Option<&str>) -> String {
    let Some(value) = value else {
        return "-".into();
    };
    let mut out = String::new();
    for c in value.chars() {
        if c == '%' || c == '=' || (c == '-' && value == "-") || c.is_whitespace() {
            let mut buf = [0; 4];
            for byte in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{byte:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Reads a value [`word`] wrote.
fn unword(word: &str) -> Option<String> {
    if word == "-" {
        return None;
    }
    let bytes = word.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], word.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => match u8::from_str_radix(hex, 16) {
                Ok(byte) => {
                    out.push(byte);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// What a dynamic journal sends: the template and the chunk size it
/// planned its chunks with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DynamicPlan {
    /// `--template`, if one was given.
    pub template: Option<String>,
    /// The most rows in one chunk.
    pub rows_per_chunk: usize,
}

/// The name of a journal's way of sending, as its header and errors say it.
pub fn mode_name(dynamic: Option<&DynamicPlan>) -> &'static str {
    if dynamic.is_some() {
        "dynamic (one dynamic message per chunk of rows)"
    } else {
        "per-row (one message per row, --per-row)"
    }
}

/// Where a chunk's upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upload {
    /// Never begun: no resource can exist.
    NotStarted,
    /// Begun without an answer recorded: a resource may exist.
    Started,
    /// Made: the resource's id.
    Made(String),
}

/// What a dynamic journal knows about a chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChunkRecord {
    /// Its message's label.
    pub label: String,
    /// Its rows, by their line in the CSV.
    pub rows: Vec<u64>,
    /// Its upload.
    pub upload: Upload,
    /// Its send's last known state; `None` before its first send.
    pub state: Option<RowState>,
    /// When its last send began (Unix ms).
    pub requested: Option<i64>,
    /// Why it could not be settled, when a run tried.
    pub unsettled: Option<String>,
}

/// Row numbers as ranges: `2-301,305,307-400`.
pub fn ranges(rows: &[u64]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut iter = rows.iter().copied().peekable();
    while let Some(first) = iter.next() {
        let mut last = first;
        while iter.peek() == Some(&(last + 1)) {
            last += 1;
            iter.next();
        }
        parts.push(if first == last {
            first.to_string()
        } else {
            format!("{first}-{last}")
        });
    }
    parts.join(",")
}

/// Reads what [`ranges`] wrote: a chunk's rows, so at most
/// [`whispir::campaign::MOST_ROWS_PER_CHUNK`] of them (a damaged range
/// such as `2-99999999999` must not be read into memory).
fn unranges(text: &str) -> Option<Vec<u64>> {
    let most = whispir::campaign::MOST_ROWS_PER_CHUNK;
    let mut rows = Vec::new();
    for part in text.split(',') {
        match part.split_once('-') {
            Some((first, last)) => {
                let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
                let count = usize::try_from(last.checked_sub(first)?).ok()?;
                if count >= most.saturating_sub(rows.len()) {
                    return None;
                }
                rows.extend(first..=last);
            }
            None => rows.push(part.parse().ok()?),
        }
        if rows.len() > most {
            return None;
        }
    }
    Some(rows)
}

/// The journal's first line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// A random id; every message label names it.
    pub id: String,
    /// When the journal began (Unix ms).
    pub created: i64,
    /// A digest of the CSV and template the journal is for.
    pub digest: String,
    /// How many rows the CSV has.
    pub rows: usize,
    /// Where its rows go; `None` in a journal written before journals
    /// recorded it.
    pub destination: Option<Destination>,
    /// How its rows are sent: `None` one message per row, else one dynamic
    /// message per chunk.
    pub dynamic: Option<DynamicPlan>,
}

impl Header {
    /// The label of a row's message: the journal and the row.
    pub fn label(&self, line: u64) -> String {
        format!("bulk-{}-{line}", self.id)
    }

    /// The row a label names, if it is one of this journal's.
    pub fn row_of(&self, label: &str) -> Option<u64> {
        label
            .strip_prefix("bulk-")?
            .strip_prefix(self.id.as_str())?
            .strip_prefix('-')?
            .parse()
            .ok()
    }

    fn line(&self) -> String {
        let mut line = format!(
            "{MAGIC} id={} created={} digest={} rows={}",
            self.id, self.created, self.digest, self.rows
        );
        if let Some(to) = &self.destination {
            line.push_str(&format!(
                " base={} user={} workspace={} sandbox={}",
                word(Some(&to.base)),
                word(to.user.as_deref()),
                word(to.workspace.as_deref()),
                if to.sandbox { "yes" } else { "no" }
            ));
        }
        match &self.dynamic {
            None => line.push_str(" mode=per-row"),
            Some(plan) => line.push_str(&format!(
                " mode=dynamic rows-per-chunk={} template={}",
                plan.rows_per_chunk,
                word(plan.template.as_deref())
            )),
        }
        line
    }

    fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix(MAGIC)?;
        let mut fields = BTreeMap::new();
        for word in rest.split_whitespace() {
            let (key, value) = word.split_once('=')?;
            fields.insert(key, value);
        }
        let destination = match fields.get("base") {
            Some(base) => Some(Destination {
                base: unword(base)?,
                user: unword(fields.get("user")?),
                workspace: unword(fields.get("workspace")?),
                sandbox: *fields.get("sandbox")? == "yes",
            }),
            None => None,
        };
        let dynamic = match fields.get("mode").copied() {
            None | Some("per-row") => None,
            Some("dynamic") => Some(DynamicPlan {
                template: unword(fields.get("template")?),
                rows_per_chunk: fields.get("rows-per-chunk")?.parse().ok()?,
            }),
            Some(_) => return None,
        };
        Some(Header {
            id: fields.get("id")?.to_string(),
            created: fields.get("created")?.parse().ok()?,
            digest: fields.get("digest")?.to_string(),
            rows: fields.get("rows")?.parse().ok()?,
            destination,
            dynamic,
        })
    }
}

/// A journal read from disk.
#[derive(Debug, Clone)]
pub struct Contents {
    /// Its first line.
    pub header: Header,
    /// Each row's last known state; rows never started are absent.
    pub states: BTreeMap<u64, RowState>,
    /// When each started row's last request began (Unix ms).
    pub requested: BTreeMap<u64, i64>,
    /// The digest of each started row as its last request sent it (none
    /// in a journal written before journals recorded it).
    pub sent_as: BTreeMap<u64, String>,
    /// Why each uncertain row could not be settled, when a run tried.
    pub unsettled: BTreeMap<u64, String>,
    /// A dynamic journal's chunks, by number.
    pub chunks: BTreeMap<usize, ChunkRecord>,
}

impl Contents {
    /// Each row's state: its own in a per-row journal, its chunk's in a
    /// dynamic one.
    pub fn row_states(&self) -> BTreeMap<u64, RowState> {
        if self.header.dynamic.is_none() {
            return self.states.clone();
        }
        let mut states = BTreeMap::new();
        for chunk in self.chunks.values() {
            if let Some(state) = &chunk.state {
                for row in &chunk.rows {
                    states.insert(*row, state.clone());
                }
            }
        }
        states
    }
}

/// Reads a `chunk N …` line into `chunks`; `None` if it cannot be read.
fn chunk_line(words: &[&str], line: &str, chunks: &mut BTreeMap<usize, ChunkRecord>) -> Option<()> {
    let number: usize = words.get(1)?.parse().ok()?;
    if let ["chunk", _, "planned", label, rows] = words {
        // A chunk is planned once: a second `planned` line (damage, or a
        // hand's edit) would erase its steps, a send among them.
        if chunks.contains_key(&number) {
            return None;
        }
        chunks.insert(
            number,
            ChunkRecord {
                label: (*label).to_string(),
                rows: unranges(rows)?,
                upload: Upload::NotStarted,
                state: None,
                requested: None,
                unsettled: None,
            },
        );
        return Some(());
    }
    let chunk = chunks.get_mut(&number)?;
    if words.get(2) == Some(&"unsettled") {
        // The reason is the rest of the line, spaces and all.
        let reason = line.splitn(4, ' ').nth(3)?;
        chunk.unsettled = Some(reason.to_string());
        return Some(());
    }
    let state = match words {
        ["chunk", _, "uploading"] => {
            chunk.upload = Upload::Started;
            return Some(());
        }
        ["chunk", _, "uploaded", id] => {
            chunk.upload = Upload::Made((*id).to_string());
            return Some(());
        }
        ["chunk", _, "upload-gone", id] => {
            // Whispir no longer holds the recorded upload: the next send
            // uploads the chunk again.
            if chunk.upload != Upload::Made((*id).to_string()) {
                return None;
            }
            chunk.upload = Upload::NotStarted;
            return Some(());
        }
        ["chunk", _, "sending", at] => {
            let at = at.parse().ok()?;
            chunk.requested = Some(at);
            RowState::Sending(at)
        }
        ["chunk", _, "sent", url] | ["chunk", _, "reconciled", "sent", url] => {
            RowState::Sent(Some((*url).to_string()).filter(|url| url != "-"))
        }
        ["chunk", _, "failed"]
        | ["chunk", _, "reconciled", "absent"]
        | ["chunk", _, "resolved", "not-sent"] => RowState::NotSent,
        ["chunk", _, "uncertain"] => RowState::Uncertain,
        ["chunk", _, "resolved", "sent"] => RowState::Sent(None),
        _ => return None,
    };
    chunk.unsettled = None;
    chunk.state = Some(state);
    Some(())
}

/// Reads a journal without locking it (for `status` and `--dry-run`).
pub fn read(path: &Path) -> Result<Option<Contents>, CliError> {
    let mut bytes = Vec::new();
    match File::open(path) {
        Ok(mut file) => file.read_to_end(&mut bytes).map_err(|err| {
            CliError::io(format!("cannot read the journal {}", path.display()), err)
        })?,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => {
            return Err(CliError::io(
                format!("cannot open the journal {}", path.display()),
                err,
            ));
        }
    };
    parse(path, &decode(path, whole_lines(&bytes))?).map(Some)
}

/// The part of `bytes` made of whole lines: a crash can cut the last line
/// short (even inside a character), and a torn line must not be read as a
/// shorter one.
fn whole_lines(bytes: &[u8]) -> &[u8] {
    match bytes.iter().rposition(|byte| *byte == b'\n') {
        Some(end) => &bytes[..=end],
        None => &[],
    }
}

/// The whole lines as text.
fn decode(path: &Path, whole: &[u8]) -> Result<String, CliError> {
    String::from_utf8(whole.to_vec()).map_err(|err| {
        CliError::usage(format!(
            "the journal {} is not text ({err}); nothing was sent",
            path.display()
        ))
    })
}

fn parse(path: &Path, text: &str) -> Result<Contents, CliError> {
    // Cut after a newline: a boundary between characters.
    let whole = text
        .get(..whole_lines(text.as_bytes()).len())
        .unwrap_or_default();
    let mut lines = whole.lines();
    let mut header = lines.next().and_then(Header::parse).ok_or_else(|| {
        CliError::usage(format!("{} is not a whispir bulk journal", path.display()))
    })?;
    let mut states = BTreeMap::new();
    let mut requested = BTreeMap::new();
    let mut sent_as = BTreeMap::new();
    let mut unsettled = BTreeMap::new();
    let mut chunks = BTreeMap::new();
    for (index, line) in lines.enumerate() {
        // A line that reads as none of these was torn and written over
        // (a write cut short, then the next line appended to it): skipping
        // it could forget a `sending` line, so the journal is refused.
        let unreadable = || {
            CliError::usage(format!(
                "{}: line {} cannot be read ({line:?}); it was damaged, so the journal \
                 cannot say which rows may have been sent: nothing was sent. Repair that \
                 line by hand (check its rows in Whispir)",
                path.display(),
                index + 2
            ))
        };
        if let Some(rest) = line.strip_prefix("unsettled ")
            && let Some((row, reason)) = rest.split_once(' ')
            && let Ok(row) = row.parse::<u64>()
        {
            unsettled.insert(row, reason.to_string());
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.first() == Some(&"chunk") && header.dynamic.is_some() {
            chunk_line(&words, line, &mut chunks).ok_or_else(unreadable)?;
            continue;
        }
        let row = |index: usize| words.get(index).and_then(|w| w.parse::<u64>().ok());
        let (row, state) = match words.as_slice() {
            ["sending", _, at] | ["sending", _, at, _] => match (row(1), at.parse()) {
                (Some(row), Ok(at)) => {
                    requested.insert(row, at);
                    match words.get(3) {
                        Some(digest) => sent_as.insert(row, (*digest).to_string()),
                        None => sent_as.remove(&row),
                    };
                    (row, RowState::Sending(at))
                }
                _ => return Err(unreadable()),
            },
            ["csv", digest, rows] => {
                let rows = rows.parse().map_err(|_| unreadable())?;
                header.digest = (*digest).to_string();
                header.rows = rows;
                continue;
            }
            ["sent", _, id] | ["reconciled", _, "sent", id] => match row(1) {
                Some(row) => (
                    row,
                    RowState::Sent(Some((*id).to_string()).filter(|id| id != "-")),
                ),
                None => return Err(unreadable()),
            },
            ["failed", _] | ["reconciled", _, "absent"] | ["resolved", _, "not-sent"] => {
                match row(1) {
                    Some(row) => (row, RowState::NotSent),
                    None => return Err(unreadable()),
                }
            }
            ["uncertain", _] => match row(1) {
                Some(row) => (row, RowState::Uncertain),
                None => return Err(unreadable()),
            },
            ["resolved", _, "sent"] => match row(1) {
                Some(row) => (row, RowState::Sent(None)),
                None => return Err(unreadable()),
            },
            _ => return Err(unreadable()),
        };
        unsettled.remove(&row);
        states.insert(row, state);
    }
    Ok(Contents {
        header,
        states,
        requested,
        sent_as,
        unsettled,
        chunks,
    })
}

/// A journal open for writing, locked for as long as it lives.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

impl Journal {
    /// Opens and locks the journal, creating it with `header` if it does
    /// not exist. A journal another run holds is refused.
    pub fn open(
        path: &Path,
        header: impl FnOnce() -> Header,
    ) -> Result<(Self, Contents), CliError> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|err| {
                CliError::io(format!("cannot open the journal {}", path.display()), err)
            })?;
        let locked = file.try_lock_exclusive().map_err(|err| {
            CliError::io(format!("cannot lock the journal {}", path.display()), err)
        })?;
        if !locked {
            return Err(CliError::new(
                ExitClass::Usage,
                format!(
                    "the journal {} is in use by another whispir run (it is locked); \
                     wait for that run to end or stop it, then run again",
                    path.display()
                ),
            ));
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(|err| {
            CliError::io(format!("cannot read the journal {}", path.display()), err)
        })?;
        let journal = Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        let whole = whole_lines(&bytes);
        if whole.len() < bytes.len() {
            // Cut away the line a crash tore, so the next one stands alone
            // and no later reader takes the torn one for a shorter line.
            journal.truncate(whole.len() as u64)?;
        }
        let whole = decode(path, whole)?;
        if whole.trim().is_empty() {
            let header = header();
            journal.append(&header.line())?;
            sync_parent(path);
            return Ok((
                journal,
                Contents {
                    header,
                    states: BTreeMap::new(),
                    requested: BTreeMap::new(),
                    sent_as: BTreeMap::new(),
                    unsettled: BTreeMap::new(),
                    chunks: BTreeMap::new(),
                },
            ));
        }
        let contents = parse(path, &whole)?;
        Ok((journal, contents))
    }

    /// Cuts the journal to its first `len` bytes and waits until that is
    /// on disk.
    fn truncate(&self, len: u64) -> Result<(), CliError> {
        let file = self
            .file
            .lock()
            .map_err(|_| CliError::failure("the journal's writer panicked"))?;
        file.set_len(len)
            .and_then(|()| file.sync_data())
            .map_err(|err| {
                CliError::io(
                    format!("cannot repair the journal {}", self.path.display()),
                    err,
                )
            })
    }

    /// Appends a line and waits until it is on disk.
    pub fn append(&self, line: &str) -> Result<(), CliError> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| CliError::failure("the journal's writer panicked"))?;
        let written = file
            .write_all(format!("{line}\n").as_bytes())
            .and_then(|()| file.sync_data());
        written.map_err(|err| {
            CliError::io(
                format!("cannot write the journal {}", self.path.display()),
                err,
            )
        })
    }
}

/// Makes a new journal's directory entry durable too (best effort).
fn sync_parent(path: &Path) {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(dir) = File::open(parent) {
        let _ = dir.sync_all();
    }
}

/// A digest (FNV-1a, 64 bits) of the CSV and the template: the file a
/// journal was begun for.
pub fn digest(csv: &[u8], template: Option<&str>) -> String {
    let template = template.map(str::as_bytes).unwrap_or(b"\0no template");
    fnv(&[csv, b"\0", template])
}

/// A digest of one row as it is sent: its recipient and text.
pub fn row_digest(to: &str, text: &str) -> String {
    fnv(&[to.as_bytes(), b"\0", text.as_bytes()])
}

fn fnv(parts: &[&[u8]]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|part| part.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The `csv` line that records a run going on with another CSV file.
pub fn csv_line(digest: &str, rows: usize) -> String {
    format!("csv {digest} {rows}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn header() -> Header {
        Header {
            id: "abc123".into(),
            created: 1,
            digest: "d".into(),
            rows: 3,
            destination: Some(Destination {
                base: "https://api.au.whispir.com".into(),
                user: Some("ops team=1".into()),
                workspace: None,
                sandbox: false,
            }),
            dynamic: None,
        }
    }

    fn dynamic_header() -> Header {
        Header {
            dynamic: Some(DynamicPlan {
                template: Some("Hi {name} 100%=".into()),
                rows_per_chunk: 2,
            }),
            ..header()
        }
    }

    #[test]
    fn a_dynamic_header_keeps_its_template_and_chunk_size() {
        let header = dynamic_header();
        let line = header.line();
        assert!(
            line.contains(" mode=dynamic rows-per-chunk=2 template="),
            "{line}"
        );
        assert_eq!(Header::parse(&line), Some(header));
        let per_row = self::header().line();
        assert!(per_row.ends_with(" mode=per-row"), "{per_row}");
        let older = per_row.trim_end_matches(" mode=per-row");
        assert_eq!(Header::parse(older).unwrap().dynamic, None);
    }

    #[test]
    fn a_chunks_steps_are_read_back_and_its_state_covers_its_rows() {
        let text = format!(
            "{}\nchunk 1 planned L1 2-3,5\nchunk 2 planned L2 6\nchunk 1 uploading\n\
             chunk 1 uploaded R1\nchunk 1 sending 7\nchunk 1 unsettled listing failed: 503 x\n\
             chunk 2 uploading\n",
            dynamic_header().line()
        );
        let contents = parse(Path::new("j"), &text).unwrap();
        let first = &contents.chunks[&1];
        assert_eq!(first.rows, [2, 3, 5]);
        assert_eq!(first.upload, Upload::Made("R1".into()));
        assert_eq!(first.state, Some(RowState::Sending(7)));
        assert_eq!(first.unsettled.as_deref(), Some("listing failed: 503 x"));
        assert_eq!(contents.chunks[&2].upload, Upload::Started);
        let states = contents.row_states();
        assert_eq!(states.len(), 3);
        assert_eq!(states[&5], RowState::Sending(7));
        let text = format!("{text}chunk 1 reconciled sent https://x/messages/AB\n");
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(
            contents.chunks[&1].state,
            Some(RowState::Sent(Some("https://x/messages/AB".into())))
        );
        assert_eq!(contents.chunks[&1].unsettled, None);
    }

    #[test]
    fn an_upload_gone_is_dropped_only_if_it_is_the_one_recorded() {
        let text = format!(
            "{}\nchunk 1 planned L1 2-3\nchunk 1 uploading\nchunk 1 uploaded R1\n\
             chunk 1 sending 7\nchunk 1 failed\nchunk 1 upload-gone R1\n",
            dynamic_header().line()
        );
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(contents.chunks[&1].upload, Upload::NotStarted);
        assert_eq!(contents.chunks[&1].state, Some(RowState::NotSent));
        let other = text.replace("upload-gone R1", "upload-gone R2");
        let err = parse(Path::new("j"), &other).unwrap_err().to_string();
        assert!(err.contains("line 7"), "{err}");
    }

    #[test]
    fn a_chunk_planned_twice_is_refused_not_started_over() {
        let text = format!(
            "{}\nchunk 1 planned L1 2-3\nchunk 1 uploaded R1\nchunk 1 sending 7\n\
             chunk 1 planned L1 2-3\n",
            dynamic_header().line()
        );
        let err = parse(Path::new("j"), &text).unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
    }

    #[test]
    fn a_chunk_line_for_no_planned_chunk_is_refused() {
        let text = format!("{}\nchunk 3 sending 7\n", dynamic_header().line());
        let err = parse(Path::new("j"), &text).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn rows_are_written_as_ranges_and_read_back() {
        let rows = [2, 3, 4, 7, 9, 10];
        assert_eq!(ranges(&rows), "2-4,7,9-10");
        assert_eq!(unranges(&ranges(&rows)).unwrap(), rows);
        assert_eq!(unranges("5-3"), None);
        // A chunk holds at most 10,000 rows; a damaged range is refused,
        // not read into memory.
        assert_eq!(unranges("2-10001").map(|rows| rows.len()), Some(10_000));
        assert_eq!(unranges("2-10002"), None);
        assert_eq!(unranges("1,3-10002"), None);
        assert_eq!(unranges("2-18446744073709551615"), None);
    }

    #[test]
    fn one_base_url_spelled_differently_is_the_same_destination() {
        let recorded = header().destination.unwrap();
        for spelled in [
            "https://api.au.whispir.com/",
            "HTTPS://API.AU.Whispir.com",
            "https://api.au.whispir.com:443",
        ] {
            let now = Destination {
                base: spelled.into(),
                ..recorded.clone()
            };
            assert!(recorded.is_same(&now), "{spelled}");
        }
        let elsewhere = Destination {
            base: "https://api.us.whispir.com".into(),
            ..recorded.clone()
        };
        assert!(!recorded.is_same(&elsewhere));
        let other_port = Destination {
            base: "https://api.au.whispir.com:8443".into(),
            ..recorded.clone()
        };
        assert!(!recorded.is_same(&other_port));
    }

    #[test]
    fn the_header_keeps_the_destination_word_for_word() {
        let line = header().line();
        assert!(
            line.contains("user=ops%20team%3D1 workspace=- sandbox=no"),
            "{line}"
        );
        assert_eq!(Header::parse(&line), Some(header()));
        let mut odd = header();
        odd.destination.as_mut().unwrap().user = Some("-".into());
        assert_eq!(Header::parse(&odd.line()), Some(odd));
    }

    #[test]
    fn a_torn_last_line_is_never_read_as_a_shorter_one() {
        // `failed 1234` cut to `failed 12` must not mark row 12 failed.
        let text = format!("{}\nsending 12 5 ab\nsent 12 X\nfailed 12", header().line());
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(contents.states[&12], RowState::Sent(Some("X".into())));
    }

    #[test]
    fn opening_a_journal_cuts_away_a_torn_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let whole = format!("{}\nsending 12 5 ab\nsent 12 X\n", header().line());
        std::fs::write(&path, format!("{whole}failed 12")).unwrap();
        let (journal, contents) = Journal::open(&path, header).unwrap();
        assert_eq!(contents.states[&12], RowState::Sent(Some("X".into())));
        journal.append("failed 3").unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            format!("{whole}failed 3\n")
        );
    }

    #[test]
    fn a_sending_line_keeps_the_request_time_and_the_row_as_sent() {
        let text = format!(
            "{}\nsending 2 5 ab\nuncertain 2\ncsv ff 9\n",
            header().line()
        );
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(contents.states[&2], RowState::Uncertain);
        assert_eq!(contents.requested[&2], 5);
        assert_eq!(contents.sent_as[&2], "ab");
        assert_eq!(
            (contents.header.digest.as_str(), contents.header.rows),
            ("ff", 9)
        );
    }

    #[test]
    fn an_unsettled_row_keeps_its_reason_until_its_state_changes() {
        let text = format!(
            "{}\nsending 2 5 ab\nuncertain 2\nunsettled 2 listing messages failed: 503\nsending 3 6\nunsettled 3 no time\nreconciled 3 absent\n",
            header().line()
        );
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(contents.unsettled[&2], "listing messages failed: 503");
        assert!(!contents.unsettled.contains_key(&3));
    }

    #[test]
    fn a_second_open_of_a_locked_journal_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (_first, _) = Journal::open(&path, header).unwrap();
        let err = Journal::open(&path, header).unwrap_err();
        assert!(
            err.to_string().contains("in use by another whispir run"),
            "{err}"
        );
    }

    #[test]
    fn the_last_state_of_a_row_wins_and_a_torn_line_is_skipped() {
        let text = format!(
            "{}\nsending 2 5\nsent 2 AB\nsending 3 6\nuncertain 4\nreconciled 4 absent\nsendi",
            header().line()
        );
        let contents = parse(Path::new("j"), &text).unwrap();
        assert_eq!(contents.states[&2], RowState::Sent(Some("AB".into())));
        assert_eq!(contents.states[&3], RowState::Sending(6));
        assert_eq!(contents.states[&4], RowState::NotSent);
        assert_eq!(contents.states.len(), 3);
    }

    #[test]
    fn a_torn_line_in_the_middle_is_refused_naming_it() {
        // A write cut short (`sent 5 AB…`), then row 7's `sending` line
        // appended to it: skipping the merged line would forget that row 7
        // may have been sent.
        let text = format!(
            "{}\nsending 5 1 ab\nsent 5 ABsending 7 2 cd\nsent 9 X\n",
            header().line()
        );
        let err = parse(Path::new("j"), &text).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("ABsending 7 2"),
            "{err}"
        );
    }

    #[test]
    fn a_last_line_torn_inside_a_character_is_cut_away() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let whole = format!("{}\nsending 12 5 ab\nsent 12 X\n", header().line());
        let mut bytes = whole.clone().into_bytes();
        // `unsettled 3 listing failed …` cut inside the `…`.
        bytes.extend_from_slice(&"unsettled 3 listing failed \u{2026}".as_bytes()[..29]);
        std::fs::write(&path, bytes).unwrap();
        let read = read(&path).unwrap().unwrap();
        assert_eq!(read.states[&12], RowState::Sent(Some("X".into())));
        let (_journal, contents) = Journal::open(&path, header).unwrap();
        assert_eq!(contents.states[&12], RowState::Sent(Some("X".into())));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), whole);
    }

    #[test]
    fn a_label_names_its_journal_and_row() {
        let header = header();
        assert_eq!(header.row_of(&header.label(17)), Some(17));
        assert_eq!(header.row_of("bulk-other-17"), None);
    }
}
