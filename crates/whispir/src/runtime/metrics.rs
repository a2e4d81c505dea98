//! The client's OpenTelemetry instruments (feature `opentelemetry`): made
//! once per client from its meter, shared by its clones, and recorded into
//! by the call path with attributes from a fixed, small vocabulary (the
//! operation, method, host, status and the SDK's own outcome names; never a
//! message, recipient, credential or path). Without the feature, `Metrics`
//! is a zero-sized type whose methods do nothing.
//!
//! A leaf of the runtime: it names no other module of the crate.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use whispir_errors::Error;

/// Which limiter decided a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code, reason = "only shared plans"))]
pub(crate) enum LimiterKind {
    /// The client's own plan.
    Local,
    /// The plan shared through Redis.
    Shared,
    /// The local share of a shared plan while its store gives no answer.
    Fallback,
}

impl LimiterKind {
    #[cfg(feature = "opentelemetry")]
    fn name(self) -> &'static str {
        match self {
            LimiterKind::Local => "local",
            LimiterKind::Shared => "shared",
            LimiterKind::Fallback => "fallback",
        }
    }
}

/// Why the API asked the client to pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseReason {
    /// 403 `ERR_403_DEVELOPER_OVER_QPS`.
    OverQps,
    /// 403 `ERR_403_DEVELOPER_OVER_QPD`.
    OverQpd,
    /// 429.
    TooManyRequests,
    /// Another answer with `Retry-After` (a 503, say).
    RetryAfter,
}

impl PauseReason {
    /// The reason of an error answer from the API, if it asked for a pause.
    pub(crate) fn of(err: &Error) -> Option<Self> {
        use whispir_errors::ForbiddenReason;
        match err.forbidden_reason() {
            Some(ForbiddenReason::OverQueriesPerSecond) => return Some(PauseReason::OverQps),
            Some(ForbiddenReason::OverQueriesPerDay) => return Some(PauseReason::OverQpd),
            _ => {}
        }
        if err.status() == Some(StatusCode::TOO_MANY_REQUESTS) {
            Some(PauseReason::TooManyRequests)
        } else if err.status().is_some() && err.retry_after().is_some() {
            Some(PauseReason::RetryAfter)
        } else {
            None
        }
    }

    #[cfg(feature = "opentelemetry")]
    fn name(self) -> &'static str {
        match self {
            PauseReason::OverQps => "over_qps",
            PauseReason::OverQpd => "over_qpd",
            PauseReason::TooManyRequests => "too_many_requests",
            PauseReason::RetryAfter => "retry_after",
        }
    }
}

/// What came of one HTTP request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RequestOutcome {
    /// An answer with this status.
    Answered(StatusCode),
    /// No answer: the transport failure's kind.
    Failed(whispir_errors::TransportKind),
}

/// Where a daily budget is counted.
#[cfg(feature = "opentelemetry")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "redis"), allow(dead_code, reason = "only shared plans"))]
pub(crate) enum PlanScope {
    /// This client's own count.
    Local,
    /// The count held in Redis for every process of the account.
    Shared,
}

/// A send's outcome: `accepted`, `may_have_been_sent` (the same fact the
/// error reports, [`Error::may_have_been_processed`]) or `refused`.
#[cfg(feature = "opentelemetry")]
fn send_outcome(result: Result<(), &Error>) -> &'static str {
    match result {
        Ok(()) => "accepted",
        Err(err) if err.may_have_been_processed() => "may_have_been_sent",
        Err(_) => "refused",
    }
}

/// The name an error is counted under: its class, or `Decode` for a
/// success whose body could not be read or decoded.
fn error_type(err: &Error) -> &'static str {
    if err.is_decode() {
        "Decode"
    } else {
        err.class().name()
    }
}

