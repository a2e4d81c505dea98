//! What every request of a call passes before it goes, and why one may
//! end without an answer: the limiter's gate with the call's deadline, the
//! timeout of one request, the failures an attempt hands back, and the
//! metrics of every request sent. A leaf of the runtime: both `execute`
//! (the attempts) and `redirect` (the hops of one attempt) stand on it.

use std::time::Duration;

use tokio::time::Instant;
use whispir_errors::Refusal;

use crate::runtime::metrics::{Metrics, RequestOutcome, Target};
use crate::runtime::rate_limit::{Admission, DailyToken, RateLimiter};

/// Why an attempt ended without a response to hand on.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Below HTTP: connecting, sending or reading failed.
    Transport(reqwest::Error),
    /// The client refused to send the request on (a redirect it would not
    /// follow, or the limiter at a later hop): the first request was sent.
    Refused(Refusal),
    /// The limiter refused the request before it was sent at all.
    Held(Refusal),
    /// The call's time budget was spent before this request could go; the
    /// flag says whether an earlier hop of the attempt was sent.
    OutOfTime { hop_sent: bool },
}

/// How long one request of a call may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestTimeout {
    /// The attempt timeout: the timeout of the client's own
    /// `reqwest::Client` (`ClientBuilder::build` sets it), which reqwest
    /// applies to every request that sets none.
    Attempt(Duration),
    /// Less than that is left of the call's budget.
    Shorter(Duration),
}

impl RequestTimeout {
    /// Sets the timeout on `request` where the client's own would not
    /// apply. Setting one is not free (reqwest keeps it in the request's
    /// extensions, a map allocated for it), and most requests of a call
    /// have the whole attempt timeout.
    pub(crate) fn apply(self, request: &mut reqwest::Request) {
        match self {
            RequestTimeout::Shorter(timeout) => *request.timeout_mut() = Some(timeout),
            RequestTimeout::Attempt(timeout) => {
                // A request copied after a timeout was set on it.
                if request.timeout().is_some() {
                    *request.timeout_mut() = Some(timeout);
                }
            }
        }
    }
}

/// What every request of a call passes before it is sent: the client's
/// rate limiter, within the call's deadline.
#[derive(Clone, Copy)]
pub(crate) struct Gate<'a> {
    limiter: Option<&'a RateLimiter>,
    deadline: Instant,
    attempt_timeout: Duration,
    /// The client's instruments and the operation they record under.
    metrics: Option<(&'a Metrics, &'static str)>,
}

/// A request on its way, for the metrics: where it went and when.
pub(crate) struct Sending(Option<(Target, Instant)>);

impl<'a> Gate<'a> {
    /// The gate of one request of `operation`: `limiter` (if the client
    /// has one), the call's `deadline`, the client's attempt timeout and
    /// its `metrics`.
    pub(crate) fn new(
        limiter: Option<&'a RateLimiter>,
        deadline: Instant,
        attempt_timeout: Duration,
        (metrics, operation): (&'a Metrics, &'static str),
    ) -> Self {
        Gate {
            limiter,
            deadline,
            attempt_timeout,
            metrics: Some((metrics, operation)),
        }
    }

    /// A gate without a limiter, for tests of what lies behind it.
    #[cfg(test)]
    pub(crate) fn unlimited(deadline: Instant, attempt_timeout: Duration) -> Self {
        Gate {
            limiter: None,
            deadline,
            attempt_timeout,
            metrics: None,
        }
    }

    /// The instruments, when anything is recorded.
    fn metrics(&self) -> Option<(&'a Metrics, &'static str)> {
        self.metrics.filter(|_| Metrics::ENABLED)
    }

    /// `request` is about to be sent: where and when, for
    /// [`Gate::answered`].
    pub(crate) fn sending(&self, request: &reqwest::Request) -> Sending {
        Sending(
            self.metrics()
                .map(|(metrics, _)| (metrics.target(request), Instant::now())),
        )
    }

