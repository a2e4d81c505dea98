//! Sending the rows at the plan's pace: each row is marked `sending` on
//! disk before its request, and `sent`, `failed` or `uncertain` after.
//! Ctrl-C stops taking rows; the sends in flight finish and are recorded.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::StreamExt as _;
use indicatif::{ProgressBar, ProgressStyle};
use whispir::Plan;
use whispir::types::Message;

use crate::bulk::journal::{Header, Journal, RowState, row_digest};
use crate::bulk::now_ms;
use crate::bulk::rows::Row;
use crate::config::Connection;
use crate::exit::CliError;

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

/// Sends `rows`, at most the plan's requests per second at a time.
pub async fn send_rows(
    conn: &Connection,
    journal: &Journal,
    header: &Header,
    rows: Vec<Row>,
    plan: Plan,
) -> Result<Run, CliError> {
    let stop = Arc::new(AtomicBool::new(false));
    let interrupted = Arc::new(AtomicBool::new(false));
    let watcher = {
        let stop = Arc::clone(&stop);
        let interrupted = Arc::clone(&interrupted);
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nCtrl-C: taking no more rows; waiting for the sends in flight");
                interrupted.store(true, Ordering::SeqCst);
                stop.store(true, Ordering::SeqCst);
            }
        })
    };
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
            let stopped = &stopped;
            let throttled = &throttled;
            async move {
                let outcome = send_row(conn, journal, header, &row).await;
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
    watcher.abort();
    let mut run = Run {
        interrupted: interrupted.load(Ordering::SeqCst),
        stopped: stopped.lock().ok().and_then(|mut slot| slot.take()),
        throttled: throttled.load(Ordering::SeqCst),
        ..Run::default()
    };
    let mut first_error = None;
    for result in results {
        match result {
            Ok(outcome) => run.outcomes.push(outcome),
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    match first_error {
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
    let state = match request.send().await {
        Ok(sent) => {
            let id = sent.message_id().map(String::from);
            journal.append(&format!(
                "sent {} {}",
                row.line,
                id.as_deref().unwrap_or("-")
            ))?;
            RowState::Sent(id)
        }
        Err(err) if err.may_have_been_processed() => {
            journal.append(&format!("uncertain {}", row.line))?;
            eprintln!("row {}: {err}", row.line);
            RowState::Uncertain
        }
        Err(err) => {
            journal.append(&format!("failed {}", row.line))?;
            eprintln!("row {}: {err}", row.line);
            let stop = err
                .is_throttled()
                .then(|| format!("the plan's quota is spent ({err}); run again later"));
            return Ok((row.line, RowState::NotSent, stop));
        }
    };
    Ok((row.line, state, None))
}
