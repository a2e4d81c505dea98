//! `whispir bulk send|status|resolve`: one SMS per CSV row, in the order
//! the work runs: read and check the rows ([`rows`]), open and lock the
//! journal ([`journal`]), settle rows a crash left uncertain
//! ([`reconcile`]), then send at the plan's pace ([`send`]).

mod journal;
mod reconcile;
mod rows;
mod send;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::cli::{BulkCommand, BulkSendArgs, Resolution};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::global::GlobalArgs;
use crate::output::Output;
use journal::{Header, Journal, RowState};

/// Runs `bulk`.
pub async fn run(
    global: &GlobalArgs,
    out: Output,
    command: BulkCommand,
) -> Result<ExitClass, CliError> {
    match command {
        BulkCommand::Send(args) => send_file(global, out, &args).await,
        BulkCommand::Status { journal } => status(out, &journal),
        BulkCommand::Resolve {
            journal,
            row,
            outcome,
        } => resolve(out, &journal, row, outcome),
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn send_file(
    global: &GlobalArgs,
    out: Output,
    args: &BulkSendArgs,
) -> Result<ExitClass, CliError> {
    let bytes = std::fs::read(&args.file)
        .map_err(|err| CliError::io(format!("cannot read {}", args.file.display()), err))?;
    let rows = rows::read(&args.file, args.template.as_deref())?;
    let journal_path = args
        .journal
        .clone()
        .unwrap_or_else(|| args.file.with_extension("journal"));
    let digest = journal::digest(&bytes, args.template.as_deref());
    if args.dry_run {
        return dry_run(out, &rows, &journal_path, &digest);
    }
    // Credentials first: a run that cannot connect leaves no journal.
    let conn = Connection::open(global, Some(args.plan.plan())).await?;
    let (journal, contents) = Journal::open(&journal_path, || Header {
        id: format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff),
        created: now_ms(),
        digest: digest.clone(),
        rows: rows.len(),
    })?;
    if contents.header.digest != digest {
        return Err(CliError::usage(format!(
            "the journal {} was started for another CSV file or template; \
             give a new --journal to send this one",
            journal_path.display()
        )));
    }
    let mut states = contents.states;
    let uncertain: BTreeSet<u64> = states
        .iter()
        .filter(|(_, state)| state.is_uncertain())
        .map(|(row, _)| *row)
        .collect();
    let mut unsettled_reason = None;
    if !uncertain.is_empty() {
        let last_start = states
            .values()
            .filter_map(|state| match state {
                RowState::Sending(at) => Some(*at),
                _ => None,
            })
            .max();
        if let Some(last_start) = last_start {
            let settle_ms = i64::try_from(args.settle.saturating_mul(1000)).unwrap_or(i64::MAX);
            let wait = last_start
                .saturating_add(settle_ms)
                .saturating_sub(now_ms());
            if wait > 0 {
                eprintln!(
                    "waiting {} ms for cut-off sends to show in Whispir's list",
                    wait
                );
                tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
            }
        }
        eprintln!(
            "reconciling {} uncertain rows with Whispir's message list",
            uncertain.len()
        );
        let settled = reconcile::reconcile(&conn, &contents.header, &uncertain).await;
        for (row, id) in &settled.sent {
            journal.append(&format!(
                "reconciled {row} sent {}",
                id.as_deref().unwrap_or("-")
            ))?;
            states.insert(*row, RowState::Sent(id.clone()));
        }
        for row in &settled.absent {
            journal.append(&format!("reconciled {row} absent"))?;
            states.insert(*row, RowState::NotSent);
        }
        unsettled_reason = settled.incomplete;
    }
    let todo: Vec<rows::Row> = rows
        .iter()
        .filter(|row| matches!(states.get(&row.line), None | Some(RowState::NotSent)))
        .cloned()
        .collect();
    let run = send::send_rows(&conn, &journal, &contents.header, todo, args.plan.plan()).await?;
    for (row, state) in run.outcomes {
        states.insert(row, state);
    }
    let summary = Summary::of(rows.len(), &states);
    if let Some(reason) = &unsettled_reason {
        eprintln!("some rows stay uncertain: {reason}");
    }
    summary.print(out, &journal_path, run.stopped.as_deref())?;
    Ok(if run.interrupted {
        ExitClass::Interrupted
    } else if !summary.uncertain.is_empty() {
        ExitClass::MayHaveSent
    } else if summary.sent < rows.len() {
        ExitClass::Failure
    } else {
        ExitClass::Success
    })
}

fn dry_run(
    out: Output,
    rows: &[rows::Row],
    journal_path: &Path,
    digest: &str,
) -> Result<ExitClass, CliError> {
    let states = match journal::read(journal_path)? {
        Some(contents) if contents.header.digest != digest => {
            return Err(CliError::usage(format!(
                "the journal {} was started for another CSV file or template",
                journal_path.display()
            )));
        }
        Some(contents) => contents.states,
        None => Default::default(),
    };
    let todo: Vec<&rows::Row> = rows
        .iter()
        .filter(|row| matches!(states.get(&row.line), None | Some(RowState::NotSent)))
        .collect();
    let value = json!({
        "rows": rows.len(),
        "toSend": todo.len(),
        "first": todo.first().map(|row| json!({"row": row.line, "to": row.to, "text": row.text})),
    });
    out.object(&value, || {
        let mut lines = vec![format!(
            "{} rows are valid; {} would be sent (dry run: nothing sent)",
            rows.len(),
            todo.len()
        )];
        if let Some(row) = todo.first() {
            lines.push(format!(
                "first: row {} to {}: {}",
                row.line, row.to, row.text
            ));
        }
        lines
    })?;
    Ok(ExitClass::Success)
}

/// How a journal stands.
#[derive(Debug)]
struct Summary {
    rows: usize,
    sent: usize,
    not_sent: Vec<u64>,
    uncertain: Vec<u64>,
}

impl Summary {
    fn of(rows: usize, states: &std::collections::BTreeMap<u64, RowState>) -> Self {
        let mut summary = Summary {
            rows,
            sent: 0,
            not_sent: Vec::new(),
            uncertain: Vec::new(),
        };
        for (row, state) in states {
            match state {
                RowState::Sent(_) => summary.sent += 1,
                RowState::NotSent => summary.not_sent.push(*row),
                RowState::Sending(_) | RowState::Uncertain => summary.uncertain.push(*row),
            }
        }
        summary
    }

    fn print(&self, out: Output, journal: &Path, stopped: Option<&str>) -> Result<(), CliError> {
        let untouched = self
            .rows
            .saturating_sub(self.sent + self.not_sent.len() + self.uncertain.len());
        let value = json!({
            "journal": journal.display().to_string(),
            "rows": self.rows,
            "sent": self.sent,
            "notSent": self.not_sent,
            "notStarted": untouched,
            "uncertain": self.uncertain,
            "stopped": stopped,
        });
        out.object(&value, || {
            let mut lines = vec![format!(
                "{} of {} rows sent; journal {}",
                self.sent,
                self.rows,
                journal.display()
            )];
            if let Some(reason) = stopped {
                lines.push(format!("stopped: {reason}"));
            }
            if !self.not_sent.is_empty() || untouched > 0 {
                lines.push(format!(
                    "not sent yet: {} rows (run again to send them){}",
                    self.not_sent.len() + untouched,
                    if self.not_sent.is_empty() {
                        String::new()
                    } else {
                        format!("; failed rows {:?}", self.not_sent)
                    }
                ));
            }
            if !self.uncertain.is_empty() {
                lines.push(format!(
                    "may have been sent: rows {:?}; check them in Whispir, then \
                     `whispir bulk resolve --journal {} ROW sent|not-sent`",
                    self.uncertain,
                    journal.display()
                ));
            }
            lines
        })
    }
}

fn status(out: Output, path: &Path) -> Result<ExitClass, CliError> {
    let contents = journal::read(path)?.ok_or_else(|| {
        CliError::new(
            ExitClass::NotFound,
            format!("no journal at {}", path.display()),
        )
    })?;
    let summary = Summary::of(contents.header.rows, &contents.states);
    summary.print(out, path, None)?;
    Ok(ExitClass::Success)
}

fn resolve(out: Output, path: &Path, row: u64, outcome: Resolution) -> Result<ExitClass, CliError> {
    if !path.exists() {
        return Err(CliError::new(
            ExitClass::NotFound,
            format!("no journal at {}", path.display()),
        ));
    }
    let (journal, contents) = Journal::open(path, || Header {
        id: String::new(),
        created: 0,
        digest: String::new(),
        rows: 0,
    })?;
    match contents.states.get(&row) {
        Some(state) if state.is_uncertain() => {}
        Some(state) => {
            return Err(CliError::usage(format!(
                "row {row} is not uncertain (the journal has it as {state:?}); nothing to resolve"
            )));
        }
        None => {
            return Err(CliError::usage(format!(
                "row {row} was never started; nothing to resolve"
            )));
        }
    }
    let word = match outcome {
        Resolution::Sent => "sent",
        Resolution::NotSent => "not-sent",
    };
    journal.append(&format!("resolved {row} {word}"))?;
    out.object(&json!({"row": row, "resolved": word}), || {
        vec![format!("row {row} recorded as {word}")]
    })?;
    Ok(ExitClass::Success)
}
