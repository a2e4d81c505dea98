use super::*;
use crate::code_table::TableRow;
use http::HeaderValue;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).expect("valid"));
    }
    map
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).expect("valid status")
}

#[test]
fn every_table_code_is_classified_and_every_classified_code_is_in_the_table() {
    let table: Vec<u16> = TableRow::all().iter().map(|row| row.code).collect();
    let classified: Vec<u16> = TABLE_CLASSIFICATION
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    assert_eq!(
        table, classified,
        "table codes and handwritten classification differ"
    );
}

#[test]
fn classification_agrees_with_the_table_sections() {
    for (code, class, _) in TABLE_CLASSIFICATION {
        let row = TableRow::lookup(*code).expect("listed");
        let success_like = matches!(
            class,
            ErrorClass::Success | ErrorClass::Redirect | ErrorClass::NotModified
        );
        assert_eq!(
            success_like,
            row.section == crate::TableSection::Successful,
            "{code}"
        );
    }
}

#[test]
fn server_error_is_retryable_only_for_idempotent_requests() {
    let c = classify(status(500), &HeaderMap::new(), "");
    assert_eq!(c.class, ErrorClass::ServerError);
    assert!(c.retry.allows(&Method::GET));
    assert!(c.retry.allows(&Method::PUT));
    assert!(!c.retry.allows(&Method::POST));
}

#[test]
fn caller_errors_are_never_retryable() {
    for code in [400, 405, 413, 415, 422, 501] {
        let c = classify(status(code), &HeaderMap::new(), "");
        assert_eq!(c.retry, RetryPolicy::Never, "{code}");
    }
    assert_eq!(
        classify(status(501), &HeaderMap::new(), "").class,
        ErrorClass::NotImplemented
    );
}

#[test]
fn too_many_requests_is_throttling_and_safe_to_resend() {
    let c = classify(status(429), &HeaderMap::new(), "");
    assert_eq!(c.class, ErrorClass::Throttling);
    assert!(c.retry.allows(&Method::POST));
}

#[test]
fn forbidden_with_over_qps_code_is_throttling() {
    let c = classify(
        status(403),
        &headers(&[("x-error-code", "ERR_403_DEVELOPER_OVER_QPS")]),
        "",
    );
    assert_eq!(c.class, ErrorClass::Throttling);
    assert_eq!(c.forbidden, Some(ForbiddenReason::OverQueriesPerSecond));
    assert!(c.retry.allows(&Method::POST));
}

#[test]
fn forbidden_with_over_qpd_code_is_throttling_but_not_retryable() {
    let c = classify(
        status(403),
        &headers(&[("x-error-code", "ERR_403_DEVELOPER_OVER_QPD")]),
        "",
    );
    assert_eq!(c.class, ErrorClass::Throttling);
    assert_eq!(c.forbidden, Some(ForbiddenReason::OverQueriesPerDay));
    assert_eq!(c.retry, RetryPolicy::Never);
}

#[test]
fn a_quota_named_only_in_free_text_is_not_throttling() {
    for (headers, body) in [
        (
            headers(&[(
                "x-error-detail",
                "Account Over Queries Per Second Limit (over qps)",
            )]),
            "",
        ),
        (HeaderMap::new(), "<h1>Developer Over Qps</h1>"),
        (HeaderMap::new(), "<h1>Developer Over Qpd</h1>"),
    ] {
        let c = classify(status(403), &headers, body);
        assert_eq!(c.forbidden, Some(ForbiddenReason::Permission), "{body}");
        assert_ne!(c.class, ErrorClass::Throttling, "{body}");
        assert!(!c.retry.allows(&Method::POST), "{body}");
    }
}

#[test]
fn other_forbidden_reasons_come_from_detail_header_and_body_too() {
    assert_eq!(
        classify(
            status(403),
            &HeaderMap::new(),
            "<h1>Developer Inactive</h1>"
        )
        .forbidden,
        Some(ForbiddenReason::InvalidApiKey)
    );
    assert_eq!(
        classify(
            status(403),
            &HeaderMap::new(),
            "<h1>Service Requires SSL</h1>"
        )
        .forbidden,
        Some(ForbiddenReason::HttpsRequired)
    );
    assert_eq!(
        classify(
            status(403),
            &HeaderMap::new(),
            "{\"errorText\":\"Forbidden\"}"
        )
        .forbidden,
        Some(ForbiddenReason::Permission)
    );
}

#[test]
fn the_error_code_header_wins_over_the_body() {
    let c = classify(
        status(403),
        &headers(&[("x-error-code", "ERR_403_DEVELOPER_OVER_QPD")]),
        "over qps",
    );
    assert_eq!(c.forbidden, Some(ForbiddenReason::OverQueriesPerDay));
}

#[test]
fn codes_outside_the_table_use_their_standard_meaning() {
    for (code, class, post_retry) in [
        (408, ErrorClass::Transport, false),
        (502, ErrorClass::ServerError, false),
        (503, ErrorClass::ServerError, false),
        (504, ErrorClass::ServerError, false),
        (418, ErrorClass::ClientError, false),
        (599, ErrorClass::ServerError, false),
        (307, ErrorClass::Redirect, false),
        (303, ErrorClass::Redirect, false),
        (100, ErrorClass::ClientError, false),
    ] {
        let c = classify(status(code), &HeaderMap::new(), "");
        assert_eq!(c.class, class, "{code}");
        assert_eq!(c.retry.allows(&Method::POST), post_retry, "{code}");
    }
    assert!(
        classify(status(503), &HeaderMap::new(), "")
            .retry
            .allows(&Method::GET)
    );
}

#[test]
fn a_link_with_https_in_a_403_body_is_not_https_required() {
    let none = HeaderMap::new();
    let body = r#"<p>You lack the permission. See <a href="https://developers.whispir.com/docs">the docs</a>.</p>"#;
    assert_eq!(classify_forbidden(&none, body), ForbiddenReason::Permission);
    assert_eq!(
        classify_forbidden(
            &none,
            "https://developers.whispir.com/docs/http-response-codes"
        ),
        ForbiddenReason::Permission
    );
    assert_eq!(
        classify_forbidden(&none, "<h1>Service Requires SSL</h1>"),
        ForbiddenReason::HttpsRequired
    );
    assert_eq!(
        classify_forbidden(&none, "Plain HTTP is refused: use HTTPS"),
        ForbiddenReason::HttpsRequired
    );
}
