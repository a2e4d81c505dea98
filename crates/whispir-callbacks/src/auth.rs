//! The four ways Whispir presents a callback's key, and the check that a
//! request carries one of the keys this service accepts.
//!
//! A key for the query mode is refused when configured if it has a
//! character that would not reach this receiver unchanged (see
//! [`KeyError::NotQuerySafe`]), and the query is read with percent-decoding
//! only, so the key is compared exactly as registered.
//!
//! Keys are held in `secrecy` types, never printed, and compared in
//! constant time: both sides sit in zero-padded buffers of the longest key
//! and are compared whole with `subtle`, lengths included, so neither the
//! content nor the length of an accepted key shows in the time a check
//! takes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use secrecy::{ExposeSecret, ExposeSecretMut, SecretBox, SecretString};
use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

/// The header Whispir sets in the `httpheader` mode.
pub const CALLBACK_KEY_HEADER: &str = "x-whispir-callback-key";

/// The query parameter Whispir sets in the `queryparam` mode (matched
/// without regard to case: Whispir's pages write it `auth` and `Auth`).
pub const QUERY_PARAMETER: &str = "auth";

/// The longest key accepted, in bytes. Whispir allows 128 characters.
pub const MAX_KEY_BYTES: usize = 512;

/// Where Whispir puts the key, as chosen by the callback's `auth.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMode {
    /// `queryparam`: `?auth=KEY` on the callback URL, the key appended as
    /// registered. Only keys that travel unchanged in a URL query are
    /// accepted for this mode: see [`KeyError::NotQuerySafe`].
    QueryParam,
    /// `httpheader`: `X-Whispir-Callback-Key: KEY`.
    HttpHeader,
    /// `basicauth`: `Authorization: Basic KEY`, the key sent as registered.
    BasicAuth,
    /// `bearertoken`: `Authorization: Bearer KEY`.
    BearerToken,
}

impl AuthMode {
    /// Every mode, in Whispir's order.
    pub const ALL: [AuthMode; 4] = [
        AuthMode::QueryParam,
        AuthMode::HttpHeader,
        AuthMode::BasicAuth,
        AuthMode::BearerToken,
    ];

    /// This mode's place in [`AuthMode::ALL`].
    const fn index(self) -> usize {
        match self {
            Self::QueryParam => 0,
            Self::HttpHeader => 1,
            Self::BasicAuth => 2,
            Self::BearerToken => 3,
        }
    }

    /// The name Whispir uses for this mode in a callback's `auth.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueryParam => "queryparam",
            Self::HttpHeader => "httpheader",
            Self::BasicAuth => "basicauth",
            Self::BearerToken => "bearertoken",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of Whispir's four `auth.type` values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown callback auth type {0:?}: expected queryparam, httpheader, basicauth or bearertoken"
)]
pub struct UnknownAuthMode(String);

impl FromStr for AuthMode {
    type Err = UnknownAuthMode;

    /// Reads Whispir's name for a mode; `querystring`, the name in
    /// Whispir's older pages, means `queryparam`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let mode = match name.trim().to_ascii_lowercase().as_str() {
            "queryparam" | "querystring" => Self::QueryParam,
            "httpheader" => Self::HttpHeader,
            "basicauth" => Self::BasicAuth,
            "bearertoken" => Self::BearerToken,
            _ => return Err(UnknownAuthMode(name.to_owned())),
        };
        Ok(mode)
    }
}

/// Why a key was refused when it was configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The key is empty: it would let anyone in.
    #[error("the callback key is empty; give the key registered with Whispir")]
    Empty,
    /// The key is longer than [`MAX_KEY_BYTES`].
    #[error("the callback key is longer than {max} bytes")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// The key has a character that cannot travel in a header unchanged.
    #[error(
        "the callback key has a character outside visible ASCII at byte {position}; \
         Whispir sends keys in headers and URLs, use letters, digits and punctuation"
    )]
    InvalidCharacter {
        /// Where, counted in bytes from the start.
        position: usize,
    },
    /// The key is for [`AuthMode::QueryParam`] and has a character that
    /// would not reach the receiver unchanged in a URL query.
    ///
    /// Whispir appends the key to the callback URL as registered, and the
    /// servers, proxies and frameworks on the way may read the query as a
    /// URL (RFC 3986) or as form data. A key is accepted for this mode if
    /// every reading gives it back unchanged: letters, digits and
    /// `- . _ ~ ! $ ' ( ) * , = : @ / ?`. That is what RFC 3986 lets a
    /// query carry unescaped, less `&` and `;` (they separate parameters)
    /// and `+` (form data reads it as a space). `=` stays: every parser
    /// splits a parameter at its first `=` only, so padded base64 keys work.
    #[error(
        "byte {position} of the callback key is {reason}; a queryparam key must travel \
         unchanged in a URL query, so register one of letters, digits and \
         - . _ ~ ! $ ' ( ) * , = : @ / ? with Whispir, or use another auth mode"
    )]
    NotQuerySafe {
        /// Where, counted in bytes from the start.
        position: usize,
        /// What is wrong with that character in a URL query.
        reason: &'static str,
    },
}

