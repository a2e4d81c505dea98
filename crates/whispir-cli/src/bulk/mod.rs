//! `whispir bulk send|status|resolve`: one SMS per CSV row, in the order
//! the work runs: read and check the rows ([`rows`]), open and lock the
//! journal ([`journal`]) and check that it sends where this run would,
//! settle rows whose send may have happened ([`reconcile`]), then send at
//! the plan's pace ([`send`]).

mod journal;
mod reconcile;
mod rows;
mod send;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::cli::{BulkCommand, BulkSendArgs, JournalArgs, Resolution};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::global::GlobalArgs;
use crate::output::Output;
use journal::{Destination, Header, Journal, RowState};

/// Runs `bulk`.
pub async fn run(
    global: &GlobalArgs,
    out: Output,
    command: BulkCommand,
) -> Result<ExitClass, CliError> {
    match command {
        BulkCommand::Send(args) => send_file(global, out, &args).await,
        BulkCommand::Status(journal) => status(out, &journal.path(global.sandbox)),
        BulkCommand::Resolve {
            journal,
            row,
            outcome,
        } => resolve(out, &journal.path(global.sandbox), row, outcome),
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
    let file = &args.source.file;
    let bytes = std::fs::read(file)
        .map_err(|err| CliError::io(format!("cannot read {}", file.display()), err))?;
    let rows = rows::read(file, args.template.as_deref())?;
    let journal_path = args.source.path(global.sandbox);
    let digest = journal::digest(&bytes, args.template.as_deref());
    if args.dry_run {
        return dry_run(out, &rows, &journal_path, &digest);
    }
    // Credentials first: a run that cannot connect leaves no journal.
    let conn = Connection::open(global, Some(args.plan.plan())).await?;
    let destination = Destination {
        base: if conn.sandbox {
            "embedded".into()
        } else {
            conn.base_url.clone()
        },
        user: conn.user.clone(),
        workspace: conn.workspace.clone(),
        sandbox: conn.sandbox,
    };
    let (journal, contents) = Journal::open(&journal_path, || Header {
        id: format!("{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff),
        created: now_ms(),
        digest: digest.clone(),
        rows: rows.len(),
        destination: Some(destination.clone()),
    })?;
    // Shared with the Ctrl-C watcher, which records the sends in flight.
    let journal = std::sync::Arc::new(journal);
    check_destination(
        &journal_path,
        contents.header.destination.as_ref(),
        &destination,
    )?;
    if contents.header.digest != digest {
        refuse_changed_rows(&journal_path, &contents, &rows)?;
        journal.append(&journal::csv_line(&digest, rows.len()))?;
        eprintln!(
            "{} changed since the journal began: rows never sent are taken as they are now",
            file.display()
        );
    }
    let mut states = contents.states;
    let uncertain: BTreeMap<u64, Option<i64>> = states
        .iter()
        .filter(|(_, state)| state.is_uncertain())
        .map(|(row, _)| (*row, contents.requested.get(row).copied()))
        .collect();
    let mut unsettled = BTreeMap::new();
    if !uncertain.is_empty() {
        let settle = chrono::Duration::seconds(i64::try_from(args.settle).unwrap_or(i64::MAX));
        let wait = reconcile::settle_wait(&uncertain, settle, now_ms());
        if wait > 0 {
            eprintln!(
                "waiting {wait} ms until the uncertain rows' requests (and any retry of them) \
                 are {} s old, so that Whispir lists them if it took them",
                args.settle
            );
            tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        }
        eprintln!(
            "reconciling {} uncertain rows with Whispir's message list",
            uncertain.len()
        );
        let settled = reconcile::reconcile(&conn, &contents.header, &uncertain, now_ms()).await;
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
        for (row, reason) in &settled.unsettled {
            // One line: the reason must not start another journal line.
            let reason = reason.replace(['\n', '\r'], " ");
            journal.append(&format!("unsettled {row} {reason}"))?;
        }
        unsettled = settled.unsettled;
    }
    let todo: Vec<rows::Row> = rows
        .iter()
        .filter(|row| matches!(states.get(&row.line), None | Some(RowState::NotSent)))
        .cloned()
        .collect();
    let done_before = rows
        .iter()
        .filter(|row| matches!(states.get(&row.line), Some(RowState::Sent(_))))
        .count();
    crate::metrics::bulk_rows(crate::metrics::RowOutcome::AlreadyDone, done_before);
    let mut run =
        send::send_rows(&conn, &journal, &contents.header, todo, args.plan.plan()).await?;
    for (row, state) in std::mem::take(&mut run.outcomes) {
        states.insert(row, state);
    }
    let mut summary = Summary::of(rows.len(), &states);
    summary.reasons = unsettled;
    summary.print(out, &journal_path, run.stopped.as_deref())?;
    Ok(exit_class(&summary, &run, rows.len()))
}

/// The exit code of a run: rows that may have been sent (9) win over
/// everything, as they are the only outcome that needs a person to check
/// before the rows are settled; then Ctrl-C (130), a spent quota (6), and
/// rows that failed and can be sent again (1).
fn exit_class(summary: &Summary, run: &send::Run, rows: usize) -> ExitClass {
    if !summary.uncertain.is_empty() {
        ExitClass::MayHaveSent
    } else if run.interrupted {
        ExitClass::Interrupted
    } else if run.throttled {
        ExitClass::Throttled
    } else if summary.sent < rows {
        ExitClass::Failure
    } else {
        ExitClass::Success
    }
}

impl JournalArgs {
    /// The journal: `--journal`, else next to the CSV, another one for the
    /// embedded sandbox, so that a rehearsal never marks a real run's rows.
    fn path(&self, sandbox: bool) -> std::path::PathBuf {
        self.journal.clone().unwrap_or_else(|| {
            self.file.with_extension(if sandbox {
                "sandbox.journal"
            } else {
                "journal"
            })
        })
    }
}

/// Refuses a journal begun against another destination (or before
/// journals recorded one): its rows' states say nothing about what the
/// other destination received.
fn check_destination(
    path: &Path,
    recorded: Option<&Destination>,
    now: &Destination,
) -> Result<(), CliError> {
    match recorded {
        Some(recorded) if recorded.is_same(now) => Ok(()),
        Some(recorded) => Err(CliError::usage(format!(
            "the journal {} sends to {recorded}, and this run would send to {now}; \
             nothing was sent. Run with the journal's settings, or give another \
             --journal to send every row there",
            path.display()
        ))),
        None => Err(CliError::usage(format!(
            "the journal {} does not record where it sends (it was written by an older \
             whispir); nothing was sent. Finish it with that version, or give another \
             --journal",
            path.display()
        ))),
    }
}

/// After a CSV changed: refuses it, naming them, when rows that were sent
/// (or may have been) changed or are gone; rows never sent are taken as
/// they are now.
fn refuse_changed_rows(
    path: &Path,
    contents: &journal::Contents,
    rows: &[rows::Row],
) -> Result<(), CliError> {
    let now: BTreeMap<u64, &rows::Row> = rows.iter().map(|row| (row.line, row)).collect();
    let mut changed = Vec::new();
    for (line, state) in &contents.states {
        let gone = match state {
            RowState::NotSent => continue,
            RowState::Sent(_) => "was sent",
            RowState::Sending(_) | RowState::Uncertain => "may have been sent",
        };
        let same = now.get(line).is_some_and(|row| {
            contents.sent_as.get(line) == Some(&journal::row_digest(&row.to, &row.text))
        });
        if !same {
            let what = if now.contains_key(line) {
                "differs now"
            } else {
                "is gone"
            };
            changed.push(format!("row {line} {gone} and {what}"));
        }
    }
    if changed.is_empty() {
        return Ok(());
    }
    Err(CliError::usage(format!(
        "the CSV changed since the journal {} began, in rows already sent; nothing was sent:\n  {}\n\
         Put those rows back as they were (fix only rows never sent), or give another \
         --journal to send every row again",
        path.display(),
        changed.join("\n  ")
    )))
}

fn dry_run(
    out: Output,
    rows: &[rows::Row],
    journal_path: &Path,
    digest: &str,
) -> Result<ExitClass, CliError> {
    let states = match journal::read(journal_path)? {
        Some(contents) => {
            if contents.header.digest != digest {
                refuse_changed_rows(journal_path, &contents, rows)?;
            }
            contents.states
        }
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
    /// Where the journal sends, for `status`.
    sends_to: Option<String>,
    /// Why uncertain rows could not be settled, for `status`.
    reasons: BTreeMap<u64, String>,
}

impl Summary {
    fn of(rows: usize, states: &std::collections::BTreeMap<u64, RowState>) -> Self {
        let mut summary = Summary {
            rows,
            sent: 0,
            not_sent: Vec::new(),
            uncertain: Vec::new(),
            sends_to: None,
            reasons: BTreeMap::new(),
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
            "sendsTo": self.sends_to,
            "uncertainReasons": self.reasons,
        });
        out.object(&value, || {
            let mut lines = vec![format!(
                "{} of {} rows sent; journal {}",
                self.sent,
                self.rows,
                journal.display()
            )];
            if let Some(to) = &self.sends_to {
                lines.push(format!("sends to {to}"));
            }
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
                    "may have been sent: rows {:?}; check them in Whispir \
                     (`whispir messages list --since TIME` finds their labels), then \
                     `whispir bulk resolve CSV ROW sent|not-sent --journal {}`",
                    self.uncertain,
                    journal.display()
                ));
            }
            for (row, reason) in &self.reasons {
                lines.push(format!("row {row} stays uncertain: {reason}"));
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
    let mut summary = Summary::of(contents.header.rows, &contents.states);
    summary.reasons = contents
        .unsettled
        .into_iter()
        .filter(|(row, _)| contents.states.get(row).is_some_and(RowState::is_uncertain))
        .collect();
    summary.sends_to = Some(
        contents
            .header
            .destination
            .map_or("an unrecorded destination".into(), |to| to.to_string()),
    );
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
        destination: None,
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
