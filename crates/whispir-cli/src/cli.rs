//! The command line: global options and every subcommand (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::global::GlobalArgs;

/// The Whispir messaging API from the terminal: send messages, follow
/// their delivery, manage contacts, receive callbacks and send to a whole
/// CSV file, resuming safely after a crash.
///
/// The account's settings come from one place, whole: the profile named
/// by `--profile` (or `WHISPIR_PROFILE`); else the `WHISPIR_*` environment
/// when it sets an API key or a login; else the profile `default` of the
/// config file (`whispir profile add`). Flags override single settings.
#[derive(Debug, Parser)]
#[command(name = "whispir", version, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a message.
    #[command(subcommand)]
    Send(SendCommand),
    /// Read sent messages, their delivery status and replies.
    #[command(subcommand)]
    Messages(MessagesCommand),
    /// Wait until a message is delivered (or only sent), printing its counts.
    Wait(WaitArgs),
    /// Manage contacts.
    #[command(subcommand)]
    Contacts(ContactsCommand),
    /// Receive Whispir's callbacks.
    #[command(subcommand)]
    Callbacks(CallbacksCommand),
    /// Send one message per row of a CSV file, with a journal that survives crashes.
    #[command(subcommand)]
    Bulk(BulkCommand),
    /// Save, show and list the config file's profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Call any operation of the API; its answer is printed as JSON.
    #[command(subcommand)]
    Api(crate::generated::ApiCommand),
    /// Run an offline Whispir until Ctrl-C.
    Sandbox(SandboxArgs),
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// `whispir profile …`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Save the settings given by flags and `WHISPIR_*` variables as a
    /// profile, in a file only you can read. Give secrets through the
    /// environment (WHISPIR_API_KEY, WHISPIR_PASSWORD or WHISPIR_TOKEN):
    /// a flag shows in `ps` and in the shell's history.
    Add {
        /// The profile's name (letters, digits, `-`, `_`); `default` is
        /// used when no other is chosen.
        name: String,
        /// Replace a profile of that name.
        #[arg(long)]
        force: bool,
    },
    /// Show a profile's settings (secrets only as "(set)").
    Show {
        /// The profile (default: --profile, WHISPIR_PROFILE, or `default`).
        name: Option<String>,
    },
    /// List the profiles.
    List,
}

/// `whispir send …`
#[derive(Debug, Subcommand)]
pub enum SendCommand {
    /// Send an SMS.
    Sms(SmsArgs),
    /// Send a plain-text email.
    Email(EmailArgs),
}

/// `whispir send sms`
#[derive(Debug, Args)]
pub struct SmsArgs {
    /// The recipients: mobile numbers or MRIs, separated by commas.
    #[arg(long, required_unless_present = "list")]
    pub to: Option<String>,
    /// A distribution list, by name (repeat for several; with or without --to).
    #[arg(long, value_name = "NAME")]
    pub list: Vec<String>,
    /// The text (its first line is the message's subject).
    #[arg(long)]
    pub text: String,
    /// The sender: the name of an alias set up in Whispir's Alias Manager
    /// (a number or name recipients see); without it, the account's default.
    #[arg(long, value_name = "ALIAS")]
    pub from: Option<String>,
    /// A label for reports.
    #[arg(long)]
    pub label: Option<String>,
    /// Follow delivery.
    #[command(flatten)]
    pub wait: SendWaitArgs,
}

/// `whispir send email`
#[derive(Debug, Args)]
pub struct EmailArgs {
    /// The recipients: email addresses or MRIs, separated by commas.
    #[arg(long, required_unless_present = "list")]
    pub to: Option<String>,
    /// A distribution list, by name (repeat for several; with or without --to).
    #[arg(long, value_name = "NAME")]
    pub list: Vec<String>,
    /// The sender: the name of an alias set up in Whispir's Alias Manager
    /// (an address recipients see); without it, the account's default.
    #[arg(long, value_name = "ALIAS")]
    pub from: Option<String>,
    /// The subject.
    #[arg(long)]
    pub subject: String,
    /// The plain-text body.
    #[arg(long)]
    pub body: String,
    /// A label for reports.
    #[arg(long)]
    pub label: Option<String>,
    /// Follow delivery.
    #[command(flatten)]
    pub wait: SendWaitArgs,
}

