//! `whispir`: the Whispir messaging API from the terminal. Parses the
//! command line, connects, runs the command and turns its outcome into an
//! exit code (see [`exit`]).

mod bulk;
mod cli;
mod commands;
mod config;
mod exit;
#[rustfmt::skip]
mod generated;
mod global;
mod input;
mod metrics;
mod output;
mod telemetry;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};

use crate::cli::{Cli, Command};
use crate::exit::{CliError, ExitClass};

fn main() -> ExitCode {
    let command = Cli::command().after_long_help(exit::help_table());
    let cli = match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with success, usage
            // errors to stderr.
            let _ = err.print();
            return if err.use_stderr() {
                ExitClass::Usage.into()
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if cli.global.verbose {
        init_tracing();
    }
    // Before any client is built: clients read the global meter provider then.
    telemetry::start(cli.global.otlp.as_deref());
    let code = run(cli);
    // Every way out passes here but `bulk send`'s second Ctrl-C, which
    // calls it itself before it exits.
    telemetry::finish();
    code
}

/// Runs the command on a new runtime and turns its outcome into an exit code.
fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("whispir: cannot start the async runtime: {err}");
            return ExitClass::Failure.into();
        }
    };
    let verbose = cli.global.verbose;
    // Ctrl-C would end a command that does not handle it without the last
    // export; while exporting, it ends such a command here instead (130).
    let handles_ctrl_c = matches!(
        cli.command,
        Command::Bulk(_) | Command::Callbacks(_) | Command::Sandbox(_)
    );
    let outcome = if telemetry::exporting() && !handles_ctrl_c {
        runtime.block_on(async {
            tokio::select! {
                outcome = commands::run(cli) => outcome,
                Ok(()) = tokio::signal::ctrl_c() => {
                    eprintln!("\nwhispir: interrupted by Ctrl-C");
                    Ok(ExitClass::Interrupted)
                }
            }
        })
    } else {
        runtime.block_on(commands::run(cli))
    };
    match outcome {
        Ok(class) => class.into(),
        Err(err) => {
            report(&err, verbose);
            err.exit_class().into()
        }
    }
}

/// Prints an error as one line, or with its whole chain under `--verbose`.
fn report(err: &CliError, verbose: bool) {
    if verbose {
        eprintln!("whispir: {err:#}");
    } else {
        eprintln!("whispir: {err}");
    }
}

/// The SDK's tracing on stderr. The SDK logs no credentials or headers.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("whispir=debug,whispir_cli=debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
