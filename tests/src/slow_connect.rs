//! A connector layer that makes every third new connection take 50 ms
//! longer, as DNS, TCP and TLS do for a request that finds no idle
//! connection; and a client whose every request needs a new one.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

/// How much longer a slow connection takes.
pub const SLOW_CONNECT: Duration = Duration::from_millis(50);

/// Delays every third connection by [`SLOW_CONNECT`] (the first among
/// them) once the inner connector has made it.
#[derive(Debug, Clone, Default)]
pub struct EveryThirdSlow {
    made: Arc<AtomicU64>,
}

impl<S> tower_layer::Layer<S> for EveryThirdSlow {
    type Service = Slowed<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Slowed {
            inner,
            made: self.made.clone(),
        }
    }
}

/// The connector, slowed.
#[derive(Debug, Clone)]
pub struct Slowed<S> {
    inner: S,
    made: Arc<AtomicU64>,
}

impl<S, R> tower_service::Service<R> for Slowed<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
    S::Response: Send,
    S::Error: Send,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let slow = self.made.fetch_add(1, Ordering::SeqCst).is_multiple_of(3);
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let connection = connecting.await;
            if slow {
                tokio::time::sleep(SLOW_CONNECT).await;
            }
            connection
        })
    }
}

/// A reqwest builder whose every request makes a new connection, every
/// third one slow.
pub fn slow_connections() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .connector_layer(EveryThirdSlow::default())
}