/// Following a send's delivery.
#[derive(Debug, Args)]
pub struct SendWaitArgs {
    /// After sending, wait for delivery and print the counts.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub deadline: u64,
}

/// What a wait waits for.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Until {
    /// Every recipient delivered, replied or undeliverable.
    Delivered,
    /// Every recipient handed to the network.
    Sent,
}

/// `whispir wait`
#[derive(Debug, Args)]
pub struct WaitArgs {
    /// The message id.
    pub message_id: String,
    /// Give up after this many seconds (exit code 1).
    #[arg(long, default_value_t = 300, value_name = "SECS")]
    pub deadline: u64,
    /// What to wait for.
    #[arg(long, value_enum, default_value_t = Until::Delivered)]
    pub until: Until,
}

/// How many items of a list to show.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show at most this many items.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Show every item (pages through the whole list).
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
}

/// `whispir messages list`
#[derive(Debug, Args)]
pub struct MessageListArgs {
    /// How many to show.
    #[command(flatten)]
    pub list: ListArgs,
    /// Only messages sent at or after this instant (RFC 3339, e.g.
    /// `2026-11-01T00:00:00Z`); Whispir lists only the last 7 days without it.
    #[arg(long, value_name = "TIME")]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only messages sent at or before this instant (default: now).
    #[arg(long, value_name = "TIME", requires = "since")]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Also the messages other users of the workspace sent (`viewType=shared`).
    #[arg(long)]
    pub shared: bool,
}

/// `whispir messages …`
#[derive(Debug, Subcommand)]
pub enum MessagesCommand {
    /// List sent messages, in Whispir's order (its examples show the newest
    /// first). Whispir lists only the last 7 days and the calling user's
    /// messages unless `--since` and `--shared` say otherwise.
    List(MessageListArgs),
    /// Show one message.
    Show {
        /// The message id.
        message_id: String,
    },
    /// Show a message's delivery counts (or each recipient with `--detailed`).
    Status {
        /// The message id.
        message_id: String,
        /// Each recipient's status instead of counts.
        #[arg(long)]
        detailed: bool,
    },
    /// Show the replies to a message.
    Responses {
        /// The message id.
        message_id: String,
    },
}

/// A contact's fields given as flags.
#[derive(Debug, Args)]
pub struct ContactFields {
    /// First name.
    #[arg(long)]
    pub first_name: Option<String>,
    /// Last name.
    #[arg(long)]
    pub last_name: Option<String>,
    /// Mobile number.
    #[arg(long)]
    pub mobile: Option<String>,
    /// Email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Time zone, e.g. `Australia/Melbourne`.
    #[arg(long)]
    pub timezone: Option<String>,
    /// Country of work, e.g. `Australia`.
    #[arg(long)]
    pub country: Option<String>,
    /// The contact as JSON, from a file or `-` for stdin; flags override its fields.
    #[arg(long, value_name = "FILE|-")]
    pub body: Option<String>,
}

/// `whispir contacts …`
#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// List contacts.
    List(ListArgs),
    /// Show one contact.
    Show {
        /// The contact id.
        contact_id: String,
    },
    /// Create a contact.
    Create(ContactFields),
    /// Change a contact: the given fields replace its own.
    Update {
        /// The contact id.
        contact_id: String,
        /// The fields to change.
        #[command(flatten)]
        fields: ContactFields,
    },
    /// Delete a contact.
    Delete {
        /// The contact id.
        contact_id: String,
    },
}

