//! The framework-neutral core: check a request's method, key, content type
//! and size, then parse its body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::auth::{AcceptedKey, AuthMode, CallbackKey, KeyError, is_authorised};
use crate::dedup::DedupStore;
use crate::error::CallbackError;
use crate::metrics::CallbackMetrics;
use crate::payload::Callback;
use crate::xml;

/// The default largest body accepted: Whispir's callbacks are a few
/// kilobytes, long replies and many custom parameters included.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// The default time allowed for the body to arrive once the headers have.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// The two body formats Whispir sends, as chosen by a callback's
/// `contentType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyFormat {
    /// `application/json` (or any `+json` type).
    Json,
    /// `application/xml` or `text/xml` (or any `+xml` type).
    Xml,
}

impl BodyFormat {
    /// The format a `Content-Type` names, if it is JSON or XML and its
    /// charset, if given, is UTF-8 (or its subset US-ASCII).
    pub fn from_content_type(value: &HeaderValue) -> Option<Self> {
        let text = value.to_str().ok()?;
        let mut parts = text.split(';');
        let essence = parts.next()?.trim().to_ascii_lowercase();
        for parameter in parts {
            let Some((name, value)) = parameter.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("charset") {
                let charset = value.trim().trim_matches('"');
                let utf8 = ["utf-8", "utf8", "us-ascii"]
                    .iter()
                    .any(|known| charset.eq_ignore_ascii_case(known));
                if !utf8 {
                    return None;
                }
            }
        }
        match essence.as_str() {
            "application/json" | "text/json" => Some(Self::Json),
            "application/xml" | "text/xml" => Some(Self::Xml),
            other if other.starts_with("application/") && other.ends_with("+json") => {
                Some(Self::Json)
            }
            other if other.starts_with("application/") && other.ends_with("+xml") => {
                Some(Self::Xml)
            }
            _ => None,
        }
    }
}

/// Receives Whispir callbacks: holds the keys this service accepts and the
/// limits on what it reads. Cheap to clone; share one per callback URL.
///
/// ```
/// use whispir_callbacks::{AuthMode, CallbackKey, Receiver};
///
/// # fn main() -> Result<(), whispir_callbacks::KeyError> {
/// let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new("new-key")?)?
///     // Keep accepting the old key until Whispir's callback is updated.
///     .accept(AuthMode::HttpHeader, CallbackKey::new("old-key")?)?
///     .with_max_body_bytes(32 * 1024);
/// # let _ = receiver;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Receiver {
    accepted: Arc<[AcceptedKey]>,
    max_body_bytes: usize,
    body_timeout: Duration,
    dedup: Option<DedupStore>,
    metrics: CallbackMetrics,
}

impl Receiver {
    /// A receiver that accepts `key`, presented the way `mode` says, with
    /// the default limits.
    ///
    /// Fails with [`KeyError::NotQuerySafe`] if `mode` is
    /// [`AuthMode::QueryParam`] and the key would not reach the receiver
    /// unchanged in a URL query: better now than a 401 for every callback.
    pub fn new(mode: AuthMode, key: CallbackKey) -> Result<Self, KeyError> {
        Ok(Self {
            accepted: Arc::from(vec![AcceptedKey::checked(mode, key)?]),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            dedup: None,
            metrics: CallbackMetrics::global(),
        })
    }

    /// Also accepts `key` presented the way `mode` says: for rotating keys,
    /// or for several callbacks sharing one URL. Fails as
    /// [`new`](Self::new) does.
    pub fn accept(mut self, mode: AuthMode, key: CallbackKey) -> Result<Self, KeyError> {
        let mut accepted = self.accepted.to_vec();
        accepted.push(AcceptedKey::checked(mode, key)?);
        self.accepted = Arc::from(accepted);
        Ok(self)
    }

