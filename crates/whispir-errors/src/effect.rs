//! What an operation does to the API's state: the one fact every decision
//! to send a request again (a retry, a redirect, a remembered move) or to
//! answer it from a cache is taken from. The SDK's operation table gives
//! every operation its effect, derived from the spec by `cargo xtask regen`.

use std::fmt;

use http::Method;

/// What sending an operation's request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Effect {
    /// A read: sending it changes nothing, so it may be sent again,
    /// followed to wherever the API points, and answered from a cache.
    Read,
    /// A write whose repetition leaves the same state as one request (a
    /// `PUT` that replaces a resource, a `DELETE`): it may be sent again
    /// when the API may not have acted, but it never follows the API to a
    /// new place unless the API promised it did not act (307, 308).
    Idempotent,
    /// A write that must never happen twice because of the client: a
    /// message send, a scenario run, a one-time code, an import, any
    /// create. Sent again only when the API provably did not act on it.
    Unrepeatable,
}

impl Effect {
    /// What an operation with this HTTP method does when its description
    /// says nothing more (RFC 9110: GET and HEAD are safe, PUT and DELETE
    /// idempotent; anything else, POST above all, may act every time).
    pub fn of_method(method: &Method) -> Self {
        if method.is_safe() {
            Effect::Read
        } else if method.is_idempotent() {
            Effect::Idempotent
        } else {
            Effect::Unrepeatable
        }
    }

    /// Whether the request changes nothing on the API (a read).
    pub fn is_read(self) -> bool {
        self == Effect::Read
    }

    /// Whether sending the request twice leaves the same state as once.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Effect::Read | Effect::Idempotent)
    }

    /// The name used in the spec's `x-whispir-effect` and in messages.
    pub fn name(self) -> &'static str {
        match self {
            Effect::Read => "read",
            Effect::Idempotent => "idempotent",
            Effect::Unrepeatable => "unrepeatable",
        }
    }
}

impl fmt::Display for Effect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_their_rfc_9110_effects() {
        assert_eq!(Effect::of_method(&Method::GET), Effect::Read);
        assert_eq!(Effect::of_method(&Method::HEAD), Effect::Read);
        assert_eq!(Effect::of_method(&Method::PUT), Effect::Idempotent);
        assert_eq!(Effect::of_method(&Method::DELETE), Effect::Idempotent);
        assert_eq!(Effect::of_method(&Method::POST), Effect::Unrepeatable);
        assert_eq!(Effect::of_method(&Method::PATCH), Effect::Unrepeatable);
    }

    #[test]
    fn only_reads_and_idempotent_writes_are_idempotent() {
        assert!(Effect::Read.is_idempotent());
        assert!(Effect::Idempotent.is_idempotent());
        assert!(!Effect::Unrepeatable.is_idempotent());
        assert!(!Effect::Idempotent.is_read());
    }
}