    /// The request of `sending` came back with `outcome`.
    pub(crate) fn answered(&self, sending: Sending, outcome: RequestOutcome) {
        if let (Some((metrics, operation)), Sending(Some((target, sent_at)))) =
            (self.metrics(), sending)
        {
            metrics.request(operation, target, outcome, sent_at.elapsed());
        }
    }

    /// How long the next request may take, body included: the attempt
    /// timeout, or what is left of the call's budget if that is less.
    /// `None` when nothing is left.
    pub(crate) fn request_timeout(&self) -> Option<RequestTimeout> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            None
        } else if left < self.attempt_timeout {
            Some(RequestTimeout::Shorter(left))
        } else {
            Some(RequestTimeout::Attempt(self.attempt_timeout))
        }
    }

    /// Waits for the limiter's turn, or says why the request may not go.
    /// The returned token is spent when the request is sent; dropped
    /// unspent (a cancelled call), it gives its unit of the daily budget
    /// back.
    pub(crate) async fn pass(&self) -> Result<Option<DailyToken<'_>>, Refusal> {
        let Some(limiter) = self.limiter else {
            return Ok(None);
        };
        let arrived = self.metrics().map(|_| Instant::now());
        // Boxed: the limiter is opt-in, and its future would otherwise make
        // every call's future larger.
        let admission = Box::pin(limiter.acquire(self.deadline)).await;
        if let (Some((metrics, _)), Some(arrived)) = (self.metrics(), arrived) {
            let kind = limiter.kind();
            match &admission {
                Admission::Go(_) => metrics.limiter_wait(kind, arrived.elapsed()),
                Admission::DailyBudgetSpent { .. } => {
                    metrics.limiter_refusal(kind, "daily_budget_spent");
                }
                Admission::PauseTooLong { .. } => metrics.limiter_refusal(kind, "pause_too_long"),
                #[cfg(feature = "redis")]
                Admission::StoreUnavailable { .. } => {
                    metrics.limiter_refusal(kind, "store_unavailable");
                }
            }
        }
        match admission {
            Admission::Go(token) => Ok(Some(token)),
            Admission::DailyBudgetSpent { resets_in } => {
                Err(Refusal::DailyBudgetSpent { resets_in })
            }
            Admission::PauseTooLong { wait } => Err(Refusal::PauseTooLong { wait }),
            #[cfg(feature = "redis")]
            Admission::StoreUnavailable { reason } => {
                Err(Refusal::QuotaStoreUnavailable { reason })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::Method;

    fn request() -> reqwest::Request {
        reqwest::Request::new(
            Method::GET,
            "https://api.au.whispir.com/messages".parse().expect("url"),
        )
    }

    #[test]
    fn the_whole_attempt_timeout_is_left_to_the_client() {
        let mut plain = request();
        RequestTimeout::Attempt(Duration::from_secs(10)).apply(&mut plain);
        assert_eq!(plain.timeout(), None);
    }

    #[test]
    fn a_shorter_budget_is_set_on_the_request() {
        let mut plain = request();
        RequestTimeout::Shorter(Duration::from_secs(2)).apply(&mut plain);
        assert_eq!(plain.timeout(), Some(&Duration::from_secs(2)));
    }

    #[test]
    fn a_timeout_already_on_a_request_is_replaced() {
        let mut copied = request();
        *copied.timeout_mut() = Some(Duration::from_secs(2));
        RequestTimeout::Attempt(Duration::from_secs(10)).apply(&mut copied);
        assert_eq!(copied.timeout(), Some(&Duration::from_secs(10)));
    }

    #[tokio::test(start_paused = true)]
    async fn the_gate_gives_what_is_left_of_the_budget() {
        let gate = |left| Gate {
            limiter: None,
            deadline: Instant::now() + left,
            attempt_timeout: Duration::from_secs(10),
            metrics: None,
        };
        assert_eq!(
            gate(Duration::from_secs(30)).request_timeout(),
            Some(RequestTimeout::Attempt(Duration::from_secs(10)))
        );
        assert_eq!(
            gate(Duration::from_secs(3)).request_timeout(),
            Some(RequestTimeout::Shorter(Duration::from_secs(3)))
        );
        assert_eq!(gate(Duration::ZERO).request_timeout(), None);
    }
}
