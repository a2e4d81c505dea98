//! What a sandbox is started with: credentials, plan quotas, message
//! timing, limits, data and faults. Readable from a JSON or YAML config file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::faults::FaultRule;

/// The credentials the sandbox accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxCredentials {
    /// User name for Basic authentication.
    pub user: String,
    /// Password for Basic authentication.
    pub password: String,
    /// The API key every request must carry in `x-api-key`.
    pub api_key: String,
    /// A Bearer token accepted from the start (the auth endpoint issues more).
    pub bearer_token: String,
}

impl Default for SandboxCredentials {
    fn default() -> Self {
        SandboxCredentials {
            user: "sandbox-user".into(),
            password: "sandbox-password".into(),
            api_key: "sandbox-api-key".into(),
            bearer_token: "sandbox-token".into(),
        }
    }
}

/// How the sandbox answers a request over the plan's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverQuota {
    /// 403 with `X-Error-Code: ERR_403_DEVELOPER_OVER_QPS` (or `…_OVER_QPD`), as Whispir does.
    #[default]
    Forbidden,
    /// 429 Too Many Requests with `Retry-After`.
    TooManyRequests,
}

/// Plan quotas; `None` means unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    /// Requests allowed per second.
    pub per_second: Option<u32>,
    /// Requests allowed per day.
    pub per_day: Option<u32>,
    /// The answer over the per-second quota.
    pub over_quota: OverQuota,
}

/// How sent messages behave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MessageBehaviour {
    /// Milliseconds each step takes: pending, then sent, then delivered (or undeliverable).
    pub step_millis: u64,
    /// Recipients whose messages fail (undeliverable).
    pub failing_recipients: Vec<String>,
    /// A reply every delivered recipient sends, when set.
    pub auto_reply: Option<String>,
    /// Milliseconds an accepted message takes to show in the message list
    /// (Whispir accepts a message *for processing*: listing it right after
    /// the 202 may not find it). 0 lists it at once.
    pub processing_delay_millis: u64,
}

impl Default for MessageBehaviour {
    fn default() -> Self {
        MessageBehaviour {
            step_millis: 1000,
            failing_recipients: vec![FAILING_NUMBER.to_string()],
            auto_reply: None,
            processing_delay_millis: 0,
        }
    }
}

/// The recipient that fails unless configured otherwise.
pub const FAILING_NUMBER: &str = "61400000999";

impl MessageBehaviour {
    /// One step of a message's life.
    pub fn step(&self) -> Duration {
        Duration::from_millis(self.step_millis)
    }

    /// How long an accepted message stays out of the message list.
    pub fn processing_delay(&self) -> Duration {
        Duration::from_millis(self.processing_delay_millis)
    }
}

/// How the sandbox retries a callback post that was not answered 2xx, for
/// callbacks registered with `retriesEnabled` (Whispir retries about
/// every five minutes for a day; the sandbox, by default, twice within
/// a second and a half).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallbackRetries {
    /// Posts in all, the first included (default 3; at least 1).
    pub attempts: u32,
    /// Milliseconds between two posts; unset, 400 before the first retry
    /// and twice as long before each next one.
    pub interval_millis: Option<u64>,
    /// Where the retries go, in turn: the first retry to the first URL, the
    /// second to the second, starting over after the last; each carries the
    /// callback's key as its auth type says. Empty (the default): the
    /// callback's own URL. For tests of services with several replicas: a
    /// retry that reaches another replica than the first post.
    pub retry_urls: Vec<String>,
}

impl Default for CallbackRetries {
    fn default() -> Self {
        CallbackRetries {
            attempts: 3,
            interval_millis: None,
            retry_urls: Vec::new(),
        }
    }
}

impl CallbackRetries {
    /// How long to wait before post `attempt` (0 is the first post).
    pub fn delay_before(&self, attempt: u32) -> Duration {
        match (attempt, self.interval_millis) {
            (0, _) => Duration::ZERO,
            (_, Some(interval)) => Duration::from_millis(interval),
            (_, None) => Duration::from_millis(200u64 << attempt.min(20)),
        }
    }

    /// Where post `attempt` goes (0 is the first post, to `url`).
    pub fn url_for<'a>(&'a self, attempt: u32, url: &'a str) -> &'a str {
        if attempt == 0 || self.retry_urls.is_empty() {
            return url;
        }
        let turn = (attempt as usize - 1) % self.retry_urls.len();
        &self.retry_urls[turn]
    }
}

