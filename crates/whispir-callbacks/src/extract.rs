//! The axum extractor: a handler that takes [`WhispirCallback`] runs only
//! for a verified, parsed callback; anything else is answered with its 4xx
//! before the handler is called.
//!
//! ```no_run
//! use axum::{Router, http::StatusCode, routing::post};
//! use whispir_callbacks::{AuthMode, CallbackKey, Receiver, WhispirCallback};
//!
//! async fn on_callback(WhispirCallback(callback): WhispirCallback) -> StatusCode {
//!     println!("{:?} for {}", callback.kind(), callback.message_id);
//!     StatusCode::OK
//! }
//!
//! # fn main() -> Result<(), whispir_callbacks::KeyError> {
//! let receiver = Receiver::new(AuthMode::QueryParam, CallbackKey::new("s3cret-key")?)?;
//! let app: Router = Router::new()
//!     .route("/whispir/callbacks", post(on_callback).get(|| async { StatusCode::OK }))
//!     .with_state(receiver);
//! # let _ = app;
//! # Ok(())
//! # }
//! ```
//!
//! A handler written with the extractor acts once per event through the
//! receiver's store ([`Receiver::with_dedup`]) with
//! [`DedupStore::act_once`](crate::DedupStore::act_once), whose
//! [`Outcome`](crate::Outcome) is the answer (200, 500 or 503):
//!
//! ```no_run
//! use axum::{Router, extract::State, routing::post};
//! use whispir_callbacks::{
//!     AuthMode, CallbackKey, DEFAULT_REMEMBER_DONE, Deduplicator, Outcome, Receiver,
//!     WhispirCallback,
//! };
//!
//! async fn on_callback(
//!     State(receiver): State<Receiver>,
//!     WhispirCallback(callback): WhispirCallback,
//! ) -> Outcome<std::io::Error> {
//!     let act = |callback: whispir_callbacks::Callback| async move {
//!         println!("{:?} for {}", callback.kind(), callback.message_id);
//!         Ok(())
//!     };
//!     match receiver.dedup() {
//!         Some(store) => store.act_once(callback, act).await,
//!         // No store: act on every delivery (never answer 200 unacted).
//!         None => match act(callback).await {
//!             Ok(()) => Outcome::Acted,
//!             Err(error) => Outcome::Failed(error),
//!         },
//!     }
//! }
//!
//! # fn main() -> Result<(), whispir_callbacks::KeyError> {
//! let receiver = Receiver::new(AuthMode::HttpHeader, CallbackKey::new("s3cret-key")?)?
//!     .with_dedup(Deduplicator::new(10_000, DEFAULT_REMEMBER_DONE));
//! let app: Router = Router::new()
//!     .route("/whispir/callbacks", post(on_callback))
//!     .with_state(receiver);
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

use axum_core::extract::{FromRef, FromRequest, Request};
use axum_core::response::{IntoResponse, Response};

use crate::error::CallbackError;
use crate::payload::Callback;
use crate::receiver::Receiver;

/// A callback that passed every check of the [`Receiver`] in the router's
/// state (or reachable from it through `FromRef`).
#[derive(Debug, Clone, PartialEq)]
pub struct WhispirCallback(pub Callback);

impl<S> FromRequest<S> for WhispirCallback
where
    S: Send + Sync,
    Receiver: FromRef<S>,
{
    type Rejection = CallbackError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let receiver = Receiver::from_ref(state);
        match receiver.receive(request).await {
            Ok(callback) => Ok(Self(callback)),
            Err(error) => {
                tracing::debug!(status = %error.status(), %error, "refused a callback request");
                Err(error)
            }
        }
    }
}

impl IntoResponse for CallbackError {
    fn into_response(self) -> Response {
        self.to_response().into_response()
    }
}

#[cfg(test)]
mod tests;
