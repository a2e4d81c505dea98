//! The shared state of a running sandbox.

use std::sync::{Arc, Mutex};

use tokio::task::AbortHandle;

use crate::auth::Gate;
use crate::bounded::{BoundedLog, BoundedMap};
use crate::clock::Clock;
use crate::config::{CallbackRetries, Limits, MessageBehaviour, SandboxConfig};
use crate::data::{self, DataError};
use crate::delivery::Delivery;
use crate::faults::FaultTable;
use crate::lock::lock;
use crate::quota::QuotaCounter;
use crate::recorded::{RecordedRequest, SentMessage};
use crate::spec::{Spec, SpecError};
use crate::store::{MAX_RECORDS, Store};

/// Why a sandbox cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The embedded spec is unusable.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The data cannot be loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// The HTTP client for callbacks cannot be built.
    #[error("cannot build the HTTP client for callbacks")]
    Http(#[source] reqwest::Error),
}

/// How many answered requests a watcher may fall behind by before it
/// misses some (and is told how many).
const WATCH_BACKLOG: usize = 1024;

/// Everything the request handlers share.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The operations.
    pub spec: Spec,
    /// The resources.
    pub store: Mutex<Store>,
    /// Credentials and tokens.
    pub gate: Gate,
    /// The plan quota.
    pub quota: QuotaCounter,
    /// Active faults.
    pub faults: FaultTable,
    /// How messages behave.
    pub messages: MessageBehaviour,
    /// Bounds on what clients can make the sandbox hold.
    pub limits: Limits,
    /// How callback posts are retried.
    pub callback_retries: CallbackRetries,
    /// The life of each sent message, by message id: as many as the
    /// store keeps messages.
    pub deliveries: Mutex<BoundedMap<Delivery>>,
    /// One-time codes by OTP id: as many as the store keeps codes.
    pub otp_codes: Mutex<BoundedMap<String>>,
    /// The messages accepted for sending, for tests to assert on.
    pub sent: Mutex<BoundedLog<SentMessage>>,
    /// The requests received, for tests to assert on.
    pub requests: Mutex<BoundedLog<RecordedRequest>>,
    /// Each request once answered, for whoever watches
    /// ([`crate::Sandbox::watch_requests`]).
    pub watchers: tokio::sync::broadcast::Sender<Arc<RecordedRequest>>,
    /// The client that calls callback URLs.
    pub http: reqwest::Client,
    /// Background work (message lives, callbacks), stopped with the sandbox.
    pub tasks: Mutex<Vec<AbortHandle>>,
    /// The base URL of the second listener, once it listens.
    pub second_origin: Mutex<Option<String>>,
    /// The sandbox's clock (the machine's, perhaps run ahead).
    pub clock: Clock,
}

impl AppState {
    /// Sets up the state: spec, data, credentials, quotas, faults.
    pub fn new(config: &SandboxConfig) -> Result<Arc<Self>, SetupError> {
        let spec = Spec::load()?;
        let clock = Clock::new(config.clock_ahead_millis);
        let mut store = Store::default();
        if !config.empty {
            data::load_demo(&mut store, clock.now_millis())?;
        }
        if let Some(path) = &config.data {
            data::load_file(&mut store, path)?;
        }
        // The client that posts callbacks may be built before any SDK
        // client: it needs the same TLS provider.
        whispir::install_tls_provider();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .connect_timeout(std::time::Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(SetupError::Http)?;
        Ok(Arc::new(AppState {
            spec,
            store: Mutex::new(store),
            gate: Gate::new(config.credentials.clone(), config.limits.max_tokens),
            quota: QuotaCounter::new(config.quota),
            faults: FaultTable::new(config.faults.clone()),
            messages: config.messages.clone(),
            limits: config.limits,
            callback_retries: config.callback_retries.clone(),
            deliveries: Mutex::new(BoundedMap::new(MAX_RECORDS)),
            otp_codes: Mutex::new(BoundedMap::new(MAX_RECORDS)),
            sent: Mutex::new(BoundedLog::new(config.limits.max_sent_messages)),
            requests: Mutex::new(BoundedLog::new(config.limits.max_recorded_requests)),
            watchers: tokio::sync::broadcast::channel(WATCH_BACKLOG).0,
            http,
            tasks: Mutex::new(Vec::new()),
            second_origin: Mutex::new(None),
            clock,
        }))
    }

    /// Runs background work that stops with the sandbox.
    pub fn spawn<F>(&self, work: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(work).abort_handle();
        let mut tasks = lock(&self.tasks);
        tasks.retain(|task| !task.is_finished());
        tasks.push(handle);
    }

    /// Stops all background work.
    pub fn stop_tasks(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
    }
}
