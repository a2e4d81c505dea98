//! Support for the cross-crate tests in `tests/`: a client pointed at a
//! local mock server, and turning a generated call's failure into the SDK
//! error. Test-only code: it panics loudly when a test's premise is wrong.
#![allow(clippy::panic, clippy::expect_used)]

use whispir::{CallOptions, Client, Credentials, RetryConfig};

/// The user name the mock clients authenticate with.
pub const TEST_USER: &str = "user";
/// The password the mock clients authenticate with.
pub const TEST_PASSWORD: &str = "pass";
/// The `Authorization` header the mock clients send (`user:pass`, Basic).
pub const TEST_AUTHORIZATION: &str = "Basic dXNlcjpwYXNz";
/// The API key the mock clients send.
pub const TEST_API_KEY: &str = "test-api-key";

/// A client with test credentials for `base_url` (a loopback URL),
/// without retries so that every test sees exactly the answer it mounted.
pub fn mock_client(base_url: &str) -> Client {
    mock_client_with(
        base_url,
        CallOptions {
            retry: RetryConfig::disabled(),
            ..CallOptions::default()
        },
    )
}

/// A builder with test credentials for `base_url` and the given call options.
pub fn mock_builder(base_url: &str, options: CallOptions) -> whispir::ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic(TEST_USER, TEST_PASSWORD))
        .api_key(TEST_API_KEY)
        .call_options(options)
}

/// A client with test credentials and the given call options.
pub fn mock_client_with(base_url: &str, options: CallOptions) -> Client {
    mock_builder(base_url, options)
        .build()
        .expect("a loopback test client builds")
}

/// The SDK error of a call that must fail.
pub fn expect_error<T>(result: Result<T, whispir::Error>) -> whispir::Error {
    match result {
        Ok(_) => panic!("the call succeeded but the test expects an error"),
        Err(err) => err,
    }
}

/// The error of `messageRetrieve` for message `message_id` in workspace `AB12`.
pub async fn retrieve_error(client: &Client, message_id: &str) -> whispir::Error {
    expect_error(
        client
            .message_retrieve()
            .workspace_id("AB12")
            .message_id(message_id)
            .send()
            .await,
    )
}

/// A message id of the documented form (upper-case hex) that spells
/// `name`, so that a test can name its cases freely.
pub fn hex_id(name: &str) -> String {
    name.bytes().map(|byte| format!("{byte:02X}")).collect()
}

pub mod callback_replicas;
pub mod faulty_server;
pub mod metrics;
pub mod shared_quota;
pub mod slow_connect;

/// Call options that retry quickly, for tests of retry behaviour.
pub fn fast_retries(max_attempts: u32) -> CallOptions {
    CallOptions {
        retry: RetryConfig {
            max_attempts,
            initial_backoff: std::time::Duration::from_millis(5),
            max_backoff: std::time::Duration::from_millis(20),
            max_elapsed: std::time::Duration::from_secs(10),
        },
        ..CallOptions::default()
    }
}
