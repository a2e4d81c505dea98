//! Building a client: region or base URL, credentials, API key, timeouts.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};

use std::num::NonZeroUsize;

use crate::generated::Client;
use crate::runtime::context::{
    CallOptions, ClientContext, Credentials, DEFAULT_USER_AGENT, InvalidCredential,
};
use crate::runtime::metrics::Metrics;
use crate::runtime::rate_limit::Plan;
use crate::runtime::retry::RetryConfig;

/// Whispir's regional API hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// Australia: `https://api.au.whispir.com`.
    Au,
    /// Asia Pacific (Singapore): `https://api.ap.whispir.com`.
    Ap,
    /// Asia Pacific 1: `https://api.ap1.whispir.com`.
    Ap1,
    /// New Zealand: `https://api.nz.whispir.com`.
    Nz,
    /// United States: `https://api.us.whispir.com`.
    Us,
    /// Italy: `https://api.it.whispir.com`.
    It,
    /// Education: `https://api.education.whispir.com`.
    Education,
}

impl Region {
    /// Every region.
    pub const ALL: [Region; 7] = [
        Region::Au,
        Region::Ap,
        Region::Ap1,
        Region::Nz,
        Region::Us,
        Region::It,
        Region::Education,
    ];

    /// The region's short name, as in its host name (`au`, `ap1`, …).
    pub fn name(self) -> &'static str {
        match self {
            Region::Au => "au",
            Region::Ap => "ap",
            Region::Ap1 => "ap1",
            Region::Nz => "nz",
            Region::Us => "us",
            Region::It => "it",
            Region::Education => "education",
        }
    }

    /// The region's base URL.
    pub fn base_url(self) -> String {
        format!("https://api.{}.whispir.com", self.name())
    }
}

impl FromStr for Region {
    type Err = BuildError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim().to_ascii_lowercase();
        Region::ALL
            .into_iter()
            .find(|region| region.name() == wanted)
            .ok_or_else(|| BuildError::UnknownRegion(name.to_string()))
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No credentials were given.
    #[error("no credentials: set basic credentials or a bearer token")]
    MissingCredentials,
    /// No API key was given.
    #[error("no API key: Whispir needs one on every request")]
    MissingApiKey,
    /// A shared quota was given without a plan to share.
    #[cfg(feature = "redis")]
    #[error("a shared quota without a plan: call rate_limit(Plan::…) before shared(…)")]
    SharedWithoutPlan,
    /// The shared quota's Redis server is a node of a Redis Cluster
    /// (`cluster_enabled:1`), which the shared plan does not support.
    #[cfg(feature = "redis")]
    #[error(
        "the shared quota's Redis server {server} is a Redis Cluster node, which the shared plan does not support: use a standalone Redis or Valkey server"
    )]
    SharedQuotaOnCluster {
        /// The server's address (without credentials).
        server: String,
    },
    /// The region name is not one of Whispir's.
    #[error("unknown region {0:?}: expected one of au, ap, ap1, nz, us, it, education")]
    UnknownRegion(String),
    /// The base URL cannot be used.
    #[error("base URL {url:?} {reason}")]
    InvalidBaseUrl {
        /// The URL as given (without credentials).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A credential cannot be sent in a header.
    #[error(transparent)]
    InvalidCredential(#[from] InvalidCredential),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client")]
    Http(#[source] reqwest::Error),
    /// Environment variables are missing or unusable: every problem found,
    /// so that one run names everything to set.
    #[error("{}", EnvironmentProblems(.0))]
    Environment(Vec<EnvironmentProblem>),
}

/// One environment variable that is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvironmentProblem {
    /// The variable.
    pub name: &'static str,
    /// What is wrong.
    pub reason: &'static str,
}

/// Shows every problem on one line.
struct EnvironmentProblems<'a>(&'a [EnvironmentProblem]);

impl std::fmt::Display for EnvironmentProblems<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let noun = if self.0.len() == 1 {
            "environment variable"
        } else {
            "environment variables"
        };
        f.write_str(noun)?;
        for (n, problem) in self.0.iter().enumerate() {
            let joint = if n == 0 { " " } else { "; " };
            write!(f, "{joint}{} {}", problem.name, problem.reason)?;
        }
        Ok(())
    }
}

