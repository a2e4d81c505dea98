//! Guides: what the SDK does around every call, beyond each item's own
//! documentation. The README (the crate's front page) shows the common tasks;
//! these pages hold the details behind them.
//!
//! | guide | what it covers |
//! | --- | --- |
//! | [`behaviour`] | bodies, time, retries, the rate limit, redirects, 201/202, the 304 cache, paths, tracing, lists, waiting for delivery, secrets |
//! | [`errors`] | every predicate and accessor of [`Error`](crate::Error), and keeping it through `anyhow` |
//! | [`tls`] | choosing what carries HTTPS, and its crypto provider |
//! | [`shared_plan`] | one plan's rate limit for many processes through Redis: guarantees, when Redis is down, which Redis |
//! | [`callbacks`] | receiving callbacks: what the service checks, acting once per event, replicas sharing claims through Redis |
//! | [`testing`] | the sandbox in detail, the sandbox as a server, and testing against odd server behaviour |
//! | [`command_line`] | the `whispir` command: profiles, bulk sends and their journal, `whispir api`, exit codes |
//!
//! The code blocks of these pages are compiled as the crate's doc tests.

#[doc = include_str!("guide/behaviour.md")]
pub mod behaviour {}

#[doc = include_str!("guide/errors.md")]
pub mod errors {}

#[doc = include_str!("guide/tls.md")]
pub mod tls {}

#[doc = include_str!("guide/shared_plan.md")]
pub mod shared_plan {}

#[doc = include_str!("guide/callbacks.md")]
pub mod callbacks {}

#[doc = include_str!("guide/testing.md")]
pub mod testing {}

#[doc = include_str!("guide/command_line.md")]
pub mod command_line {}
