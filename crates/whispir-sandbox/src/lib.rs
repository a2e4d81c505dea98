//! An offline, stateful Whispir: the API of `openapi/bundled.json` served
//! from memory, for examples, tests and conformance checks.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use whispir_sandbox::Sandbox;
//!
//! let sandbox = Sandbox::start().await?; // demo data, a free port on 127.0.0.1
//! let contacts = sandbox.client().contact_list().send().await?;
//! println!("{} serves {:?}", sandbox.base_url(), contacts.into_inner());
//! # Ok(()) }
//! ```
//!
//! Every operation of the spec answers: resources are kept per workspace
//! (calls without a workspace act in the first one), request bodies are
//! checked against the spec's schemas, and the API's manners are kept:
//! Basic or Bearer credentials with `x-api-key`, vendor media types, paging
//! with `link`s, plan quotas, `ETag`s, `Location`s. Sent messages move from
//! pending to sent to delivered (or undeliverable for
//! [`FAILING_NUMBER`]) and call their callbacks. Faults (latency, resets,
//! 5xx, redirects, bad bodies) can be injected from a config file, the
//! command line or [`SandboxBuilder::fault`].
#![deny(missing_docs)]

mod auth;
mod auth_endpoint;
mod callbacks;
mod config;
mod data;
mod errors;
mod faults;
mod imports;
mod media;
mod messages;
mod operations;
mod otp;
mod params;
mod pipeline;
mod quota;
mod schema;
mod server;
mod spec;
mod state;
mod store;
mod xml;

pub use config::{
    ConfigError, FAILING_NUMBER, MessageBehaviour, OverQuota, Quota, SandboxConfig,
    SandboxCredentials,
};
pub use data::{DEMO_WORKSPACE_ID, DataError};
pub use faults::{
    DEFAULT_HUGE_BODY, Fault, FaultParseError, FaultRule, MOVED_PREFIX, RedirectTarget,
};
pub use otp::CODE_DIGITS;
pub use server::{Sandbox, SandboxBuilder, StartError};
pub use spec::SpecError;
pub use state::SetupError;
