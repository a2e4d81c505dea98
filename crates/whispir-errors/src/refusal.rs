//! Requests the client itself refused to send, or to send on: typed facts
//! of the client, never something a server's answer could fake.

use std::fmt;
use std::time::Duration;

use http::StatusCode;

use crate::class::ErrorClass;

/// Why the client did not send a request, did not follow a redirect, or
/// did not ask a list for its next page.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The daily request budget of the configured plan is spent; the
    /// request was not sent.
    DailyBudgetSpent {
        /// How long until the budget resets.
        resets_in: Duration,
    },
    /// The rate limiter (or a pause the API asked for) would make the call
    /// wait longer than its remaining time; the request was not sent.
    PauseTooLong {
        /// How long the call would have had to wait.
        wait: Duration,
    },
    /// The rate limit is shared with other processes through a store
    /// (Redis), the store gave no answer (down, slow, or unreachable), and
    /// the client was told to refuse rather than send unpaced meanwhile;
    /// the request was not sent.
    QuotaStoreUnavailable {
        /// What went wrong with the store.
        reason: String,
    },
    /// The API answered with a redirect the client would not follow. The
    /// request was not sent to the redirect's target.
    Redirect {
        /// The redirect status (301, 302, 307 or 308).
        status: StatusCode,
        /// Why it was not followed.
        reason: RedirectRefusal,
    },
    /// A list stream did not ask for the next page: the page at `offset`
    /// held the same items (in any order) as one of the last few pages, so
    /// the API is ignoring the offset and would answer them forever.
    PageRepeated {
        /// The offset the repeated page was asked for at.
        offset: u32,
    },
    /// A list stream did not ask for the next page: a page linked to one
    /// more, but the stream had already read up to the total the page
    /// itself stated (its `status`, e.g. "21 to 40 of 40").
    PastStatedTotal {
        /// The offset the next page would have been asked for at.
        offset: u32,
        /// The number of items the API said the list holds.
        total: u64,
    },
    /// A list stream did not ask for the next page: it had read as many
    /// pages as its cap allows, and the list went on.
    PageCap {
        /// The cap: the most pages one stream reads.
        max_pages: u32,
    },
}

/// Why a redirect was not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectRefusal {
    /// The redirect points a write (a send, an update, a delete) to
    /// another origin: nothing but a read is ever sent elsewhere.
    OtherOrigin {
        /// The origin the API pointed to, e.g. `https://example.com`.
        origin: String,
    },
    /// The redirect would leave HTTPS for plain HTTP.
    Downgrade,
    /// The redirects lead back to a URL already visited.
    Loop,
    /// More redirects than the client follows for one call.
    TooManyHops {
        /// The most redirects one call follows.
        limit: usize,
    },
    /// The `Location` header is missing or is not a usable URL.
    BadLocation(String),
    /// The request body is a stream that cannot be sent a second time.
    BodyNotReplayable,
    /// A write (a send, a create, an update, a delete) was answered 301 or
    /// 302: unlike 307 and 308, these do not promise that the request was
    /// not carried out, so it is not sent again anywhere.
    SendNotRepeated,
    /// A write was answered 303 See Other: the API carried it out and
    /// points at the result. It is not sent again.
    CarriedOut {
        /// The `Location` the API named, resolved, when it had a usable one.
        location: Option<String>,
    },
}

