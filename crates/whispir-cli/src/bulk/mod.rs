//! `whispir bulk send|status|resolve`: an SMS to each CSV row, in the
//! order the work runs: read and check the rows ([`rows`]), open and lock
//! the journal ([`journal`]) and check that it sends where, and the way,
//! this run would, settle rows whose send may have happened
//! ([`reconcile`]), then send: one dynamic message per chunk of rows by
//! default ([`dynamic`]), or one message per row at the plan's pace
//! (`--per-row`, [`send`]).

mod dynamic;
mod journal;
mod reconcile;
mod rows;
mod send;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::{BulkCommand, BulkSendArgs, BulkStatusArgs, JournalArgs, Resolution};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::global::GlobalArgs;
use crate::output::Output;
use journal::{ChunkRecord, Destination, DynamicPlan, Header, Journal, RowState, mode_name};

/// Runs `bulk`.
pub async fn run(
    global: &GlobalArgs,
    out: Output,
    command: BulkCommand,
) -> Result<ExitClass, CliError> {
    match command {
        BulkCommand::Send(args) => send_file(global, out, &args).await,
        BulkCommand::Status(args) => status(global, out, &args).await,
        BulkCommand::Resolve {
            journal,
            row,
            outcome,
        } => resolve(out, &journal.path(global.sandbox), row, outcome),
    }
}

/// Where a row's outcome in a run is decided, whichever way it was sent:
/// every state a send (or a reconciliation) gives a row goes through here.
fn record_outcome(states: &mut BTreeMap<u64, RowState>, row: u64, state: RowState) {
    states.insert(row, state);
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

async fn send_file(
    global: &GlobalArgs,
    out: Output,
    args: &BulkSendArgs,
) -> Result<ExitClass, CliError> {
    if args.per_row && args.rows_per_chunk.is_some() {
        return Err(CliError::usage(
            "--rows-per-chunk sizes the chunks of a dynamic send; --per-row sends one message \
             per row: give one of them",
        ));
    }
    let file = &args.source.file;
    let bytes = std::fs::read(file)
        .map_err(|err| CliError::io(format!("cannot read {}", file.display()), err))?;
    let sheet = rows::read(file, args.template.as_deref())?;
    let tagged = if args.per_row {
        None
    } else {
        let tagged = sheet
            .tagged_template()
            .map_err(|err| CliError::usage(format!("--template: {err}")))?;
        // Everything the campaign refuses, refused before any journal or
        // upload (the chunk size does not change what is refused).
        dynamic::plan(
            file,
            &sheet,
            &tagged,
            whispir::campaign::MOST_ROWS_PER_CHUNK,
            "bulk-check",
            None,
        )?;
        Some(tagged)
    };
    let journal_path = args.source.path(global.sandbox);
    let digest = journal::digest(&bytes, args.template.as_deref());
    if args.dry_run {
        return dry_run(out, &sheet, &journal_path, &digest, tagged.is_some());
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
        rows: sheet.rows.len(),
        destination: Some(destination.clone()),
        dynamic: tagged.as_ref().map(|_| DynamicPlan {
            template: args.template.clone(),
            rows_per_chunk: args
                .rows_per_chunk
                .map_or(whispir::campaign::MOST_ROWS_PER_CHUNK, usize::from),
        }),
    })?;
    // Shared with the Ctrl-C watcher, which records the sends in flight.
    let journal = std::sync::Arc::new(journal);
    check_destination(
        &journal_path,
        contents.header.destination.as_ref(),
        &destination,
    )?;
    check_mode(
        &journal_path,
        contents.header.dynamic.as_ref(),
        !args.per_row,
    )?;
    match tagged {
        Some(tagged) => {
            let sending = (&conn, &journal, journal_path.as_path());
            send_dynamic(out, args, sending, contents, &sheet, &tagged, &digest).await
        }
        None => {
            let sending = (&conn, &journal, journal_path.as_path());
            send_per_row(out, args, sending, contents, &sheet, &digest).await
        }
    }
}

