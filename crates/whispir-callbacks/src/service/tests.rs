use std::sync::{Arc, Mutex};

use http::HeaderValue;
use http_body_util::BodyExt;

use super::*;
use crate::auth::{AuthMode, CallbackKey};

const JSON: &str =
    r#"{"messageid":"M1","responseMessage":{"channel":"SMS","acknowledged":"t","content":"Yes"}}"#;

type Seen = Arc<Mutex<Vec<Callback>>>;
type Outcome = std::future::Ready<Result<(), &'static str>>;

fn service(fail: bool) -> (CallbackService<impl Fn(Callback) -> Outcome + Clone>, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let receiver = Receiver::new(AuthMode::BearerToken, CallbackKey::new("k3y").expect("key"))
        .expect("receiver");
    let service = receiver.into_service(move |callback: Callback| {
        record.lock().expect("lock").push(callback);
        std::future::ready(if fail {
            Err("downstream is down")
        } else {
            Ok(())
        })
    });
    (service, seen)
}

fn post(authorization: &'static str) -> Request<Full<Bytes>> {
    let mut request = Request::post("/cb")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(JSON.as_bytes())))
        .expect("request");
    request
        .headers_mut()
        .insert("authorization", HeaderValue::from_static(authorization));
    request
}

async fn body_text(response: Response<Full<Bytes>>) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_verified_callback_reaches_the_handler_and_answers_200() {
    let (mut service, seen) = service(false);
    let response = service.call(post("Bearer k3y")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].message_id, "M1");
}

#[tokio::test]
async fn a_refused_request_never_reaches_the_handler() {
    let (mut service, seen) = service(false);
    let response = service
        .call(post("Bearer wrong"))
        .await
        .expect("infallible");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(body_text(response).await, "unauthorized");
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn a_failing_handler_answers_500_so_whispir_retries() {
    let (mut service, _) = service(true);
    let response = service.call(post("Bearer k3y")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn whispirs_registration_probe_gets_200_without_a_key() {
    let (mut service, seen) = service(false);
    for method in [Method::GET, Method::HEAD] {
        let mut request = Request::new(Full::new(Bytes::new()));
        *request.method_mut() = method;
        let response = service.call(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn other_methods_answer_405_with_allow() {
    let (mut service, _) = service(false);
    let mut request = post("Bearer k3y");
    *request.method_mut() = Method::DELETE;
    let response = service.call(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.headers().get("allow").map(HeaderValue::as_bytes),
        Some(&b"GET, HEAD, POST"[..])
    );
}

/// A service acting once through a store, whose handler fails while
/// `failing` says so, and the callbacks it was handed.
fn deduplicated(
    failing: Arc<std::sync::atomic::AtomicBool>,
) -> (CallbackService<impl Fn(Callback) -> Outcome + Clone>, Seen) {
    let seen: Seen = Arc::default();
    let record = Arc::clone(&seen);
    let receiver = Receiver::new(AuthMode::BearerToken, CallbackKey::new("k3y").expect("key"))
        .expect("receiver")
        .with_dedup(crate::Deduplicator::new(10, crate::DEFAULT_REMEMBER_DONE));
    let service = receiver.into_service(move |callback: Callback| {
        record.lock().expect("lock").push(callback);
        std::future::ready(if failing.load(std::sync::atomic::Ordering::SeqCst) {
            Err("downstream is down")
        } else {
            Ok(())
        })
    });
    (service, seen)
}

#[tokio::test]
async fn with_a_store_a_retry_is_answered_200_without_calling_the_handler() {
    let (mut service, seen) = deduplicated(Arc::default());
    for _ in 0..3 {
        let response = service.call(post("Bearer k3y")).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::OK);
    }
    assert_eq!(seen.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn with_a_store_a_failed_callback_is_acted_on_when_retried() {
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (mut service, seen) = deduplicated(Arc::clone(&failing));
    let response = service.call(post("Bearer k3y")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    failing.store(false, std::sync::atomic::Ordering::SeqCst);
    let response = service.call(post("Bearer k3y")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let response = service.call(post("Bearer k3y")).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        seen.lock().expect("lock").len(),
        2,
        "the failure and the retry"
    );
}
