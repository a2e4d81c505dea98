//! End to end over loopback: a local sender, acting as Whispir, posts
//! callbacks in each auth mode and both content types to an axum server
//! that mounts the receiver both ways (the tower service and the
//! extractor); the server parses them, and refuses what it should.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use whispir_callbacks::{
    AuthMode, BodyFormat, Callback, CallbackKey, Receiver, WhispirCallback, parse_body,
};

const REPLY_JSON: &str = include_str!("fixtures/reply_sms.json");
const REPLY_XML: &str = include_str!("fixtures/reply_email.xml");

/// The key registered for each mode; each differs, so a key sent the wrong
/// way is refused.
fn key_for(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::QueryParam => "query-key-4f1e",
        AuthMode::HttpHeader => "header-key-9a2b",
        // Whispir sends the registered value as it is after `Basic `.
        AuthMode::BasicAuth => "d2hpc3Bpcjpjb2RlczEyMw==",
        AuthMode::BearerToken => "bearer-key-77c0",
    }
}

fn receiver() -> Receiver {
    let key = |mode| CallbackKey::new(key_for(mode)).expect("a valid key");
    let mut receiver = Receiver::new(AuthMode::QueryParam, key(AuthMode::QueryParam))
        .expect("a query-safe key")
        .with_max_body_bytes(8 * 1024);
    for mode in [
        AuthMode::HttpHeader,
        AuthMode::BasicAuth,
        AuthMode::BearerToken,
    ] {
        receiver = receiver.accept(mode, key(mode)).expect("a header key");
    }
    // A second header key: the one being rotated out.
    receiver
        .accept(
            AuthMode::HttpHeader,
            CallbackKey::new("retiring-key-0001").expect("a valid key"),
        )
        .expect("a header key")
}