/// How Whispir proves a callback is from it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CallbackMode {
    /// The key in the `X-Whispir-Callback-Key` header (Whispir's `httpheader`).
    Header,
    /// The key in the `auth` query parameter (`queryparam`).
    Query,
    /// Basic authentication (`basicauth`).
    Basic,
    /// A bearer token (`bearertoken`).
    Bearer,
}

/// `whispir callbacks …`
#[derive(Debug, Subcommand)]
pub enum CallbacksCommand {
    /// Receive callbacks and print each verified one as a JSON line.
    Listen {
        /// Port to listen on (0 picks a free one, printed on stderr).
        #[arg(long, default_value_t = 8090)]
        port: u16,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1")]
        host: std::net::IpAddr,
        /// How the key travels.
        #[arg(long, value_enum, default_value_t = CallbackMode::Header)]
        mode: CallbackMode,
        /// The key (or set `WHISPIR_CALLBACK_KEY`, which stays out of `ps`).
        #[arg(long)]
        key: Option<String>,
        /// Act once per event across replicas and restarts: a Redis URL
        /// (`redis://[user:password@]host[:port][/db]`; or set
        /// `WHISPIR_CALLBACK_DEDUP`, which stays out of `ps`). A retry of a
        /// callback printed before is answered 200 and not printed.
        #[arg(long, env = "WHISPIR_CALLBACK_DEDUP", hide_env_values = true)]
        dedup: Option<String>,
        /// The namespace of the Redis keys: replicas of one service share it.
        #[arg(long, default_value = "callbacks", requires = "dedup")]
        dedup_namespace: String,
        /// Seconds a replica's claim on a callback lasts unless renewed (it
        /// is renewed while the replica handles the callback): a replica
        /// that dies mid-handler frees the callback after this.
        #[arg(long, default_value_t = 120.0, requires = "dedup")]
        dedup_lease: f64,
        /// What to do while Redis cannot be reached.
        #[arg(long, value_enum, default_value_t = DedupUnavailable::Refuse, requires = "dedup")]
        when_dedup_unavailable: DedupUnavailable,
    },
}

/// What `callbacks listen --dedup` does while Redis cannot be reached.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DedupUnavailable {
    /// Answer 503, so that Whispir retries later: nothing printed twice.
    Refuse,
    /// Print the callback anyway (a warning on stderr): a retry that
    /// reaches another replica may be printed again.
    Act,
}

/// `whispir bulk …`
#[derive(Debug, Subcommand)]
pub enum BulkCommand {
    /// Send an SMS to each row of a CSV file (a `to` column, plus a `text`
    /// column or any columns a `--template` names): as one dynamic message
    /// per chunk of up to 10,000 rows (at most 3 requests a chunk), or one
    /// message per row with --per-row.
    Send(BulkSendArgs),
    /// Summarise the journal of a CSV file's sends (a dynamic journal: each
    /// row's chunk and state).
    Status(BulkStatusArgs),
    /// Record what an operator found out about an uncertain row.
    Resolve {
        /// The CSV file and its journal.
        #[command(flatten)]
        journal: JournalArgs,
        /// The row, numbered as a spreadsheet numbers it (the header is row 1).
        row: u64,
        /// What was found.
        #[arg(value_enum)]
        outcome: Resolution,
    },
}

/// A CSV file and its journal: every `bulk` command takes them the same way.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// The CSV file.
    pub file: PathBuf,
    /// The journal (default: the CSV's path with the extension `.journal`,
    /// or `.sandbox.journal` with --sandbox).
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
}

/// `whispir bulk status`
#[derive(Debug, Args)]
pub struct BulkStatusArgs {
    /// The CSV file and its journal.
    #[command(flatten)]
    pub source: JournalArgs,
    /// Also read each sent row's delivery and replies from Whispir (a
    /// dynamic journal only; needs credentials and the CSV as it was sent;
    /// the message's status and replies page by 20, so 10,000 rows cost
    /// at least 500 requests).
    #[arg(long)]
    pub results: bool,
}

/// What an operator found out about a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Resolution {
    /// The message went out: never send it again.
    Sent,
    /// It did not: the next run sends it.
    NotSent,
}

