use super::*;

#[test]
fn classic_json_error() {
    let body = br#"{"errorSummary":"Your request was malformed","errorText":"Bad Request","errorDetail":"EOF"}"#;
    let parsed = parse_error_body(Some("application/json"), body);
    assert_eq!(
        parsed,
        ApiErrorBody::Classic {
            summary: Some("Your request was malformed".into()),
            text: Some("Bad Request".into()),
            detail: Some("EOF".into()),
        }
    );
    assert_eq!(parsed.message(), Some("Your request was malformed"));
}

#[test]
fn next_gen_json_error() {
    let body = br#"{"status":400,"message":"Invalid argument","detail":"The authenticationId is no longer valid"}"#;
    let parsed = parse_error_body(None, body);
    assert_eq!(
        parsed,
        ApiErrorBody::NextGen {
            status: Some(400),
            message: Some("Invalid argument".into()),
            detail: Some("The authenticationId is no longer valid".into()),
        }
    );
}

#[test]
fn xml_error() {
    let body = b"<?xml version=\"1.0\"?><ns2:error xmlns:ns2=\"http://schemas.api.whispir.com\"><errorSummary>Not found</errorSummary><errorText>Not Found</errorText></ns2:error>";
    let parsed = parse_error_body(Some("application/xml"), body);
    assert_eq!(
        parsed,
        ApiErrorBody::Xml {
            summary: Some("Not found".into()),
            text: Some("Not Found".into()),
            detail: None,
        }
    );
}

#[test]
fn plain_text_error() {
    let parsed = parse_error_body(
        Some("text/plain"),
        b"HTTP content length exceeded 10485760 bytes.",
    );
    assert_eq!(
        parsed,
        ApiErrorBody::Text("HTTP content length exceeded 10485760 bytes.".into())
    );
}

#[test]
fn html_from_a_proxy_becomes_its_visible_text() {
    let body = b"<html><head><title>502</title><style>p{}</style></head><body><h1>Bad Gateway</h1><script>x()</script><p>nginx &amp; co</p></body></html>";
    let parsed = parse_error_body(Some("text/html"), body);
    assert_eq!(
        parsed,
        ApiErrorBody::Html("502 Bad Gateway nginx & co".into())
    );
}

#[test]
fn empty_and_blank_bodies() {
    assert_eq!(parse_error_body(None, b""), ApiErrorBody::Empty);
    assert_eq!(parse_error_body(None, b"  \n"), ApiErrorBody::Empty);
}

#[test]
fn truncated_or_invalid_json_is_unrecognized() {
    assert_eq!(
        parse_error_body(None, br#"{"errorSummary":"cut of"#),
        ApiErrorBody::Unrecognized
    );
    assert_eq!(
        parse_error_body(None, br#"{"unrelated":1}"#),
        ApiErrorBody::Unrecognized
    );
}

#[test]
fn non_utf8_and_binary_bytes_do_not_panic() {
    assert_eq!(
        parse_error_body(None, &[0xff, 0xfe, 0x00, 0x01]),
        ApiErrorBody::Unrecognized
    );
    let parsed = parse_error_body(None, b"caf\xe9 closed");
    assert_eq!(parsed, ApiErrorBody::Text("caf\u{fffd} closed".into()));
}

#[test]
fn odd_json_value_types_are_rendered_not_rejected() {
    let parsed = parse_error_body(
        None,
        br#"{"errorSummary":{"a":1},"errorText":null,"errorDetail":7}"#,
    );
    assert_eq!(
        parsed,
        ApiErrorBody::Classic {
            summary: Some("{\"a\":1}".into()),
            text: None,
            detail: Some("7".into())
        }
    );
}

#[test]
fn long_text_is_shortened() {
    let long = "x".repeat(10_000);
    let ApiErrorBody::Text(text) = parse_error_body(None, long.as_bytes()) else {
        panic!("text expected");
    };
    assert_eq!(text.chars().count(), MAX_MESSAGE_CHARS + 1);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..4096),
                                             content_type in proptest::option::of("[a-z/+]{0,30}")) {
            let parsed = parse_error_body(content_type.as_deref(), &bytes);
            if let Some(message) = parsed.message() {
                prop_assert!(message.chars().count() <= bytes.len() + MAX_MESSAGE_CHARS + 1);
            }
        }

        #[test]
        fn json_like_text_parses_without_panicking(text in r#"\{("[a-zA-Z]{0,12}":("[^"]{0,20}"|[0-9]{1,4}|null|\{\}),?){0,4}\}?"#) {
            let _ = parse_error_body(Some("application/json"), text.as_bytes());
        }

        #[test]
        fn markup_like_text_parses_without_panicking(text in "(<[a-zA-Z/!?][^>]{0,10}>?|[^<]{0,10}){0,12}") {
            let _ = parse_error_body(None, text.as_bytes());
        }
    }
}