#[derive(Clone)]
struct AppState {
    receiver: Receiver,
    received: mpsc::UnboundedSender<(&'static str, Callback)>,
}

impl axum::extract::FromRef<AppState> for Receiver {
    fn from_ref(state: &AppState) -> Self {
        state.receiver.clone()
    }
}

async fn on_callback(
    State(state): State<AppState>,
    WhispirCallback(callback): WhispirCallback,
) -> StatusCode {
    match state.received.send(("extractor", callback)) {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

struct Server {
    base: String,
    received: mpsc::UnboundedReceiver<(&'static str, Callback)>,
    client: reqwest::Client,
}

async fn start() -> Server {
    let (tx, rx) = mpsc::unbounded_channel();
    let service_tx = tx.clone();
    let service = receiver().into_service(move |callback: Callback| {
        let tx = service_tx.clone();
        async move {
            tx.send(("service", callback))
                .map_err(|_| "test receiver gone")
        }
    });
    let app = Router::new()
        .route_service("/service", service)
        .route("/extractor", post(on_callback))
        .with_state(AppState {
            receiver: receiver(),
            received: tx,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    Server {
        base: format!("http://{address}"),
        received: rx,
        client,
    }
}

/// Sends `body` the way Whispir would for `mode`, presenting `key`.
async fn send(
    server: &Server,
    path: &str,
    mode: Option<AuthMode>,
    key: &str,
    content_type: &str,
    body: &'static str,
) -> StatusCode {
    let mut url = format!("{}{path}", server.base);
    let mut request = server.client.post(&url);
    match mode {
        Some(AuthMode::QueryParam) => {
            url.push_str("?auth=");
            url.push_str(key);
            request = server.client.post(&url);
        }
        Some(AuthMode::HttpHeader) => request = request.header("X-Whispir-Callback-Key", key),
        Some(AuthMode::BasicAuth) => {
            request = request.header("Authorization", format!("Basic {key}"))
        }
        Some(AuthMode::BearerToken) => {
            request = request.header("Authorization", format!("Bearer {key}"))
        }
        None => {}
    }
    let response = request
        .header(CONTENT_TYPE, content_type)
        .body(body)
        .send()
        .await
        .expect("the receiver answers");
    StatusCode::from_u16(response.status().as_u16()).expect("a status")
}

#[tokio::test]
async fn every_auth_mode_and_content_type_is_received_and_parsed() {
    let mut server = start().await;
    let expected_json = parse_body(BodyFormat::Json, REPLY_JSON.as_bytes()).expect("fixture");
    let expected_xml = parse_body(BodyFormat::Xml, REPLY_XML.as_bytes()).expect("fixture");
    for path in ["/service", "/extractor"] {
        for mode in AuthMode::ALL {
            for (content_type, body, expected) in [
                ("application/json", REPLY_JSON, &expected_json),
                ("application/xml", REPLY_XML, &expected_xml),
            ] {
                let status =
                    send(&server, path, Some(mode), key_for(mode), content_type, body).await;
                assert_eq!(status, StatusCode::OK, "{path} {mode} {content_type}");
                let (via, callback) = server.received.recv().await.expect("handed over");
                assert_eq!(format!("/{via}"), path);
                assert_eq!(&callback, expected, "{path} {mode} {content_type}");
            }
        }
    }
}

#[tokio::test]
async fn wrong_or_missing_keys_are_refused_with_401() {
    let mut server = start().await;
    for path in ["/service", "/extractor"] {
        for mode in AuthMode::ALL {
            let wrong = send(
                &server,
                path,
                Some(mode),
                "not-the-key",
                "application/json",
                REPLY_JSON,
            )
            .await;
            assert_eq!(wrong, StatusCode::UNAUTHORIZED, "{path} {mode} wrong key");
        }
        let missing = send(&server, path, None, "", "application/json", REPLY_JSON).await;
        assert_eq!(missing, StatusCode::UNAUTHORIZED, "{path} no key");
        // The right key for another mode, sent this way.
        let misplaced = send(
            &server,
            path,
            Some(AuthMode::BearerToken),
            key_for(AuthMode::HttpHeader),
            "application/json",
            REPLY_JSON,
        )
        .await;
        assert_eq!(misplaced, StatusCode::UNAUTHORIZED, "{path} misplaced key");
    }
    assert!(
        server.received.try_recv().is_err(),
        "nothing reached a handler"
    );
}

#[tokio::test]
async fn a_rotated_key_is_accepted_alongside_the_current_one() {
    let mut server = start().await;
    let status = send(
        &server,
        "/service",
        Some(AuthMode::HttpHeader),
        "retiring-key-0001",
        "application/json",
        REPLY_JSON,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(server.received.recv().await.is_some());
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx() {
    let server = start().await;
    let key = key_for(AuthMode::HttpHeader);
    let mode = Some(AuthMode::HttpHeader);
    let too_big: &'static str = "x".repeat(16 * 1024).leak();
    for path in ["/service", "/extractor"] {
        let cases = [
            ("text/plain", REPLY_JSON, StatusCode::UNSUPPORTED_MEDIA_TYPE),
            (
                "application/json",
                "{\"messageid\":",
                StatusCode::BAD_REQUEST,
            ),
            ("application/xml", REPLY_JSON, StatusCode::BAD_REQUEST),
            ("application/json", too_big, StatusCode::PAYLOAD_TOO_LARGE),
        ];
        for (content_type, body, expected) in cases {
            let status = send(&server, path, mode, key, content_type, body).await;
            assert_eq!(status, expected, "{path} {content_type}");
        }
    }
}

#[tokio::test]
async fn whispirs_registration_probe_is_answered_200() {
    let server = start().await;
    let response = server
        .client
        .get(format!("{}/service", server.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_chunked_body_is_cut_off_at_the_limit() {
    let server = start().await;
    // No Content-Length: the limit is enforced while reading, 1 KiB at a time.
    let chunks = (0..64).map(|_| Ok::<_, std::io::Error>(vec![b' '; 1024]));
    for path in ["/service", "/extractor"] {
        let response = server
            .client
            .post(format!("{}{path}", server.base))
            .header("X-Whispir-Callback-Key", key_for(AuthMode::HttpHeader))
            .header(CONTENT_TYPE, "application/json")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(
                chunks.clone(),
            )))
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(response.status().as_u16(), 413, "{path}");
    }
}
