//! The syn passes that rewrite progenitor's output, in the order
//! `generate.rs` runs them. Each refuses, naming the place, a shape of
//! progenitor's output it does not know ([`syntax::ShapeError`]), and
//! reports how many places it rewrote (`rewrite_counts.rs` checks the
//! counts). Passes import `syntax` and, for `response_handling`,
//! `request_building` (the request half of each `send()` it rewrites);
//! no pass imports one that runs after it.

/// What every pass shares: the shape error and small syntax readers.
pub mod syntax;

/// Request bodies kept as a model or builder.
pub mod boxed_bodies;
/// Vendor media types on every request.
pub mod media_types;
/// Builder-to-model conversions that name every missing or refused field.
pub mod model_conversions;
/// Model-builder setters documented with their field's description.
pub mod model_docs;
/// Setters of optional model fields take text, values, `None` or builders.
pub mod model_setters;
/// Operation-builder setters that check their value in plain words.
pub mod operation_setters;
/// List streams: last, as they go into `mod builder`, which the passes
/// above must not rewrite.
pub mod pagination;
/// Path arguments kept in their segment.
pub mod path_segments;
/// The request half of each `send()`: no `api-version`, the workspace in
/// the path, the URL in one buffer (run from `response_handling`).
pub mod request_building;
/// Every `send()`: the response handling replaced by a call into
/// `crates/whispir/src/runtime/call.rs`.
pub mod response_handling;
/// `Debug` of models and builders with a secret field: set or not, never
/// the value.
pub mod secret_fields;
/// Fields a model does not declare, kept.
pub mod unknown_fields;
