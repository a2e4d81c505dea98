//! 201 Created and 202 Accepted: following the `Location`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use whispir::types::{Contact, Message};
use whispir::{Accepted, Created, WaitOptions, WaitOutcome, WaitUntil};
use whispir_tests::{TEST_API_KEY, fast_retries, mock_client, mock_client_with};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn contact_json() -> serde_json::Value {
    serde_json::json!({
        "firstName": "Ana", "lastName": "Ruiz", "timezone": "Australia/Melbourne",
        "workCountry": "Australia", "workEmailAddress1": "ana@example.com", "workMobilePhone1": "61400000002"
    })
}

#[tokio::test]
async fn a_created_resource_is_found_by_its_relative_location_and_fetched() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/workspaces/AB12/contacts"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header("location", "/workspaces/AB12/contacts/CD34")
                .set_body_json(contact_json()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/contacts/CD34"))
        .and(header("accept", "application/vnd.whispir.contact-v1+json"))
        .and(header("x-api-key", TEST_API_KEY))
        .respond_with(ResponseTemplate::new(200).set_body_json(contact_json()))
        .expect(1)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let body: Contact = serde_json::from_value(contact_json()).unwrap();
    let response = client
        .contact_create()
        .workspace_id("AB12")
        .body(body)
        .send()
        .await
        .expect("201");
    // The typed body and the new resource's id, without a second step.
    assert_eq!(response.first_name, "Ana");
    assert_eq!(response.id(), Some("CD34"));
    let created = Created::from_response(&response).expect("a Location");
    assert_eq!(created.id(), Some("CD34"));
    assert_eq!(
        created.location().as_str(),
        format!("{}/workspaces/AB12/contacts/CD34", server.uri())
    );
    let contact: Contact = created.fetch(&client).await.expect("fetched");
    assert_eq!(contact.first_name, "Ana");
}

#[tokio::test]
async fn a_created_answer_without_location_is_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(contact_json()))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let body: Contact = serde_json::from_value(contact_json()).unwrap();
    let response = client
        .contact_create()
        .body(body)
        .send()
        .await
        .expect("201");
    assert_eq!(response.first_name, "Ana", "the typed body is there");
    assert_eq!(response.location(), None);
    assert_eq!(response.id(), None);
    let err = Created::from_response(&response).expect_err("no Location");
    assert_eq!(
        err.to_string(),
        "201 created: unexpected response: the answer has no usable Location header"
    );
}

#[tokio::test]
async fn credentials_are_not_sent_to_a_created_resource_elsewhere() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(201)
                .insert_header(
                    "location",
                    format!("{}/contacts/CD34", elsewhere.uri()).as_str(),
                )
                .set_body_json(contact_json()),
        )
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let body: Contact = serde_json::from_value(contact_json()).unwrap();
    let response = client
        .contact_create()
        .body(body)
        .send()
        .await
        .expect("201");
    let created = Created::from_response(&response).expect("a Location");
    let err = created
        .fetch::<Contact>(&client)
        .await
        .expect_err("another origin");
    assert!(
        err.to_string().contains("does not send credentials there"),
        "{err}"
    );
    assert!(
        elsewhere
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
}

/// A status summary with `pending` recipients waiting and `delivered` done.
fn status_page(pending: i64, delivered: i64) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "messageStatuses": [{ "categories": [
            { "name": "Received", "recipientCount": delivered },
            { "name": "Pending", "recipientCount": pending }
        ] }]
    }))
}

async fn accepted(server: &MockServer) -> Accepted {
    Mock::given(method("POST"))
        .and(path("/workspaces/AB12/messages"))
        .respond_with(
            ResponseTemplate::new(202).insert_header("location", "/workspaces/AB12/messages/CD34"),
        )
        .mount(server)
        .await;
    let client = mock_client(&server.uri());
    let message: Message =
        serde_json::from_value(serde_json::json!({ "to": "61400000001", "subject": "Hi" }))
            .unwrap();
    let sent = client
        .message_create()
        .workspace_id("AB12")
        .body(message)
        .send()
        .await
        .expect("202");
    assert_eq!(sent.status().as_u16(), 202);
    assert_eq!(
        sent.message_id(),
        Some("CD34"),
        "the id comes without a second step"
    );
    assert_eq!(
        sent.location().map(|url| url.path()),
        Some("/workspaces/AB12/messages/CD34")
    );
    let accepted = sent.accepted().cloned().expect("a message Location");
    assert_eq!(
        (accepted.workspace_id(), accepted.message_id()),
        (Some("AB12"), "CD34")
    );
    accepted
}

fn quick(deadline: Duration) -> WaitOptions {
    WaitOptions {
        deadline,
        initial_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(40),
        ..WaitOptions::default()
    }
}