/// One key registered with Whispir for a callback. Its text is never
/// shown by `Debug` and is wiped from memory when dropped.
#[derive(Clone)]
pub struct CallbackKey {
    // Padded with zeros to the longest key, so that comparing against it
    // touches the same bytes whatever its length.
    padded: Arc<SecretBox<[u8; MAX_KEY_BYTES]>>,
    len: usize,
}

impl CallbackKey {
    /// Checks and wraps a key: 1 to [`MAX_KEY_BYTES`] bytes of visible
    /// ASCII. A key for [`AuthMode::QueryParam`] is checked further when it
    /// is given to a [`Receiver`](crate::Receiver).
    pub fn new(key: impl Into<SecretString>) -> Result<Self, KeyError> {
        let key: SecretString = key.into();
        let bytes = key.expose_secret().as_bytes();
        if bytes.is_empty() {
            return Err(KeyError::Empty);
        }
        if bytes.len() > MAX_KEY_BYTES {
            return Err(KeyError::TooLong { max: MAX_KEY_BYTES });
        }
        if let Some(position) = bytes.iter().position(|b| !b.is_ascii_graphic()) {
            return Err(KeyError::InvalidCharacter { position });
        }
        let mut padded = SecretBox::new(Box::new([0u8; MAX_KEY_BYTES]));
        if let Some(start) = padded.expose_secret_mut().get_mut(..bytes.len()) {
            start.copy_from_slice(bytes);
        }
        Ok(Self {
            padded: Arc::new(padded),
            len: bytes.len(),
        })
    }

    /// The key itself, to register it with Whispir (a callback's
    /// `auth.key`). Never log it.
    pub fn expose_secret(&self) -> &str {
        let key = self
            .padded
            .expose_secret()
            .get(..self.len)
            .unwrap_or_default();
        // `new` accepts visible ASCII only: always UTF-8.
        std::str::from_utf8(key).unwrap_or_default()
    }

    /// Whether this key reaches the receiver unchanged in `mode`. Only the
    /// query mode has more rules than [`new`](Self::new) checks.
    fn check_for(&self, mode: AuthMode) -> Result<(), KeyError> {
        if mode != AuthMode::QueryParam {
            return Ok(());
        }
        let key = self
            .padded
            .expose_secret()
            .get(..self.len)
            .unwrap_or_default();
        for (position, byte) in key.iter().enumerate() {
            if let Some(reason) = query_hazard(*byte) {
                return Err(KeyError::NotQuerySafe { position, reason });
            }
        }
        Ok(())
    }

    /// Whether `presented` is this key, in time that depends only on the
    /// length of `presented` (and not at all beyond [`MAX_KEY_BYTES`]):
    /// it is padded like the key and the two buffers are compared whole,
    /// lengths included.
    fn matches(&self, presented: &[u8]) -> Choice {
        let mut given = [0u8; MAX_KEY_BYTES];
        let Some(start) = given.get_mut(..presented.len()) else {
            // Longer than any key can be: nothing secret decides this.
            return Choice::from(0);
        };
        start.copy_from_slice(presented);
        let same = given.ct_eq(self.padded.expose_secret())
            & (presented.len() as u64).ct_eq(&(self.len as u64));
        given.zeroize();
        same
    }
}

impl fmt::Debug for CallbackKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CallbackKey([REDACTED])")
    }
}

