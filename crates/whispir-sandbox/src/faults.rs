//! Fault injection: latency (before acting, or holding the answer after
//! acting), dropped connections, 5xx answers, redirects and bad bodies,
//! for every route or one operation, a number of times or always.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where a redirect fault sends the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedirectTarget {
    /// The same path under [`MOVED_PREFIX`] on the same listener, which
    /// serves it like the path itself.
    #[default]
    SameOrigin,
    /// The same path on the sandbox's second listener (another port, so another origin).
    OtherPort,
}

/// The prefix same-origin redirects add to a path: `/contacts` moves to
/// `/moved/contacts`. Requests under it are served like the path without it,
/// and redirect faults spare them.
pub const MOVED_PREFIX: &str = "/moved";

/// One kind of fault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Wait before answering; other faults still apply.
    Latency {
        /// How long, in milliseconds.
        millis: u64,
    },
    /// Carry out the request, then wait this long before answering (a
    /// client that gives up or dies meanwhile never hears that it acted).
    HoldAnswer {
        /// How long, in milliseconds.
        millis: u64,
    },
    /// Drop the connection (TCP reset) before doing anything.
    ResetBeforeActing,
    /// Carry out the request, then drop the connection instead of answering.
    ResetAfterActing,
    /// Answer with this status (a 5xx, usually) and a Whispir error body.
    Status {
        /// The status code.
        status: u16,
    },
    /// Answer with a redirect to the same path.
    Redirect {
        /// 301, 302, 303, 307 or 308.
        #[serde(default = "default_redirect_status")]
        status: u16,
        /// Where to.
        #[serde(default)]
        to: RedirectTarget,
    },
    /// Answer 200 with a body that is not JSON.
    Garbage,
    /// Answer 200 with a JSON body of this many bytes.
    HugeBody {
        /// The body's size.
        bytes: usize,
    },
}

fn default_redirect_status() -> u16 {
    307
}

/// The body size of a huge-body fault unless told otherwise: 20 MiB.
pub const DEFAULT_HUGE_BODY: usize = 20 * 1024 * 1024;

/// A fault and where and how often it strikes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The `operationId` it applies to; every operation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// How many matching requests it strikes; every one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// The fault.
    #[serde(flatten)]
    pub fault: Fault,
}

impl FaultRule {
    /// A fault on every request.
    pub fn always(fault: Fault) -> Self {
        FaultRule {
            operation: None,
            times: None,
            fault,
        }
    }

    /// Limits the fault to one operation (`messageCreate`).
    pub fn on(mut self, operation_id: impl Into<String>) -> Self {
        self.operation = Some(operation_id.into());
        self
    }

    /// Limits the fault to the next `times` matching requests.
    pub fn times(mut self, times: u32) -> Self {
        self.times = Some(times);
        self
    }
}

/// Why a fault given on the command line cannot be read.
#[derive(Debug, thiserror::Error)]
#[error(
    "bad fault {given:?}: {reason}; expected [OPERATION:]KIND[=VALUE][*TIMES], KIND one of latency=MS, hold-answer=MS, reset-before, reset-after, status=CODE, redirect[=CODE], redirect-other-port[=CODE], garbage, huge[=BYTES]"
)]
pub struct FaultParseError {
    given: String,
    reason: &'static str,
}

impl FromStr for FaultRule {
    type Err = FaultParseError;

    /// Reads `[OPERATION:]KIND[=VALUE][*TIMES]`, e.g. `messageCreate:status=503*2`.
    fn from_str(given: &str) -> Result<Self, Self::Err> {
        let error = |reason| FaultParseError {
            given: given.to_string(),
            reason,
        };
        let (rest, times) = match given.rsplit_once('*') {
            Some((rest, times)) => (
                rest,
                Some(times.parse().map_err(|_| error("TIMES is not a number"))?),
            ),
            None => (given, None),
        };
        let (operation, rest) = match rest.split_once(':') {
            Some((operation, rest)) => (Some(operation.to_string()), rest),
            None => (None, rest),
        };
        let (kind, value) = match rest.split_once('=') {
            Some((kind, value)) => (kind, Some(value)),
            None => (rest, None),
        };
        let number = |value: Option<&str>, default: Option<u64>| -> Result<u64, FaultParseError> {
            match value {
                Some(value) => value.parse().map_err(|_| error("VALUE is not a number")),
                None => default.ok_or_else(|| error("this fault needs a VALUE")),
            }
        };
        let status = |value: Option<&str>, default| -> Result<u16, FaultParseError> {
            u16::try_from(number(value, default)?).map_err(|_| error("not a status code"))
        };
        let fault = match kind {
            "latency" => Fault::Latency {
                millis: number(value, None)?,
            },
            "hold-answer" => Fault::HoldAnswer {
                millis: number(value, None)?,
            },
            "reset-before" => Fault::ResetBeforeActing,
            "reset-after" => Fault::ResetAfterActing,
            "status" => Fault::Status {
                status: status(value, None)?,
            },
            "redirect" => Fault::Redirect {
                status: status(value, Some(307))?,
                to: RedirectTarget::SameOrigin,
            },
            "redirect-other-port" => Fault::Redirect {
                status: status(value, Some(307))?,
                to: RedirectTarget::OtherPort,
            },
            "garbage" => Fault::Garbage,
            "huge" => Fault::HugeBody {
                bytes: usize::try_from(number(value, Some(DEFAULT_HUGE_BODY as u64))?)
                    .map_err(|_| error("too many bytes"))?,
            },
            _ => return Err(error("unknown KIND")),
        };
        Ok(FaultRule {
            operation,
            times,
            fault,
        })
    }
}

