//! Fields that travel one way: a user's `userName` and `password` are
//! sent, never returned; a key's `type` is returned, never needed in a
//! request. Answers without the write-only fields decode; a request body
//! without those its operation requires is refused, naming them, before
//! anything is sent (a user update may leave the password out: the API
//! keeps the stored one).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use serde_json::json;
use whispir::types;
use whispir_tests::mock_client;
use wiremock::matchers::{any, body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server that fails the test if anything is sent to it.
async fn nothing_may_be_sent() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    server
}

/// A user as the API answers it: without its login name and password.
fn user_as_answered() -> serde_json::Value {
    json!({
        "id": "AB12", "firstName": "Sid", "lastName": "User",
        "workCountry": "Australia", "timezone": "Australia/Sydney"
    })
}

fn new_user() -> types::builder::User {
    types::User::builder()
        .first_name("Sid")
        .last_name("User")
        .work_country("Australia")
        .timezone("Australia/Sydney")
}

#[tokio::test]
async fn a_user_create_without_login_and_password_is_refused_before_sending() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .user_create()
        .body(new_user())
        .send()
        .await
        .expect_err("a new user needs a login name and a password");
    assert!(err.is_invalid_request(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "userCreate: invalid request: body: missing required fields: user_name, password"
    );
}

#[tokio::test]
async fn a_user_create_without_a_password_names_only_the_password() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .user_create()
        .body(new_user().user_name("sid"))
        .send()
        .await
        .expect_err("a new user needs a password");
    assert!(
        err.to_string()
            .ends_with("body: missing required field: password"),
        "{err}"
    );
}

#[tokio::test]
async fn a_user_update_edited_from_a_read_without_a_password_is_sent() {
    // The API keeps the stored password when an update has none, and a read
    // never returns it: the documented GET, change, PUT sends none.
    let server = MockServer::start().await;
    Mock::given(method("PUT"))
        .and(path("/users/AB12"))
        .and(body_partial_json(
            json!({"userName": "sid", "firstName": "Sid"}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let read: types::User = serde_json::from_value(user_as_answered()).expect("decodes");
    client
        .user_update()
        .user_id("AB12")
        .body(read)
        .body_map(|user| user.user_name("sid"))
        .send()
        .await
        .expect("sent without a password");
    let requests = server.received_requests().await.expect("recording is on");
    let body: serde_json::Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body.get("password"), None);
}

#[tokio::test]
async fn a_user_update_without_a_login_name_is_refused() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let read: types::User = serde_json::from_value(user_as_answered()).expect("decodes");
    let err = client
        .user_update()
        .user_id("AB12")
        .body(read)
        .send()
        .await
        .expect_err("an update names the login");
    assert!(
        err.to_string()
            .ends_with("body: missing required field: user_name"),
        "{err}"
    );
}

#[tokio::test]
async fn a_complete_user_create_is_sent_and_its_answer_without_password_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/users"))
        .and(body_partial_json(
            json!({"userName": "sid", "password": "Secret-123"}),
        ))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", format!("{}/users/AB12", server.uri()))
                .set_body_json(user_as_answered()),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let created = client
        .user_create()
        .body(new_user().user_name("sid").password("Secret-123"))
        .send()
        .await
        .expect("sent and decoded");
    assert_eq!(created.id(), Some("AB12"));
    assert_eq!(created.user_name, None);
    assert_eq!(created.password, None);
}

#[tokio::test]
async fn a_user_read_without_its_write_only_fields_decodes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/users/AB12"))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_as_answered()))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let user = client
        .user_retrieve()
        .user_id("AB12")
        .send()
        .await
        .expect("decodes");
    assert_eq!(user.first_name, "Sid");
}

#[tokio::test]
async fn a_key_create_without_its_read_only_type_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/keys"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("Location", format!("{}/keys/k1", server.uri()))
                .set_body_json(json!({
                    "id": "0f6b1c2e-3d4a-4b5c-a6d7-e8f901234567", "type": "basic", "description": "ops"
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let key = client
        .key_create()
        .body(types::Key::builder().description("ops"))
        .send()
        .await
        .expect("a key needs no type to be created");
    assert!(key.type_.is_some(), "{key:?}");
}