/// Why `byte` of a key would not reach the receiver unchanged in a URL
/// query, if it would not (the rule is on [`KeyError::NotQuerySafe`]).
fn query_hazard(byte: u8) -> Option<&'static str> {
    match byte {
        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => None,
        b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b',' | b'=' => None,
        b':' | b'@' | b'/' | b'?' => None,
        b'+' => Some("a `+`, which servers that read a query as form data take for a space"),
        b'&' | b';' => Some("a `&` or `;`, which separates query parameters"),
        b'#' => Some("a `#`, which ends the query and is never sent"),
        b'%' => Some("a `%`, which starts a percent-escape"),
        _ => Some("a character a URL may not carry unescaped"),
    }
}

/// A key this service accepts, and where Whispir puts it.
#[derive(Debug, Clone)]
pub struct AcceptedKey {
    /// Where the key travels.
    pub mode: AuthMode,
    /// The key.
    pub key: CallbackKey,
}

impl AcceptedKey {
    /// `key` presented the way `mode` says, if it reaches the receiver
    /// unchanged that way.
    pub(crate) fn checked(mode: AuthMode, key: CallbackKey) -> Result<Self, KeyError> {
        key.check_for(mode)?;
        Ok(Self { mode, key })
    }
}

/// Whether the request's URL query and headers carry one of `accepted`.
///
/// Every accepted key is compared, whatever the outcome of the others, and
/// the request's credential is read the same way for each mode, so the time
/// taken tells nothing about which key or which part failed. A credential
/// given twice (two `auth` parameters, two headers) counts as absent.
pub(crate) fn is_authorised(
    query: Option<&str>,
    headers: &HeaderMap,
    accepted: &[AcceptedKey],
) -> bool {
    let mut presented: [Option<Vec<u8>>; 4] = Default::default();
    for (slot, mode) in presented.iter_mut().zip(AuthMode::ALL) {
        *slot = credential(mode, query, headers);
    }
    let mut any = Choice::from(0);
    for accepted in accepted {
        if let Some(Some(credential)) = presented.get(accepted.mode.index()) {
            any |= accepted.key.matches(credential);
        }
    }
    for credential in presented.iter_mut().flatten() {
        credential.zeroize();
    }
    bool::from(any)
}

/// The credential the request carries for `mode`, if exactly one is there.
fn credential(mode: AuthMode, query: Option<&str>, headers: &HeaderMap) -> Option<Vec<u8>> {
    match mode {
        AuthMode::QueryParam => {
            let mut values = query?
                .as_bytes()
                .split(|byte| *byte == b'&')
                .filter_map(|pair| {
                    let mut parts = pair.splitn(2, |byte| *byte == b'=');
                    let name = percent_decoded(parts.next()?);
                    let value = parts.next().unwrap_or_default();
                    name.eq_ignore_ascii_case(QUERY_PARAMETER.as_bytes())
                        .then(|| percent_decoded(value))
                });
            let first = values.next()?;
            values.next().is_none().then_some(first)
        }
        AuthMode::HttpHeader => {
            single_header(headers, CALLBACK_KEY_HEADER).map(|value| value.trim_ascii().to_vec())
        }
        AuthMode::BasicAuth => authorization(headers, "basic"),
        AuthMode::BearerToken => authorization(headers, "bearer"),
    }
}

/// `text` with each `%XX` escape replaced by its byte and nothing else
/// changed. Not form decoding: Whispir appends the key as registered, so a
/// `+` in the query is a `+`, not a space.
fn percent_decoded(text: &[u8]) -> Vec<u8> {
    let mut decoded = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some((&byte, after)) = rest.split_first() {
        if byte == b'%'
            && let [high, low, after_escape @ ..] = after
            && let (Some(high), Some(low)) = (hex_digit(*high), hex_digit(*low))
        {
            decoded.push(high << 4 | low);
            rest = after_escape;
            continue;
        }
        decoded.push(byte);
        rest = after;
    }
    decoded
}

/// The value of one hexadecimal digit.
fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The token of an `Authorization: <scheme> <token>` header, the scheme
/// matched without regard to case.
fn authorization(headers: &HeaderMap, scheme: &str) -> Option<Vec<u8>> {
    let value = single_header(headers, AUTHORIZATION.as_str())?.trim_ascii();
    let split = value.iter().position(|b| *b == b' ' || *b == b'\t')?;
    let (given, token) = value.split_at(split);
    given
        .eq_ignore_ascii_case(scheme.as_bytes())
        .then(|| token.trim_ascii().to_vec())
}

/// A header's value if it appears exactly once.
fn single_header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a [u8]> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    values.next().is_none().then(|| first.as_bytes())
}

#[cfg(test)]
mod tests;
