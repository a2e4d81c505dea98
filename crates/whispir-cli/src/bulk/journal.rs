//! The bulk journal: an append-only file, locked while a run or a
//! `resolve` uses it, where every state change of a row reaches the disk
//! (fsync) before the run goes on. A row is marked `sending` durably
//! before its send starts, so a crash never loses the fact that a send
//! may have happened.
//!
//! ```text
//! whispir-bulk-journal 1 id=3f9a0c1b2d4e created=1767225600000 digest=9c0f… rows=300
//! sending 2 1767225601000
//! sent 2 A1D66F53B07106C72984
//! failed 3
//! uncertain 4
//! reconciled 5 sent 0B13…
//! reconciled 6 absent
//! resolved 7 sent
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
        format!(
            "{MAGIC} id={} created={} digest={} rows={}",
            self.id, self.created, self.digest, self.rows
        )
    }

    fn parse(line: &str) -> Option<Self> {
        let rest = line.strip_prefix(MAGIC)?;
        let mut fields = BTreeMap::new();
        for word in rest.split_whitespace() {
            let (key, value) = word.split_once('=')?;
            fields.insert(key, value);
        }
        Some(Header {
            id: fields.get("id")?.to_string(),
            created: fields.get("created")?.parse().ok()?,
            digest: fields.get("digest")?.to_string(),
            rows: fields.get("rows")?.parse().ok()?,
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
}

/// Reads a journal without locking it (for `status` and `--dry-run`).
pub fn read(path: &Path) -> Result<Option<Contents>, CliError> {
    let mut text = String::new();
    match File::open(path) {
        Ok(mut file) => file.read_to_string(&mut text).map_err(|err| {
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
    parse(path, &text).map(Some)
}

fn parse(path: &Path, text: &str) -> Result<Contents, CliError> {
    let mut lines = text.lines();
    let header = lines.next().and_then(Header::parse).ok_or_else(|| {
        CliError::usage(format!("{} is not a whispir bulk journal", path.display()))
    })?;
    let mut states = BTreeMap::new();
    // A line cut short by a crash parses as nothing and is skipped: its
    // state change was never complete on disk, so nothing acted on it.
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let row = |index: usize| words.get(index).and_then(|w| w.parse::<u64>().ok());
        let (row, state) = match words.as_slice() {
            ["sending", _, at] => match (row(1), at.parse()) {
                (Some(row), Ok(at)) => (row, RowState::Sending(at)),
                _ => continue,
            },
            ["sent", _, id] | ["reconciled", _, "sent", id] => match row(1) {
                Some(row) => (
                    row,
                    RowState::Sent(Some((*id).to_string()).filter(|id| id != "-")),
                ),
                None => continue,
            },
            ["failed", _] | ["reconciled", _, "absent"] | ["resolved", _, "not-sent"] => {
                match row(1) {
                    Some(row) => (row, RowState::NotSent),
                    None => continue,
                }
            }
            ["uncertain", _] => match row(1) {
                Some(row) => (row, RowState::Uncertain),
                None => continue,
            },
            ["resolved", _, "sent"] => match row(1) {
                Some(row) => (row, RowState::Sent(None)),
                None => continue,
            },
            _ => continue,
        };
        states.insert(row, state);
    }
    Ok(Contents { header, states })
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
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(|err| {
            CliError::io(format!("cannot read the journal {}", path.display()), err)
        })?;
        let journal = Journal {
            path: path.to_path_buf(),
            file: Mutex::new(file),
        };
        if text.trim().is_empty() {
            let header = header();
            journal.append(&header.line())?;
            sync_parent(path);
            return Ok((
                journal,
                Contents {
                    header,
                    states: BTreeMap::new(),
                },
            ));
        }
        let contents = parse(path, &text)?;
        if !text.ends_with('\n') {
            // End the line a crash cut short, so the next one stands alone.
            journal.append("")?;
        }
        Ok((journal, contents))
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

/// A digest (FNV-1a, 64 bits) of the CSV and the template, so that a
/// journal is never resumed for other rows.
pub fn digest(csv: &[u8], template: Option<&str>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let template = template.map(str::as_bytes).unwrap_or(b"\0no template");
    for byte in csv.iter().chain(b"\0").chain(template) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
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
        }
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
    fn a_label_names_its_journal_and_row() {
        let header = header();
        assert_eq!(header.row_of(&header.label(17)), Some(17));
        assert_eq!(header.row_of("bulk-other-17"), None);
    }
}
