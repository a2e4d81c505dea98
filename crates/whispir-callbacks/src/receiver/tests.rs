use std::convert::Infallible;

use http_body::Frame;
use http_body_util::Full;

use super::*;
use crate::payload::CallbackKind;

const JSON: &str = r#"{"messageid":"M1","responseMessage":{"channel":"SMS","acknowledged":"09/01/16 13:22","content":"Yes"}}"#;
const XML: &str = r#"<ns2:deliveryResponse xmlns:ns2="http://schemas.api.whispir.com"><messageid>M1</messageid><responseMessage><channel>SMS</channel><acknowledged>09/01/16 13:22</acknowledged><content>Yes</content></responseMessage></ns2:deliveryResponse>"#;

fn receiver() -> Receiver {
    Receiver::new(AuthMode::HttpHeader, CallbackKey::new("k3y").expect("key")).expect("receiver")
}

fn request(content_type: &str, body: &str) -> Request<Bytes> {
    Request::post("/cb")
        .header("x-whispir-callback-key", "k3y")
        .header("content-type", content_type)
        .body(Bytes::from(body.to_owned()))
        .expect("request")
}

#[test]
fn json_and_xml_bodies_parse_to_the_same_callback() {
    let from_json = receiver()
        .verify_and_parse(&request("application/json", JSON))
        .expect("json");
    let from_xml = receiver()
        .verify_and_parse(&request("application/xml", XML))
        .expect("xml");
    assert_eq!(from_json, from_xml);
    assert_eq!(from_json.kind(), CallbackKind::Reply);
}

#[test]
fn content_types_are_matched_by_essence_and_charset() {
    let json =
        |value: &'static str| BodyFormat::from_content_type(&HeaderValue::from_static(value));
    assert_eq!(json("application/json"), Some(BodyFormat::Json));
    assert_eq!(
        json("Application/JSON; charset=UTF-8"),
        Some(BodyFormat::Json)
    );
    assert_eq!(
        json("application/vnd.whispir.api-call-v1+json"),
        Some(BodyFormat::Json)
    );
    assert_eq!(json("text/xml; charset=\"utf-8\""), Some(BodyFormat::Xml));
    assert_eq!(json("application/xml"), Some(BodyFormat::Xml));
    assert_eq!(json("application/json; charset=iso-8859-1"), None);
    assert_eq!(json("text/plain"), None);
    assert_eq!(json("application/x-www-form-urlencoded"), None);
    assert_eq!(json(""), None);
}

#[test]
fn each_refusal_has_its_status() {
    let r = receiver();
    let mut get = request("application/json", JSON);
    *get.method_mut() = Method::PUT;
    assert_eq!(r.verify_and_parse(&get).expect_err("405").status(), 405);

    let mut unauthenticated = request("application/json", JSON);
    unauthenticated
        .headers_mut()
        .remove("x-whispir-callback-key");
    let error = r.verify_and_parse(&unauthenticated).expect_err("401");
    assert!(error.is_unauthorized());
    assert_eq!(error.status(), 401);
    assert_eq!(error.public_message(), "unauthorized");

    assert!(
        r.verify_and_parse(&request("text/plain", JSON))
            .expect_err("415")
            .is_unsupported_media_type()
    );
    let mut no_type = request("application/json", JSON);
    no_type.headers_mut().remove("content-type");
    assert_eq!(r.verify_and_parse(&no_type).expect_err("415").status(), 415);

    let small = receiver().with_max_body_bytes(JSON.len() - 1);
    assert!(
        small
            .verify_and_parse(&request("application/json", JSON))
            .expect_err("413")
            .is_too_large()
    );
    let exact = receiver().with_max_body_bytes(JSON.len());
    assert!(
        exact
            .verify_and_parse(&request("application/json", JSON))
            .is_ok()
    );

    for body in ["", "{", "[]", r#"{"from":{}}"#, "\u{0}"] {
        let error = r
            .verify_and_parse(&request("application/json", body))
            .expect_err("400");
        assert!(error.is_malformed(), "{body:?}");
        assert_eq!(error.status(), 400);
    }
    assert!(
        r.verify_and_parse(&request("application/xml", "<r>"))
            .expect_err("400")
            .is_malformed()
    );
    assert!(
        r.verify_and_parse(&request("application/xml", JSON))
            .expect_err("400")
            .is_malformed()
    );
}

#[test]
fn the_key_is_checked_before_anything_else_is_said() {
    let mut request = request("text/plain", "not even json");
    request
        .headers_mut()
        .insert("x-whispir-callback-key", HeaderValue::from_static("wrong"));
    assert!(
        receiver()
            .verify_and_parse(&request)
            .expect_err("401")
            .is_unauthorized()
    );
}

#[test]
fn invalid_utf8_is_malformed() {
    let request = Request::post("/cb")
        .header("x-whispir-callback-key", "k3y")
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"{\"messageid\":\"\xff\"}"))
        .expect("request");
    assert!(
        receiver()
            .verify_and_parse(&request)
            .expect_err("400")
            .is_malformed()
    );
}

#[test]
fn a_refusal_never_repeats_the_key() {
    let mut request = request("application/json", JSON);
    request.headers_mut().insert(
        "x-whispir-callback-key",
        HeaderValue::from_static("guess-123"),
    );
    let error = receiver().verify_and_parse(&request).expect_err("401");
    assert!(!error.to_string().contains("guess-123"));
    assert!(!format!("{error:?}").contains("guess-123"));
}

fn streaming(request: Request<Bytes>) -> Request<Full<Bytes>> {
    request.map(Full::new)
}

#[tokio::test]
async fn receive_reads_a_streamed_body_within_the_limit() {
    let callback = receiver()
        .receive(streaming(request("application/json", JSON)))
        .await
        .expect("received");
    assert_eq!(callback.message_id, "M1");
}

#[tokio::test]
async fn receive_stops_reading_at_the_limit() {
    let big = format!(r#"{{"messageid":"M1","pad":"{}"}}"#, "x".repeat(4096));
    let error = receiver()
        .with_max_body_bytes(1024)
        .receive(streaming(request("application/json", &big)))
        .await
        .expect_err("413");
    assert!(error.is_too_large());
}

#[tokio::test]
async fn receive_refuses_a_declared_length_over_the_limit_without_reading() {
    let mut request = streaming(request("application/json", JSON));
    request
        .headers_mut()
        .insert("content-length", HeaderValue::from_static("999999999"));
    let error = receiver().receive(request).await.expect_err("413");
    assert!(error.is_too_large());
}

#[tokio::test(start_paused = true)]
async fn receive_gives_up_on_a_body_that_never_ends() {
    let request = Request::post("/cb")
        .header("x-whispir-callback-key", "k3y")
        .header("content-type", "application/json")
        .body(Stalled)
        .expect("request");
    let error = receiver()
        .with_body_timeout(Duration::from_secs(5))
        .receive(request)
        .await
        .expect_err("408");
    assert!(error.is_timeout());
    assert_eq!(error.status(), 408);
}

/// A body whose frames never come.
struct Stalled;

impl Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        std::task::Poll::Pending
    }
}
