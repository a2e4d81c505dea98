//! The syn passes that rewrite progenitor's output. Each refuses, naming
//! the place, a shape of progenitor's output it does not know
//! ([`syntax::ShapeError`]), and reports how many places it rewrote
//! (`rewrite_counts.rs` checks the counts). Passes import `syntax` and,
//! for `response_handling`, `request_building`; no pass imports one that
//! runs after it. `generate.rs` runs them in this order:
//!
//! 1. `response_handling`: every `send()`'s response handling becomes a
//!    call into `crates/whispir/src/runtime/call.rs`; it runs
//!    `request_building` on the request half (no `api-version`, the
//!    workspace in the path, the URL in one buffer);
//! 2. `path_segments`: path arguments kept in their segment;
//! 3. `media_types`: vendor media types on every request;
//! 4. `model_setters`: optional-field setters take text, values, `None`
//!    or builders;
//! 5. `model_conversions`: builder-to-model conversions name every
//!    missing or refused field;
//! 6. `model_docs`: model-builder setters documented with their field's
//!    description;
//! 7. `boxed_bodies`: request bodies kept as a model or builder;
//! 8. `operation_setters`: parameter setters check their value in plain
//!    words;
//! 9. `unknown_fields`: fields a model does not declare, kept;
//! 10. `secret_fields`: models and builders with a secret field get a
//!     `Debug` that shows it as set, never its value;
//! 11. `pagination`: list streams, last, as they go into `mod builder`,
//!     which the passes above must not rewrite.
//!
//! (rustfmt sorts the `mod` lines below; the list above is the order.)

pub mod boxed_bodies;
pub mod media_types;
pub mod model_conversions;
pub mod model_docs;
pub mod model_setters;
pub mod operation_setters;
pub mod pagination;
pub mod path_segments;
pub mod request_building;
pub mod response_handling;
pub mod secret_fields;
pub mod syntax;
pub mod unknown_fields;
