//! Sending the rows as dynamic messages ([`whispir::campaign`]): the
//! columns the template names go up as one resource per chunk, and one
//! message per chunk fills each row's `@@tags@@`. In the order the work
//! runs: the campaign and its plan, checked before anything is uploaded
//! ([`plan`]); the chunks recorded in the journal ([`record_plan`]);
//! chunks whose send may have happened settled by their labels
//! ([`reconcile`]); then each chunk uploaded (or its upload found again)
//! and sent ([`send_chunks`]), every step on disk before the next.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use whispir::campaign::{
    Campaign, CampaignError, Chunk, Plan, RecipientResult, SentSearch, UploadedResource,
};

use crate::bulk::journal::{ChunkRecord, Header, Journal, RowState, Upload, ranges};
use crate::bulk::now_ms;
use crate::bulk::reconcile::settle_wait;
use crate::bulk::rows::Sheet;
use crate::bulk::send::{CtrlC, Run};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::metrics::{self, Mode, RowOutcome};
use crate::telemetry;

/// The campaign name of a journal's chunks: its labels and upload names
/// start with it, so that another journal's never match.
pub fn campaign_name(header: &Header) -> String {
    format!("bulk-{}", header.id)
}

/// Builds and checks the campaign of `sheet`: everything the campaign
/// refuses is refused here, before any upload, naming the row as the CSV
/// numbers it.
pub fn plan(
    file: &Path,
    sheet: &Sheet,
    template: &str,
    rows_per_chunk: usize,
    name: &str,
    workspace: Option<&str>,
) -> Result<Plan, CliError> {
    let records: Vec<BTreeMap<&str, &str>> = sheet
        .rows
        .iter()
        .map(|row| {
            sheet
                .columns
                .iter()
                .map(String::as_str)
                .zip(row.values.iter().map(String::as_str))
                .collect()
        })
        .collect();
    let address = sheet.columns.first().map_or("to", String::as_str);
    let refused = |err: CampaignError| refusal(file, sheet, err);
    let mut campaign = Campaign::from_records(records)
        .map_err(refused)?
        .name(name)
        .rows_per_chunk(rows_per_chunk)
        .sms(address, template);
    if let Some(workspace) = workspace {
        campaign = campaign.workspace_id(workspace);
    }
    campaign.plan().map_err(refused)
}

/// A campaign's refusal as the CLI words a bad row: the row by its line
/// in the CSV, the same exit code as the reader's.
fn refusal(file: &Path, sheet: &Sheet, err: CampaignError) -> CliError {
    let line = |row: usize| {
        sheet
            .rows
            .get(row.saturating_sub(1))
            .map_or(row as u64, |r| r.line)
    };
    let problem = match &err {
        CampaignError::BadAddress {
            row, value, wanted, ..
        } => format!(
            "row {}, column to: {value:?} is not {wanted}: a dynamic message sends one SMS to \
             one number per row (send rows with several recipients, or addresses of another \
             kind, with --per-row)",
            line(*row)
        ),
        CampaignError::TextTooLong {
            row,
            part,
            characters,
        } => format!(
            "row {}: the {part} is {characters} characters long with the row's values in it; \
             Whispir takes at most 1570",
            line(*row)
        ),
        CampaignError::RowTooLarge { row, bytes, limit } => format!(
            "row {}: the row is {bytes} bytes, too large to upload (one upload holds at most \
             {limit} bytes of CSV)",
            line(*row)
        ),
        CampaignError::RowsPerChunk(_) => {
            return CliError::usage(format!("--rows-per-chunk: {err}"));
        }
        CampaignError::UnknownTag { .. } => return CliError::usage(format!("--template: {err}")),
        _ => err.to_string(),
    };
    CliError::new(
        ExitClass::Invalid,
        format!(
            "{} has 1 problem for a dynamic message, nothing was sent:\n  {problem}",
            file.display()
        ),
    )
}

/// The CSV lines of a chunk's rows.
pub fn lines_of(sheet: &Sheet, chunk: &Chunk) -> Vec<u64> {
    chunk
        .rows()
        .filter_map(|row| sheet.rows.get(row.saturating_sub(1)))
        .map(|row| row.line)
        .collect()
}