/// Refuses a journal begun the other way: its states are rows in one,
/// chunks in the other, and its labels differ.
fn check_mode(path: &Path, recorded: Option<&DynamicPlan>, dynamic: bool) -> Result<(), CliError> {
    if recorded.is_some() == dynamic {
        return Ok(());
    }
    let now = if dynamic {
        "dynamic (one dynamic message per chunk of rows, without --per-row)"
    } else {
        mode_name(None)
    };
    Err(CliError::usage(format!(
        "the journal {} sends {}, and this run would send {now}; nothing was sent. Run the \
         way the journal began{}, or give another --journal",
        path.display(),
        mode_name(recorded),
        if recorded.is_some() {
            " (without --per-row)"
        } else {
            " (with --per-row)"
        }
    )))
}

/// The connection, the journal and its path: where a run sends and records.
type Sending<'a> = (&'a Connection, &'a std::sync::Arc<Journal>, &'a Path);

async fn send_dynamic(
    out: Output,
    args: &BulkSendArgs,
    (conn, journal, journal_path): Sending<'_>,
    contents: journal::Contents,
    sheet: &rows::Sheet,
    tagged: &str,
    digest: &str,
) -> Result<ExitClass, CliError> {
    let mut chunks = contents.chunks.clone();
    if contents.header.digest != digest {
        return Err(refuse_changed_dynamic(journal_path, &chunks));
    }
    let recorded = contents
        .header
        .dynamic
        .as_ref()
        .map_or(whispir::campaign::MOST_ROWS_PER_CHUNK, |plan| {
            plan.rows_per_chunk
        });
    let rows_per_chunk = args.rows_per_chunk.map_or(recorded, usize::from);
    if rows_per_chunk != recorded {
        return Err(CliError::usage(format!(
            "the journal {} sends chunks of at most {recorded} rows, and this run asks for \
             {rows_per_chunk}; nothing was sent. Leave --rows-per-chunk out (or give \
             {recorded}), or give another --journal",
            journal_path.display()
        )));
    }
    let plan = dynamic::plan(
        &args.source.file,
        sheet,
        tagged,
        rows_per_chunk,
        &dynamic::campaign_name(&contents.header),
        conn.workspace.as_deref(),
    )?;
    dynamic::record_plan(journal_path, journal, &mut chunks, sheet, &plan)?;
    let user_known = contents
        .header
        .destination
        .as_ref()
        .is_some_and(|to| to.user.is_some());
    let mut states = journal::Contents {
        chunks: chunks.clone(),
        ..contents.clone()
    }
    .row_states();
    let before = chunks.clone();
    let unsettled = dynamic::reconcile(conn, journal, &mut chunks, &plan, args.settle, user_known)
        .await
        .map_err(|err| with_uncertain(err, &chunks))?;
    for (number, chunk) in &chunks {
        if let Some(state) = &chunk.state
            && before.get(number).and_then(|c| c.state.as_ref()) != Some(state)
        {
            for row in &chunk.rows {
                record_outcome(&mut states, *row, state.clone());
            }
        }
    }
    let done_before: usize = chunks
        .values()
        .filter(|chunk| matches!(chunk.state, Some(RowState::Sent(_))))
        .map(|chunk| chunk.rows.len())
        .sum();
    crate::metrics::bulk_rows(
        crate::metrics::Mode::Dynamic,
        crate::metrics::RowOutcome::AlreadyDone,
        done_before,
    );
    let sent = dynamic::send_chunks(conn, journal, &mut chunks, &plan).await;
    let mut run = sent.map_err(|err| with_uncertain(err, &chunks))?;
    for (row, state) in std::mem::take(&mut run.outcomes) {
        record_outcome(&mut states, row, state);
    }
    let mut summary = Summary::of(sheet.rows.len(), &states);
    summary.chunks = Some(chunks);
    summary.chunk_reasons = unsettled;
    summary.print(out, journal_path, run.stopped.as_deref())?;
    Ok(exit_class(&summary, &run, sheet.rows.len()))
}

