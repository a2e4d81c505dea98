//! The commands, one module each, and the dispatch from the command line.

pub mod api;
mod callbacks;
mod contacts;
mod messages;
mod profile;
mod sandbox;
mod send;

use clap::CommandFactory as _;

use crate::cli::{Cli, Command};
use crate::config::Connection;
use crate::exit::{CliError, ExitClass};
use crate::output::Output;

/// Runs the command; the class is how it ended when it did not fail.
pub async fn run(cli: Cli) -> Result<ExitClass, CliError> {
    let out = Output::new(cli.global.format());
    match cli.command {
        Command::Send(command) => {
            let conn = Connection::open(&cli.global, None).await?;
            send::run(&conn, out, command).await
        }
        Command::Messages(command) => {
            let conn = Connection::open(&cli.global, None).await?;
            messages::run(&conn, out, command).await
        }
        Command::Wait(args) => {
            let conn = Connection::open(&cli.global, None).await?;
            messages::wait(&conn, out, &args).await
        }
        Command::Contacts(command) => {
            let conn = Connection::open(&cli.global, None).await?;
            contacts::run(&conn, out, command).await
        }
        Command::Api(command) => {
            let conn = Connection::open(&cli.global, None).await?;
            crate::generated::run(&conn, command).await?;
            Ok(ExitClass::Success)
        }
        Command::Callbacks(command) => callbacks::run(out, command).await,
        Command::Bulk(command) => crate::bulk::run(&cli.global, out, command).await,
        Command::Sandbox(args) => sandbox::run(out, args).await,
        Command::Profile(command) => profile::run(&cli.global, out, command),
        Command::Completions { shell } => {
            let mut command = Cli::command();
            clap_complete::generate(shell, &mut command, "whispir", &mut std::io::stdout());
            Ok(ExitClass::Success)
        }
    }
}
