//! What every request of a client carries besides its own arguments:
//! credentials and the API key.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue, USER_AGENT};
use secrecy::{ExposeSecret as _, SecretString};

use std::num::NonZeroUsize;

use crate::runtime::cache::{DEFAULT_CACHE_BYTES, ResponseCache};
use crate::runtime::metrics::Metrics;
use crate::runtime::rate_limit::{Plan, RateLimiter};
use crate::runtime::redirect_memory::RedirectMemory;
use crate::runtime::retry::{RetryBudget, RetryConfig};

pub use crate::runtime::wire::API_KEY_HEADER;

/// Whole-call timeout unless set otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Per-attempt timeout unless set otherwise.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How the client proves who it is. Whispir wants one of these **and** an
/// API key on every request.
#[derive(Clone)]
pub enum Credentials {
    /// HTTP Basic with a Whispir user name and password.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: SecretString,
    },
    /// A bearer token, e.g. one from the auth endpoint.
    Bearer(SecretString),
}

impl Credentials {
    /// Basic credentials from a user name and password.
    pub fn basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials::Basic {
            user: user.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// Bearer credentials from a token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Credentials::Bearer(SecretString::from(token.into()))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { user, .. } => f
                .debug_struct("Basic")
                .field("user", user)
                .field("password", &"[redacted]")
                .finish(),
            Credentials::Bearer(_) => f.debug_tuple("Bearer").field(&"[redacted]").finish(),
        }
    }
}

/// A header value could not be built from a credential.
#[derive(Debug, thiserror::Error)]
#[error("{what} contains characters that cannot be sent in an HTTP header")]
pub struct InvalidCredential {
    what: &'static str,
}

/// The per-client state the generated code hands to the hooks: ready-made,
/// sensitive header values for authentication, and the behaviour around
/// every call (retries, rate limit, redirects, cache), shared by all clones.
#[derive(Clone)]
pub struct ClientContext {
    headers: Arc<AuthHeaders>,
    policy: Arc<CallPolicy>,
}

/// How a client behaves around each call. Plain configuration; the client
/// builds its shared state (retry budget, limiter, caches) from it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOptions {
    /// Retries (default: 3 attempts, see [`RetryConfig`]).
    pub retry: RetryConfig,
    /// Tokens of the retry budget shared by all clones (default 500).
    pub retry_budget: u32,
    /// Client-side rate limit for the account's plan (default: none).
    pub rate_limit: Option<Plan>,
    /// Where the plan is shared with other processes (default: nowhere,
    /// the plan is this client's alone). Needs [`CallOptions::rate_limit`].
    #[cfg(feature = "redis")]
    pub shared_quota: Option<crate::runtime::rate_limit::RedisQuota>,
    /// Capacity of the 304 response cache in answers (default: off).
    pub response_cache: Option<NonZeroUsize>,
    /// Bytes the 304 response cache holds at most (default 4 MiB); an
    /// answer larger than this is never cached.
    pub response_cache_bytes: usize,
    /// Bytes of an error body kept (default 64 KiB); the rest is never read.
    pub error_body_limit: usize,
    /// Bytes of a success body read at most (default 16 MiB); a longer body
    /// is an error that names the limit (the request was carried out).
    pub body_limit: usize,
    /// How long a whole call may take (default 30 s): every attempt,
    /// redirect, rate-limit wait, pause and body read of it. A retry that
    /// could not finish in time is not started.
    pub timeout: Duration,
    /// How long one attempt may take, from sending the request to the end
    /// of its answer (default 10 s), and never longer than what is left of
    /// [`CallOptions::timeout`].
    pub attempt_timeout: Duration,
}

/// How many bytes of a success body are read unless set otherwise.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024 * 1024;

impl Default for CallOptions {
    fn default() -> Self {
        Self {
            retry: RetryConfig::default(),
            retry_budget: 500,
            rate_limit: None,
            #[cfg(feature = "redis")]
            shared_quota: None,
            response_cache: None,
            response_cache_bytes: DEFAULT_CACHE_BYTES,
            error_body_limit: whispir_errors::DEFAULT_BODY_LIMIT,
            body_limit: DEFAULT_BODY_LIMIT,
            timeout: DEFAULT_TIMEOUT,
            attempt_timeout: DEFAULT_ATTEMPT_TIMEOUT,
        }
    }
}

/// The shared state built from [`CallOptions`].
#[derive(Debug)]
pub(crate) struct CallPolicy {
    pub(crate) options: CallOptions,
    pub(crate) budget: RetryBudget,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) redirects: RedirectMemory,
    pub(crate) cache: Option<ResponseCache>,
    /// The client's instruments (nothing without the feature `opentelemetry`).
    pub(crate) metrics: Metrics,
}

impl CallPolicy {
    /// The shared state of `options`, recording into `metrics`; with a
    /// daily budget, its gauge reads this state while the client lives.
    fn shared(options: CallOptions, metrics: Metrics) -> Arc<Self> {
        let policy = Arc::new(Self::new(options, metrics));
        #[cfg(feature = "opentelemetry")]
        if policy
            .limiter
            .as_ref()
            .is_some_and(|limiter| limiter.plan().per_day().is_some())
        {
            let weak = Arc::downgrade(&policy);
            policy.metrics.observe_daily_remaining(move || {
                let policy = weak.upgrade()?;
                let limiter = policy.limiter.as_ref()?;
                Some((limiter.remaining_today()?, limiter.scope()))
            });
        }
        policy
    }

