//! Exit codes by class of failure, and the error every command returns.
//!
//! [`CLASSES`] is the one table of codes: `--help` and the README show it.

use std::fmt;
use std::process::ExitCode;

use whispir::Effect;

/// How a run ended, one exit code each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitClass {
    /// Everything asked for was done.
    Success,
    /// A failure of no other class (a file that cannot be written, a wait
    /// that reached its deadline, bulk rows that failed and can be sent again).
    Failure,
    /// The command line, a config file or an input file is wrong.
    Usage,
    /// Credentials are missing, or the API refused them or the permission.
    Auth,
    /// The resource does not exist.
    NotFound,
    /// The API (or the SDK, before sending) refused the request's content.
    Invalid,
    /// The plan's quota is spent: wait and run again.
    Throttled,
    /// Whispir failed (5xx) on a request that did not send anything.
    Server,
    /// No answer came back, and nothing was sent.
    Transport,
    /// A send may have gone out although it failed: check before sending again.
    MayHaveSent,
    /// Stopped by Ctrl-C.
    Interrupted,
}

/// Every class with its code and what it means.
pub const CLASSES: [(ExitClass, u8, &str); 11] = [
    (ExitClass::Success, 0, "success"),
    (
        ExitClass::Failure,
        1,
        "other failure (file, wait deadline, bulk rows to send again)",
    ),
    (
        ExitClass::Usage,
        2,
        "usage: bad flags, config file or input file",
    ),
    (
        ExitClass::Auth,
        3,
        "auth: credentials missing or refused, or no permission",
    ),
    (ExitClass::NotFound, 4, "not found"),
    (
        ExitClass::Invalid,
        5,
        "invalid: the request or the CSV's content was refused",
    ),
    (
        ExitClass::Throttled,
        6,
        "throttled: the plan's quota is spent",
    ),
    (ExitClass::Server, 7, "server: Whispir failed (5xx)"),
    (
        ExitClass::Transport,
        8,
        "transport: no answer; nothing was sent",
    ),
    (
        ExitClass::MayHaveSent,
        9,
        "may have sent: check before sending again",
    ),
    (ExitClass::Interrupted, 130, "interrupted by Ctrl-C"),
];

impl ExitClass {
    /// The process exit code.
    pub fn code(self) -> u8 {
        CLASSES
            .iter()
            .find(|(class, _, _)| *class == self)
            .map_or(1, |(_, code, _)| *code)
    }

    /// The class of an SDK error. A send that may have been carried out
    /// comes first: it is what decides whether to send again.
    pub fn of(err: &whispir::Error) -> Self {
        if err.effect() == Some(Effect::Unrepeatable) && err.may_have_been_processed() {
            ExitClass::MayHaveSent
        } else if err.is_auth() || err.is_forbidden() {
            ExitClass::Auth
        } else if err.is_not_found() {
            ExitClass::NotFound
        } else if err.is_invalid() || err.is_invalid_request() {
            ExitClass::Invalid
        } else if err.is_throttled() {
            ExitClass::Throttled
        } else if err.is_server_error() {
            ExitClass::Server
        } else if err.is_transport() {
            ExitClass::Transport
        } else {
            ExitClass::Failure
        }
    }
}

impl From<ExitClass> for ExitCode {
    fn from(class: ExitClass) -> Self {
        ExitCode::from(class.code())
    }
}

/// The exit code table for `--help`.
pub fn help_table() -> String {
    let mut text = String::from("Exit codes:\n");
    for (_, code, meaning) in CLASSES {
        text.push_str(&format!("  {code:>3}  {meaning}\n"));
    }
    text
}

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The API or the SDK refused or failed.
    Api(whispir::Error),
    /// Anything else, with the class it exits with.
    Other {
        /// The exit class.
        class: ExitClass,
        /// What went wrong and what to do, in one line.
        message: String,
    },
}

impl CliError {
    /// A failure of the given class.
    pub fn new(class: ExitClass, message: impl Into<String>) -> Self {
        CliError::Other {
            class,
            message: message.into(),
        }
    }

    /// A wrong command line, config or input file.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ExitClass::Usage, message)
    }

    /// A failure of no other class.
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ExitClass::Failure, message)
    }

    /// A file operation that failed, naming what was being done.
    pub fn io(what: impl fmt::Display, err: std::io::Error) -> Self {
        Self::failure(format!("{what}: {err}"))
    }

    /// The exit class.
    pub fn exit_class(&self) -> ExitClass {
        match self {
            CliError::Api(err) => ExitClass::of(err),
            CliError::Other { class, .. } => *class,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // `{:#}` shows the SDK's whole chain; `{}` its one line.
            CliError::Api(err) if f.alternate() => write!(f, "{err:#}"),
            CliError::Api(err) => write!(f, "{err}"),
            CliError::Other { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for CliError {}

impl From<whispir::Error> for CliError {
    fn from(err: whispir::Error) -> Self {
        CliError::Api(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_its_own_code() {
        let mut codes: Vec<u8> = CLASSES.iter().map(|(_, code, _)| *code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), CLASSES.len());
    }

    #[test]
    fn an_invalid_request_refused_before_sending_is_invalid() {
        let err = whispir::Error::invalid_request(Some("messageCreate"), "no recipient");
        assert_eq!(ExitClass::of(&err), ExitClass::Invalid);
    }
}
