//! Sending the rows at the plan's pace: each row is marked `sending` on
//! disk before its request, and `sent`, `failed` or `uncertain` after.
//! Ctrl-C stops taking rows; the sends in flight finish and are recorded.
//! A second Ctrl-C stops at once: the rows in flight are recorded as
//! uncertain (their requests may have reached Whispir) and the run exits
//! with 9, "may have sent".

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use whispir::Plan;
use whispir::types::Message;

use crate::bulk::journal::{Header, Journal, RowState, row_digest};
use crate::bulk::now_ms;
use crate::bulk::rows::Row;
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::metrics::{self, RowOutcome};
use crate::telemetry;

/// How a run of sends ended.
#[derive(Debug, Default)]
pub struct Run {
    /// The state each row sent in this run ended in.
    pub outcomes: Vec<(u64, RowState)>,
    /// Whether Ctrl-C stopped it.
    pub interrupted: bool,
    /// Why it stopped taking rows early, if it did.
    pub stopped: Option<String>,
    /// Whether it stopped because the plan's quota is spent.
    pub throttled: bool,
}

/// A run's Ctrl-C watcher: the first Ctrl-C sets [`CtrlC::stop`] (take no
/// more work) and says so on stderr; a second calls the run's stop at once.
pub struct CtrlC {
    /// Set by the first Ctrl-C; the run may set it too, to stop early.
    pub stop: Arc<AtomicBool>,
    interrupted: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl CtrlC {
    /// Watches for Ctrl-C: `taking` says what the first one does, and
    /// `at_once` is what the second one does.
    pub fn watch(taking: &'static str, at_once: impl FnOnce() + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let interrupted = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = Arc::clone(&stop);
            let interrupted = Arc::clone(&interrupted);
            async move {
                if tokio::signal::ctrl_c().await.is_err() {
                    return;
                }
                eprintln!("\nCtrl-C: {taking} (Ctrl-C again to stop at once)");
                interrupted.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
                if tokio::signal::ctrl_c().await.is_ok() {
                    at_once();
                }
            }
        });
        Self {
            stop,
            interrupted,
            task,
        }
    }

    /// Stops watching; whether Ctrl-C interrupted the run.
    pub fn end(self) -> bool {
        self.task.abort();
        self.interrupted.load(Ordering::SeqCst)
    }
}

