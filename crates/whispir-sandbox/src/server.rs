//! Starting and stopping a sandbox: two listeners (the second one is the
//! target of cross-origin redirect faults), the accept loops, and the
//! handle users hold.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::{Extension, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

use crate::config::{
    CallbackRetries, ConfigError, Limits, OverQuota, Quota, SandboxConfig, SandboxCredentials,
};
use crate::faults::FaultRule;
use crate::lock::lock;
use crate::pipeline::{self, Connection};
use crate::recorded::{RecordedRequest, SentMessage};
use crate::state::{AppState, SetupError};

/// Why a sandbox did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The spec, data or HTTP client could not be set up.
    #[error("cannot set up the sandbox")]
    Setup(#[from] SetupError),
    /// A config file could not be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound.
    #[error("cannot listen on {address}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The SDK client could not be built.
    #[error("cannot build the whispir client for the sandbox")]
    Client(#[source] whispir::BuildError),
}

/// Options for a sandbox. Start with [`Sandbox::builder`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    config: SandboxConfig,
    host: IpAddr,
    port: u16,
    second_port: u16,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            config: SandboxConfig::default(),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            second_port: 0,
        }
    }
}

impl SandboxBuilder {
    /// Replaces every option with those of a config.
    pub fn config(mut self, config: SandboxConfig) -> Self {
        self.config = config;
        self
    }

    /// Reads the options from a JSON or YAML config file.
    pub fn config_file(self, path: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        Ok(self.config(SandboxConfig::from_file(path.into())?))
    }

    /// Starts without demo data.
    pub fn empty(mut self, empty: bool) -> Self {
        self.config.empty = empty;
        self
    }