    fn new(options: CallOptions, metrics: Metrics) -> Self {
        Self {
            metrics,
            budget: RetryBudget::new(options.retry_budget),
            limiter: options.rate_limit.map(|plan| {
                #[cfg(feature = "redis")]
                if let Some(quota) = &options.shared_quota {
                    return RateLimiter::shared(plan, quota.clone());
                }
                RateLimiter::new(plan)
            }),
            redirects: RedirectMemory::default(),
            cache: options
                .response_cache
                .map(|entries| ResponseCache::new(entries, options.response_cache_bytes)),
            options,
        }
    }
}

struct AuthHeaders {
    authorization: HeaderValue,
    api_key: HeaderValue,
    user_agent: HeaderValue,
}

/// The `User-Agent` the SDK sends: `whispir-rs/<version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("whispir-rs/", env!("CARGO_PKG_VERSION"));

impl ClientContext {
    /// Builds the context from credentials and the API key.
    pub fn new(credentials: &Credentials, api_key: &str) -> Result<Self, InvalidCredential> {
        Self::with_user_agent(credentials, api_key, DEFAULT_USER_AGENT)
    }

    /// Like [`ClientContext::new`], with another `User-Agent`.
    pub fn with_user_agent(
        credentials: &Credentials,
        api_key: &str,
        user_agent: &str,
    ) -> Result<Self, InvalidCredential> {
        let authorization = match credentials {
            Credentials::Basic { user, password } => {
                let token = base64::engine::general_purpose::STANDARD
                    .encode(format!("{user}:{}", password.expose_secret()));
                sensitive(&format!("Basic {token}"), "the user name or password")?
            }
            Credentials::Bearer(token) => sensitive(
                &format!("Bearer {}", token.expose_secret()),
                "the bearer token",
            )?,
        };
        let api_key = sensitive(api_key, "the API key")?;
        let user_agent = HeaderValue::from_str(user_agent).map_err(|_| InvalidCredential {
            what: "the user agent",
        })?;
        Ok(Self {
            headers: Arc::new(AuthHeaders {
                authorization,
                api_key,
                user_agent,
            }),
            policy: CallPolicy::shared(CallOptions::default(), default_metrics()),
        })
    }

    /// The same credentials with other call options (and fresh shared state
    /// built from them). With the feature `opentelemetry`, the state records
    /// into the same meter as before.
    pub fn with_options(self, options: CallOptions) -> Self {
        #[cfg(feature = "opentelemetry")]
        let metrics = Metrics::new(self.policy.metrics.meter());
        #[cfg(not(feature = "opentelemetry"))]
        let metrics = Metrics;
        self.with_metrics(options, metrics)
    }

    /// The same credentials with other call options, recording into
    /// `metrics`.
    pub(crate) fn with_metrics(mut self, options: CallOptions, metrics: Metrics) -> Self {
        self.policy = CallPolicy::shared(options, metrics);
        self
    }

    /// The call options.
    pub fn options(&self) -> &CallOptions {
        &self.policy.options
    }

    pub(crate) fn policy(&self) -> &CallPolicy {
        &self.policy
    }

    /// The client-side rate limiter, when a plan was set.
    pub fn rate_limiter(&self) -> Option<&RateLimiter> {
        self.policy.limiter.as_ref()
    }

    /// Tokens left in the retry budget.
    pub fn retry_budget_remaining(&self) -> u32 {
        self.policy.budget.remaining()
    }

    /// Adds the authentication headers to a request.
    pub(crate) fn authenticate(&self, request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.headers.authorization.clone());
        headers.insert(API_KEY_HEADER, self.headers.api_key.clone());
        headers.insert(USER_AGENT, self.headers.user_agent.clone());
    }
}

impl fmt::Debug for ClientContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientContext")
            .field("authorization", &"[redacted]")
            .field("api_key", &"[redacted]")
            .field("options", &self.policy.options)
            .finish()
    }
}

/// The instruments of a client given no meter: the global meter
/// provider's, as installed when the client is built.
fn default_metrics() -> Metrics {
    #[cfg(feature = "opentelemetry")]
    return Metrics::new(&crate::runtime::metrics::global_meter());
    #[cfg(not(feature = "opentelemetry"))]
    return Metrics;
}

fn sensitive(value: &str, what: &'static str) -> Result<HeaderValue, InvalidCredential> {
    let mut header = HeaderValue::from_str(value).map_err(|_| InvalidCredential { what })?;
    header.set_sensitive(true);
    Ok(header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let credentials = Credentials::basic("ops", "hunter2-secret");
        let context = ClientContext::new(&credentials, "key-secret-123").expect("valid");
        let shown = format!("{credentials:?} {context:?}");
        assert!(!shown.contains("hunter2-secret"), "{shown}");
        assert!(!shown.contains("key-secret-123"), "{shown}");
        let bearer = format!("{:?}", Credentials::bearer("tok-secret"));
        assert!(!bearer.contains("tok-secret"), "{bearer}");
    }

    #[test]
    fn basic_credentials_become_a_basic_header() {
        let credentials = Credentials::basic("user", "pass");
        let context = ClientContext::new(&credentials, "key").expect("valid");
        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            "https://api.au.whispir.com/messages".parse().expect("url"),
        );
        context.authenticate(&mut request);
        let headers = request.headers();
        assert_eq!(headers[AUTHORIZATION], "Basic dXNlcjpwYXNz");
        assert!(headers[AUTHORIZATION].is_sensitive());
        assert_eq!(headers[&API_KEY_HEADER], "key");
    }

    #[test]
    fn header_breaking_credentials_are_refused() {
        let err = ClientContext::new(&Credentials::bearer("a\nb"), "key")
            .expect_err("newline cannot be sent");
        assert_eq!(
            err.to_string(),
            "the bearer token contains characters that cannot be sent in an HTTP header"
        );
    }
}
