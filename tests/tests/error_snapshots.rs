//! What users see for every unsuccessful code of the table with every body
//! form a server or a proxy may send, driven through the real client
//! against a local mock server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::{Client, Credentials};
use whispir_errors::{TableRow, TableSection};
use whispir_tests::{hex_id, mock_client, retrieve_error};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The body forms, with a content type and a body for a given status.
fn body_forms(code: u16) -> Vec<(&'static str, &'static str, String)> {
    vec![
        (
            "json",
            "application/vnd.whispir.message-v1+json",
            format!(
                r#"{{"errorSummary":"The request failed with {code}","errorText":"Error {code}","errorDetail":"com.whispir.api.ApiException: {code}"}}"#
            ),
        ),
        (
            "nextgen",
            "application/json",
            format!(
                r#"{{"status":{code},"message":"The request failed with {code}","detail":"more about {code}"}}"#
            ),
        ),
        (
            "xml",
            "application/vnd.whispir.message-v1+xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ns2:error xmlns:ns2=\"http://schemas.api.whispir.com\"><errorSummary>The request failed with {code}</errorSummary><errorText>Error {code}</errorText></ns2:error>"
            ),
        ),
        (
            "text",
            "text/plain",
            format!("The request failed with {code}."),
        ),
        (
            "html",
            "text/html",
            format!(
                "<html><head><title>{code}</title></head><body><h1>Gateway says {code}</h1></body></html>"
            ),
        ),
        ("empty", "application/json", String::new()),
        (
            "garbage",
            "application/json",
            "{\"errorSummary\": \"cut off mid-\u{fffd}".to_string(),
        ),
    ]
}

async fn rendered(server: &MockServer, id: &str) -> String {
    let err = retrieve_error(&mock_client(&server.uri()), &hex_id(id)).await;
    format!("display: {err}\n\nalternate:\n{err:#}\n\ndebug:\n{err:#?}\n")
}

#[tokio::test]
async fn every_unsuccessful_code_with_every_body_form() {
    let server = MockServer::start().await;
    let mut cases = Vec::new();
    for row in TableRow::all()
        .iter()
        .filter(|row| row.section == TableSection::Unsuccessful)
    {
        for (form, content_type, body) in body_forms(row.code) {
            let id = format!("{}-{form}", row.code);
            let mut response = ResponseTemplate::new(row.code)
                .insert_header("content-type", content_type)
                .insert_header("x-request-id", "req-0001")
                .set_body_bytes(body.into_bytes());
            if row.code == 429 {
                response = response.insert_header("retry-after", "3");
            }
            Mock::given(method("GET"))
                .and(path(format!("/workspaces/AB12/messages/{}", hex_id(&id))))
                .respond_with(response)
                .mount(&server)
                .await;
            cases.push(id);
        }
    }
    assert_eq!(cases.len(), 11 * 7, "every (code, body form) pair");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for id in cases {
        insta::assert_snapshot!(id.clone(), rendered(&server, &id).await);
    }
}

#[tokio::test]
async fn forbidden_quota_headers_and_gateway_errors() {
    let server = MockServer::start().await;
    let cases = [
        (
            "403-over-qps",
            ResponseTemplate::new(403)
                .insert_header("x-error-code", "ERR_403_DEVELOPER_OVER_QPS")
                .insert_header("x-error-detail", "Account Over Queries Per Second Limit"),
        ),
        (
            "403-over-qpd",
            ResponseTemplate::new(403)
                .insert_header("x-error-code", "ERR_403_DEVELOPER_OVER_QPD")
                .insert_header("retry-after", "3600"),
        ),
        (
            "403-https-required",
            ResponseTemplate::new(403).set_body_string("<h1>Service Requires SSL</h1>"),
        ),
        (
            "403-invalid-api-key",
            ResponseTemplate::new(403).set_body_string("<h1>Developer Inactive</h1>"),
        ),
        (
            "502-proxy-html",
            ResponseTemplate::new(502)
                .insert_header("content-type", "text/html")
                .set_body_string(
                    "<html><body><h1>502 Bad Gateway</h1><hr><center>nginx</center></body></html>",
                ),
        ),
        (
            "503-empty",
            ResponseTemplate::new(503).insert_header("retry-after", "120"),
        ),
    ];
    for (id, response) in &cases {
        Mock::given(method("GET"))
            .and(path(format!("/workspaces/AB12/messages/{}", hex_id(id))))
            .respond_with(response.clone())
            .mount(&server)
            .await;
    }
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for (id, _) in &cases {
        insta::assert_snapshot!(id.to_string(), rendered(&server, id).await);
    }
}

