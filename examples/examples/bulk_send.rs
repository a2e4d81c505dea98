//! Sends one SMS per row of a CSV file (`to,name,text`), at the pace of
//! the account's plan, with a progress bar, and never sends a row twice:
//! a journal next to the work records every row before and after its send,
//! so a run that crashed or was stopped can be started again.
//!
//! `cargo run -p whispir-examples --example bulk_send -- [CSV] [--journal PATH]`
//!
//! Without a CSV the example sends its 25 demo rows
//! (`examples/data/recipients.csv`) with a journal in a temporary folder.
//! `WHISPIR_PLAN` is 5, 10 or 30 (requests per second; default 5).
//!
//! On a new run, rows the journal shows as sent are skipped. A row whose
//! send started but whose outcome is unknown (a crash in between, a timeout
//! after sending) is never sent again automatically: it is listed at the
//! end, to be checked before it is removed from the journal by hand.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context as _;
use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use whispir::Plan;
use whispir::types::Message;

/// What the journal knows about a row.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowState {
    /// Its send started; the outcome was never written.
    Started,
    /// Whispir accepted it (message id, if any).
    Sent(String),
    /// It failed and was provably not carried out: it may be sent again.
    Failed,
    /// It failed in a way that may have sent it.
    Unknown,
}

/// An append-only journal: `start ROW`, then `sent ROW ID`, `failed ROW` or
/// `unknown ROW`. Every line reaches the disk before the run goes on.
struct Journal {
    file: Mutex<File>,
}

impl Journal {
    fn open(path: &Path) -> anyhow::Result<(Self, BTreeMap<usize, RowState>)> {
        let mut states = BTreeMap::new();
        if let Ok(file) = File::open(path) {
            for line in BufReader::new(file).lines() {
                let line = line?;
                let mut words = line.split_whitespace();
                let (Some(kind), Some(row)) = (words.next(), words.next()) else {
                    continue;
                };
                let Ok(row) = row.parse::<usize>() else {
                    continue;
                };
                let state = match kind {
                    "start" => RowState::Started,
                    "sent" => RowState::Sent(words.next().unwrap_or_default().to_string()),
                    "failed" => RowState::Failed,
                    "unknown" => RowState::Unknown,
                    _ => continue,
                };
                states.insert(row, state);
            }
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open the journal {}", path.display()))?;
        Ok((
            Self {
                file: Mutex::new(file),
            },
            states,
        ))
    }

    fn write(&self, line: &str) -> anyhow::Result<()> {
        let mut file = self
            .file
            .lock()
            .map_err(|_| anyhow::anyhow!("the journal lock is poisoned"))?;
        writeln!(file, "{line}")?;
        file.sync_data()?;
        Ok(())
    }
}

struct Row {
    index: usize,
    to: String,
    text: String,
}

fn read_rows(path: &Path) -> anyhow::Result<Vec<Row>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut rows = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("row {} of {}", index + 1, path.display()))?;
        let (Some(to), Some(text)) = (record.get(0), record.get(2)) else {
            anyhow::bail!("row {} needs the columns to,name,text", index + 1);
        };
        rows.push(Row {
            index: index + 1,
            to: to.trim().to_string(),
            text: text.trim().to_string(),
        });
    }
    Ok(rows)
}

fn plan_from_env() -> anyhow::Result<Plan> {
    match std::env::var("WHISPIR_PLAN").as_deref() {
        Err(_) | Ok("5") => Ok(Plan::RPS_5_DAILY_10K),
        Ok("10") => Ok(Plan::RPS_10_DAILY_20K),
        Ok("30") => Ok(Plan::RPS_30_DAILY_50K),
        Ok(other) => anyhow::bail!("WHISPIR_PLAN is {other:?}: expected 5, 10 or 30"),
    }
}

