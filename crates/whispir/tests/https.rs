//! HTTPS through the TLS implementation the crate's features chose: CI runs
//! this file once per choice (`rustls-aws-lc-rs`, `rustls-ring`,
//! `native-tls`) against a local server whose certificate authority the
//! client is told to trust.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use whispir::{Client, Credentials, RetryConfig};

/// A certificate authority and an HTTPS server on 127.0.0.1 holding a
/// certificate it signed, answering every request with a 404. Returns the
/// server's base URL and the authority's certificate (DER).
async fn https_server() -> (String, Vec<u8>) {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // Distinct names: OpenSSL takes a certificate whose issuer is its own
    // subject for a self-signed one.
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "whispir test authority");
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let mut server_params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    server_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let server_cert = server_params.signed_by(&server_key, &ca).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    // The server side always uses ring: only the client's choice is tested
    // (rustls deprecated ring's provider; a test server does not care).
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(ring))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![server_cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
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
                let response =
                    "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("https://{address}"), ca.der().to_vec())
}

fn builder(base_url: &str) -> whispir::ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic("user", "password"))
        .api_key("key")
        .retry(RetryConfig::disabled())
}

#[tokio::test]
async fn https_reaches_a_server_signed_by_an_added_root() {
    let (base_url, ca_der) = https_server().await;
    let root = reqwest::Certificate::from_der(&ca_der).unwrap();
    let client = builder(&base_url)
        .add_root_certificate(root)
        .build()
        .unwrap();

    let err = match client.message_retrieve().message_id("A").send().await {
        Ok(_) => panic!("the server answers 404"),
        Err(err) => err,
    };

    // A status means the TLS handshake succeeded and the request went through.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404), "{err}");
}

#[tokio::test]
async fn https_refuses_a_server_whose_root_is_not_trusted() {
    let (base_url, _) = https_server().await;
    let client = builder(&base_url).build().unwrap();

    let err = match client.message_retrieve().message_id("A").send().await {
        Ok(_) => panic!("the certificate is not trusted"),
        Err(err) => err,
    };

    assert!(err.is_transport(), "{err}");
    assert_eq!(err.status(), None, "{err}");
}

/// With `rustls-ring` alone, building a client leaves `ring` installed as
/// the process's rustls provider (reqwest has none of its own then).
#[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
#[test]
fn building_a_client_installs_ring_when_no_provider_is_set() {
    builder("https://127.0.0.1:1").build().unwrap();
    let installed = rustls::crypto::CryptoProvider::get_default().expect("a provider");
    #[allow(deprecated)]
    let ring = rustls::crypto::ring::default_provider();
    let suites = |provider: &rustls::crypto::CryptoProvider| {
        provider
            .cipher_suites
            .iter()
            .map(|suite| suite.suite())
            .collect::<Vec<_>>()
    };
    assert_eq!(suites(installed), suites(&ring));
}
