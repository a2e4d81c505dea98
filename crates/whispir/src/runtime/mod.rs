//! The runtime: the floor the generated client stands on. Every call goes
//! through it (credentials, limiter, retries, redirects, the 304 cache,
//! decoding), and it names no type of the generated client: the generated
//! `send()` hands it the client's reqwest client, its context and the
//! operation's facts. Its files, bottom-up (each imports only the ones
//! above it in this list):

// Leaves (they import nothing of the crate but its root: the error type).
pub(crate) mod cache;
pub(crate) mod metrics;
pub mod operations;
pub mod rate_limit;
pub(crate) mod redacted;
pub(crate) mod redirect_memory;
pub mod response;
pub mod retry;
pub(crate) mod segments;
pub(crate) mod wire;
// The client's shared state and defaults.
pub mod context;
pub mod pagination;
pub(crate) mod sent;
// One call: its gate, a request kept for a retry, the hops, the attempts,
// and the call itself, which the generated code calls.
pub(crate) mod call;
pub(crate) mod execute;
pub(crate) mod gate;
pub(crate) mod redirect;
pub(crate) mod replay;