/// Writes the plan's chunks the journal does not hold yet (all of them in
/// a new journal; the rest after a crash while they were written);
/// refuses a plan that differs from the one the journal recorded (its
/// labels hold the rows, text and chunk size, so a difference means other
/// chunks).
pub fn record_plan(
    path: &Path,
    journal: &Journal,
    chunks: &mut BTreeMap<usize, ChunkRecord>,
    sheet: &Sheet,
    plan: &Plan,
) -> Result<(), CliError> {
    let same = chunks.len() <= plan.chunks().len()
        && chunks.iter().all(|(number, record)| {
            plan.chunks()
                .get(number.saturating_sub(1))
                .is_some_and(|chunk| chunk.label() == record.label)
        });
    if !same {
        return Err(CliError::usage(format!(
            "the journal {} planned other chunks than this run would ({} then, {} now); \
             nothing was sent. Run with the file, template and --rows-per-chunk it began \
             with, or give another --journal",
            path.display(),
            chunks.len(),
            plan.chunks().len()
        )));
    }
    for chunk in plan.chunks() {
        if chunks.contains_key(&chunk.number()) {
            continue;
        }
        let rows = lines_of(sheet, chunk);
        journal.append(&format!(
            "chunk {} planned {} {}",
            chunk.number(),
            chunk.label(),
            ranges(&rows)
        ))?;
        chunks.insert(
            chunk.number(),
            ChunkRecord {
                label: chunk.label().to_string(),
                rows,
                upload: Upload::NotStarted,
                state: None,
                requested: None,
                unsettled: None,
            },
        );
    }
    Ok(())
}

/// Settles the chunks whose send may have happened by their labels, in
/// the journal and in `chunks`; returns why each chunk left uncertain
/// stays so. `user_known`: whether the journal knows whose messages the
/// listing shows (a token's user it does not).
pub async fn reconcile(
    conn: &Connection,
    journal: &Journal,
    chunks: &mut BTreeMap<usize, ChunkRecord>,
    plan: &Plan,
    settle_secs: u64,
    user_known: bool,
) -> Result<BTreeMap<usize, String>, CliError> {
    let uncertain: BTreeMap<u64, Option<i64>> = chunks
        .iter()
        .filter(|(_, chunk)| chunk.state.as_ref().is_some_and(RowState::is_uncertain))
        .map(|(number, chunk)| (*number as u64, chunk.requested))
        .collect();
    let mut unsettled = BTreeMap::new();
    if uncertain.is_empty() {
        return Ok(unsettled);
    }
    let settle = chrono::Duration::seconds(i64::try_from(settle_secs).unwrap_or(i64::MAX));
    let wait = settle_wait(&uncertain, settle, now_ms());
    if wait > 0 {
        eprintln!(
            "waiting {wait} ms until the uncertain chunks' sends (and any retry of them) are \
             {settle_secs} s old, so that Whispir lists them if it took them"
        );
        tokio::time::sleep(std::time::Duration::from_millis(
            u64::try_from(wait).unwrap_or(0),
        ))
        .await;
    }
    eprintln!(
        "reconciling {} uncertain chunks with Whispir's message list",
        uncertain.len()
    );
    for (number, requested) in uncertain {
        let number = usize::try_from(number).unwrap_or(usize::MAX);
        let (Some(chunk), Some(record)) = (
            plan.chunks().get(number.saturating_sub(1)),
            chunks.get_mut(&number),
        ) else {
            continue;
        };
        let since = requested.and_then(chrono::DateTime::<chrono::Utc>::from_timestamp_millis);
        let found = match since {
            None => Err(
                "the journal does not say when its send began, so no listing can prove \
                         it absent"
                    .to_string(),
            ),
            Some(since) => match chunk.find_sent(&conn.client, since).await {
                Ok(SentSearch::Sent(message)) => Ok(Some(message.location().to_string())),
                Ok(SentSearch::NotSent) if user_known => Ok(None),
                Ok(SentSearch::NotSent) => Err("the journal does not know whose messages were \
                                                listed (token credentials), and Whispir lists \
                                                only the calling user's"
                    .to_string()),
                Ok(SentSearch::Unproven(reason)) => Err(reason),
                Err(err) => Err(format!("listing messages failed: {err}")),
            },
        };
        match found {
            Ok(Some(url)) => {
                journal.append(&format!("chunk {number} reconciled sent {url}"))?;
                record.state = Some(RowState::Sent(Some(url)));
            }
            Ok(None) => {
                journal.append(&format!("chunk {number} reconciled absent"))?;
                record.state = Some(RowState::NotSent);
            }
            Err(reason) => {
                let reason = reason.replace(['\n', '\r'], " ");
                journal.append(&format!("chunk {number} unsettled {reason}"))?;
                record.unsettled = Some(reason.clone());
                unsettled.insert(number, reason);
            }
        }
    }
    Ok(unsettled)
}

