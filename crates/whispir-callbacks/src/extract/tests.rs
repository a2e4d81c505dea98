use axum_core::body::Body;
use http::StatusCode;

use super::*;
use crate::auth::{AuthMode, CallbackKey};

fn receiver() -> Receiver {
    Receiver::new(AuthMode::QueryParam, CallbackKey::new("k3y").expect("key"))
        .expect("a query-safe key")
}

fn request(uri: &str) -> Request {
    http::Request::post(uri)
        .header("content-type", "application/xml")
        .body(Body::from("<r><messageid>M9</messageid></r>"))
        .expect("request")
}

#[tokio::test]
async fn the_extractor_yields_the_parsed_callback() {
    let WhispirCallback(callback) =
        WhispirCallback::from_request(request("/cb?auth=k3y"), &receiver())
            .await
            .expect("extracted");
    assert_eq!(callback.message_id, "M9");
}

#[tokio::test]
async fn the_rejection_is_the_errors_response() {
    let error = WhispirCallback::from_request(request("/cb?auth=nope"), &receiver())
        .await
        .expect_err("rejected");
    let response = error.into_response();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_handler_acting_through_a_store_answers_with_the_outcome() {
    let store = crate::DedupStore::from(crate::Deduplicator::new(10, crate::DEFAULT_REMEMBER_DONE));
    let receiver = receiver().with_dedup(store);
    let mut answers = Vec::new();
    for _ in 0..2 {
        let WhispirCallback(callback) =
            WhispirCallback::from_request(request("/cb?auth=k3y"), &receiver)
                .await
                .expect("extracted");
        let store = receiver.dedup().expect("a store");
        let outcome = store
            .act_once(callback, |_| async { Ok::<(), &str>(()) })
            .await;
        answers.push(format!("{outcome:?}"));
        assert_eq!(outcome.into_response().status(), StatusCode::OK);
    }
    assert_eq!(answers, ["Acted", "AlreadyDone"]);
}
