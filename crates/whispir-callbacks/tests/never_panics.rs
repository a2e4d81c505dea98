//! Whatever a request carries, checking and parsing it returns a value:
//! arbitrary bodies, headers, query strings and content types never make
//! the receiver panic, and without the key nothing is ever accepted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};
use proptest::prelude::*;
use whispir_callbacks::{AuthMode, BodyFormat, CallbackKey, Receiver, parse_body};

const KEY: &str = "the-real-key-2f9c";

fn receiver() -> Receiver {
    let key = || CallbackKey::new(KEY).expect("a valid key");
    AuthMode::ALL
        .iter()
        .try_fold(
            Receiver::new(AuthMode::QueryParam, key()).expect("a query-safe key"),
            |receiver, mode| receiver.accept(*mode, key()),
        )
        .expect("a key safe in every mode")
        .with_max_body_bytes(4096)
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_owned()),
        Just("application/xml".to_owned()),
        Just("text/xml; charset=utf-8".to_owned()),
        Just("application/vnd.whispir.api-call-v1+json".to_owned()),
        "[ -~]{0,40}",
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("authorization".to_owned()),
        Just("x-whispir-callback-key".to_owned()),
        Just("content-length".to_owned()),
        Just("content-type".to_owned()),
        "[a-z-]{1,20}",
    ]
}

/// Text shaped like a callback body, to get past the first byte of the
/// parsers more often than random bytes do.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[{}\\[\\]\":,a-zA-Z0-9 ]{0,200}".prop_map(String::into_bytes),
        "(<[a-zA-Z:]{1,8}>|</[a-zA-Z:]{1,8}>|<[a-z]{1,4}/>|&[a-z#0-9]{1,5};|<!\\[CDATA\\[|\\]\\]>|[a-z ]{1,6}){0,40}"
            .prop_map(String::into_bytes),
        Just(include_bytes!("fixtures/reply_sms.json").to_vec()),
        Just(include_bytes!("fixtures/reply_email.xml").to_vec()),
    ]
}

fn build(
    method: &Method,
    query: &str,
    headers: &[(String, Vec<u8>)],
    body: Vec<u8>,
) -> Option<Request<Bytes>> {
    let uri = format!("/cb?{query}");
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(Bytes::from(body))
        .ok()?;
    for (name, value) in headers {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(value).ok()?;
        request.headers_mut().append(name, value);
    }
    Some(request)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_request_gets_an_answer_and_none_without_the_key_is_accepted(
        method in prop_oneof![Just(Method::POST), Just(Method::GET), Just(Method::PUT)],
        query in "[a-zA-Z0-9=&%+]{0,40}",
        headers in proptest::collection::vec(
            (header_name(), proptest::collection::vec(any::<u8>(), 0..64)), 0..6),
        content_type in content_type(),
        body in body(),
    ) {
        let mut headers = headers;
        headers.push(("content-type".to_owned(), content_type.into_bytes()));
        if let Some(request) = build(&method, &query, &headers, body) {
            let result = receiver().verify_and_parse(&request);
            // The generated values never contain the key, so nothing passes.
            prop_assert!(result.is_err());
            if let Err(error) = result {
                prop_assert!(error.status().is_client_error());
            }
        }
    }

    #[test]
    fn with_the_key_any_body_is_parsed_or_refused_with_a_4xx(
        mode in prop::sample::select(AuthMode::ALL.to_vec()),
        content_type in content_type(),
        body in body(),
    ) {
        let query = if mode == AuthMode::QueryParam { format!("auth={KEY}") } else { String::new() };
        let mut headers = vec![("content-type".to_owned(), content_type.into_bytes())];
        match mode {
            AuthMode::QueryParam => {}
            AuthMode::HttpHeader => headers.push(("x-whispir-callback-key".into(), KEY.into())),
            AuthMode::BasicAuth => headers.push(("authorization".into(), format!("Basic {KEY}").into())),
            AuthMode::BearerToken => headers.push(("authorization".into(), format!("Bearer {KEY}").into())),
        }
        if let Some(request) = build(&Method::POST, &query, &headers, body) {
            match receiver().verify_and_parse(&request) {
                // What was accepted survives Whispir's JSON shape unchanged.
                Ok(callback) => {
                    let json = serde_json::to_vec(&callback).expect("serialises");
                    prop_assert_eq!(parse_body(BodyFormat::Json, &json).ok(), Some(callback));
                }
                Err(error) => {
                    prop_assert!(!error.is_unauthorized());
                    prop_assert!(error.status().is_client_error());
                }
            }
        }
    }

    #[test]
    fn the_parsers_never_panic(body in body()) {
        let _ = parse_body(BodyFormat::Json, &body);
        let _ = parse_body(BodyFormat::Xml, &body);
    }
}

#[test]
fn deeply_nested_bodies_are_refused_not_overflowed() {
    let json = format!(
        "{{\"messageid\":\"M\",\"x\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(parse_body(BodyFormat::Json, json.as_bytes()).is_err());
    let xml = format!("<r>{}{}</r>", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert!(parse_body(BodyFormat::Xml, xml.as_bytes()).is_err());
}
