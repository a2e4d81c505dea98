//! Success answers whose body does not arrive whole (a declared
//! `Content-Length` longer than what comes, as Prism sends for the
//! reference's examples). An operation that documents no body succeeds, the
//! API having acted, and says so on the response; one whose answer is
//! decoded fails saying the request was carried out. Either way the broken
//! connection is not used again.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;
use whispir_tests::{fast_retries, mock_builder};

/// How the first answer's body ends.
#[derive(Clone, Copy)]
enum Cut {
    /// Four bytes of 4111 declared, then the connection closes.
    Closed,
    /// Four bytes of 4111 declared, then nothing more.
    Stalled,
}

/// A server whose first answer is a `status` with a body cut as `cut`,
/// and whose later answers are whole (`204`, or `{}` for a status with a
/// body); it counts the connections it accepts.
async fn cutting_server(status: &'static str, cut: Cut) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            let answered = answered.clone();
            tokio::spawn(async move {
                let mut request = [0u8; 8192];
                while socket.read(&mut request).await.is_ok_and(|n| n > 0) {
                    if answered.fetch_add(1, Ordering::SeqCst) == 0 {
                        let head = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 4111\r\n\r\n{{\"a\""
                        );
                        let _ = socket.write_all(head.as_bytes()).await;
                        match cut {
                            Cut::Closed => return,
                            Cut::Stalled => {
                                tokio::time::sleep(Duration::from_secs(30)).await;
                                return;
                            }
                        }
                    }
                    let whole = if status.starts_with("204") {
                        "HTTP/1.1 204 No Content\r\n\r\n".to_string()
                    } else {
                        format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{{}}"
                        )
                    };
                    if socket.write_all(whole.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{address}"), connections)
}

fn client(uri: &str) -> whispir::Client {
    mock_builder(uri, fast_retries(1))
        .attempt_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_delete_whose_body_breaks_off_succeeds_and_says_so() {
    let (uri, connections) = cutting_server("200 OK", Cut::Closed).await;
    let client = client(&uri);
    let deleted = client
        .callback_delete()
        .callback_id("CB1")
        .send()
        .await
        .expect("the API deleted the callback");
    assert!(deleted.body_incomplete());
    let again = client
        .callback_delete()
        .callback_id("CB2")
        .send()
        .await
        .expect("a whole answer");
    assert!(!again.body_incomplete());
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_scenario_run_whose_body_stalls_succeeds_and_its_connection_is_dropped() {
    let (uri, connections) = cutting_server("202 Accepted", Cut::Stalled).await;
    let client = client(&uri);
    let run = client
        .scenario_run_create()
        .scenario_id("AB12")
        .send()
        .await
        .expect("the API accepted the run");
    assert!(run.body_incomplete());
    // The stalled connection still holds the rest of the first answer: the
    // next call must not read it as its own.
    let again = client
        .scenario_run_create()
        .scenario_id("AB12")
        .send()
        .await
        .expect("a whole answer");
    assert!(!again.body_incomplete());
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

/// A server that declares a body it never sends (as Prism does with the
/// reference's `Content-Length`) does not hold an operation that uses no
/// body to the end of its budget: the body gets a short grace.
#[tokio::test]
async fn a_stalled_body_nothing_needs_does_not_hold_the_call_to_its_budget() {
    let (uri, _) = cutting_server("202 Accepted", Cut::Stalled).await;
    let client = mock_builder(&uri, fast_retries(1))
        .attempt_timeout(Duration::from_secs(60))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let run = tokio::time::timeout(
        Duration::from_secs(20),
        client.scenario_run_create().scenario_id("AB12").send(),
    )
    .await
    .expect("the call ends long before its 60 s budget")
    .expect("the API accepted the run");
    assert!(run.body_incomplete());
}

/// A message accepted for sending (202) is not held to the call's budget
/// by a body that never arrives: its `Location` is what matters.
#[tokio::test]
async fn an_accepted_message_whose_body_stalls_is_sent_without_waiting_for_it() {
    let (uri, _) = cutting_server("202 Accepted", Cut::Stalled).await;
    let client = mock_builder(&uri, fast_retries(1))
        .attempt_timeout(Duration::from_secs(60))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let sent = tokio::time::timeout(
        Duration::from_secs(20),
        client
            .message_create()
            .body(whispir::types::Message::sms("61400000001", "Hi"))
            .send(),
    )
    .await
    .expect("the call ends long before its 60 s budget");
    assert!(sent.is_ok(), "the API accepted the message: {sent:?}");
}

#[tokio::test]
async fn a_read_whose_body_breaks_off_fails_and_may_be_sent_again() {
    let (uri, connections) = cutting_server("200 OK", Cut::Closed).await;
    let client = client(&uri);
    let err = client
        .callback_retrieve()
        .callback_id("CB1")
        .send()
        .await
        .expect_err("the callback cannot be read from a broken body");
    assert!(err.is_body_incomplete(), "{err:#}");
    assert!(err.is_decode(), "{err:#}");
    assert!(
        err.remedy()
            .is_some_and(|remedy| remedy.contains("the read can be sent again")),
        "{err:#}"
    );
    client
        .callback_retrieve()
        .callback_id("CB1")
        .send()
        .await
        .expect_err("`{}` is not a callback, but it arrived whole");
    assert_eq!(connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_create_whose_answer_breaks_off_says_the_resource_exists() {
    let (uri, _) = cutting_server("201 Created", Cut::Closed).await;
    let client = client(&uri);
    let contact = whispir::types::Contact::builder()
        .first_name("Ivy")
        .last_name("Stone")
        .work_mobile_phone1("61400000050")
        .work_email_address1("ivy.stone@example.com")
        .work_country("Australia")
        .timezone("Australia/Melbourne");
    let err = client
        .contact_create()
        .body(contact)
        .send()
        .await
        .expect_err("the answer is needed and broke off");
    assert!(err.is_body_incomplete(), "{err:#}");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!("201-body-incomplete", format!("{err:#}")));
}

#[tokio::test]
async fn an_idempotent_write_whose_answer_breaks_off_may_be_sent_again() {
    let (uri, _) = cutting_server("200 OK", Cut::Closed).await;
    let client = client(&uri);
    let resource: whispir::types::Resource = serde_json::from_value(serde_json::json!({
        "derefUri": "aGk=", "mimeType": "text/plain", "name": "hi.txt", "scope": "private"
    }))
    .unwrap();
    let err = client
        .resource_update()
        .workspace_id("AB12")
        .resource_id("R1")
        .body(resource)
        .send()
        .await
        .expect_err("the answer is decoded and broke off");
    assert!(err.is_body_incomplete(), "{err:#}");
    let remedy = err.remedy().unwrap();
    assert!(!remedy.contains("do not send it again"), "{remedy}");
    assert!(remedy.contains("may be sent again"), "{remedy}");
}
