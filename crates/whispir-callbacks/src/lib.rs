//! Receiving Whispir callbacks: the requests Whispir sends to your URL when
//! a message gets a reply or cannot be delivered.
//!
//! ```
//! use bytes::Bytes;
//! use whispir_callbacks::{AuthMode, CallbackKey, CallbackKind, Receiver};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // The key registered with the callback, presented in a header.
//! let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new("s3cret-Key")?)?;
//!
//! let request = http::Request::post("/whispir/callbacks")
//!     .header("X-Whispir-Callback-Key", "s3cret-Key")
//!     .header("Content-Type", "application/json")
//!     .body(Bytes::from_static(
//!         br#"{"messageid": "5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
//!             "responseMessage": {"channel": "SMS", "acknowledged": "14/03/24 09:41",
//!                                 "content": "Confirmed"}}"#,
//!     ))?;
//! let callback = receiver.verify_and_parse(&request)?;
//! assert_eq!(callback.kind(), CallbackKind::Reply);
//! assert_eq!(callback.content(), Some("Confirmed"));
//! # Ok(()) }
//! ```
//!
//! - [`Receiver`] checks a request (method, key, content type, size) and
//!   parses its JSON or XML body into a [`Callback`]:
//!   [`Receiver::verify_and_parse`] for a request already in memory,
//!   [`Receiver::receive`] for one whose body is still arriving.
//! - [`AuthMode`] and [`CallbackKey`]: the four ways Whispir presents a
//!   callback's key; several keys may be accepted at once, for rotation.
//! - [`CallbackService`] (a `tower::Service`) and, with the `axum` feature,
//!   the [`WhispirCallback`] extractor mount a receiver in one line.
//! - [`Deduplicator`] (one process) and `RedisDedup` (replicas sharing a
//!   Redis, feature `redis`) let a handler act once on a callback that
//!   Whispir sends again: [`Receiver::with_dedup`] puts one in front of
//!   the handler of [`CallbackService`], and [`DedupStore::act_once`] in
//!   front of any handler.
//! - [`CallbackError`] says why a request was refused and what to answer.
//! - With the `opentelemetry` feature, the receiver counts what it sees
//!   (see [Metrics](#metrics)).
//!
//! Nothing here panics on what a request carries, and every read is
//! bounded in size and time.
//!
//! # What Whispir sends
//!
//! When a callback is registered, Whispir checks its URL with one `GET`,
//! which must answer 200. After that, each event is a `POST` to the URL
//! with the callback's key where its `auth.type` says (`?auth=KEY`,
//! `X-Whispir-Callback-Key: KEY`, `Authorization: Basic KEY` or
//! `Authorization: Bearer KEY`) and a body in the callback's
//! `contentType`. As JSON:
//!
//! ```json
//! {
//!   "messageid": "5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
//!   "messagelocation": "https://api.au.whispir.com/messages/5F1C2A9B3D7E4C60A1B2C3D4E5F60718",
//!   "from": {"name": "Ada Lovelace", "mri": "Ada_Lovelace.100200.Sandbox@Contact.whispir.com",
//!            "mobile": "+61400111222", "email": "ada@example.com", "voice": "+61400111222"},
//!   "responseMessage": {"channel": "SMS", "acknowledged": "14/03/24 09:41", "content": "Confirmed"},
//!   "customParameters": {"orderId": "ORD-42"}
//! }
//! ```
//!
//! A delivery failure has `undeliverable` (a timestamp) where a reply has
//! `acknowledged`. As XML, the same fields are the children of
//! `<ns2:deliveryResponse xmlns:ns2="http://schemas.api.whispir.com">`, and
//! each custom parameter is an `<entry><key>..</key><value>..</value></entry>`
//! inside `<customParameters>`. Whispir treats any answer but 200 as a
//! failure and, with `retriesEnabled`, tries again about every five minutes
//! for a day.
//!
//! # Metrics
//!
//! With the `opentelemetry` feature, three counters go through the
//! OpenTelemetry metrics API, under the meter `whispir-callbacks`: the
//! global meter provider as it is when the [`Receiver`] is built (or a
//! [`DedupStore`] made), or the one given to `Receiver::meter_provider`.
//! The crate adds no exporter: your program installs one.
//!
//! | instrument | unit | attributes | counts |
//! | --- | --- | --- | --- |
//! | `whispir.callbacks.received` | `{callback}` | | requests that passed every check and parsed |
//! | `whispir.callbacks.refused` | `{callback}` | `whispir.refusal.reason`: `bad_key`, `bad_body`, `too_large`, `unsupported_media_type`, `method_not_allowed`, `body_timeout`, `body_unreadable` | requests refused, by why |
//! | `whispir.callbacks.duplicates` | `{callback}` | | deliveries the store did not let through: acted on before, or held by another delivery (in memory or through Redis) |
//!
//! No attribute carries what a request held: no key, body, sender or text.
//! Without the feature nothing is counted and nothing is compiled in.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod auth;
mod dedup;
mod error;
#[cfg(feature = "axum")]
mod extract;
mod metrics;
mod payload;
mod receiver;
mod service;
mod xml;

pub use auth::{
    AcceptedKey, AuthMode, CALLBACK_KEY_HEADER, CallbackKey, KeyError, MAX_KEY_BYTES,
    QUERY_PARAMETER, UnknownAuthMode,
};
pub use dedup::{
    Claim, ClaimTicket, DEFAULT_LEASE, DEFAULT_REMEMBER_DONE, DedupStore, Deduplicator, Outcome,
    StoreUnavailable, WhenStoreUnavailable,
};
#[cfg(feature = "redis")]
pub use dedup::{DEFAULT_STORE_TIMEOUT, InvalidRedisUrl, RedisDedup};
pub use error::CallbackError;
#[cfg(feature = "axum")]
pub use extract::WhispirCallback;
pub use payload::{Callback, CallbackKind, Channel, Responder, ResponseMessage};
pub use receiver::{
    BodyFormat, DEFAULT_BODY_TIMEOUT, DEFAULT_MAX_BODY_BYTES, Receiver, parse_body,
};
pub use service::CallbackService;
