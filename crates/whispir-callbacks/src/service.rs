//! A `tower::Service` that answers Whispir's callback requests, for any
//! server built on tower (axum, hyper-util, tonic's HTTP side).
//!
//! ```no_run
//! use axum::Router;
//! use whispir_callbacks::{AuthMode, Callback, CallbackKey, Receiver};
//!
//! # fn main() -> Result<(), whispir_callbacks::KeyError> {
//! let receiver = Receiver::new(AuthMode::BearerToken, CallbackKey::new("s3cret-key")?)?;
//! let app: Router = Router::new().route_service(
//!     "/whispir/callbacks",
//!     receiver.into_service(|callback: Callback| async move {
//!         println!("{:?} for {}", callback.kind(), callback.message_id);
//!         Ok::<(), std::convert::Infallible>(())
//!     }),
//! );
//! # let _ = app;
//! # Ok(())
//! # }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Body;
use http_body_util::Full;
use tower_service::Service;

use crate::dedup::Outcome;
use crate::payload::Callback;
use crate::receiver::Receiver;

/// Answers callback requests: a verified, parsed callback is handed to the
/// handler and answered 200 (or 500 if the handler fails, so that Whispir,
/// with retries enabled, sends it again); a refused one gets its 4xx.
/// With a store ([`Receiver::with_dedup`]) the handler runs once per
/// event, and the answer is [`Outcome::status`]'s (503 while another
/// delivery of the event is being handled).
/// `GET` and `HEAD` answer 200 with no check, because Whispir probes the
/// URL with a `GET` when the callback is registered and the answer carries
/// nothing.
pub struct CallbackService<H> {
    receiver: Arc<Receiver>,
    handler: H,
}

impl<H: Clone> Clone for CallbackService<H> {
    fn clone(&self) -> Self {
        Self {
            receiver: Arc::clone(&self.receiver),
            handler: self.handler.clone(),
        }
    }
}

impl<H> fmt::Debug for CallbackService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackService")
            .field("receiver", &self.receiver)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A service that hands each verified callback to `handler`.
    pub fn into_service<H, Fut, E>(self, handler: H) -> CallbackService<H>
    where
        H: Fn(Callback) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: fmt::Display,
    {
        CallbackService {
            receiver: Arc::new(self),
            handler,
        }
    }
}

impl<H, Fut, E, B> Service<Request<B>> for CallbackService<H>
where
    H: Fn(Callback) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: fmt::Display,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let receiver = Arc::clone(&self.receiver);
        let handler = self.handler.clone();
        Box::pin(async move {
            if request.method() == Method::GET || request.method() == Method::HEAD {
                return Ok(empty(StatusCode::OK));
            }
            let callback = match receiver.receive(request).await {
                Ok(callback) => callback,
                Err(error) => {
                    tracing::debug!(status = %error.status(), %error, "refused a callback request");
                    return Ok(error.to_response());
                }
            };
            if let Some(store) = receiver.dedup() {
                // The failure as text: the handler's error need not be
                // `Send`, and the claim is released after it came.
                let outcome = store
                    .act_once(callback, |callback| async move {
                        handler(callback).await.map_err(|error| error.to_string())
                    })
                    .await;
                if let Outcome::Failed(error) = &outcome {
                    tracing::warn!(
                        %error,
                        "the callback handler failed; answering 500 so that Whispir retries"
                    );
                }
                return Ok(outcome.to_response());
            }
            let message_id = callback.message_id.clone();
            match handler(callback).await {
                Ok(()) => Ok(empty(StatusCode::OK)),
                Err(error) => {
                    tracing::warn!(
                        ?message_id,
                        %error,
                        "the callback handler failed; answering 500 so that Whispir retries"
                    );
                    Ok(empty(StatusCode::INTERNAL_SERVER_ERROR))
                }
            }
        })
    }
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests;
