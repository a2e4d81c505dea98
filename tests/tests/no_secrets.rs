//! No credential ever appears in an error's Display, alternate Display or Debug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::{Client, Credentials, types};
use whispir_tests::expect_error;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRETS: [&str; 4] = ["urlsecret", "pwdsecret", "keysecret", "bodysecret"];

fn client(base_url: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic("ops", "pwdsecret"))
        .api_key("keysecret")
        .build()
        .expect("a loopback client")
}

fn assert_clean(err: &whispir::Error) {
    let shown = format!("{err}\n{err:#}\n{err:?}\n{err:#?}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
}

async fn send(client: &Client) -> whispir::Error {
    let message = types::Message::builder()
        .to("61400000001")
        .subject("bodysecret")
        .body(Some("bodysecret".to_string()));
    expect_error(
        client
            .message_create()
            .workspace_id("AB12")
            .body(message)
            .send()
            .await,
    )
}

#[tokio::test]
async fn error_responses_show_no_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string("{\"errorSummary\":\"Unauthorized\"}"),
        )
        .mount(&server)
        .await;
    let err = send(&client(&server.uri())).await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_clean(&err);
}

#[tokio::test]
async fn transport_errors_show_no_credentials() {
    // A port nothing listens on: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = send(&client(&format!("http://127.0.0.1:{port}"))).await;
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.send_state(), Some(whispir::SendState::NotSent));
    assert_eq!(err.operation(), Some("messageCreate"));
    assert_eq!(err.method(), Some(&reqwest::Method::POST));
    assert!(
        err.is_retryable(),
        "a send that never left may be sent again"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "messageCreate: could not connect to 127.0.0.1:{port}; the request was not sent"
        )),
        "{err}"
    );
    assert_clean(&err);
}

#[test]
fn a_base_url_with_credentials_is_refused_without_showing_them() {
    let err = Client::builder()
        .base_url("http://ops:urlsecret@127.0.0.1:9")
        .credentials(Credentials::basic("ops", "pwdsecret"))
        .api_key("keysecret")
        .build()
        .expect_err("credentials belong in the builder");
    let shown = format!("{err}\n{err:?}");
    assert!(shown.contains("must not contain credentials"), "{shown}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
}