#[tokio::test]
async fn a_huge_error_body_is_capped_not_buffered() {
    let server = MockServer::start().await;
    let huge = vec![b'x'; 4 * 1024 * 1024];
    Mock::given(method("GET"))
        .and(path(format!(
            "/workspaces/AB12/messages/{}",
            hex_id("huge")
        )))
        .respond_with(ResponseTemplate::new(500).set_body_bytes(huge))
        .mount(&server)
        .await;
    let err = retrieve_error(&mock_client(&server.uri()), &hex_id("huge")).await;
    let raw = err.raw_body().expect("raw body");
    assert_eq!(raw.bytes().len(), whispir_errors::DEFAULT_BODY_LIMIT);
    assert!(raw.is_truncated());
    assert_eq!(err.operation(), Some("messageRetrieve"));
    assert_eq!(err.method(), Some(&reqwest::Method::GET));
}

#[tokio::test]
async fn the_error_body_limit_is_configurable() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_string("x".repeat(1000)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .credentials(Credentials::basic("user", "pass"))
        .api_key("key")
        .error_body_limit(100)
        .build()
        .expect("builds");
    let err = retrieve_error(&client, "CD34").await;
    let raw = err.raw_body().expect("raw");
    assert_eq!(raw.bytes().len(), 100);
    assert!(raw.is_truncated());
}

/// What users see for failures that are not an error status: the API's
/// field-by-field error text, a success body that does not decode, a
/// transport failure, and the client's own refusals.
#[tokio::test]
async fn client_side_outcomes_and_the_api_error_text() {
    use std::num::NonZeroU32;
    use whispir::{CallOptions, Plan};

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/workspaces/AB12/messages/{}", hex_id("422-field-errors"))))
        .respond_with(
            ResponseTemplate::new(422)
                .insert_header("content-type", "application/vnd.whispir.message-v1+json")
                .set_body_string(
                    r#"{"errorSummary":"Your request did not contain all of the information required to perform this method. Please check your request for the required fields to be passed in.","errorText":"firstName is mandatory \n lastName is mandatory"}"#,
                ),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/workspaces/AB12/messages/{}",
            hex_id("200-undecodable")
        )))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"to\": 42"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/workspaces/AB12/messages/{}",
            hex_id("302-loop")
        )))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("/workspaces/AB12/messages/{}", hex_id("302-loop")),
        ))
        .mount(&server)
        .await;
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for id in ["422-field-errors", "200-undecodable", "302-loop"] {
        insta::assert_snapshot!(id.to_string(), rendered(&server, id).await);
    }

    // Nothing listens on this port: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let refused = retrieve_error(&mock_client(&format!("http://127.0.0.1:{port}")), "0A").await;
    let shown = format!("display: {refused}\n\nalternate:\n{refused:#}\n")
        .replace(&format!("127.0.0.1:{port}"), "127.0.0.1:PORT");
    // The cause names the OS error, which differs between systems.
    let shown = shown
        .lines()
        .filter(|line| !line.contains("caused by"))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("transport-refused", shown);

    let one_a_day = CallOptions {
        rate_limit: Some(Plan::new(
            NonZeroU32::new(5).expect("5"),
            NonZeroU32::new(1),
        )),
        ..whispir_tests::fast_retries(1)
    };
    let client = whispir_tests::mock_client_with(&server.uri(), one_a_day);
    let _first = retrieve_error(&client, &hex_id("422-field-errors")).await;
    let budget = retrieve_error(&client, &hex_id("422-field-errors")).await;
    let shown = format!("display: {budget}\n\nalternate:\n{budget:#}\n")
        .replace("resets in about 24 h", "resets in about N h");
    insta::assert_snapshot!("refused-daily-budget", shown);
}

/// What users see when a write is answered with a redirect it may not
/// follow: 303 (the API acted), 301 (it may have), and a 307 to another
/// origin (not sent there).
#[tokio::test]
async fn a_write_redirect_not_followed() {
    let server = MockServer::start().await;
    let cases = [
        (
            "303-scenario-run",
            303,
            "/workspaces/AB12/scenarios/CD34/runs/1",
        ),
        (
            "301-scenario-run",
            301,
            "/v2/workspaces/AB12/scenarios/CD34",
        ),
        (
            "307-other-origin",
            307,
            "https://elsewhere.example/scenarios/CD34",
        ),
    ];
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    // The mock server's port changes from run to run.
    settings.add_filter(r"http://127\.0\.0\.1:\d+", "http://127.0.0.1:PORT");
    let _guard = settings.bind_to_scope();
    for (id, status, to) in cases {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).insert_header("location", to))
            .mount(&server)
            .await;
        let err = whispir_tests::expect_error(
            mock_client(&server.uri())
                .scenario_run_create()
                .workspace_id("AB12")
                .scenario_id("CD34")
                .send()
                .await,
        );
        let shown = format!("display: {err}\n\nalternate:\n{err:#}\n\ndebug:\n{err:#?}\n");
        insta::assert_snapshot!(id, shown);
    }
}
