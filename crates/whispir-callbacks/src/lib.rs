//! Receiving Whispir callbacks: the requests Whispir sends to your URL when
//! a message gets a reply or cannot be delivered.
//!
//! - [`Receiver`] checks a request (method, key, content type, size) and
//!   parses its JSON or XML body into a [`Callback`]:
//!   [`Receiver::verify_and_parse`] for a request already in memory,
//!   [`Receiver::receive`] for one whose body is still arriving.
//! - [`AuthMode`] and [`CallbackKey`]: the four ways Whispir presents a
//!   callback's key; several keys may be accepted at once, for rotation.
//! - [`CallbackService`] (a `tower::Service`) and, with the `axum` feature,
//!   the [`WhispirCallback`] extractor mount a receiver in one line.
//! - [`Deduplicator`] lets a handler act once on a callback that Whispir
//!   sends again.
//! - [`CallbackError`] says why a request was refused and what to answer.
//!
//! Nothing here panics on what a request carries, and every read is
//! bounded in size and time.
#![deny(missing_docs)]

mod auth;
mod dedup;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod payload;
mod receiver;
mod service;
mod xml;

pub use auth::{
    AcceptedKey, AuthMode, CALLBACK_KEY_HEADER, CallbackKey, KeyError, MAX_KEY_BYTES,
    QUERY_PARAMETER, UnknownAuthMode,
};
pub use dedup::Deduplicator;
pub use error::CallbackError;
#[cfg(feature = "axum")]
pub use extract::WhispirCallback;
pub use payload::{Callback, CallbackKind, Channel, Responder, ResponseMessage};
pub use receiver::{
    BodyFormat, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES, Receiver, parse_body,
};
pub use service::CallbackService;