/// The semantic conventions' name for a method: the standard ones, else
/// `_OTHER` (metrics and spans name it so).
pub(crate) fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// The three digits of every status from 100 to 599, so that a status
/// becomes an attribute without allocating.
static STATUS_DIGITS: [u8; 1500] = {
    let mut digits = [0u8; 1500];
    let mut code = 100;
    while code < 600 {
        let at = (code - 100) * 3;
        digits[at] = b'0' + (code / 100) as u8;
        digits[at + 1] = b'0' + (code / 10 % 10) as u8;
        digits[at + 2] = b'0' + (code % 10) as u8;
        code += 1;
    }
    digits
};

/// A status as text (`"429"`), or `_OTHER` outside 100-599.
fn status_text(status: StatusCode) -> &'static str {
    let code = usize::from(status.as_u16());
    if !(100..600).contains(&code) {
        return "_OTHER";
    }
    let at = (code - 100) * 3;
    std::str::from_utf8(&STATUS_DIGITS[at..at + 3]).unwrap_or("_OTHER")
}

/// The `error.type` of an attempt's outcome, as the metrics and spans give
/// it: the status for 400 and above, the transport failure's kind, or
/// nothing on success.
pub(crate) fn request_error_type(outcome: RequestOutcome) -> Option<&'static str> {
    match outcome {
        RequestOutcome::Answered(status) if status.as_u16() >= 400 => Some(status_text(status)),
        RequestOutcome::Answered(_) => None,
        RequestOutcome::Failed(kind) => Some(kind.name()),
    }
}

/// The `error.type` of a failed call, as the metrics and spans give it.
pub(crate) fn call_error_type(err: &Error) -> &'static str {
    error_type(err)
}

#[cfg(feature = "opentelemetry")]
pub(crate) use on::{Metrics, Target};

#[cfg(not(feature = "opentelemetry"))]
pub(crate) use off::{Metrics, Target};

#[cfg(feature = "opentelemetry")]
mod on {
    use std::sync::{Arc, OnceLock};

    use opentelemetry::metrics::{Counter, Histogram, Meter};
    use opentelemetry::{InstrumentationScope, Key, KeyValue, StringValue};

    use super::*;

    /// The meter scope the SDK's instruments are created under.
    const METER_NAME: &str = "whispir";

    const OPERATION: Key = Key::from_static_str("whispir.operation");
    const METHOD: Key = Key::from_static_str("http.request.method");
    const SERVER_ADDRESS: Key = Key::from_static_str("server.address");
    const SERVER_PORT: Key = Key::from_static_str("server.port");
    const STATUS_CODE: Key = Key::from_static_str("http.response.status_code");
    const ERROR_TYPE: Key = Key::from_static_str("error.type");
    const ERROR_CLASS: Key = Key::from_static_str("whispir.error.class");
    const SEND_OUTCOME: Key = Key::from_static_str("whispir.send.outcome");
    const LIMITER: Key = Key::from_static_str("whispir.limiter");
    const REFUSAL_REASON: Key = Key::from_static_str("whispir.refusal.reason");
    const PAUSE_REASON: Key = Key::from_static_str("whispir.pause.reason");
    const PLAN_SCOPE: Key = Key::from_static_str("whispir.plan.scope");
    const ROW_OUTCOME: Key = Key::from_static_str("whispir.row.outcome");

    /// Bucket bounds in seconds: the semantic conventions' advice for
    /// `http.client.request.duration`, with the longer waits a limiter or
    /// a pause may impose.
    const SECONDS: [f64; 17] = [
        0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0,
        60.0, 300.0,
    ];

    /// The meter the SDK records with when the builder was given none: the
    /// global meter provider's, read when the client is built.
    pub(crate) fn global_meter() -> Meter {
        opentelemetry::global::meter_with_scope(scope())
    }

    /// The SDK's instrumentation scope: `whispir` and its version.
    pub(crate) fn scope() -> InstrumentationScope {
        InstrumentationScope::builder(METER_NAME)
            .with_version(env!("CARGO_PKG_VERSION"))
            .build()
    }