    /// Sets the largest body accepted, in bytes; larger ones answer 413.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Sets how long the body may take to arrive; slower ones answer 408.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Self {
        self.body_timeout = timeout;
        self
    }

    /// Acts once per event through `store`: the service of
    /// [`into_service`](Self::into_service) claims each callback in it
    /// before calling the handler (see [`DedupStore::act_once`]). A
    /// [`Deduplicator`](crate::Deduplicator) for one process, a
    /// `RedisDedup` (feature `redis`) for replicas.
    ///
    /// With the `opentelemetry` feature, the store's duplicates are counted
    /// through this receiver's meter provider.
    pub fn with_dedup(mut self, store: impl Into<DedupStore>) -> Self {
        let mut store = store.into();
        store.count_with(self.metrics.clone());
        self.dedup = Some(store);
        self
    }

    /// Counts callbacks received, refused and duplicate through `provider`
    /// instead of the global meter provider, which [`new`](Self::new)
    /// reads (feature `opentelemetry`; see the crate's "Metrics" section).
    #[cfg(feature = "opentelemetry")]
    pub fn meter_provider(mut self, provider: &impl opentelemetry::metrics::MeterProvider) -> Self {
        self.metrics = CallbackMetrics::from_provider(provider);
        if let Some(store) = &mut self.dedup {
            store.count_with(self.metrics.clone());
        }
        self
    }

    /// The de-duplication store, if one was given.
    pub fn dedup(&self) -> Option<&DedupStore> {
        self.dedup.as_ref()
    }

    /// The largest body accepted, in bytes.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// The keys accepted, and how each is presented.
    pub fn accepted_keys(&self) -> &[AcceptedKey] {
        &self.accepted
    }

    /// Checks a whole request and parses its body, in this order: the
    /// method is POST (405), an accepted key is present (401), the content
    /// type is JSON or XML in UTF-8 (415), the body is within the limit
    /// (413), and the body parses (400).
    pub fn verify_and_parse(&self, request: &Request<Bytes>) -> Result<Callback, CallbackError> {
        let verdict = self.check_and_parse(request);
        self.metrics.verdict(&verdict);
        verdict
    }

    fn check_and_parse(&self, request: &Request<Bytes>) -> Result<Callback, CallbackError> {
        let format = self.check_head(request.method(), request.uri(), request.headers())?;
        let body = request.body();
        if body.len() > self.max_body_bytes {
            return Err(CallbackError::too_large(self.max_body_bytes));
        }
        parse_body(format, body)
    }

    /// Like [`verify_and_parse`](Self::verify_and_parse) for a request whose
    /// body has yet to arrive: the checks on the head come first, then at
    /// most the size limit is read, within the body timeout.
    ///
    /// The timeout is Tokio's: call this inside a Tokio runtime with timers
    /// enabled, as axum and hyper servers are.
    pub async fn receive<B>(&self, request: Request<B>) -> Result<Callback, CallbackError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let verdict = self.read_and_parse(request).await;
        self.metrics.verdict(&verdict);
        verdict
    }

    async fn read_and_parse<B>(&self, request: Request<B>) -> Result<Callback, CallbackError>
    where
        B: Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let (head, body) = request.into_parts();
        let format = self.check_head(&head.method, &head.uri, &head.headers)?;
        let limited = Limited::new(body, self.max_body_bytes);
        let collected = tokio::time::timeout(self.body_timeout, limited.collect())
            .await
            .map_err(|_| CallbackError::timeout(self.body_timeout))?;
        let bytes = match collected {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
                return Err(CallbackError::too_large(self.max_body_bytes));
            }
            Err(error) => return Err(CallbackError::body_read(error)),
        };
        parse_body(format, &bytes)
    }

    /// The checks that need only the request's head.
    fn check_head(
        &self,
        method: &Method,
        uri: &http::Uri,
        headers: &HeaderMap,
    ) -> Result<BodyFormat, CallbackError> {
        if method != Method::POST {
            return Err(CallbackError::method_not_allowed(method.clone()));
        }
        if !is_authorised(uri.query(), headers, &self.accepted) {
            return Err(CallbackError::unauthorized());
        }
        let content_type = headers.get(CONTENT_TYPE);
        let format = content_type
            .and_then(BodyFormat::from_content_type)
            .ok_or_else(|| CallbackError::unsupported_media_type(content_type))?;
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok());
        if declared.is_some_and(|length| length > self.max_body_bytes as u64) {
            return Err(CallbackError::too_large(self.max_body_bytes));
        }
        Ok(format)
    }
}

/// Parses a callback body already known to be `format`. No key is checked
/// here: it is for bodies that reached you some other way.
pub fn parse_body(format: BodyFormat, body: &[u8]) -> Result<Callback, CallbackError> {
    let text = std::str::from_utf8(body).map_err(CallbackError::malformed)?;
    let callback = match format {
        BodyFormat::Json => serde_json::from_str(text).map_err(CallbackError::malformed)?,
        BodyFormat::Xml => {
            let tree = xml::to_json(text).map_err(CallbackError::malformed)?;
            serde_json::from_value(tree).map_err(CallbackError::malformed)?
        }
    };
    Ok(callback)
}

#[cfg(test)]
mod tests;