/// What the faults decided for one request.
#[derive(Debug, Default)]
pub(crate) struct FaultPlan {
    /// Total latency to add.
    pub latency: Duration,
    /// How long to hold the answer once the request was carried out.
    pub hold_answer: Duration,
    /// The fault that replaces or cuts the answer, if any.
    pub action: Option<Fault>,
}

/// The active fault rules, with how many strikes each has left.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Mutex<Vec<(FaultRule, Option<u32>)>>,
}

impl FaultTable {
    /// A table with these rules.
    pub fn new(rules: Vec<FaultRule>) -> Self {
        let table = FaultTable::default();
        for rule in rules {
            table.add(rule);
        }
        table
    }

    /// Adds a rule after the others.
    pub fn add(&self, rule: FaultRule) {
        let left = rule.times;
        if let Ok(mut rules) = self.rules.lock() {
            rules.push((rule, left));
        }
    }

    /// Removes every rule.
    pub fn clear(&self) {
        if let Ok(mut rules) = self.rules.lock() {
            rules.clear();
        }
    }

    /// Decides the faults of a request to `operation`, using up strikes.
    /// Redirects only strike requests that were not redirected already
    /// (`may_redirect`), so a redirected request arrives.
    pub fn plan(&self, operation: &str, may_redirect: bool) -> FaultPlan {
        let mut plan = FaultPlan::default();
        let Ok(mut rules) = self.rules.lock() else {
            return plan;
        };
        for (rule, left) in rules.iter_mut() {
            if rule
                .operation
                .as_deref()
                .is_some_and(|wanted| wanted != operation)
            {
                continue;
            }
            if *left == Some(0) {
                continue;
            }
            let is_redirect = matches!(rule.fault, Fault::Redirect { .. });
            if is_redirect && !may_redirect {
                continue;
            }
            match &rule.fault {
                Fault::Latency { millis } => plan.latency += Duration::from_millis(*millis),
                Fault::HoldAnswer { millis } => {
                    plan.hold_answer += Duration::from_millis(*millis);
                }
                _ if plan.action.is_some() => continue,
                fault => plan.action = Some(fault.clone()),
            }
            if let Some(left) = left.as_mut() {
                *left -= 1;
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_command_line_fault_names_operation_kind_value_and_times() {
        let rule: FaultRule = "messageCreate:status=503*2".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::always(Fault::Status { status: 503 })
                .on("messageCreate")
                .times(2)
        );
        let rule: FaultRule = "redirect-other-port".parse().unwrap();
        assert_eq!(
            rule.fault,
            Fault::Redirect {
                status: 307,
                to: RedirectTarget::OtherPort
            }
        );
        let rule: FaultRule = "resourceCreate:hold-answer=500".parse().unwrap();
        assert_eq!(
            rule,
            FaultRule::always(Fault::HoldAnswer { millis: 500 }).on("resourceCreate")
        );
        let table = FaultTable::new(vec![rule]);
        assert_eq!(
            table.plan("resourceCreate", true).hold_answer,
            Duration::from_millis(500)
        );
        assert!("status".parse::<FaultRule>().is_err());
        assert!("explode".parse::<FaultRule>().is_err());
    }

    #[test]
    fn a_counted_fault_strikes_that_many_times_on_its_operation_only() {
        let table = FaultTable::new(vec![
            FaultRule::always(Fault::Status { status: 500 })
                .on("contactList")
                .times(1),
            FaultRule::always(Fault::Latency { millis: 5 }),
        ]);
        let first = table.plan("contactList", true);
        assert_eq!(first.action, Some(Fault::Status { status: 500 }));
        assert_eq!(first.latency, Duration::from_millis(5));
        assert_eq!(table.plan("contactList", true).action, None);
        assert_eq!(table.plan("messageList", true).action, None);
    }

    #[test]
    fn redirects_spare_the_second_listener() {
        let table = FaultTable::new(vec![FaultRule::always(Fault::Redirect {
            status: 302,
            to: RedirectTarget::OtherPort,
        })]);
        assert!(table.plan("contactList", false).action.is_none());
        assert!(table.plan("contactList", true).action.is_some());
    }
}
