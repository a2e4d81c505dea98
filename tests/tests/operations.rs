//! One wire check per operation of the spec: method, path, vendor media
//! types, credentials, required parameters and request body, against a
//! local mock server. The checks are generated from the spec by
//! `cargo xtask regen`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

#[rustfmt::skip]
mod generated;
