use super::*;
use http::HeaderValue;

fn response_error(
    code: u16,
    headers: &[(&'static str, &str)],
    body: &str,
    method: Method,
) -> Error {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        map.insert(*name, HeaderValue::from_str(value).expect("valid"));
    }
    Error::from_response(
        Some("messageCreate"),
        Some(method),
        StatusCode::from_u16(code).expect("status"),
        &map,
        RawBody::new(bytes::Bytes::copy_from_slice(body.as_bytes()), false),
    )
}

#[test]
fn display_is_one_lowercase_line_with_the_server_message() {
    let err = response_error(
        404,
        &[],
        r#"{"errorSummary":"The message was not found","errorText":"Not Found"}"#,
        Method::GET,
    );
    // "Not Found" only repeats the status: left out.
    assert_eq!(
        err.to_string(),
        "messageCreate: 404 not found: The message was not found"
    );
}

#[test]
fn display_shows_the_api_error_text_on_one_trimmed_line() {
    let err = response_error(
        422,
        &[],
        r#"{"errorSummary":" Your request did not contain all of the information required ","errorText":"firstName is mandatory \n lastName is mandatory"}"#,
        Method::POST,
    );
    assert_eq!(
        err.to_string(),
        "messageCreate: 422 unprocessable entity: Your request did not contain all of the \
         information required: firstName is mandatory lastName is mandatory"
    );
    let alternate = format!("{err:#}");
    assert!(
        alternate.contains("firstName is mandatory lastName is mandatory"),
        "{alternate}"
    );
    assert!(!alternate.contains("\n\n"), "no empty lines: {alternate}");
    assert!(
        alternate.contains("\n  see: https://developers.whispir.com/docs/http-response-codes"),
        "{alternate}"
    );
}

#[test]
fn display_shows_the_nextgen_message() {
    let err = response_error(
        400,
        &[],
        r#"{"status":400,"message":"  limit must be at most 20\n","detail":"limit=50"}"#,
        Method::GET,
    );
    assert_eq!(
        err.to_string(),
        "messageCreate: 400 bad request: limit must be at most 20"
    );
    assert!(format!("{err:#}").contains("\n  detail: limit=50"));
}

#[test]
fn attempts_show_in_both_forms() {
    let err = response_error(503, &[], "", Method::GET).with_attempts(3);
    assert_eq!(err.attempts(), 3);
    assert_eq!(
        err.to_string(),
        "messageCreate: 503 service unavailable (after 3 attempts)"
    );
    assert!(format!("{err:#}").contains("\n  attempts: 3"));
}

#[test]
fn predicates_name_what_people_branch_on() {
    assert!(response_error(401, &[], "", Method::GET).is_auth());
    assert!(
        response_error(
            403,
            &[("x-error-code", "ERR_403_DEVELOPER_INVALID_API_KEY")],
            "",
            Method::GET
        )
        .is_auth()
            || response_error(403, &[], "Invalid API key", Method::GET).is_auth()
    );
    assert!(response_error(404, &[], "", Method::GET).is_not_found());
    assert!(response_error(422, &[], "", Method::POST).is_invalid());
    assert!(response_error(502, &[], "", Method::GET).is_server_error());
    assert!(!response_error(404, &[], "", Method::GET).is_auth());
}

#[test]
fn alternate_display_adds_the_remedy_from_the_table() {
    let err = response_error(404, &[], "", Method::GET);
    let text = format!("{err:#}");
    assert!(
        text.starts_with("messageCreate: 404 not found\n  method: GET\n  remedy: "),
        "{text}"
    );
    let remedies = TableRow::lookup(404).expect("404").remedies;
    for remedy in remedies {
        assert!(text.contains(remedy), "{text}");
    }
}

#[test]
fn accessors_expose_status_class_and_body() {
    let err = response_error(
        403,
        &[
            ("x-error-code", "ERR_403_DEVELOPER_OVER_QPS"),
            ("retry-after", "2"),
        ],
        "<h1>Developer Over Qps</h1>",
        Method::POST,
    );
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(err.class(), ErrorClass::Throttling);
    assert!(err.is_throttled());
    assert!(err.is_retryable(), "a refused send may be re-sent");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(
        err.forbidden_reason(),
        Some(ForbiddenReason::OverQueriesPerSecond)
    );
    assert_eq!(
        err.api_error(),
        Some(&ApiErrorBody::Html("Developer Over Qps".into()))
    );
    assert_eq!(err.operation(), Some("messageCreate"));
    assert_eq!(
        err.headers().and_then(|h| h.error_code.as_deref()),
        Some("ERR_403_DEVELOPER_OVER_QPS")
    );
}

#[test]
fn over_qps_without_retry_after_waits_a_second() {
    let err = response_error(
        403,
        &[("x-error-code", "ERR_403_DEVELOPER_OVER_QPS")],
        "",
        Method::GET,
    );
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
}

#[test]
fn a_post_is_not_retried_after_a_server_error() {
    assert!(!response_error(500, &[], "", Method::POST).is_retryable());
    assert!(response_error(500, &[], "", Method::GET).is_retryable());
}

#[derive(Debug)]
struct Cause;
impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection reset by peer")
    }
}
impl std::error::Error for Cause {}