/// Uploads and sends each chunk never sent (or provably not sent), in
/// order, each step recorded before the next; the states of the rows sent
/// in this run, by their lines.
pub async fn send_chunks(
    conn: &Connection,
    journal: &Arc<Journal>,
    chunks: &mut BTreeMap<usize, ChunkRecord>,
    plan: &Plan,
) -> Result<Run, CliError> {
    let in_flight: Arc<Mutex<Option<InFlight>>> = Arc::default();
    let (halt, halted) = tokio::sync::watch::channel(false);
    // Whether a chunk may have been sent (an earlier run's, or one of this
    // run's): a stop at once then exits 9, not 130.
    let uncertain =
        Arc::new(AtomicBool::new(chunks.values().any(|chunk| {
            chunk.state.as_ref().is_some_and(RowState::is_uncertain)
        })));
    let ctrl_c = CtrlC::watch("taking no more chunks; waiting for the step in flight", {
        let in_flight = Arc::clone(&in_flight);
        let uncertain = Arc::clone(&uncertain);
        let journal = Arc::clone(journal);
        move || {
            stop_at_once(
                &journal,
                &in_flight,
                &halt,
                uncertain.load(Ordering::SeqCst),
            )
        }
    });
    let stop = &ctrl_c.stop;
    let mut run = Run::default();
    let mut result = Ok(());
    for chunk in plan.chunks() {
        let Some(record) = chunks.get_mut(&chunk.number()) else {
            continue;
        };
        if !matches!(record.state, None | Some(RowState::NotSent)) {
            continue;
        }
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let halted = halted.clone();
        match send_chunk(conn, journal, chunk, record, (&in_flight, halted), stop).await {
            Ok(Step::Done(state)) => {
                let outcome = if state.is_uncertain() {
                    uncertain.store(true, Ordering::SeqCst);
                    RowOutcome::MayHaveBeenSent
                } else {
                    RowOutcome::Sent
                };
                metrics::bulk_rows(Mode::Dynamic, outcome, record.rows.len());
                for row in &record.rows {
                    run.outcomes.push((*row, state.clone()));
                }
                record.state = Some(state);
            }
            Ok(Step::Stopped) => break,
            Ok(Step::Failed { reason, throttled }) => {
                metrics::bulk_rows(Mode::Dynamic, RowOutcome::Failed, record.rows.len());
                for row in &record.rows {
                    run.outcomes.push((*row, RowState::NotSent));
                }
                record.state = Some(RowState::NotSent);
                run.throttled = throttled;
                run.stopped = Some(reason);
                break;
            }
            Err(err) => {
                result = Err(err);
                break;
            }
        }
    }
    run.interrupted = ctrl_c.end();
    result.map(|()| run)
}

/// How one chunk's steps ended.
enum Step {
    /// Sent, or may have been: its state.
    Done(RowState),
    /// Ctrl-C between its upload and its send: not sent.
    Stopped,
    /// Not sent, and provably so: why, and whether the quota is spent.
    Failed { reason: String, throttled: bool },
}

/// The chunk whose send may be on its way: its number and how many rows
/// it holds.
type InFlight = (usize, usize);