/// Bounds on what clients can make the sandbox hold, so that a test that
/// runs long, or a client that misbehaves, cannot exhaust its memory or
/// file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Connections served at once, both listeners together (at least 1);
    /// further ones wait, unanswered, until one closes.
    pub max_connections: usize,
    /// Milliseconds a connection may wait before sending the headers of its
    /// next request, idle between requests included (at least 1); then it
    /// is closed.
    pub idle_timeout_millis: u64,
    /// Bearer tokens issued by the auth endpoint that stay valid; issuing
    /// one more retires the oldest. The configured
    /// [`bearer_token`](SandboxCredentials::bearer_token) always stays valid.
    pub max_tokens: usize,
    /// Callback calls recorded, all callbacks together; recording one more
    /// drops the oldest.
    pub max_callback_calls: usize,
    /// Requests [`Sandbox::requests`](crate::Sandbox::requests) keeps;
    /// recording one more drops the oldest (0 records none).
    pub max_recorded_requests: usize,
    /// Accepted messages [`Sandbox::sent_messages`](crate::Sandbox::sent_messages)
    /// keeps; recording one more drops the oldest (0 records none).
    pub max_sent_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            idle_timeout_millis: 30_000,
            max_tokens: 1_000,
            max_callback_calls: 10_000,
            max_recorded_requests: 1_000,
            max_sent_messages: 10_000,
        }
    }
}

impl Limits {
    /// How long a connection may sit without sending a request's headers.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_timeout_millis.max(1))
    }
}

/// Everything a sandbox starts with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Start without demo data.
    pub empty: bool,
    /// A JSON or YAML data file to load (after the demo data unless `empty`).
    pub data: Option<PathBuf>,
    /// Accepted credentials.
    pub credentials: SandboxCredentials,
    /// Plan quotas.
    pub quota: Quota,
    /// Message timing, failures and replies.
    pub messages: MessageBehaviour,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Bounds on connections, idle time, tokens and what is recorded.
    pub limits: Limits,
    /// How callback posts are retried.
    pub callback_retries: CallbackRetries,
    /// Milliseconds the sandbox's clock runs ahead of the machine's: the
    /// `createdTime` of new messages and the message list's 7-day window
    /// follow it. [`Sandbox::advance_clock`](crate::Sandbox::advance_clock)
    /// moves it on while the sandbox runs.
    pub clock_ahead_millis: u64,
}

/// Why a config or data file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is neither valid JSON nor valid YAML of the expected shape.
    #[error("{path} is not a valid {what}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What it should be.
        what: &'static str,
        /// Why not.
        reason: String,
    },
}

/// Reads a JSON or YAML file (by extension; YAML unless it ends in `.json`).
pub(crate) fn read_document<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |reason: String| ConfigError::Parse {
        path: path.to_path_buf(),
        what,
        reason,
    };
    if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
    {
        serde_json::from_str(&text).map_err(|err| parse_error(err.to_string()))
    } else {
        serde_saphyr::from_str(&text).map_err(|err| parse_error(err.to_string()))
    }
}

impl SandboxConfig {
    /// Reads a config file (JSON or YAML).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        read_document(path.as_ref(), "sandbox config")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_yaml_config_names_faults_and_quotas() {
        let dir = std::env::temp_dir().join(format!("sandbox-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sandbox.yaml");
        std::fs::write(
            &path,
            "empty: true\nquota:\n  per_second: 5\nfaults:\n  - operation: messageCreate\n    kind: status\n    status: 503\n    times: 2\n",
        )
        .unwrap();
        let config = SandboxConfig::from_file(&path).unwrap();
        assert!(config.empty);
        assert_eq!(config.quota.per_second, Some(5));
        assert_eq!(config.faults.len(), 1);
        assert_eq!(config.faults[0].operation.as_deref(), Some("messageCreate"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_config_may_set_some_limits_and_keep_the_defaults_of_the_rest() {
        let config: SandboxConfig =
            serde_json::from_str(r#"{"limits": {"max_connections": 3}}"#).unwrap();
        assert_eq!(config.limits.max_connections, 3);
        assert_eq!(
            config.limits.idle_timeout_millis,
            Limits::default().idle_timeout_millis
        );
    }
}