#[tokio::test]
async fn waiting_polls_until_no_recipient_is_pending() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    let status_path = || path("/workspaces/AB12/messages/CD34/messagestatus");
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(status_page(2, 0))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(status_page(0, 2))
        .with_priority(2)
        .mount(&server)
        .await;
    let outcome = accepted
        .wait(&mock_client(&server.uri()), quick(Duration::from_secs(10)))
        .await
        .expect("polled");
    let WaitOutcome::Finished(status) = outcome else {
        panic!("finished expected")
    };
    assert_eq!(
        status.message_statuses[0].categories[0].recipient_count,
        Some(2)
    );
    let polls = server
        .received_requests()
        .await
        .expect("recorded")
        .iter()
        .filter(|r| r.url.path().ends_with("messagestatus"))
        .count();
    assert_eq!(polls, 3);
}

#[tokio::test]
async fn waiting_stops_at_the_deadline_with_the_last_status() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .respond_with(status_page(1, 0))
        .mount(&server)
        .await;
    let outcome = accepted
        .wait(
            &mock_client(&server.uri()),
            quick(Duration::from_millis(100)),
        )
        .await
        .expect("polled");
    assert!(
        matches!(outcome, WaitOutcome::DeadlineReached(Some(_))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_slow_poll_ends_the_wait_at_its_deadline() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .respond_with(status_page(1, 0).set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let started = std::time::Instant::now();
    let outcome = accepted
        .wait(
            &mock_client(&server.uri()),
            quick(Duration::from_millis(300)),
        )
        .await
        .expect("no error: the deadline came first");
    assert!(
        matches!(outcome, WaitOutcome::DeadlineReached(None)),
        "{outcome:?}"
    );
    // The client's own call budget (30 s) and attempt timeout (10 s) are
    // far longer: the wait's deadline cut the poll short.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn waiting_is_cancel_safe_and_can_resume() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .respond_with(status_page(1, 0))
        .up_to_n_times(3)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(status_page(0, 1))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    // Dropped mid-way: polling stops.
    let dropped = tokio::time::timeout(
        Duration::from_millis(15),
        accepted.wait(&client, quick(Duration::from_secs(10))),
    )
    .await;
    assert!(dropped.is_err());
    let outcome = accepted
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect("resumed");
    assert!(matches!(outcome, WaitOutcome::Finished(_)));
}

#[tokio::test]
async fn waiting_rides_out_throttling_and_fails_on_real_errors() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(status_page(0, 1))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(1));
    let outcome = accepted
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect("throttling is waited out");
    assert!(matches!(outcome, WaitOutcome::Finished(_)));

    let failing = MockServer::start().await;
    let accepted = self::accepted(&failing).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&failing)
        .await;
    // A message that is never found: asked again (Whispir processes a 202
    // after answering it), and the 404 at the deadline.
    let err = accepted
        .wait(
            &mock_client(&failing.uri()),
            quick(Duration::from_millis(300)),
        )
        .await
        .expect_err("404");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_scheduled_message_comes_back_typed_and_has_nothing_to_follow() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "to": "1", "subject": "x", "messageType": "SCHEDULED"
        })))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let message: Message =
        serde_json::from_value(serde_json::json!({ "to": "1", "subject": "x" })).unwrap();
    let sent = client
        .message_create()
        .body(message)
        .send()
        .await
        .expect("200");
    assert_eq!(sent.scheduled().map(|m| m.subject.as_str()), Some("x"));
    assert_eq!(sent.message_id(), None);
    let err = sent
        .wait(&client, quick(Duration::from_millis(50)))
        .await
        .expect_err("nothing to follow");
    assert!(
        err.to_string()
            .contains("a scheduled message is sent later"),
        "{err}"
    );
}

fn summary(categories: &[(&str, i64)]) -> ResponseTemplate {
    let categories: Vec<_> = categories
        .iter()
        .map(|(name, n)| serde_json::json!({ "name": name, "recipientCount": n }))
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "messageStatuses": [{ "categories": categories }]
    }))
}

#[tokio::test]
async fn waiting_for_delivery_goes_on_while_recipients_are_only_sent() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    let status_path = || path("/workspaces/AB12/messages/CD34/messagestatus");
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(summary(&[("Pending", 0), ("Sent", 2), ("Received", 0)]))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(summary(&[
            ("Pending", 0),
            ("Sent", 0),
            ("Received", 1),
            ("Undeliverable", 1),
        ]))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let outcome = accepted
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect("polled");
    assert!(outcome.is_finished(), "{outcome:?}");
    let counts = outcome.counts();
    assert_eq!(
        (counts.received, counts.undeliverable, counts.sent),
        (1, 1, 0)
    );
    assert_eq!(counts.delivered(), 1);
    assert_eq!(
        counts.to_string(),
        "0 pending, 0 sent, 1 received, 0 acknowledged, 1 undeliverable"
    );
}

