//! The CLI's own instruments, under the meter `whispir-cli` of the global
//! meter provider (which `telemetry` installs before any command runs):
//! `whispir.bulk.rows`, each row of a bulk send by how the run left it.

use std::sync::OnceLock;

use opentelemetry::KeyValue;
use opentelemetry::metrics::Counter;

/// How a run of `bulk send` left a row (`whispir.row.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    /// Whispir accepted it in this run.
    Sent,
    /// It was not sent (refused, or failed before sending); a rerun sends it.
    Failed,
    /// Its send may have reached Whispir; a rerun checks before sending.
    MayHaveBeenSent,
    /// An earlier run sent it; this one did not send it again.
    AlreadyDone,
}

impl RowOutcome {
    fn name(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::MayHaveBeenSent => "may_have_been_sent",
            Self::AlreadyDone => "already_done",
        }
    }
}

/// How a bulk send sends its rows (`whispir.bulk.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One message per row (`--per-row`).
    PerRow,
    /// One dynamic message per chunk of rows (the default).
    Dynamic,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Self::PerRow => "per_row",
            Self::Dynamic => "dynamic",
        }
    }
}

/// Counts one row of a `--per-row` bulk send by its outcome.
pub fn bulk_row(outcome: RowOutcome) {
    bulk_rows(Mode::PerRow, outcome, 1);
}

/// Counts `count` rows of a bulk send with one outcome.
pub fn bulk_rows(mode: Mode, outcome: RowOutcome, count: usize) {
    if count == 0 {
        return;
    }
    static ROWS: OnceLock<Counter<u64>> = OnceLock::new();
    let rows = ROWS.get_or_init(|| {
        let scope = opentelemetry::InstrumentationScope::builder("whispir-cli")
            .with_version(env!("CARGO_PKG_VERSION"))
            .build();
        opentelemetry::global::meter_with_scope(scope)
            .u64_counter("whispir.bulk.rows")
            .with_unit("{row}")
            .with_description("Rows of a bulk send, by how the run left them")
            .build()
    });
    rows.add(
        u64::try_from(count).unwrap_or(u64::MAX),
        &[
            KeyValue::new("whispir.row.outcome", outcome.name()),
            KeyValue::new("whispir.bulk.mode", mode.name()),
        ],
    );
}
