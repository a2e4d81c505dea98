//! Neither an accepted key nor a wrong guess ever reaches the logs, at any
//! level. This is its own test binary because it installs the global
//! subscriber: a thread-local one races with other tests over tracing's
//! per-callsite cache.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use tower_service::Service;
use whispir_callbacks::{AuthMode, Callback, CallbackKey, Receiver};

/// Collects everything logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn post(authorization: &str) -> Request<Full<Bytes>> {
    Request::post("/cb?auth=query-guess-7")
        .header("content-type", "application/json")
        .header("authorization", authorization)
        .header("x-whispir-callback-key", "header-guess-9")
        .body(Full::new(Bytes::from_static(
            br#"{"messageid":"M1","responseMessage":{"acknowledged":"t","content":"Y"}}"#,
        )))
        .expect("request")
}

#[tokio::test]
async fn neither_the_key_nor_a_guess_is_ever_logged() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let key = CallbackKey::new("the-real-key-k3y").expect("key");
    let receiver = Receiver::new(AuthMode::BearerToken, key).expect("receiver");
    let mut accepting = receiver
        .clone()
        .into_service(|_: Callback| async { Ok::<(), &str>(()) });
    let mut failing = receiver.into_service(|_: Callback| async { Err("downstream is down") });

    let ok = accepting
        .call(post("Bearer the-real-key-k3y"))
        .await
        .expect("infallible");
    assert_eq!(ok.status(), StatusCode::OK);
    let refused = accepting
        .call(post("Bearer bearer-guess-5"))
        .await
        .expect("infallible");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let failed = failing
        .call(post("Bearer the-real-key-k3y"))
        .await
        .expect("infallible");
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);

    let logged = String::from_utf8_lossy(&captured.0.lock().expect("lock")).into_owned();
    assert!(logged.contains("refused a callback request"), "{logged}");
    assert!(logged.contains("answering 500"), "{logged}");
    for secret in [
        "the-real-key-k3y",
        "bearer-guess-5",
        "query-guess-7",
        "header-guess-9",
    ] {
        assert!(!logged.contains(secret), "{secret} in {logged}");
    }
}