/// Sends `rows`, at most the plan's requests per second at a time.
pub async fn send_rows(
    conn: &Connection,
    journal: &Arc<Journal>,
    header: &Header,
    rows: Vec<Row>,
    plan: Plan,
) -> Result<Run, CliError> {
    let in_flight: Arc<Mutex<BTreeSet<u64>>> = Arc::default();
    let (halt, halted) = tokio::sync::watch::channel(false);
    let ctrl_c = CtrlC::watch("taking no more rows; waiting for the sends in flight", {
        let in_flight = Arc::clone(&in_flight);
        let journal = Arc::clone(journal);
        move || stop_at_once(&journal, &in_flight, &halt)
    });
    let stop = Arc::clone(&ctrl_c.stop);
    let bar = ProgressBar::new(rows.len() as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows  {per_sec}  ETA {eta}")
    {
        bar.set_style(style);
    }
    let concurrency = usize::try_from(plan.per_second()).unwrap_or(1).max(1);
    let stopped: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
    let throttled = AtomicBool::new(false);
    let taking = Arc::clone(&stop);
    let results: Vec<Result<(u64, RowState), CliError>> = futures::stream::iter(rows)
        .take_while(move |_| futures::future::ready(!taking.load(Ordering::SeqCst)))
        .map(|row| {
            let stop = &stop;
            let in_flight = &in_flight;
            let stopped = &stopped;
            let throttled = &throttled;
            let halted = halted.clone();
            async move {
                let outcome = send_row(conn, journal, header, &row, in_flight, halted).await;
                let reason = match &outcome {
                    Err(_) => Some(None),
                    Ok((_, _, Some(reason))) => Some(Some(reason.clone())),
                    Ok(_) => None,
                };
                if let Some(reason) = reason {
                    stop.store(true, Ordering::SeqCst);
                    throttled.fetch_or(reason.is_some(), Ordering::SeqCst);
                    if let (Some(reason), Ok(mut slot)) = (reason, stopped.lock()) {
                        slot.get_or_insert(reason);
                    }
                }
                outcome.map(|(row, state, _)| (row, state))
            }
        })
        .buffer_unordered(concurrency)
        .inspect(|_| bar.inc(1))
        .collect()
        .await;
    bar.finish_and_clear();
    let mut run = Run {
        interrupted: ctrl_c.end(),
        stopped: stopped.lock().ok().and_then(|mut slot| slot.take()),
        throttled: throttled.load(Ordering::SeqCst),
        ..Run::default()
    };
    let mut first_error: Option<CliError> = None;
    for result in results {
        match result {
            Ok(outcome) => run.outcomes.push(outcome),
            // Rows that may have been sent win: the exit code must say 9.
            Err(err)
                if err.exit_class() == ExitClass::MayHaveSent
                    && first_error
                        .as_ref()
                        .is_none_or(|first| first.exit_class() != ExitClass::MayHaveSent) =>
            {
                first_error = Some(err);
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    let uncertain = run.outcomes.iter().any(|(_, state)| state.is_uncertain());
    match first_error {
        Some(err) if uncertain && err.exit_class() != ExitClass::MayHaveSent => Err(CliError::new(
            ExitClass::MayHaveSent,
            format!("{err}; rows of this run may have been sent: a rerun checks them"),
        )),
        Some(err) => Err(err),
        None => Ok(run),
    }
}

/// Sends one row, recording it before and after; with the reason to take
/// no more rows when the plan's quota is spent.
async fn send_row(
    conn: &Connection,
    journal: &Journal,
    header: &Header,
    row: &Row,
    in_flight: &Mutex<BTreeSet<u64>>,
    mut halted: tokio::sync::watch::Receiver<bool>,
) -> Result<(u64, RowState, Option<String>), CliError> {
    // In flight from before its `sending` line until after its outcome's:
    // a second Ctrl-C between the two records it as uncertain.
    lock(in_flight).insert(row.line);
    let outcome = tokio::select! {
        biased;
        // A second Ctrl-C: the send is dropped, waiting for its turn or on
        // its way, as the process exit would drop it, so that none starts
        // while the last figures are exported.
        Ok(_) = halted.wait_for(|halted| *halted) => std::future::pending().await,
        outcome = record_send(conn, journal, header, row, in_flight) => outcome,
    };
    lock(in_flight).remove(&row.line);
    outcome
}

/// Counts the row's outcome, unless a second Ctrl-C took it out of the
/// rows in flight first (and counted it as may have been sent).
fn count(in_flight: &Mutex<BTreeSet<u64>>, row: u64, outcome: RowOutcome) {
    if lock(in_flight).remove(&row) {
        metrics::bulk_row(outcome);
    }
}

/// Stops the run at once (a second Ctrl-C): no send starts any more, each
/// row whose request may be on its way is recorded as uncertain, then the
/// process exits with 9. The sends in flight are abandoned, not
/// cancelled: Whispir may act on them, which is what `uncertain` says and
/// what a rerun reconciles.
fn stop_at_once(
    journal: &Journal,
    in_flight: &Mutex<BTreeSet<u64>>,
    halt: &tokio::sync::watch::Sender<bool>,
) -> ! {
    // Before the flush below, which may take seconds: meanwhile the rows
    // waiting for their turn in the plan must not go.
    halt.send_replace(true);
    let rows = std::mem::take(&mut *lock(in_flight));
    for row in &rows {
        if let Err(err) = journal.append(&format!("uncertain {row}")) {
            eprintln!("{err}");
        }
        metrics::bulk_row(RowOutcome::MayHaveBeenSent);
    }
    if rows.is_empty() {
        eprintln!("Ctrl-C again: stopped; no send was in flight");
        telemetry::finish();
        std::process::exit(130);
    }
    eprintln!(
        "Ctrl-C again: stopped at once; rows {rows:?} may have been sent (recorded as \
         uncertain: a rerun checks them in Whispir before sending them again)"
    );
    telemetry::finish();
    std::process::exit(9);
}

/// A poisoned lock still holds the set: a panic elsewhere changes nothing
/// about which rows are in flight.
fn lock(set: &Mutex<BTreeSet<u64>>) -> std::sync::MutexGuard<'_, BTreeSet<u64>> {
    set.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Records the row, sends it and records how it went.
async fn record_send(
    conn: &Connection,
    journal: &Journal,
    header: &Header,
    row: &Row,
    in_flight: &Mutex<BTreeSet<u64>>,
) -> Result<(u64, RowState, Option<String>), CliError> {
    journal.append(&format!(
        "sending {} {} {}",
        row.line,
        now_ms(),
        row_digest(&row.to, &row.text)
    ))?;
    let message = Message::sms(&row.to, &row.text).label(header.label(row.line));
    let mut request = conn.client.message_create().body(message);
    if let Some(workspace) = &conn.workspace {
        request = request.workspace_id(workspace);
    }
    // From here the row may have been sent: a journal that cannot record
    // how it went must not end the run with a code that says otherwise.
    let unrecorded = |err: CliError| {
        CliError::new(
            ExitClass::MayHaveSent,
            format!(
                "row {} may have been sent, and its outcome could not be recorded ({err}); \
                 a rerun checks it in Whispir before sending it again",
                row.line
            ),
        )
    };
    let state = match request.send().await {
        Ok(sent) => {
            let id = sent.message_id().map(String::from);
            journal
                .append(&format!(
                    "sent {} {}",
                    row.line,
                    id.as_deref().unwrap_or("-")
                ))
                .map_err(unrecorded)?;
            count(in_flight, row.line, RowOutcome::Sent);
            RowState::Sent(id)
        }
        Err(err) if err.may_have_been_processed() => {
            journal
                .append(&format!("uncertain {}", row.line))
                .map_err(unrecorded)?;
            eprintln!("row {}: {err}", row.line);
            count(in_flight, row.line, RowOutcome::MayHaveBeenSent);
            RowState::Uncertain
        }
        Err(err) => {
            journal
                .append(&format!("failed {}", row.line))
                .map_err(unrecorded)?;
            count(in_flight, row.line, RowOutcome::Failed);
            eprintln!("row {}: {err}", row.line);
            let stop = err
                .is_throttled()
                .then(|| format!("the plan's quota is spent ({err}); run again later"));
            return Ok((row.line, RowState::NotSent, stop));
        }
    };
    Ok((row.line, state, None))
}
