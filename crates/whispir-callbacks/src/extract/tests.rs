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