/// The plans `bulk send` paces itself to.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum PlanName {
    /// 5 requests a second, 10,000 a day.
    #[value(name = "5")]
    Rps5,
    /// 10 requests a second, 20,000 a day.
    #[value(name = "10")]
    Rps10,
    /// 30 requests a second, 50,000 a day.
    #[value(name = "30")]
    Rps30,
}

impl PlanName {
    /// The SDK's plan.
    pub fn plan(self) -> whispir::Plan {
        match self {
            PlanName::Rps5 => whispir::Plan::RPS_5_DAILY_10K,
            PlanName::Rps10 => whispir::Plan::RPS_10_DAILY_20K,
            PlanName::Rps30 => whispir::Plan::RPS_30_DAILY_50K,
        }
    }
}

/// `whispir bulk send`
#[derive(Debug, Args)]
pub struct BulkSendArgs {
    /// The CSV file and its journal.
    #[command(flatten)]
    pub source: JournalArgs,
    /// The message, with `{column}` placeholders (`{{` and `}}` for braces);
    /// without it the `text` column is the message.
    #[arg(long)]
    pub template: Option<String>,
    /// Check the file and show what would be sent, without sending.
    #[arg(long)]
    pub dry_run: bool,
    /// Send one message per row (one request each) instead of one dynamic
    /// message per chunk: for rows a dynamic message cannot send, such as
    /// a `to` cell with several recipients, or a template that must send
    /// `@@` as text.
    #[arg(long)]
    pub per_row: bool,
    /// The most rows in one dynamic message (default 10,000, Whispir's
    /// limit, or what the journal began with); not with --per-row.
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub rows_per_chunk: Option<u16>,
    /// The account's plan, in requests per second (`WHISPIR_PLAN`): the
    /// pace of --per-row sends, and the limit of every request.
    #[arg(long, value_enum, env = "WHISPIR_PLAN", default_value = "5")]
    pub plan: PlanName,
    /// Before reconciling rows (or chunks) whose send may have happened (cut
    /// off by a crash, or answered without saying), wait until their request began
    /// at least this long ago: Whispir accepts a message for processing
    /// and lists it later, so a shorter wait could miss it.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub settle: u64,
}

/// `whispir sandbox`
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: std::net::IpAddr,
    /// Start without demo data.
    #[arg(long)]
    pub empty: bool,
    /// Milliseconds each step of a message's life takes (pending, sent, delivered).
    #[arg(long, value_name = "MS")]
    pub message_step_ms: Option<u64>,
    /// Make every delivered recipient reply with this text.
    #[arg(long)]
    pub auto_reply: Option<String>,
    /// Print nothing per request (by default one line each on stderr:
    /// method, path, operation, status; a JSON object each with --json).
    #[arg(long)]
    pub quiet: bool,
    /// Milliseconds before an accepted message shows in the message list
    /// (Whispir accepts a message for processing and lists it later).
    #[arg(long, value_name = "MS")]
    pub processing_delay_ms: Option<u64>,
    /// Seconds the sandbox's clock runs ahead of the machine's: new
    /// messages are dated by it and the message list's 7-day window ends at it.
    #[arg(long, value_name = "SECS")]
    pub clock_ahead_secs: Option<u64>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use clap::Parser as _;

    use super::*;

    #[test]
    fn debug_of_the_options_shows_a_credential_as_set_never_its_value() {
        let cli = Cli::try_parse_from([
            "whispir",
            "--password",
            "hunter2-pw",
            "--token",
            "hunter2-token",
            "--api-key",
            "hunter2-key",
            "--username",
            "ops",
            "--otlp",
            "https://otel:hunter2-otlp@collector:4318/?token=hunter2-query",
            "messages",
            "list",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("password: Some(\"<redacted>\")"), "{shown}");
        assert!(shown.contains("username: Some(\"ops\")"), "{shown}");
        assert!(shown.contains("https://collector:4318/"), "{shown}");
    }
}
