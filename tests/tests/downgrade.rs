//! A redirect from HTTPS to plain HTTP is refused: the request (with its
//! credentials) is never sent in the clear.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use whispir::CallOptions;
use whispir_tests::{expect_error, mock_builder};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An HTTPS server on 127.0.0.1 with a throwaway self-signed certificate
/// that answers every request with a redirect to `location`.
async fn https_redirecting_to(location: String) -> String {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = CertificateDer::from(certified.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let location = location.clone();
            tokio::spawn(async move {
                let Ok(mut stream) = acceptor.accept(socket).await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let response = format!(
                    "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    format!("https://{address}")
}

#[tokio::test]
async fn a_redirect_from_https_to_http_is_refused() {
    let plain = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&plain)
        .await;
    let base = https_redirecting_to(format!("{}/messages/A", plain.uri())).await;

    let client = mock_builder(&base, CallOptions::default())
        .http_client(reqwest::Client::builder().danger_accept_invalid_certs(true))
        .build()
        .unwrap();

    let err = expect_error(client.message_retrieve().message_id("A").send().await);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(
        err.to_string()
            .contains("redirect not followed: it would leave https for plain http"),
        "{err}"
    );
    assert!(
        plain.received_requests().await.unwrap().is_empty(),
        "nothing was sent in the clear"
    );
}