impl Refusal {
    /// The status of the answer that led to the refusal, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Refusal::Redirect { status, .. } => Some(*status),
            Refusal::DailyBudgetSpent { .. }
            | Refusal::PauseTooLong { .. }
            | Refusal::QuotaStoreUnavailable { .. }
            | Refusal::PageRepeated { .. }
            | Refusal::PastStatedTotal { .. }
            | Refusal::PageCap { .. } => None,
        }
    }

    /// How the refusal is classified.
    pub fn class(&self) -> ErrorClass {
        match self {
            // The client's own rate limit held the request back.
            Refusal::DailyBudgetSpent { .. }
            | Refusal::PauseTooLong { .. }
            | Refusal::QuotaStoreUnavailable { .. } => ErrorClass::Throttling,
            Refusal::Redirect { .. } => ErrorClass::Redirect,
            // The API's pages break the paging contract, as a malformed
            // answer would.
            Refusal::PageRepeated { .. } | Refusal::PastStatedTotal { .. } => {
                ErrorClass::ServerError
            }
            // The caller's own limit, like an argument the SDK refuses.
            Refusal::PageCap { .. } => ErrorClass::InvalidRequest,
        }
    }

    /// Whether the refused request may have been carried out already: a
    /// write answered with a redirect that does not say it was not, or
    /// one that says it was (303).
    pub fn may_have_been_processed(&self) -> bool {
        matches!(
            self,
            Refusal::Redirect {
                reason: RedirectRefusal::SendNotRepeated | RedirectRefusal::CarriedOut { .. },
                ..
            }
        )
    }

    /// Whether the API said it carried the request out (303 See Other).
    pub fn was_carried_out(&self) -> bool {
        matches!(
            self,
            Refusal::Redirect {
                reason: RedirectRefusal::CarriedOut { .. },
                ..
            }
        )
    }

    /// How long to wait before the request can be sent.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Refusal::DailyBudgetSpent { resets_in } => Some(*resets_in),
            Refusal::PauseTooLong { wait } => Some(*wait),
            Refusal::QuotaStoreUnavailable { .. }
            | Refusal::Redirect { .. }
            | Refusal::PageRepeated { .. }
            | Refusal::PastStatedTotal { .. }
            | Refusal::PageCap { .. } => None,
        }
    }

    /// What to do about it.
    pub fn remedy(&self) -> &'static str {
        match self {
            Refusal::DailyBudgetSpent { .. } => {
                "the plan's daily budget is spent: send again after it resets (retry_after), \
                 or raise the plan"
            }
            Refusal::PauseTooLong { .. } => {
                "the API asked the client to slow down for longer than this call may take: \
                 send again after retry_after, or give the call more time"
            }
            Refusal::QuotaStoreUnavailable { .. } => {
                "the Redis server that shares the plan between processes did not answer: start \
                 it or check its address and RedisQuota::timeout; to send at a share of the plan \
                 meanwhile, choose WhenUnavailable::FallBack"
            }
            Refusal::PageRepeated { .. } => {
                "the items before this error are all the stream could trust; report the list \
                 operation to Whispir support, and narrow the list with its filters meanwhile"
            }
            Refusal::PastStatedTotal { .. } => {
                "the items before this error are likely all of the list; read it again to be \
                 sure, and report the list operation to Whispir support if this persists"
            }
            Refusal::PageCap { .. } => {
                "the list is longer than the stream's page cap: raise it with Items::max_pages, \
                 or narrow the list with its filters"
            }
            Refusal::Redirect { reason, .. } => match reason {
                RedirectRefusal::OtherOrigin { .. } => {
                    "the request was not sent to the other origin; check the base URL and \
                     region of the client, then send it again if it is right"
                }
                RedirectRefusal::Downgrade => {
                    "the API pointed to plain HTTP, which Whispir refuses; check the base URL \
                     and any proxy in between"
                }
                RedirectRefusal::Loop | RedirectRefusal::TooManyHops { .. } => {
                    "the redirects do not lead anywhere; check the base URL, and report the \
                     URL to Whispir support if it is right"
                }
                RedirectRefusal::BadLocation(_) => {
                    "the redirect cannot be followed; check the base URL, and report it to \
                     Whispir support if it is right"
                }
                RedirectRefusal::BodyNotReplayable => {
                    "send the request again to the URL in the Location header with a body \
                     that can be sent twice"
                }
                RedirectRefusal::SendNotRepeated => {
                    "the request may or may not have been carried out: check its effect (e.g. \
                     list recent messages) before sending it again"
                }
                RedirectRefusal::CarriedOut { .. } => {
                    "the API carried the request out: do not send it again; read the result \
                     at the Location it named"
                }
            },
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::DailyBudgetSpent { resets_in } => write!(
                f,
                "not sent: the plan's daily request budget is spent (it resets in about {} h)",
                resets_in.as_secs().div_ceil(3600)
            ),
            Refusal::PauseTooLong { wait } => write!(
                f,
                "not sent: the API asked to pause {} s, longer than the call's remaining time",
                wait.as_secs_f64().ceil()
            ),
            Refusal::QuotaStoreUnavailable { reason } => write!(
                f,
                "not sent: the store that shares the rate limit between processes is unavailable \
                 ({reason})"
            ),
            Refusal::PageRepeated { offset } => write!(
                f,
                "next page not asked for: the page at offset {offset} repeats the items of a \
                 recent page: the API is ignoring the offset"
            ),
            Refusal::PastStatedTotal { offset, total } => write!(
                f,
                "next page not asked for: a page links to more at offset {offset}, but the API \
                 said the list holds {total} items"
            ),
            Refusal::PageCap { max_pages } => write!(
                f,
                "next page not asked for: the list goes on past the stream's cap of {max_pages} pages"
            ),
            Refusal::Redirect { status, reason } => {
                write!(f, "{} redirect not followed: ", status.as_u16())?;
                match reason {
                    RedirectRefusal::OtherOrigin { origin } => write!(
                        f,
                        "the API redirected the request to {origin}; it was not sent there"
                    ),
                    RedirectRefusal::Downgrade => {
                        f.write_str("it would leave https for plain http")
                    }
                    RedirectRefusal::Loop => f.write_str("redirect loop"),
                    RedirectRefusal::TooManyHops { limit } => {
                        write!(f, "more than {limit} redirects")
                    }
                    RedirectRefusal::BadLocation(why) => write!(f, "bad Location: {why}"),
                    RedirectRefusal::BodyNotReplayable => {
                        f.write_str("the request body cannot be sent twice")
                    }
                    RedirectRefusal::SendNotRepeated => f.write_str(
                        "a write is only repeated for 307 and 308; it may or may not have been carried out",
                    ),
                    RedirectRefusal::CarriedOut { location: Some(location) } => write!(
                        f,
                        "the API carried the request out; the result is at {location}"
                    ),
                    RedirectRefusal::CarriedOut { location: None } => f.write_str(
                        "the API carried the request out; its Location is unusable",
                    ),
                }
            }
        }
    }
}