async fn send_chunk(
    conn: &Connection,
    journal: &Journal,
    chunk: &Chunk,
    record: &mut ChunkRecord,
    (in_flight, mut halted): (&Mutex<Option<InFlight>>, tokio::sync::watch::Receiver<bool>),
    stop: &AtomicBool,
) -> Result<Step, CliError> {
    let number = chunk.number();
    // A send refused because its upload is gone (it expired, or was
    // deleted) is sent once more from a new upload: the refusal proves the
    // first send did nothing.
    let mut uploaded_again = false;
    loop {
        let resource = match upload_step(conn, journal, chunk, record).await? {
            Ok(resource) => resource,
            Err(failed) => return Ok(failed),
        };
        if stop.load(Ordering::SeqCst) {
            return Ok(Step::Stopped);
        }
        *lock(in_flight) = Some((number, record.rows.len()));
        let outcome = tokio::select! {
            biased;
            // A second Ctrl-C: the send is dropped, waiting for its turn or
            // on its way, as the process exit would drop it, so that it does
            // not start while the last figures are exported.
            Ok(_) = halted.wait_for(|halted| *halted) => std::future::pending().await,
            outcome = record_send(conn, journal, chunk, record, resource.clone()) => outcome,
        };
        if lock(in_flight).take().is_none() {
            // A second Ctrl-C took the chunk (recorded and counted it as
            // uncertain) while its outcome was written: the process is
            // exiting.
            return std::future::pending().await;
        }
        let err = match outcome? {
            Ok(step) => return Ok(step),
            Err(refused) => refused,
        };
        let refused = send_failed(number, &err);
        if uploaded_again {
            return Ok(refused);
        }
        match resource.exists(&conn.client).await {
            Ok(true) => return Ok(refused),
            Ok(false) => {
                eprintln!(
                    "chunk {number}: its upload {} is gone from Whispir (resources are kept \
                     about 30 days), and the send from it was refused; uploading it again",
                    resource.id()
                );
                journal.append(&format!("chunk {number} upload-gone {}", resource.id()))?;
                record.upload = Upload::NotStarted;
                uploaded_again = true;
            }
            Err(check) => {
                let Step::Failed { reason, throttled } = refused else {
                    return Ok(refused);
                };
                let throttled = throttled || check.is_throttled();
                return Ok(Step::Failed {
                    reason: format!(
                        "{reason}; whether its upload {} still exists could not be checked \
                         ({check})",
                        resource.id()
                    ),
                    throttled,
                });
            }
        }
    }
}

/// The chunk's upload: the one recorded, else one an earlier run began
/// (looked for first), else a new one; each step recorded. `Err` holds how
/// the chunk ended when no upload could be had.
async fn upload_step(
    conn: &Connection,
    journal: &Journal,
    chunk: &Chunk,
    record: &mut ChunkRecord,
) -> Result<Result<UploadedResource, Step>, CliError> {
    let number = chunk.number();
    let started = match &record.upload {
        Upload::Made(id) => return Ok(Ok(chunk.recorded_upload(id.clone()))),
        started => started.clone(),
    };
    // An upload begun before may have been made: look for it first.
    let looked_for = started == Upload::Started;
    if !looked_for {
        journal.append(&format!("chunk {number} uploading"))?;
        record.upload = Upload::Started;
    }
    let uploaded = if looked_for {
        chunk.upload_once(&conn.client).await
    } else {
        chunk.upload(&conn.client).await
    };
    match uploaded {
        Ok(resource) => {
            journal.append(&format!("chunk {number} uploaded {}", resource.id()))?;
            record.upload = Upload::Made(resource.id().to_string());
            Ok(Ok(resource))
        }
        Err(err) => {
            // The upload may exist: the next run looks for it. The chunk
            // was not sent, so it stays as it was.
            eprintln!("chunk {number}: upload failed: {err}");
            Ok(Err(Step::Failed {
                reason: if err.is_throttled() {
                    format!("the plan's quota is spent ({err}); run again later")
                } else {
                    format!("chunk {number}: upload failed: {err}")
                },
                throttled: err.is_throttled(),
            }))
        }
    }
}

/// How a chunk whose send failed, provably unsent, ends.
fn send_failed(number: usize, err: &whispir::Error) -> Step {
    Step::Failed {
        reason: if err.is_throttled() {
            format!("the plan's quota is spent ({err}); run again later")
        } else {
            format!("chunk {number}: the send failed: {err}")
        },
        throttled: err.is_throttled(),
    }
}

/// Marks the chunk `sending`, sends it and records how it went. The inner
/// `Err` is a send Whispir refused for certain (a 4xx that did not act,
/// not a spent quota): not sent, and recorded so.
async fn record_send(
    conn: &Connection,
    journal: &Journal,
    chunk: &Chunk,
    record: &mut ChunkRecord,
    resource: UploadedResource,
) -> Result<Result<Step, whispir::Error>, CliError> {
    let number = chunk.number();
    let at = now_ms();
    journal.append(&format!("chunk {number} sending {at}"))?;
    record.requested = Some(at);
    record.state = Some(RowState::Sending(at));
    // From here the chunk may have been sent: a journal that cannot
    // record how it went must not end the run with a code that says
    // otherwise.
    let unrecorded = |err: CliError| {
        CliError::new(
            ExitClass::MayHaveSent,
            format!(
                "chunk {number} may have been sent, and its outcome could not be recorded \
                 ({err}); a rerun checks it in Whispir before sending it again"
            ),
        )
    };
    match chunk.send(&conn.client, resource).await {
        Ok(sent) => {
            let url = sent.message().location().to_string();
            journal
                .append(&format!("chunk {number} sent {url}"))
                .map_err(unrecorded)?;
            Ok(Ok(Step::Done(RowState::Sent(Some(url)))))
        }
        Err(err) if err.may_have_been_processed() => {
            journal
                .append(&format!("chunk {number} uncertain"))
                .map_err(unrecorded)?;
            eprintln!("chunk {number}: {err}");
            Ok(Ok(Step::Done(RowState::Uncertain)))
        }
        Err(err) => {
            journal
                .append(&format!("chunk {number} failed"))
                .map_err(unrecorded)?;
            record.state = Some(RowState::NotSent);
            eprintln!("chunk {number}: {err}");
            let refused =
                !err.is_throttled() && err.status().is_some_and(|status| status.is_client_error());
            if refused {
                return Ok(Err(err));
            }
            Ok(Ok(send_failed(number, &err)))
        }
    }
}

