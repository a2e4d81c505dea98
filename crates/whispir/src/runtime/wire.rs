//! Names on the wire that several layers of the runtime share: the cache
//! keys on them, redirects strip them, a replayed request carries them and
//! the context sets them. A leaf: it imports nothing of the crate.

use reqwest::header::HeaderName;

/// Name of the API-key header. Whispir's scheme calls it `Api-Key`, its
/// documentation and examples send `x-api-key`; the SDK sends the latter.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");
