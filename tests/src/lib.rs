//! Support for the cross-crate tests in `tests/`: a client pointed at a
//! local mock server, and turning a generated call's failure into the SDK
//! error. Test-only code: it panics loudly when a test's premise is wrong.
#![allow(clippy::panic, clippy::expect_used)]

use whispir::{Client, ClientContext, Credentials, GeneratedError};

/// The user name the mock clients authenticate with.
pub const TEST_USER: &str = "user";
/// The password the mock clients authenticate with.
pub const TEST_PASSWORD: &str = "pass";
/// The `Authorization` header the mock clients send (`user:pass`, Basic).
pub const TEST_AUTHORIZATION: &str = "Basic dXNlcjpwYXNz";
/// The API key the mock clients send.
pub const TEST_API_KEY: &str = "test-api-key";

/// A client with test credentials for `base_url` (any URL, also with
/// credentials in it, unlike the builder).
pub fn mock_client(base_url: &str) -> Client {
    let credentials = Credentials::basic(TEST_USER, TEST_PASSWORD);
    let context =
        ClientContext::new(&credentials, TEST_API_KEY).expect("test credentials are valid");
    Client::new_with_client(base_url, reqwest::Client::new(), context)
}

/// The SDK error of a call that must fail.
pub fn expect_error<T>(result: Result<T, GeneratedError>) -> whispir::Error {
    match result {
        Ok(_) => panic!("the call succeeded but the test expects an error"),
        Err(err) => err.into(),
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