#[test]
fn transport_errors_say_whether_the_request_may_have_been_sent() {
    let maybe = Error::transport(
        Some("messageCreate"),
        Some(Method::POST),
        TransportKind::Timeout,
        SendState::MaybeSent,
        Cause,
    );
    assert_eq!(
        maybe.to_string(),
        "messageCreate: timed out; the request may or may not have reached the server"
    );
    assert!(!maybe.is_retryable());
    assert!(maybe.is_timeout());
    assert!(format!("{maybe:#}").contains("caused by: connection reset by peer"));

    let refused = Error::transport(
        None,
        Some(Method::POST),
        TransportKind::Connect,
        SendState::NotSent,
        Cause,
    );
    assert_eq!(
        refused.to_string(),
        "could not connect; the request was not sent"
    );
    assert!(refused.is_retryable());
    assert_eq!(refused.class(), ErrorClass::Transport);
}

#[test]
fn debug_shows_the_raw_body_length_not_its_bytes() {
    let err = response_error(
        400,
        &[],
        "{\"errorSummary\":\"x\",\"echo\":\"raw-only\"}",
        Method::GET,
    );
    let debug = format!("{err:?}");
    assert!(!debug.contains("raw-only"), "{debug}");
    assert!(
        debug.contains("raw: RawBody { len: 38, truncated: false }"),
        "{debug}"
    );
}

#[test]
fn multi_line_server_messages_stay_on_one_line() {
    let err = response_error(400, &[], "line one\nline two", Method::GET);
    assert_eq!(
        err.to_string(),
        "messageCreate: 400 bad request: line one line two"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_status_headers_and_body_classify_without_panicking(
            code in 100u16..=999,
            error_code in proptest::option::of("[ -~]{0,40}"),
            retry_after in proptest::option::of("[ -~]{0,40}"),
            body in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            let mut headers = HeaderMap::new();
            if let Some(value) = error_code.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert("x-error-code", value);
            }
            if let Some(value) = retry_after.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                headers.insert("retry-after", value);
            }
            let status = StatusCode::from_u16(code).expect("100..=999 is valid");
            let len = body.len();
            let err = Error::from_response(None, Some(Method::POST), status, &headers, RawBody::new(body.into(), false));
            let _ = (err.to_string(), format!("{err:#}"), format!("{err:?}"), err.is_retryable(), err.retry_after());
            prop_assert!(err.raw_body().map_or(0, |raw| raw.bytes().len()) == len);
            prop_assert!(!err.to_string().contains('\n'));
        }
    }
}

#[test]
fn a_failed_send_says_whether_it_may_have_happened() {
    let failed = response_error(500, &[], "", Method::POST);
    assert!(failed.may_have_been_processed());
    assert_eq!(
        failed.to_string(),
        "messageCreate: 500 internal server error; the request may or may not have been carried out"
    );
    let read = response_error(500, &[], "", Method::GET);
    assert_eq!(
        read.to_string(),
        "messageCreate: 500 internal server error",
        "a read is simply retried"
    );
    let refused = response_error(429, &[], "", Method::POST);
    assert!(!refused.may_have_been_processed());
    assert!(!response_error(501, &[], "", Method::POST).may_have_been_processed());
}

#[test]
fn a_forbidden_remedy_is_the_one_for_its_meaning() {
    let https = response_error(403, &[], "<h1>Service Requires SSL</h1>", Method::GET);
    let remedy = https.remedy().expect("a remedy");
    assert!(
        remedy.contains("HTTPS") && !remedy.contains('\n'),
        "{remedy}"
    );
    let quota = response_error(
        403,
        &[("x-error-code", "ERR_403_DEVELOPER_OVER_QPD")],
        "",
        Method::GET,
    );
    assert!(quota.remedy().expect("a remedy").contains("quota"));
}

#[test]
fn the_one_line_form_carries_the_reason_when_the_summary_only_repeats_the_status() {
    // As the sandbox (and Whispir's gateway) answer a bad `limit`: the
    // summary is the code table's, the text the reason phrase.
    let err = response_error(
        400,
        &[],
        r#"{"errorSummary":"A request parameter is missing or invalid.","errorText":"Bad Request","errorDetail":"limit 50 is greater than the maximum of 20"}"#,
        Method::GET,
    );
    let shown = err.to_string();
    assert!(
        shown.ends_with(": limit 50 is greater than the maximum of 20"),
        "{shown}"
    );
    assert!(!format!("{err:#}").contains("detail: limit"), "{err:#}");
    // A specific summary still comes first; the detail stays for `{:#}`.
    let err = response_error(
        422,
        &[],
        r#"{"errorSummary":"firstName is mandatory","errorText":"Unprocessable Entity","errorDetail":"com.whispir.api.ApiException"}"#,
        Method::POST,
    );
    assert!(
        err.to_string().ends_with(": firstName is mandatory"),
        "{err}"
    );
    let err = response_error(
        400,
        &[],
        r#"{"status":400,"message":"Bad Request","detail":"sortOrder must be asc or desc"}"#,
        Method::GET,
    );
    assert!(
        err.to_string().ends_with(": sortOrder must be asc or desc"),
        "{err}"
    );
    // Nothing more specific: the generic words rather than nothing.
    let err = response_error(400, &[], r#"{"errorText":"Bad Request"}"#, Method::GET);
    assert!(err.to_string().ends_with(": Bad Request"), "{err}");
}