/// An error that ends a dynamic run while chunks may have been sent (an
/// earlier run's, still unsettled): exit 9 wins over the error's own code,
/// as for a run that ends normally, and the chunks are named.
fn with_uncertain(err: CliError, chunks: &BTreeMap<usize, ChunkRecord>) -> CliError {
    let uncertain: Vec<String> = chunks
        .iter()
        .filter(|(_, chunk)| chunk.state.as_ref().is_some_and(RowState::is_uncertain))
        .map(|(number, _)| number.to_string())
        .collect();
    if uncertain.is_empty() || err.exit_class() == ExitClass::MayHaveSent {
        return err;
    }
    CliError::new(
        ExitClass::MayHaveSent,
        format!(
            "{err}; chunk {} may have been sent: a rerun checks it in Whispir before sending \
             it again (`whispir bulk status` names its label)",
            uncertain.join(", ")
        ),
    )
}

/// A dynamic journal holds to its file: each chunk's label fingerprints
/// every chunk's rows and text, so a changed file or template would make
/// chunks already sent unrecognisable.
fn refuse_changed_dynamic(path: &Path, chunks: &BTreeMap<usize, ChunkRecord>) -> CliError {
    let touched: Vec<String> = chunks
        .iter()
        .filter_map(|(number, chunk)| match &chunk.state {
            Some(RowState::Sent(_)) => Some(format!("chunk {number} was sent")),
            Some(state) if state.is_uncertain() => {
                Some(format!("chunk {number} may have been sent"))
            }
            _ => None,
        })
        .collect();
    if touched.is_empty() {
        return CliError::usage(format!(
            "the CSV or --template changed since the dynamic journal {} began; nothing was \
             sent from it, and nothing was sent now. Give another --journal (or delete this \
             one) to send the file as it is now",
            path.display()
        ));
    }
    CliError::usage(format!(
        "the CSV or --template changed since the dynamic journal {} began ({}); nothing was \
         sent. Put the file back as it was to finish this journal, or send the rows not sent \
         yet (`whispir bulk status` lists them) from a new file with another --journal",
        path.display(),
        touched.join(", ")
    ))
}

