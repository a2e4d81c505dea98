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
    let matches = command.try_get_matches();
    let on_ctrl_c = matches.as_ref().map_or(ExitClass::Interrupted, interrupted);
    let cli = match matches.and_then(|m| Cli::from_arg_matches(&m)) {
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
    let code = run(cli, on_ctrl_c);
    // Every way out passes here but `bulk send`'s second Ctrl-C, which
    // calls it itself before it exits.
    telemetry::finish();
    code
}

/// Runs the command on a new runtime and turns its outcome into an exit code.
fn run(cli: Cli, on_ctrl_c: ExitClass) -> ExitCode {
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
    // export; while exporting, it ends such a command here instead, after
    // the flush. On a worker thread, so that a command blocked on the main
    // thread (reading stdin) is ended all the same.
    let handles_ctrl_c = matches!(
        cli.command,
        Command::Bulk(_) | Command::Callbacks(_) | Command::Sandbox(_)
    );
    if telemetry::exporting() && !handles_ctrl_c {
        runtime.spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                if on_ctrl_c == ExitClass::MayHaveSent {
                    eprintln!(
                        "\nwhispir: interrupted by Ctrl-C while sending: the request may \
                         have been carried out; check before sending again"
                    );
                } else {
                    eprintln!("\nwhispir: interrupted by Ctrl-C");
                }
                telemetry::finish();
                std::process::exit(i32::from(on_ctrl_c.code()));
            }
        });
    }
    let outcome = runtime.block_on(commands::run(cli));
    match outcome {
        Ok(class) => class.into(),
        Err(err) => {
            report(&err, verbose);
            err.exit_class().into()
        }
    }
}

/// How Ctrl-C ends a command that does not handle it: 9 (may have sent)
/// when the command carries out a request that must never be repeated (a
/// send, a create), which may have gone before the interruption, as the
/// SDK's errors say of such a request; 130 otherwise.
fn interrupted(matches: &clap::ArgMatches) -> ExitClass {
    let unrepeatable = match matches.subcommand() {
        Some(("send", _)) => true,
        Some(("contacts", contacts)) => contacts.subcommand_name() == Some("create"),
        Some(("api", api)) => api.subcommand_name().is_some_and(|name| {
            let id = name.replace('-', "");
            whispir::operations::OperationSpec::all()
                .iter()
                .any(|spec| {
                    spec.effect == whispir::Effect::Unrepeatable
                        && spec.operation_id.eq_ignore_ascii_case(&id)
                })
        }),
        _ => false,
    };
    if unrepeatable {
        ExitClass::MayHaveSent
    } else {
        ExitClass::Interrupted
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
