//! Status codes of the Whispir API: what each one means, how to classify
//! it, what the error bodies say, and the one error type of the SDK.
//!
//! The list of codes and their texts is derived from the project's code
//! table (`openapi/response-codes.md`); the classification is handwritten
//! and checked against it.
//!
//! ```
//! use http::{HeaderMap, HeaderValue, StatusCode};
//! use whispir_errors::{ErrorClass, ForbiddenReason, RetryPolicy, TableRow, classify};
//!
//! // A 403 with Whispir's per-second quota code is throttling: safe to send again.
//! let mut headers = HeaderMap::new();
//! headers.insert("x-error-code", HeaderValue::from_static("ERR_403_DEVELOPER_OVER_QPS"));
//! let decided = classify(StatusCode::FORBIDDEN, &headers, "");
//! assert_eq!(decided.class, ErrorClass::Throttling);
//! assert_eq!(decided.forbidden, Some(ForbiddenReason::OverQueriesPerSecond));
//! assert_eq!(decided.retry, RetryPolicy::Always);
//!
//! // What the code table says a status code means, and what to do about it.
//! let row = TableRow::lookup(429).expect("the code table lists 429");
//! assert_eq!(row.summary, "The client made more calls than the plan's quota allows.");
//! ```
//!
//! The SDK (`whispir`) re-exports what a user of its client needs; this
//! crate on its own serves code that classifies Whispir's answers itself.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod body;
pub mod class;
pub mod code_table;
pub mod effect;
pub mod error;
#[rustfmt::skip]
mod generated;
pub mod location;
pub mod refusal;
pub mod retry_after;
mod table_lookup;
pub mod transport;

pub use body::{ApiErrorBody, DEFAULT_BODY_LIMIT, RawBody, parse_error_body};
pub use class::{Classification, ErrorClass, ForbiddenReason, RetryPolicy, classify};
pub use code_table::{TableRow, TableSection};
pub use effect::Effect;
pub use error::{CODE_TABLE_URL, Error, ErrorHeaders, Result, SendState, TransportKind};
pub use location::{LocationError, is_downgrade, resolve_location, resource_id, same_origin};
pub use refusal::{RedirectRefusal, Refusal};
