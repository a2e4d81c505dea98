//! The options every command takes: how to print, and where the client's
//! settings come from (`config.rs` reads them).

use std::path::PathBuf;

use clap::Args;

use crate::output::Format;

/// Options every command takes: each command's help lists them under
/// their own heading, after the command's own. `Debug` shows whether a
/// credential is set, never its value.
#[derive(Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// A profile of the config file (`[profiles.NAME]`); also `WHISPIR_PROFILE`.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// The config file (default: `whispir/config.toml` in the platform's
    /// config directory); also `WHISPIR_CONFIG`.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// The API's base URL (`WHISPIR_BASE_URL`).
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// The region: au, ap, ap1, nz, us, it, education (`WHISPIR_REGION`).
    #[arg(long, global = true)]
    pub region: Option<String>,
    /// The workspace to act in (`WHISPIR_WORKSPACE`); without it, the
    /// company's default workspace.
    #[arg(long, global = true, value_name = "ID")]
    pub workspace: Option<String>,
    /// The API key (`WHISPIR_API_KEY`; prefer it or a profile: flags show in `ps`).
    #[arg(long, global = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// The user name (`WHISPIR_USERNAME`).
    #[arg(long, global = true)]
    pub username: Option<String>,
    /// The password (`WHISPIR_PASSWORD`; prefer it or a profile).
    #[arg(long, global = true)]
    pub password: Option<String>,
    /// A bearer token instead of user name and password (`WHISPIR_TOKEN`).
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// Run against an offline Whispir started inside this process (its
    /// data lives as long as the command).
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Print JSON (one object, or one JSON line per item of a list): the
    /// same as `--output json`.
    #[arg(long, global = true, conflicts_with = "output")]
    pub json: bool,
    /// How to print: `text` (aligned on a terminal, tab-separated in a
    /// pipe), `json` (as --json) or `csv` (a header row, then one row per
    /// item; a single result is one row).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub output: Option<Format>,
    /// Show the SDK's tracing on stderr and errors with their whole chain.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Export the command's metrics to an OpenTelemetry collector over
    /// OTLP/HTTP, e.g. `http://localhost:4318` (metrics go to its
    /// `/v1/metrics`); without it, `OTEL_EXPORTER_OTLP_ENDPOINT` or
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` if set. Headers come from
    /// `OTEL_EXPORTER_OTLP_HEADERS`. A collector that fails never fails the
    /// command (one warning) nor holds its exit up more than 3 s.
    #[arg(long, global = true, value_name = "ENDPOINT", value_parser = crate::telemetry::EndpointParser)]
    pub otlp: Option<String>,
}

impl GlobalArgs {
    /// The format asked for: `--output`, else `--json`, else text.
    pub fn format(&self) -> Format {
        match (self.output, self.json) {
            (Some(format), _) => format,
            (None, true) => Format::Json,
            (None, false) => Format::Text,
        }
    }
}

impl std::fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |value: &Option<String>| value.as_ref().map(|_| "<redacted>");
        f.debug_struct("GlobalArgs")
            .field("profile", &self.profile)
            .field("config", &self.config)
            .field("base_url", &self.base_url)
            .field("region", &self.region)
            .field("workspace", &self.workspace)
            .field("api_key", &set(&self.api_key))
            .field("username", &self.username)
            .field("password", &set(&self.password))
            .field("token", &set(&self.token))
            .field("sandbox", &self.sandbox)
            .field("json", &self.json)
            .field("output", &self.output)
            .field("verbose", &self.verbose)
            .field("otlp", &self.otlp.as_deref().map(crate::telemetry::shown))
            .finish()
    }
}