/// Stops at once (a second Ctrl-C): no send starts any more, a chunk whose
/// send may be on its way is recorded (and counted) as uncertain, then the
/// process exits with 9; else with 9
/// if another chunk may have been sent (`uncertain`), else 130.
fn stop_at_once(
    journal: &Journal,
    in_flight: &Mutex<Option<InFlight>>,
    halt: &tokio::sync::watch::Sender<bool>,
    uncertain: bool,
) -> ! {
    // No send starts any more: the flush below may take seconds.
    halt.send_replace(true);
    let taken = lock(in_flight).take();
    let Some((number, rows)) = taken else {
        if uncertain {
            eprintln!(
                "Ctrl-C again: stopped; no send was in flight, but a chunk may have been sent \
                 (`whispir bulk status` names it)"
            );
            telemetry::finish();
            std::process::exit(9);
        }
        eprintln!("Ctrl-C again: stopped; no send was in flight");
        telemetry::finish();
        std::process::exit(130);
    };
    if let Err(err) = journal.append(&format!("chunk {number} uncertain")) {
        eprintln!("{err}");
    }
    metrics::bulk_rows(Mode::Dynamic, RowOutcome::MayHaveBeenSent, rows);
    eprintln!(
        "Ctrl-C again: stopped at once; chunk {number} may have been sent (recorded as \
         uncertain: a rerun checks it in Whispir before sending it again)"
    );
    telemetry::finish();
    std::process::exit(9);
}

fn lock(slot: &Mutex<Option<InFlight>>) -> std::sync::MutexGuard<'_, Option<InFlight>> {
    slot.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Each row's result in a sent chunk, by its line in the CSV.
pub type RowResults = BTreeMap<u64, RecipientResult>;

/// The results of every sent chunk whose message the journal names, by
/// row line; a chunk whose results cannot be read gives the reason.
pub async fn results(
    conn: &Connection,
    chunks: &BTreeMap<usize, ChunkRecord>,
    plan: &Plan,
) -> (RowResults, BTreeMap<usize, String>) {
    let mut by_row = BTreeMap::new();
    let mut missing = BTreeMap::new();
    for chunk in plan.chunks() {
        let Some(record) = chunks.get(&chunk.number()) else {
            continue;
        };
        let Some(RowState::Sent(url)) = &record.state else {
            continue;
        };
        let (Some(url), Upload::Made(id)) = (url, &record.upload) else {
            missing.insert(
                chunk.number(),
                "the journal does not name its message (it was resolved by hand)".to_string(),
            );
            continue;
        };
        let message = whispir::reqwest::Url::parse(url)
            .map_err(|err| err.to_string())
            .and_then(|url| whispir::Accepted::from_location(url).map_err(|err| err.to_string()));
        let message = match message {
            Ok(message) => message,
            Err(err) => {
                missing.insert(chunk.number(), format!("its message URL {url}: {err}"));
                continue;
            }
        };
        let sent = chunk.sent_as(message, chunk.recorded_upload(id.clone()));
        match sent.results(&conn.client).await {
            Ok(results) => {
                let first = *chunk.rows().start();
                for result in results {
                    let at = result.row.checked_sub(first);
                    if let Some(line) = at.and_then(|at| record.rows.get(at)) {
                        by_row.insert(*line, result);
                    }
                }
            }
            Err(err) => {
                missing.insert(chunk.number(), format!("reading its results failed: {err}"));
            }
        }
    }
    (by_row, missing)
}