/// Builds a [`Client`]. Start with [`Client::builder`].
#[derive(Debug, Default)]
pub struct ClientBuilder {
    base_url: Option<Result<String, BuildError>>,
    credentials: Option<Credentials>,
    api_key: Option<SecretString>,
    connect_timeout: Option<Duration>,
    user_agent: Option<String>,
    http_client: Option<reqwest::ClientBuilder>,
    root_certificates: Vec<reqwest::Certificate>,
    options: CallOptions,
    /// The meter given to [`ClientBuilder::meter_provider`].
    #[cfg(feature = "opentelemetry")]
    meter: Option<opentelemetry::metrics::Meter>,
}

/// Connect timeout unless set otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub use crate::runtime::context::{DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_TIMEOUT};

impl ClientBuilder {
    /// Send requests to a region's host (the default is [`Region::Au`]).
    pub fn region(mut self, region: Region) -> Self {
        self.base_url = Some(Ok(region.base_url()));
        self
    }

    /// Send requests to another base URL: `https://…`, or `http://` on a
    /// loopback address for local servers and tests.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(Ok(url.into()));
        self
    }

    /// The credentials: [`Credentials::basic`] or [`Credentials::bearer`].
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The API key sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(SecretString::from(key.into()));
        self
    }

    /// How long connecting may take, per attempt (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// How long a whole call may take (default 30 s): every attempt,
    /// redirect, rate-limit wait, pause the API asked for, and the reading
    /// of the answer. Past it the call fails with a timeout that says
    /// whether the request may have been sent; a retry or pause that could
    /// not finish in time is not started.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// How long one attempt may take, from sending the request to the end
    /// of its answer (default 10 s), so that a stuck attempt leaves time to
    /// retry within [`ClientBuilder::timeout`].
    pub fn attempt_timeout(mut self, timeout: Duration) -> Self {
        self.options.attempt_timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `whispir-rs/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Keep at most this many bytes of an error body (default 64 KiB).
    pub fn error_body_limit(mut self, limit: usize) -> Self {
        self.options.error_body_limit = limit;
        self
    }

    /// Read at most this many bytes of a success body (default 16 MiB); a
    /// longer one is an error naming the limit and the operation.
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.options.body_limit = limit;
        self
    }

    /// All call options at once (retries, budget, rate limit, cache, body
    /// limits, `timeout`, `attempt_timeout`), replacing what earlier setters
    /// chose: call it first, then the setters that change single options.
    pub fn call_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// How to retry (default: 3 attempts; [`RetryConfig::disabled`] for none).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.options.retry = retry;
        self
    }

    /// Size of the retry budget shared by all clones (default 500 tokens;
    /// a retry costs 5, or 10 after a transport failure; a success earns 1).
    pub fn retry_budget(mut self, tokens: u32) -> Self {
        self.options.retry_budget = tokens;
        self
    }

    /// Hold requests to the account's plan: waits instead of sending a
    /// request the API would refuse, and fails fast without sending once the
    /// daily budget is spent. Off by default.
    pub fn rate_limit(mut self, plan: Plan) -> Self {
        self.options.rate_limit = Some(plan);
        self
    }

    /// Share the [`ClientBuilder::rate_limit`] plan with every process
    /// whose client names the same Redis server and key (feature `redis`):
    /// requests per second, the API's pauses and the daily budget count
    /// for all of them together. What happens while Redis cannot be
    /// reached is [`RedisQuota::when_unavailable`](crate::RedisQuota::when_unavailable).
    /// [`ClientBuilder::build`] asks the server once (within the quota's
    /// timeout) and refuses a Redis Cluster node
    /// ([`BuildError::SharedQuotaOnCluster`]).
    #[cfg(feature = "redis")]
    pub fn shared(mut self, quota: crate::runtime::rate_limit::RedisQuota) -> Self {
        self.options.shared_quota = Some(quota);
        self
    }

    /// Cache up to `capacity` answers to reads and revalidate them with
    /// `ETag`/`Last-Modified`, answering a 304 with the cached value. Off by
    /// default; `0` turns it off. Answers marked `Cache-Control: no-store`
    /// are never kept; answers from another origin (a read redirected
    /// there) are never kept. Entries are keyed by URL, `Accept`, the
    /// operation's header parameters and the credentials' identity.
    pub fn response_cache(mut self, capacity: usize) -> Self {
        self.options.response_cache = NonZeroUsize::new(capacity);
        self
    }

    /// The most bytes the response cache holds (default 4 MiB).
    pub fn response_cache_bytes(mut self, bytes: usize) -> Self {
        self.options.response_cache_bytes = bytes;
        self
    }

    /// Start from a `reqwest::ClientBuilder` of your own (proxy, TLS roots,
    /// pool settings). The SDK still sets what it relies on: its timeouts
    /// (the defaults, or those given to this builder), no redirect
    /// following by reqwest (the SDK follows redirects by its own rules,
    /// which never send a write or credentials to another origin) and no
    /// retries by reqwest (the SDK's own retries pass the rate limiter and
    /// never repeat a send).
    ///
    /// Give credentials to [`ClientBuilder::credentials`] and
    /// [`ClientBuilder::api_key`] only, never as the builder's
    /// `default_headers`: reqwest adds default headers to every request it
    /// sends, including one the SDK sends to another origin without
    /// credentials.
    pub fn http_client(mut self, builder: reqwest::ClientBuilder) -> Self {
        self.http_client = Some(builder);
        self
    }

    /// Trust this certificate authority too, besides the platform's roots
    /// (for a TLS-inspecting proxy or a test server; make one with
    /// [`reqwest::Certificate::from_pem`], `reqwest` being
    /// [`whispir::reqwest`](crate::reqwest)).
    pub fn add_root_certificate(mut self, certificate: reqwest::Certificate) -> Self {
        self.root_certificates.push(certificate);
        self
    }

    /// Record the client's metrics with this meter provider (feature
    /// `opentelemetry`; the meter's scope is `whispir`, with the crate's
    /// version). Without it, the client records with the global provider
    /// (`opentelemetry::global::meter_provider()`) as it is **when the
    /// client is built**: install yours with
    /// `opentelemetry::global::set_meter_provider` before building, or a
    /// client built earlier records nowhere. The instruments are in the
    /// README, "Observability".
    #[cfg(feature = "opentelemetry")]
    pub fn meter_provider(mut self, provider: &impl opentelemetry::metrics::MeterProvider) -> Self {
        self.meter = Some(provider.meter_with_scope(crate::runtime::metrics::scope()));
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<Client, BuildError> {
        let base_url = match self.base_url {
            Some(url) => check_base_url(&url?)?,
            None => Region::Au.base_url(),
        };
        let credentials = self.credentials.ok_or(BuildError::MissingCredentials)?;
        let api_key = self.api_key.ok_or(BuildError::MissingApiKey)?;
        #[cfg(feature = "redis")]
        if self.options.shared_quota.is_some() && self.options.rate_limit.is_none() {
            return Err(BuildError::SharedWithoutPlan);
        }
        #[cfg(feature = "redis")]
        if let Some(quota) = &self.options.shared_quota
            && quota.is_cluster_node()
        {
            return Err(BuildError::SharedQuotaOnCluster {
                server: quota.server(),
            });
        }
        let user_agent = self.user_agent.as_deref().unwrap_or(DEFAULT_USER_AGENT);
        let attempt_timeout = self.options.attempt_timeout;
        #[cfg(feature = "opentelemetry")]
        let metrics = Metrics::new(
            &self
                .meter
                .unwrap_or_else(crate::runtime::metrics::global_meter),
        );
        #[cfg(not(feature = "opentelemetry"))]
        let metrics = Metrics;
        let context =
            ClientContext::with_user_agent(&credentials, api_key.expose_secret(), user_agent)?
                .with_metrics(self.options, metrics);
        crate::tls::install_tls_provider();
        let mut http = self
            .root_certificates
            .into_iter()
            .fold(self.http_client.unwrap_or_default(), |http, root| {
                http.add_root_certificate(root)
            });
        // The limiter counts a request on a new connection from when the
        // connection is ready (see `rate_limit::connecting`).
        if let Some(limiter) = context.rate_limiter() {
            http = http.connector_layer(limiter.connections().layer());
        }
        let http = http
            .connect_timeout(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))
            // The attempt timeout of every request; one with less of its
            // call's budget left sets that on itself instead (see
            // `execute::RequestTimeout`).
            .timeout(attempt_timeout)
            // The SDK follows redirects itself (see `redirect`).
            .redirect(reqwest::redirect::Policy::none())
            // One retry layer: the SDK's, where every attempt passes the
            // limiter, counts, and is decided by the operation's effect.
            .retry(reqwest::retry::never())
            .build()
            .map_err(BuildError::Http)?;
        Ok(Client::new_with_client(&base_url, http, context))
    }
}

/// Checks a base URL and returns it without a trailing slash.
fn check_base_url(raw: &str) -> Result<String, BuildError> {
    // Only scheme, host and path are shown: user info, query and fragment
    // may hold secrets.
    let shown = raw
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('@')
        .next_back()
        .unwrap_or_default();
    let scheme = raw.split_once("://").map(|(scheme, _)| scheme);
    let shown = match scheme {
        Some(scheme) if !shown.contains("://") => format!("{scheme}://{shown}"),
        _ => shown.to_string(),
    };
    let invalid = |reason| BuildError::InvalidBaseUrl {
        url: shown.clone(),
        reason,
    };
    let url = url::Url::parse(raw).map_err(|_| invalid("is not a valid URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain credentials: use the builder's credentials",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                "uses plain HTTP: Whispir refuses it (403); use https",
            ));
        }
        _ => return Err(invalid("must use https")),
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

impl Client {
    /// A builder for a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The client's credentials, options and shared state (limiter, budget).
    pub fn context(&self) -> &ClientContext {
        &self.inner
    }

    /// Requests left today under the configured plan (`None` without a
    /// plan or without a daily cap); [`Client::resets_in`] says when more
    /// come back. A plan shared between processes (feature `redis`) gives
    /// all processes' use as of this one's last exchange with Redis (see
    /// [`RateLimiter::remaining_today`](crate::RateLimiter::remaining_today)).
    pub fn remaining_today(&self) -> Option<u32> {
        self.inner
            .rate_limiter()
            .and_then(|limiter| limiter.remaining_today())
    }

    /// When the daily budget next gives requests back: for a rolling window,
    /// when the oldest request of the last 24 h leaves it; for a fixed reset
    /// time, the time until it (`None` without a plan or daily cap).
    pub fn resets_in(&self) -> Option<std::time::Duration> {
        self.inner
            .rate_limiter()
            .and_then(|limiter| limiter.resets_in())
    }

    /// A client configured from the environment: `WHISPIR_API_KEY`, then
    /// `WHISPIR_USERNAME` and `WHISPIR_PASSWORD` or `WHISPIR_TOKEN`, and
    /// optionally `WHISPIR_BASE_URL` or `WHISPIR_REGION`.
    pub fn from_env() -> Result<Client, BuildError> {
        Self::builder_from(|name| std::env::var(name).ok())?.build()
    }

    /// A builder filled from a variable lookup (the environment, in
    /// [`Client::from_env`]); further settings can be added before `build`.
    pub fn builder_from(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<ClientBuilder, BuildError> {
        let get = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut builder = Self::builder();
        let mut problems = Vec::new();
        let mut problem = |name, reason| problems.push(EnvironmentProblem { name, reason });
        match get("WHISPIR_API_KEY") {
            Some(api_key) => builder = builder.api_key(api_key),
            None => problem("WHISPIR_API_KEY", "is not set"),
        }
        match (
            get("WHISPIR_TOKEN"),
            get("WHISPIR_USERNAME"),
            get("WHISPIR_PASSWORD"),
        ) {
            (Some(token), None, None) => {
                builder = builder.credentials(Credentials::bearer(token));
            }
            (None, Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::basic(user, password));
            }
            (Some(_), _, _) => problem(
                "WHISPIR_TOKEN",
                "is set together with WHISPIR_USERNAME/WHISPIR_PASSWORD: set one or the other",
            ),
            (None, Some(_), None) => problem("WHISPIR_PASSWORD", "is not set"),
            (None, None, Some(_)) => problem("WHISPIR_USERNAME", "is not set"),
            (None, None, None) => problem(
                "WHISPIR_USERNAME",
                "and WHISPIR_PASSWORD are not set (nor WHISPIR_TOKEN)",
            ),
        }
        if !problems.is_empty() {
            return Err(BuildError::Environment(problems));
        }
        if let Some(url) = get("WHISPIR_BASE_URL") {
            builder = builder.base_url(url);
        } else if let Some(region) = get("WHISPIR_REGION") {
            builder = builder.region(region.parse()?);
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests;
