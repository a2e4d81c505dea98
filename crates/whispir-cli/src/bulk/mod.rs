//! `whispir bulk send|status|resolve`.

use crate::cli::{BulkCommand, GlobalArgs};
use crate::exit::{CliError, ExitClass};
use crate::output::Output;

/// Runs `bulk`.
pub async fn run(_global: &GlobalArgs, _out: Output, _command: BulkCommand) -> Result<ExitClass, CliError> {
    Err(CliError::failure("not yet"))
}
