//! Status codes of the Whispir API: what each one means, how to classify
//! it, what the error bodies say, and the one error type of the SDK.
//!
//! The list of codes and their texts is derived from the project's code
//! table (`openapi/response-codes.md`); the classification is handwritten
//! and checked against it.
#![deny(missing_docs)]

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
pub mod transport;

pub use body::{ApiErrorBody, DEFAULT_BODY_LIMIT, RawBody, parse_error_body};
pub use class::{Classification, ErrorClass, ForbiddenReason, RetryPolicy, classify};
pub use code_table::{TableRow, TableSection};
pub use effect::Effect;
pub use error::{CODE_TABLE_URL, Error, ErrorHeaders, Result, SendState, TransportKind};
pub use location::{LocationError, is_downgrade, resolve_location, resource_id, same_origin};
pub use refusal::{RedirectRefusal, Refusal};