    /// Where a request goes: its method, host and port as attributes.
    #[derive(Debug)]
    pub(crate) struct Target {
        method: &'static str,
        host: StringValue,
        port: i64,
    }

    /// The instruments of one client, shared by its clones.
    pub(crate) struct Metrics {
        meter: Meter,
        request_duration: Histogram<f64>,
        call_duration: Histogram<f64>,
        call_attempts: Histogram<u64>,
        errors: Counter<u64>,
        sends: Counter<u64>,
        limiter_wait: Histogram<f64>,
        limiter_refusals: Counter<u64>,
        pauses: Counter<u64>,
        pause_duration: Histogram<f64>,
        campaign_rows: Counter<u64>,
        /// The API's host and port as an attribute value, made on the
        /// first request: later requests to it share the text.
        server: OnceLock<(Arc<str>, i64)>,
    }

    impl std::fmt::Debug for Metrics {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Metrics").finish_non_exhaustive()
        }
    }

    impl Metrics {
        /// Whether anything is recorded (the feature is on): callers skip
        /// the work of a record (reading the clock) when it is not.
        pub(crate) const ENABLED: bool = true;

        /// The instruments, created with `meter`.
        pub(crate) fn new(meter: &Meter) -> Self {
            let seconds = |name: &'static str, description: &'static str| {
                meter
                    .f64_histogram(name)
                    .with_unit("s")
                    .with_description(description)
                    .with_boundaries(SECONDS.to_vec())
                    .build()
            };
            let counter = |name: &'static str, unit: &'static str, description: &'static str| {
                meter
                    .u64_counter(name)
                    .with_unit(unit)
                    .with_description(description)
                    .build()
            };
            Self {
                meter: meter.clone(),
                request_duration: seconds(
                    "http.client.request.duration",
                    "Duration of each HTTP request the client sent, to its answer's headers",
                ),
                call_duration: seconds(
                    "whispir.client.call.duration",
                    "Duration of each call: attempts, waits and the reading of the answer",
                ),
                call_attempts: meter
                    .u64_histogram("whispir.client.call.attempts")
                    .with_unit("{attempt}")
                    .with_description("Requests sent for each call (retries included)")
                    .with_boundaries(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 10.0])
                    .build(),
                errors: counter(
                    "whispir.client.errors",
                    "{error}",
                    "Failed calls, by error class",
                ),
                sends: counter(
                    "whispir.client.sends",
                    "{message}",
                    "Message sends: accepted, refused, or may have been sent",
                ),
                limiter_wait: seconds(
                    "whispir.client.limiter.wait",
                    "How long the rate limiter held a request before letting it go",
                ),
                limiter_refusals: counter(
                    "whispir.client.limiter.refusals",
                    "{call}",
                    "Requests the rate limiter refused to send",
                ),
                pauses: counter(
                    "whispir.client.pauses",
                    "{pause}",
                    "Answers in which the API asked the client to slow down",
                ),
                pause_duration: seconds(
                    "whispir.client.pause.duration",
                    "The pause the API asked for (Retry-After, or a second for over-QPS)",
                ),
                campaign_rows: counter(
                    "whispir.campaign.rows",
                    "{row}",
                    "Campaign rows, by the outcome of their chunk's send",
                ),
                server: OnceLock::new(),
            }
        }

        /// The meter the instruments came from.
        pub(crate) fn meter(&self) -> &Meter {
            &self.meter
        }

        /// Reports the daily budget left through `read`, whenever the
        /// meter provider collects, for as long as `read` answers.
        pub(crate) fn observe_daily_remaining(
            &self,
            read: impl Fn() -> Option<(u32, PlanScope)> + Send + Sync + 'static,
        ) {
            let _gauge = self
                .meter
                .u64_observable_gauge("whispir.plan.daily_remaining")
                .with_unit("{request}")
                .with_description("Requests left in the plan's daily budget")
                .with_callback(move |observer| {
                    if let Some((remaining, scope)) = read() {
                        let scope = match scope {
                            PlanScope::Local => "local",
                            PlanScope::Shared => "shared",
                        };
                        observer.observe(u64::from(remaining), &[KeyValue::new(PLAN_SCOPE, scope)]);
                    }
                })
                .build();
        }

        /// Where `request` goes, as attributes.
        pub(crate) fn target(&self, request: &reqwest::Request) -> Target {
            let (host, port) = self.server(request.url());
            Target {
                method: method_name(request.method()),
                host,
                port,
            }
        }

        fn server(&self, url: &reqwest::Url) -> (StringValue, i64) {
            let host = url.host_str().unwrap_or_default();
            let port = i64::from(url.port_or_known_default().unwrap_or_default());
            let (known, known_port) = self.server.get_or_init(|| (Arc::from(host), port));
            if **known == *host && *known_port == port {
                (StringValue::from(Arc::clone(known)), port)
            } else {
                // Another origin (a read redirected there).
                (StringValue::from(host.to_string()), port)
            }
        }

        /// One HTTP request of `operation` to `target`, which took `elapsed`.
        pub(crate) fn request(
            &self,
            operation: &'static str,
            target: Target,
            outcome: RequestOutcome,
            elapsed: Duration,
        ) {
            let common = [
                KeyValue::new(METHOD, target.method),
                KeyValue::new(SERVER_ADDRESS, target.host),
                KeyValue::new(SERVER_PORT, target.port),
                KeyValue::new(OPERATION, operation),
            ];
            let seconds = elapsed.as_secs_f64();
            let [a, b, c, d] = common;
            match (outcome, request_error_type(outcome)) {
                (RequestOutcome::Answered(status), None) => {
                    let status = KeyValue::new(STATUS_CODE, i64::from(status.as_u16()));
                    self.request_duration.record(seconds, &[a, b, c, d, status]);
                }
                (RequestOutcome::Answered(status), Some(error)) => {
                    let status = KeyValue::new(STATUS_CODE, i64::from(status.as_u16()));
                    let error = KeyValue::new(ERROR_TYPE, error);
                    self.request_duration
                        .record(seconds, &[a, b, c, d, status, error]);
                }
                (RequestOutcome::Failed(_), error) => {
                    let error = KeyValue::new(ERROR_TYPE, error.unwrap_or("Other"));
                    self.request_duration.record(seconds, &[a, b, c, d, error]);
                }
            }
        }

        /// A call of `operation` ended after `elapsed` and `attempts`
        /// requests, with `error` if it failed.
        pub(crate) fn call(
            &self,
            operation: &'static str,
            elapsed: Duration,
            attempts: u32,
            error: Option<&Error>,
        ) {
            let seconds = elapsed.as_secs_f64();
            let operation = KeyValue::new(OPERATION, operation);
            self.call_attempts
                .record(u64::from(attempts), std::slice::from_ref(&operation));
            match error {
                None => self.call_duration.record(seconds, &[operation]),
                Some(err) => {
                    let name = error_type(err);
                    self.call_duration.record(
                        seconds,
                        &[operation.clone(), KeyValue::new(ERROR_TYPE, name)],
                    );
                    self.errors
                        .add(1, &[operation, KeyValue::new(ERROR_CLASS, name)]);
                }
            }
        }

        /// A message send of `operation` ended with `result`.
        pub(crate) fn send(&self, operation: &'static str, result: Result<(), &Error>) {
            self.sends.add(
                1,
                &[
                    KeyValue::new(OPERATION, operation),
                    KeyValue::new(SEND_OUTCOME, send_outcome(result)),
                ],
            );
        }

        /// `limiter` let a request go after holding it for `wait`.
        pub(crate) fn limiter_wait(&self, limiter: LimiterKind, wait: Duration) {
            self.limiter_wait.record(
                wait.as_secs_f64(),
                &[KeyValue::new(LIMITER, limiter.name())],
            );
        }

        /// `limiter` refused a request for `reason`.
        pub(crate) fn limiter_refusal(&self, limiter: LimiterKind, reason: &'static str) {
            self.limiter_refusals.add(
                1,
                &[
                    KeyValue::new(LIMITER, limiter.name()),
                    KeyValue::new(REFUSAL_REASON, reason),
                ],
            );
        }

        /// The API asked for a pause, of `asked` when it said how long.
        pub(crate) fn pause(&self, reason: PauseReason, asked: Option<Duration>) {
            let reason = [KeyValue::new(PAUSE_REASON, reason.name())];
            self.pauses.add(1, &reason);
            if let Some(asked) = asked {
                self.pause_duration.record(asked.as_secs_f64(), &reason);
            }
        }

        /// A campaign chunk of `rows` rows was sent with `result`.
        pub(crate) fn campaign_rows(&self, rows: u64, result: Result<(), &Error>) {
            self.campaign_rows
                .add(rows, &[KeyValue::new(ROW_OUTCOME, send_outcome(result))]);
        }
    }
}