    /// Loads a JSON or YAML data file at start.
    pub fn data_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.data = Some(path.into());
        self
    }

    /// Accepts these credentials instead of the demo ones.
    pub fn credentials(mut self, credentials: SandboxCredentials) -> Self {
        self.config.credentials = credentials;
        self
    }

    /// Limits requests per second and per day.
    pub fn quota(mut self, quota: Quota) -> Self {
        self.config.quota = quota;
        self
    }

    /// Answers over the per-second quota with 429 instead of 403.
    pub fn over_quota(mut self, answer: OverQuota) -> Self {
        self.config.quota.over_quota = answer;
        self
    }

    /// Injects a fault.
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.config.faults.push(rule);
        self
    }

    /// How long each step of a message's life takes (default 1 s).
    pub fn message_step(mut self, step: Duration) -> Self {
        self.config.messages.step_millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Lists an accepted message only once this long has passed since its
    /// 202 (default: at once), as Whispir, which accepts a message *for
    /// processing*, may not list it right away.
    pub fn processing_delay(mut self, delay: Duration) -> Self {
        self.config.messages.processing_delay_millis =
            u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Runs the sandbox's clock this far ahead of the machine's from the
    /// start (see [`Sandbox::advance_clock`]).
    pub fn clock_ahead(mut self, ahead: Duration) -> Self {
        self.config.clock_ahead_millis = u64::try_from(ahead.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Makes messages to this recipient undeliverable (besides
    /// [`FAILING_NUMBER`](crate::FAILING_NUMBER)).
    pub fn failing_recipient(mut self, recipient: impl Into<String>) -> Self {
        self.config
            .messages
            .failing_recipients
            .push(recipient.into());
        self
    }

    /// Makes every delivered recipient reply with this text.
    pub fn auto_reply(mut self, text: impl Into<String>) -> Self {
        self.config.messages.auto_reply = Some(text.into());
        self
    }

    /// Bounds connections, idle time, issued tokens, recorded callback
    /// calls, requests and sent messages (see [`Limits`] for the defaults).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.config.limits = limits;
        self
    }

    /// How callback posts are retried: how many, how far apart, and to
    /// which URLs (see [`CallbackRetries`]).
    pub fn callback_retries(mut self, retries: CallbackRetries) -> Self {
        self.config.callback_retries = retries;
        self
    }

    /// Listens on this address (default 127.0.0.1).
    pub fn host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// Listens on this port (default: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Puts the second listener, the target of cross-origin redirects, on
    /// this port (default: any free port).
    pub fn second_port(mut self, port: u16) -> Self {
        self.second_port = port;
        self
    }

    /// Starts the sandbox.
    pub async fn start(self) -> Result<Sandbox, StartError> {
        let state = AppState::new(&self.config)?;
        let router = Router::new()
            .fallback(pipeline::handle)
            .with_state(Arc::clone(&state));
        let main = bind(SocketAddr::new(self.host, self.port)).await?;
        let second = bind(SocketAddr::new(self.host, self.second_port)).await?;
        let base_url = base_url_of(&main)?;
        let second_base_url = base_url_of(&second)?;
        *lock(&state.second_origin) = Some(second_base_url.clone());
        let credentials = self.config.credentials.clone();
        let client = client_builder(&base_url, &credentials)
            .build()
            .map_err(StartError::Client)?;
        let limits = self.config.limits;
        // One pool of permits for both listeners: the bound is on what the
        // sandbox holds, wherever the connections come in.
        let permits = Arc::new(Semaphore::new(
            limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
        ));
        let listeners = vec![
            tokio::spawn(serve(
                main,
                router.clone(),
                Listening::new(true, &permits, &limits),
            )),
            tokio::spawn(serve(
                second,
                router,
                Listening::new(false, &permits, &limits),
            )),
        ];
        Ok(Sandbox {
            base_url,
            second_base_url,
            credentials,
            client,
            state,
            listeners,
        })
    }
}

/// A client builder aimed at a sandbox, with its credentials.
fn client_builder(base_url: &str, credentials: &SandboxCredentials) -> whispir::ClientBuilder {
    whispir::Client::builder()
        .base_url(base_url)
        .credentials(whispir::Credentials::basic(
            &credentials.user,
            &credentials.password,
        ))
        .api_key(credentials.api_key.clone())
}

async fn bind(address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|source| StartError::Bind { address, source })
}

fn base_url_of(listener: &TcpListener) -> Result<String, StartError> {
    let address = listener.local_addr().map_err(|source| StartError::Bind {
        address: SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        source,
    })?;
    let host = match address.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok(format!("http://{host}:{}", address.port()))
}

/// How a listener serves: which one it is, the connection permits it
/// shares with the other, and how long a connection may idle.
struct Listening {
    main: bool,
    permits: Arc<Semaphore>,
    idle_timeout: Duration,
}

impl Listening {
    fn new(main: bool, permits: &Arc<Semaphore>, limits: &Limits) -> Self {
        Listening {
            main,
            permits: Arc::clone(permits),
            idle_timeout: limits.idle_timeout(),
        }
    }
}

/// Accepts connections until aborted; aborting drops every connection.
async fn serve(listener: TcpListener, router: Router, listening: Listening) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or similar: wait instead of spinning.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        // The permit is taken after accepting, not before: a listener
        // waiting for its next connection must not hold one of the
        // permits the other listener needs. Until one frees, the accepted
        // connection waits and nothing more is accepted here, so further
        // connections wait in the listen backlog instead of being refused.
        let Ok(permit) = Arc::clone(&listening.permits).acquire_owned().await else {
            // The semaphore is never closed; should it be, stop serving.
            return;
        };
        let connection = Arc::new(Connection {
            main: listening.main,
            kill: tokio::sync::Notify::new(),
        });
        let service =
            TowerToHyperService::new(router.clone().layer(Extension(Arc::clone(&connection))));
        let idle_timeout = listening.idle_timeout;
        connections.spawn(async move {
            let _permit = permit;
            let Some((stream, twin)) = twin(stream) else {
                return;
            };
            // hyper's header read timeout runs from the moment it waits for
            // a request's headers, the idle time between keep-alive
            // requests included: it is the idle timeout.
            let served = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(idle_timeout)
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = served => {}
                () = connection.kill.notified() => {
                    // A zero linger makes the close a TCP reset.
                    let _ = socket2::SockRef::from(&twin).set_linger(Some(Duration::ZERO));
                }
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

/// The stream, and a second handle on the same socket to reset it with.
fn twin(stream: TcpStream) -> Option<(TcpStream, std::net::TcpStream)> {
    let std_stream = stream.into_std().ok()?;
    let twin = std_stream.try_clone().ok()?;
    let stream = TcpStream::from_std(std_stream).ok()?;
    let _ = stream.set_nodelay(true);
    Some((stream, twin))
}

/// A running sandbox. It stops when dropped.
///
/// # Testing with it
///
/// Start one sandbox per test: each has its own data, quota, faults and
/// records, on its own port. What a test needs is here:
///
/// - before it starts, on [`Sandbox::builder`]: how fast messages move
///   ([`message_step`](SandboxBuilder::message_step)), who cannot receive
///   them ([`failing_recipient`](SandboxBuilder::failing_recipient)), an
///   automatic reply ([`auto_reply`](SandboxBuilder::auto_reply)), the
///   plan's quota ([`quota`](SandboxBuilder::quota),
///   [`over_quota`](SandboxBuilder::over_quota)), faults
///   ([`fault`](SandboxBuilder::fault)), bounds on what it keeps
///   ([`limits`](SandboxBuilder::limits)), and its data
///   ([`empty`](SandboxBuilder::empty), [`data_file`](SandboxBuilder::data_file));
/// - while it runs: [`add_fault`](Sandbox::add_fault) and
///   [`clear_faults`](Sandbox::clear_faults),
///   [`simulate_reply`](Sandbox::simulate_reply),
///   [`otp_code`](Sandbox::otp_code);
/// - to assert on: [`sent_messages`](Sandbox::sent_messages) (what was
///   sent, to whom, as the recipient reads it) and
///   [`requests`](Sandbox::requests) (every request and its answer, with
///   credentials redacted); [`clear_recorded`](Sandbox::clear_recorded)
///   forgets both.
///
/// [`client`](Sandbox::client) is a `whispir::Client` aimed at the
/// sandbox, the type your code takes.
///
/// ```
/// # #[tokio::main]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use whispir::types::Message;
/// use whispir_sandbox::{Fault, FaultRule, Sandbox};
///
/// let sandbox = Sandbox::builder()
///     .message_step(Duration::from_millis(10)) // delivered after 20 ms
///     .start()
///     .await?;
/// sandbox
///     .client()
///     .message_create()
///     .body(Message::sms("61400000001", "Reminder\nYour appointment is at 3 pm."))
///     .send()
///     .await?;
///
/// let sent = sandbox.sent_messages();
/// assert_eq!(sent.len(), 1);
/// assert_eq!(sent[0].to, ["61400000001"]);
/// assert_eq!(sent[0].text(), "Reminder\nYour appointment is at 3 pm.");
///
/// let requests = sandbox.requests();
/// let send = requests.last().ok_or("no request")?;
/// assert_eq!(send.operation_id.as_deref(), Some("messageCreate"));
/// assert_eq!(send.status, Some(202));
/// assert_eq!(send.header("x-api-key"), Some(whispir_sandbox::REDACTED));
///
/// // The next send fails once with 503, as Whispir can.
/// sandbox.add_fault(FaultRule::always(Fault::Status { status: 503 }).on("messageCreate").times(1));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Sandbox {
    base_url: String,
    second_base_url: String,
    credentials: SandboxCredentials,
    client: whispir::Client,
    state: Arc<AppState>,
    listeners: Vec<JoinHandle<()>>,
}

impl Sandbox {
    /// Starts a sandbox with demo data on a free port of 127.0.0.1.
    pub async fn start() -> Result<Sandbox, StartError> {
        SandboxBuilder::default().start().await
    }

    /// Options for a sandbox.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL of the second listener (another port, same data), the
    /// target of cross-origin redirect faults.
    pub fn second_base_url(&self) -> &str {
        &self.second_base_url
    }

    /// The credentials the sandbox accepts.
    pub fn credentials(&self) -> &SandboxCredentials {
        &self.credentials
    }

    /// A client for the sandbox, with its credentials.
    pub fn client(&self) -> &whispir::Client {
        &self.client
    }

    /// A client builder aimed at the sandbox with its credentials, for a
    /// client with other options (retries, plan, timeouts) than
    /// [`client`](Sandbox::client)'s.
    pub fn client_builder(&self) -> whispir::ClientBuilder {
        client_builder(&self.base_url, &self.credentials)
    }

    /// The workspace calls without a workspace act in, if there is one.
    pub fn default_workspace_id(&self) -> Option<String> {
        lock(&self.state.store).default_workspace()
    }

    /// The sandbox's clock: the machine's, plus whatever
    /// [`clock_ahead`](SandboxBuilder::clock_ahead) and
    /// [`advance_clock`](Sandbox::advance_clock) added.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.clock.now()
    }

    /// Moves the sandbox's clock on, as if `by` had passed: new messages
    /// are dated by it and the message list's 7-day window ends at it, so
    /// a test can see what a client sees days later (a message sent
    /// before is listed then only through the date criteria).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Injects a fault from now on.
    pub fn add_fault(&self, rule: FaultRule) {
        self.state.faults.add(rule);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Makes a recipient reply to a sent message, as if from their phone:
    /// the reply shows in the message's responses and status, and the
    /// message's callback is called. False when the sandbox sent no such
    /// message.
    pub async fn simulate_reply(&self, message_id: &str, from: &str, text: &str) -> bool {
        crate::resources::messages::reply(&self.state, message_id, from, text).await
    }

    /// The code a one-time-code request sent, as the recipient would read it.
    pub fn otp_code(&self, otp_id: &str) -> Option<String> {
        lock(&self.state.otp_codes).get(otp_id).cloned()
    }

    /// Every message the sandbox accepted for sending (by `messageCreate`
    /// or a scenario run), oldest first: the newest
    /// [`max_sent_messages`](Limits::max_sent_messages) (10,000 unless
    /// [`limits`](SandboxBuilder::limits) says otherwise). Refused sends
    /// are not here; [`requests`](Sandbox::requests) shows them. Each
    /// record is shared, so the call copies none.
    pub fn sent_messages(&self) -> Vec<Arc<SentMessage>> {
        lock(&self.state.sent).snapshot()
    }

    /// Every request the sandbox received, in order, with the status it
    /// answered: the newest
    /// [`max_recorded_requests`](Limits::max_recorded_requests) (1,000
    /// unless [`limits`](SandboxBuilder::limits) says otherwise), each
    /// body kept up to [`MAX_RECORDED_BODY`](crate::MAX_RECORDED_BODY).
    /// Credentials are [`REDACTED`](crate::REDACTED). Each record is
    /// shared, so the call copies none.
    pub fn requests(&self) -> Vec<Arc<RecordedRequest>> {
        lock(&self.state.requests).snapshot()
    }

    /// Each request from now on, as it is answered (the same record
    /// [`requests`](Sandbox::requests) keeps, credentials
    /// [`REDACTED`](crate::REDACTED)), whatever
    /// [`max_recorded_requests`](Limits::max_recorded_requests) is: what the
    /// `whispir-sandbox` and `whispir sandbox` commands print a line of.
    /// A watcher more than 1,024 requests behind misses the oldest and is
    /// told how many (`RecvError::Lagged`).
    pub fn watch_requests(&self) -> tokio::sync::broadcast::Receiver<Arc<RecordedRequest>> {
        self.state.watchers.subscribe()
    }

    /// Forgets the recorded requests and sent messages (the messages stay
    /// readable through the API).
    pub fn clear_recorded(&self) {
        lock(&self.state.sent).clear();
        lock(&self.state.requests).clear();
    }

    /// Stops serving; dropping the sandbox does the same.
    pub fn stop(&self) {
        for listener in &self.listeners {
            listener.abort();
        }
        self.state.stop_tasks();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