/// The CSV and journal to use: the arguments, or the demo rows copied into a
/// fresh temporary folder.
fn paths() -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut args = std::env::args().skip(1);
    let mut csv = None;
    let mut journal = None;
    while let Some(arg) = args.next() {
        if arg == "--journal" {
            journal = Some(PathBuf::from(
                args.next().context("--journal needs a path")?,
            ));
        } else {
            csv = Some(PathBuf::from(arg));
        }
    }
    let csv = match csv {
        Some(csv) => csv,
        None => {
            let folder = std::env::temp_dir().join(format!("whispir-bulk-{}", std::process::id()));
            std::fs::create_dir_all(&folder)?;
            let demo = folder.join("recipients.csv");
            std::fs::write(&demo, include_str!("../data/recipients.csv"))?;
            demo
        }
    };
    let journal = journal.unwrap_or_else(|| csv.with_extension("journal"));
    Ok((csv, journal))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (csv, journal_path) = paths()?;
    let plan = plan_from_env()?;
    let target = whispir_examples::Target::from_env().await?;
    // The same client, held to the plan: requests wait instead of being
    // refused, and a spent daily budget stops the run without sending.
    let client = match &target.sandbox {
        Some(sandbox) => sandbox.client_builder().rate_limit(plan).build()?,
        None => whispir::Client::builder_from(|name| std::env::var(name).ok())?
            .rate_limit(plan)
            .build()?,
    };
    let rows = read_rows(&csv)?;
    let (journal, states) = Journal::open(&journal_path)?;
    let uncertain: BTreeSet<usize> = states
        .iter()
        .filter(|(_, state)| matches!(state, RowState::Started | RowState::Unknown))
        .map(|(row, _)| *row)
        .collect();
    let todo: Vec<&Row> = rows
        .iter()
        .filter(|row| matches!(states.get(&row.index), None | Some(RowState::Failed)))
        .collect();
    println!(
        "{}: {} rows, {} already sent, {} to send, {} uncertain (not sent again); journal {}",
        csv.display(),
        rows.len(),
        states
            .values()
            .filter(|s| matches!(s, RowState::Sent(_)))
            .count(),
        todo.len(),
        uncertain.len(),
        journal_path.display()
    );

    let bar = ProgressBar::new(todo.len() as u64);
    bar.set_style(ProgressStyle::with_template(
        "{bar:40} {pos}/{len} rows, {per_sec} ({eta} left)",
    )?);
    let concurrency = usize::try_from(plan.per_second()).unwrap_or(1).max(1);
    let outcomes: Vec<anyhow::Result<(usize, RowState)>> = futures::stream::iter(todo)
        .map(|row| {
            let client = &client;
            let journal = &journal;
            async move {
                journal.write(&format!("start {}", row.index))?;
                let result = client
                    .message_create()
                    .body(Message::sms(&row.to, &row.text))
                    .send()
                    .await;
                let state = match result {
                    Ok(sent) => RowState::Sent(sent.message_id().unwrap_or("-").to_string()),
                    Err(err) if err.may_have_been_processed() => {
                        eprintln!("row {}: {err}", row.index);
                        RowState::Unknown
                    }
                    Err(err) => {
                        eprintln!("row {}: {err}", row.index);
                        RowState::Failed
                    }
                };
                let line = match &state {
                    RowState::Sent(id) => format!("sent {} {id}", row.index),
                    RowState::Failed => format!("failed {}", row.index),
                    RowState::Unknown | RowState::Started => format!("unknown {}", row.index),
                };
                journal.write(&line)?;
                Ok((row.index, state))
            }
        })
        .buffer_unordered(concurrency)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    bar.finish();

    let mut sent = 0;
    let mut failed = Vec::new();
    let mut unknown: Vec<usize> = uncertain.into_iter().collect();
    for outcome in outcomes {
        match outcome? {
            (_, RowState::Sent(_)) => sent += 1,
            (row, RowState::Failed) => failed.push(row),
            (row, _) => unknown.push(row),
        }
    }
    unknown.sort_unstable();
    println!("sent {sent} rows this run");
    if !failed.is_empty() {
        println!("not sent (run again to retry them): rows {failed:?}");
    }
    if !unknown.is_empty() {
        println!(
            "may have been sent: rows {unknown:?}; check them, then remove their lines from {} to send them again",
            journal_path.display()
        );
    }
    Ok(())
}