#[cfg(not(feature = "opentelemetry"))]
mod off {
    use super::*;

    /// Without the feature `opentelemetry`: nothing, and nothing recorded.
    #[derive(Debug)]
    pub(crate) struct Metrics;

    /// Without the feature: nothing.
    #[derive(Debug)]
    pub(crate) struct Target;

    impl Metrics {
        /// Nothing is recorded: callers skip the work of a record.
        pub(crate) const ENABLED: bool = false;

        #[inline(always)]
        pub(crate) fn target(&self, _request: &reqwest::Request) -> Target {
            Target
        }

        #[inline(always)]
        pub(crate) fn request(
            &self,
            _operation: &'static str,
            _target: Target,
            _outcome: RequestOutcome,
            _elapsed: Duration,
        ) {
        }

        #[inline(always)]
        pub(crate) fn call(
            &self,
            _operation: &'static str,
            _elapsed: Duration,
            _attempts: u32,
            _error: Option<&Error>,
        ) {
        }

        #[inline(always)]
        pub(crate) fn send(&self, _operation: &'static str, _result: Result<(), &Error>) {}

        #[inline(always)]
        pub(crate) fn limiter_wait(&self, _limiter: LimiterKind, _wait: Duration) {}

        #[inline(always)]
        pub(crate) fn limiter_refusal(&self, _limiter: LimiterKind, _reason: &'static str) {}

        #[inline(always)]
        pub(crate) fn pause(&self, _reason: PauseReason, _asked: Option<Duration>) {}

        #[inline(always)]
        pub(crate) fn campaign_rows(&self, _rows: u64, _result: Result<(), &Error>) {}
    }
}

#[cfg(feature = "opentelemetry")]
pub(crate) use on::{global_meter, scope};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_three_digits() {
        assert_eq!(status_text(StatusCode::TOO_MANY_REQUESTS), "429");
        assert_eq!(status_text(StatusCode::CONTINUE), "100");
        assert_eq!(
            status_text(StatusCode::from_u16(599).expect("valid")),
            "599"
        );
        assert_eq!(
            status_text(StatusCode::from_u16(999).expect("valid")),
            "_OTHER"
        );
    }

    #[test]
    fn an_answer_below_400_has_no_error_type() {
        assert_eq!(
            request_error_type(RequestOutcome::Answered(StatusCode::MOVED_PERMANENTLY)),
            None
        );
        assert_eq!(
            request_error_type(RequestOutcome::Answered(StatusCode::SERVICE_UNAVAILABLE)),
            Some("503")
        );
        assert_eq!(
            request_error_type(RequestOutcome::Failed(
                whispir_errors::TransportKind::Timeout
            )),
            Some("Timeout")
        );
    }
}