#[tokio::test]
async fn waiting_until_sent_stops_once_nobody_is_pending() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .respond_with(summary(&[("Pending", 0), ("Sent", 2)]))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let outcome = accepted
        .wait(
            &client,
            WaitOptions {
                until: WaitUntil::Sent,
                ..quick(Duration::from_secs(10))
            },
        )
        .await
        .expect("polled");
    assert!(outcome.is_finished());
    assert_eq!(outcome.counts().sent, 2);
    // The default waits for delivery: the same answers reach the deadline.
    let outcome = accepted
        .wait(&client, quick(Duration::from_millis(300)))
        .await
        .expect("polled");
    assert!(!outcome.is_finished());
    assert_eq!(outcome.counts().unfinished(), 2);
}

#[tokio::test]
async fn the_recipients_still_unfinished_are_named() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages/CD34/messagestatus"))
        .and(wiremock::matchers::query_param("view", "detailed"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "messageStatuses": [
                { "name": "61400000001", "info": "Received",
                  "status": [{ "destination": "61400000001", "status": "DELIVRD", "type": "SMS" }] },
                { "name": "61400000002", "info": "Sent",
                  "status": [{ "destination": "61400000002", "status": "SENT", "type": "SMS" }] },
                { "status": [{ "destination": "61400000003", "status": "PENDING", "type": "SMS" }] }
            ]
        })))
        .mount(&server)
        .await;
    let unfinished = accepted
        .unfinished_recipients(&mock_client(&server.uri()))
        .await
        .expect("listed");
    assert_eq!(unfinished, ["61400000002", "61400000003"]);
}

/// Sends `message` (JSON) through a mock that accepts it as `CD34`.
async fn accepted_message(server: &MockServer, message: serde_json::Value) -> Accepted {
    Mock::given(method("POST"))
        .and(path("/workspaces/AB12/messages"))
        .respond_with(
            ResponseTemplate::new(202).insert_header("location", "/workspaces/AB12/messages/CD34"),
        )
        .mount(server)
        .await;
    let message: Message = serde_json::from_value(message).unwrap();
    let sent = mock_client(&server.uri())
        .message_create()
        .workspace_id("AB12")
        .body(message)
        .send()
        .await
        .expect("202");
    sent.accepted().cloned().expect("a message Location")
}

#[tokio::test]
async fn an_email_is_done_at_sent_by_default_an_sms_waits_for_its_receipt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages/CD34/messagestatus"))
        .respond_with(summary(&[("Pending", 0), ("Sent", 2)]))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let email = accepted_message(
        &server,
        serde_json::json!({
            "to": "a@example.com", "subject": "Hi",
            "email": { "body": "Hello", "type": "text/plain" }
        }),
    )
    .await;
    assert_eq!(email.delivery_receipts(), Some(false));
    let outcome = email
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect("polled");
    assert!(
        outcome.is_finished(),
        "an email gives no receipt: Sent is its end"
    );
    let sms = accepted_message(
        &server,
        serde_json::json!({ "to": "61400000001", "subject": "Hi" }),
    )
    .await;
    assert_eq!(sms.delivery_receipts(), Some(true));
    let outcome = sms
        .wait(&client, quick(Duration::from_millis(300)))
        .await
        .expect("polled");
    assert!(
        !outcome.is_finished(),
        "an SMS waits for its delivery receipt"
    );
}

#[tokio::test]
async fn an_unknown_category_keeps_the_wait_going_until_the_deadline() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    Mock::given(method("GET"))
        .and(path("/workspaces/AB12/messages/CD34/messagestatus"))
        .respond_with(summary(&[("Received", 1), ("Queued", 1)]))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let outcome = accepted
        .wait(&client, quick(Duration::from_millis(300)))
        .await
        .expect("polled");
    assert!(
        !outcome.is_finished(),
        "an unknown category may not be final"
    );
    assert_eq!((outcome.counts().received, outcome.counts().other), (1, 1));
}

#[tokio::test]
async fn a_404_right_after_acceptance_is_asked_again_within_the_deadline() {
    let server = MockServer::start().await;
    let accepted = accepted(&server).await;
    let status_path = || path("/workspaces/AB12/messages/CD34/messagestatus");
    // Whispir processes the message after its 202: not found at first.
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(ResponseTemplate::new(404))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(summary(&[("Received", 1)]))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let outcome = accepted
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect("the 404s are asked again");
    assert!(outcome.is_finished());

    // Once a status was seen, a 404 is an answer: the wait ends with it.
    server.reset().await;
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(summary(&[("Pending", 1)]))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(status_path())
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let err = accepted
        .wait(&client, quick(Duration::from_secs(10)))
        .await
        .expect_err("a 404 after a status");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}