async fn send_per_row(
    out: Output,
    args: &BulkSendArgs,
    (conn, journal, journal_path): Sending<'_>,
    contents: journal::Contents,
    sheet: &rows::Sheet,
    digest: &str,
) -> Result<ExitClass, CliError> {
    let file = &args.source.file;
    let rows = &sheet.rows;
    if contents.header.digest != digest {
        refuse_changed_rows(journal_path, &contents, rows)?;
        journal.append(&journal::csv_line(digest, rows.len()))?;
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
        let settled = reconcile::reconcile(conn, &contents.header, &uncertain, now_ms()).await;
        for (row, id) in &settled.sent {
            journal.append(&format!(
                "reconciled {row} sent {}",
                id.as_deref().unwrap_or("-")
            ))?;
            record_outcome(&mut states, *row, RowState::Sent(id.clone()));
        }
        for row in &settled.absent {
            journal.append(&format!("reconciled {row} absent"))?;
            record_outcome(&mut states, *row, RowState::NotSent);
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
    crate::metrics::bulk_rows(
        crate::metrics::Mode::PerRow,
        crate::metrics::RowOutcome::AlreadyDone,
        done_before,
    );
    let mut run = send::send_rows(conn, journal, &contents.header, todo, args.plan.plan()).await?;
    for (row, state) in std::mem::take(&mut run.outcomes) {
        record_outcome(&mut states, row, state);
    }
    let mut summary = Summary::of(rows.len(), &states);
    summary.reasons = unsettled;
    summary.print(out, journal_path, run.stopped.as_deref())?;
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
    sheet: &rows::Sheet,
    journal_path: &Path,
    digest: &str,
    dynamic: bool,
) -> Result<ExitClass, CliError> {
    let rows = &sheet.rows;
    let states = match journal::read(journal_path)? {
        Some(contents) => {
            check_mode(journal_path, contents.header.dynamic.as_ref(), dynamic)?;
            if contents.header.digest != digest {
                if dynamic {
                    return Err(refuse_changed_dynamic(journal_path, &contents.chunks));
                }
                refuse_changed_rows(journal_path, &contents, rows)?;
            }
            contents.row_states()
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
        "mode": if dynamic { "dynamic" } else { "per-row" },
        "first": todo.first().map(|row| json!({"row": row.line, "to": row.to, "text": row.text})),
    });
    out.object(&value, || {
        let mut lines = vec![format!(
            "{} rows are valid; {} would be sent {} (dry run: nothing sent)",
            rows.len(),
            todo.len(),
            if dynamic {
                "as dynamic messages, up to 10,000 rows in 3 requests"
            } else {
                "one request each (--per-row)"
            }
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
    /// A dynamic journal's chunks.
    chunks: Option<BTreeMap<usize, ChunkRecord>>,
    /// Why uncertain chunks could not be settled.
    chunk_reasons: BTreeMap<usize, String>,
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
            chunks: None,
            chunk_reasons: BTreeMap::new(),
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

    fn value(&self, journal: &Path, stopped: Option<&str>) -> Value {
        let untouched = self.untouched();
        let mut value = json!({
            "journal": journal.display().to_string(),
            "mode": if self.chunks.is_some() { "dynamic" } else { "per-row" },
            "rows": self.rows,
            "sent": self.sent,
            "notSent": self.not_sent,
            "notStarted": untouched,
            "uncertain": self.uncertain,
            "stopped": stopped,
            "sendsTo": self.sends_to,
            "uncertainReasons": self.reasons,
        });
        if let (Some(chunks), Value::Object(fields)) = (&self.chunks, &mut value) {
            let chunks: Vec<Value> = chunks
                .iter()
                .map(|(number, chunk)| {
                    json!({
                        "chunk": number,
                        "label": chunk.label,
                        "rows": journal::ranges(&chunk.rows),
                        "state": state_word(chunk.state.as_ref()),
                        "message": match &chunk.state {
                            Some(RowState::Sent(url)) => url.clone(),
                            _ => None,
                        },
                        "resource": match &chunk.upload {
                            journal::Upload::Made(id) => Some(id.clone()),
                            _ => None,
                        },
                        "uncertainReason": self
                            .chunk_reasons
                            .get(number)
                            .or(chunk.unsettled.as_ref())
                            .filter(|_| chunk.state.as_ref().is_some_and(RowState::is_uncertain)),
                    })
                })
                .collect();
            fields.insert("chunks".into(), Value::Array(chunks));
        }
        value
    }

    fn untouched(&self) -> usize {
        self.rows
            .saturating_sub(self.sent + self.not_sent.len() + self.uncertain.len())
    }

    fn lines(&self, journal: &Path, stopped: Option<&str>) -> Vec<String> {
        let untouched = self.untouched();
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
        if let Some(chunks) = &self.chunks {
            for (number, chunk) in chunks {
                let rows = journal::ranges(&chunk.rows);
                let line = match &chunk.state {
                    Some(RowState::Sent(url)) => format!(
                        "chunk {number} (rows {rows}): sent{}",
                        url.as_deref().map(|u| format!(", {u}")).unwrap_or_default()
                    ),
                    Some(state) if state.is_uncertain() => format!(
                        "chunk {number} (rows {rows}): may have been sent; check its label {} in \
                         Whispir (`whispir messages list --since TIME`), then `whispir bulk \
                         resolve CSV ROW sent|not-sent --journal {}` with any of its rows{}",
                        chunk.label,
                        journal.display(),
                        self.chunk_reasons
                            .get(number)
                            .or(chunk.unsettled.as_ref())
                            .map(|why| format!("; it stays uncertain: {why}"))
                            .unwrap_or_default()
                    ),
                    Some(_) => {
                        format!("chunk {number} (rows {rows}): not sent (run again to send it)")
                    }
                    None => format!("chunk {number} (rows {rows}): not started"),
                };
                lines.push(line);
            }
            return lines;
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
    }

    fn print(&self, out: Output, journal: &Path, stopped: Option<&str>) -> Result<(), CliError> {
        out.object(&self.value(journal, stopped), || {
            self.lines(journal, stopped)
        })
    }
}

/// A state as `status` prints it.
fn state_word(state: Option<&RowState>) -> &'static str {
    match state {
        None => "not started",
        Some(RowState::Sent(_)) => "sent",
        Some(RowState::NotSent) => "not sent",
        Some(RowState::Sending(_) | RowState::Uncertain) => "may have been sent",
    }
}

async fn status(
    global: &GlobalArgs,
    out: Output,
    args: &BulkStatusArgs,
) -> Result<ExitClass, CliError> {
    let path = args.source.path(global.sandbox);
    let contents = journal::read(&path)?.ok_or_else(|| {
        CliError::new(
            ExitClass::NotFound,
            format!("no journal at {}", path.display()),
        )
    })?;
    let sends_to = Some(
        contents
            .header
            .destination
            .as_ref()
            .map_or("an unrecorded destination".into(), |to| to.to_string()),
    );
    let Some(plan) = contents.header.dynamic.clone() else {
        if args.results {
            return Err(CliError::usage(format!(
                "--results reads the results of a dynamic journal's chunks; {} is a per-row \
                 journal, whose messages are each their own (`whispir messages status ID`)",
                path.display()
            )));
        }
        let mut summary = Summary::of(contents.header.rows, &contents.states);
        summary.reasons = contents
            .unsettled
            .into_iter()
            .filter(|(row, _)| contents.states.get(row).is_some_and(RowState::is_uncertain))
            .collect();
        summary.sends_to = sends_to;
        summary.print(out, &path, None)?;
        return Ok(ExitClass::Success);
    };
    let mut summary = Summary::of(contents.header.rows, &contents.row_states());
    summary.sends_to = sends_to;
    summary.chunks = Some(contents.chunks.clone());
    let (results, missing) = if args.results {
        chunk_results(global, args, &contents, &plan).await?
    } else {
        Default::default()
    };
    // Each row: its chunk, its state, and its result when read.
    let mut table = Vec::new();
    let mut row_values = Vec::new();
    for (number, chunk) in &contents.chunks {
        for row in &chunk.rows {
            let result = results.get(row);
            let category = result.and_then(|r| r.category.clone()).unwrap_or_default();
            let status = result.and_then(|r| r.status.clone()).unwrap_or_default();
            let replies = result.map(|r| r.replies.join(" | ")).unwrap_or_default();
            let state = state_word(chunk.state.as_ref());
            row_values.push(json!({
                "row": row,
                "chunk": number,
                "state": state,
                "to": result.map(|r| r.address.clone()),
                "category": result.and_then(|r| r.category.clone()),
                "status": result.and_then(|r| r.status.clone()),
                "replies": result.map(|r| r.replies.clone()),
            }));
            table.push(vec![
                row.to_string(),
                number.to_string(),
                state.to_string(),
                category,
                status,
                replies,
            ]);
        }
    }
    let headers = ["ROW", "CHUNK", "STATE", "RESULT", "STATUS", "REPLIES"];
    if out.csv {
        out.table(&headers, &table)?;
    } else if out.json {
        let mut value = summary.value(&path, None);
        if let Value::Object(fields) = &mut value {
            fields.insert("rowOutcomes".into(), Value::Array(row_values));
            fields.insert("resultsMissing".into(), json!(missing));
        }
        out.object(&value, Vec::new)?;
    } else {
        let mut lines = summary.lines(&path, None);
        for (number, why) in &missing {
            lines.push(format!("chunk {number}: no results: {why}"));
        }
        crate::output::print_lines(lines)?;
        out.table(&headers, &table)?;
    }
    Ok(ExitClass::Success)
}

/// Each sent row's result, read from Whispir: the CSV and template the
/// journal was begun with rebuild its chunks (each checked against its
/// label), whose messages the journal names.
async fn chunk_results(
    global: &GlobalArgs,
    args: &BulkStatusArgs,
    contents: &journal::Contents,
    plan: &DynamicPlan,
) -> Result<(dynamic::RowResults, BTreeMap<usize, String>), CliError> {
    let file = &args.source.file;
    let bytes = std::fs::read(file)
        .map_err(|err| CliError::io(format!("cannot read {}", file.display()), err))?;
    if journal::digest(&bytes, plan.template.as_deref()) != contents.header.digest {
        return Err(CliError::usage(format!(
            "--results needs {} as the journal sent it, and it changed since",
            file.display()
        )));
    }
    let sheet = rows::read(file, plan.template.as_deref())?;
    let tagged = sheet
        .tagged_template()
        .map_err(|err| CliError::usage(format!("--template: {err}")))?;
    let conn = Connection::open(global, None).await?;
    let campaign_plan = dynamic::plan(
        file,
        &sheet,
        &tagged,
        plan.rows_per_chunk,
        &dynamic::campaign_name(&contents.header),
        conn.workspace.as_deref(),
    )?;
    let mut chunks = contents.chunks.clone();
    let journal_path = args.source.path(global.sandbox);
    // The same check a rerun makes; nothing is written to a journal whose
    // chunks are recorded.
    if chunks.is_empty() {
        return Ok(Default::default());
    }
    let same = campaign_plan.chunks().iter().all(|chunk| {
        chunks
            .get(&chunk.number())
            .is_some_and(|record| record.label == chunk.label())
    });
    if !same {
        return Err(CliError::usage(format!(
            "the journal {} planned other chunks than {} makes now; its results cannot be \
             matched to rows",
            journal_path.display(),
            file.display()
        )));
    }
    chunks.retain(|_, chunk| matches!(chunk.state, Some(RowState::Sent(_))));
    Ok(dynamic::results(&conn, &chunks, &campaign_plan).await)
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
        dynamic: None,
    })?;
    let word = match outcome {
        Resolution::Sent => "sent",
        Resolution::NotSent => "not-sent",
    };
    if contents.header.dynamic.is_some() {
        // A dynamic journal settles a row's chunk: one message sent them all.
        let Some((number, chunk)) = contents
            .chunks
            .iter()
            .find(|(_, chunk)| chunk.rows.contains(&row))
        else {
            return Err(CliError::usage(format!(
                "row {row} is in no chunk of the journal; nothing to resolve"
            )));
        };
        if !chunk.state.as_ref().is_some_and(RowState::is_uncertain) {
            return Err(CliError::usage(format!(
                "row {row}'s chunk {number} is not uncertain (the journal has it as {}); \
                 nothing to resolve",
                state_word(chunk.state.as_ref())
            )));
        }
        journal.append(&format!("chunk {number} resolved {word}"))?;
        let rows = journal::ranges(&chunk.rows);
        out.object(
            &json!({"row": row, "chunk": number, "rows": rows, "resolved": word}),
            || vec![format!("chunk {number} (rows {rows}) recorded as {word}")],
        )?;
        return Ok(ExitClass::Success);
    }
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
    journal.append(&format!("resolved {row} {word}"))?;
    out.object(&json!({"row": row, "resolved": word}), || {
        vec![format!("row {row} recorded as {word}")]
    })?;
    Ok(ExitClass::Success)
}
