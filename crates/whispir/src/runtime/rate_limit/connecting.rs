//! Connections being made: a request that needs a new connection (DNS,
//! TCP, TLS) reaches the API when the connection is ready, not at its
//! turn. The client's connector reports each connection it makes
//! ([`ConnectionWatch`], a layer around reqwest's connector), and the
//! limiter gives no turn while one is being made and counts the moment it
//! is ready as a request's departure.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::sync::Notify;
use tokio::time::Instant;

use super::lock;

/// The connections a client is making, shared by its limiter and its
/// connector. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Connections {
    inner: Arc<Watched>,
}

#[derive(Debug, Default)]
struct Watched {
    state: Mutex<State>,
    /// Told when a connection attempt ends.
    ended: Notify,
}

#[derive(Debug, Default)]
struct State {
    /// Connection attempts under way.
    connecting: usize,
    /// When the latest connection became ready (or its attempt failed).
    last_ready: Option<Instant>,
}

impl Connections {
    /// Waits until no connection is being made, at most until `deadline`
    /// (`Err` then); answers when the latest one became ready.
    pub(crate) async fn settled(&self, deadline: Instant) -> Result<Option<Instant>, ()> {
        loop {
            // Registered before looking, so that an end in between is seen.
            let ended = self.inner.ended.notified();
            {
                let state = lock(&self.inner.state);
                if state.connecting == 0 {
                    return Ok(state.last_ready);
                }
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return Err(());
            }
        }
    }

    /// The layer that reports this client's connections here.
    pub(crate) fn layer(&self) -> ConnectionWatch {
        ConnectionWatch {
            connections: self.clone(),
        }
    }

    fn started(&self) -> Attempt {
        lock(&self.inner.state).connecting += 1;
        Attempt {
            connections: self.clone(),
        }
    }
}

/// One connection attempt; its end (ready, failed or abandoned) is
/// reported when dropped.
struct Attempt {
    connections: Connections,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        {
            let mut state = lock(&self.connections.inner.state);
            state.connecting = state.connecting.saturating_sub(1);
            state.last_ready = Some(Instant::now());
        }
        self.connections.inner.ended.notify_waiters();
    }
}

/// A tower layer around reqwest's connector that reports every connection
/// attempt to the client's limiter.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionWatch {
    connections: Connections,
}

impl<S> tower_layer::Layer<S> for ConnectionWatch {
    type Service = Watching<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Watching {
            inner,
            connections: self.connections.clone(),
        }
    }
}

/// reqwest's connector, watched.
#[derive(Debug, Clone)]
pub(crate) struct Watching<S> {
    inner: S,
    connections: Connections,
}

impl<S, R> tower_service::Service<R> for Watching<S>
where
    S: tower_service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let attempt = self.connections.started();
        let connecting = self.inner.call(request);
        Box::pin(async move {
            let connection = connecting.await;
            drop(attempt);
            connection
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    /// A connector that takes 50 ms.
    #[derive(Clone)]
    struct Slow;

    impl tower_service::Service<()> for Slow {
        type Response = ();
        type Error = ();
        type Future = Pin<Box<dyn Future<Output = Result<(), ()>> + Send>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), ()>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, (): ()) -> Self::Future {
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok(())
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_waits_for_a_connection_being_made_and_learns_when_it_was_ready() {
        let connections = Connections::default();
        let far = Instant::now() + Duration::from_secs(10);
        assert_eq!(connections.settled(far).await, Ok(None));
        let mut connector = connections.layer().layer(Slow);
        let started = Instant::now();
        let connecting = tokio::spawn(connector.call(()));
        tokio::task::yield_now().await;
        // Too soon a deadline: the connection is still being made.
        let soon = Instant::now() + Duration::from_millis(10);
        assert_eq!(connections.settled(soon).await, Err(()));
        let ready = connections.settled(far).await.expect("settled");
        assert_eq!(ready, Some(started + Duration::from_millis(50)));
        connecting.await.expect("joined").expect("connected");
    }
}
