use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::receiver::{BodyFormat, parse_body};

fn reply() -> Callback {
    let body = br#"{"messageid":"M1","from":{"mobile":"+61400000001"},"responseMessage":{"channel":"SMS","acknowledged":"01/02/24 10:00","content":"Y"}}"#;
    parse_body(BodyFormat::Json, body).expect("parses")
}

fn store() -> DedupStore {
    Deduplicator::new(10, DEFAULT_REMEMBER_DONE).into()
}

#[tokio::test]
async fn act_once_calls_the_handler_once_and_answers_the_retry_200() {
    let store = store();
    let calls = AtomicUsize::new(0);
    let handler = |_| async {
        calls.fetch_add(1, Ordering::SeqCst);
        Ok::<(), &str>(())
    };
    let first = store.act_once(reply(), handler).await;
    assert!(matches!(first, Outcome::Acted));
    assert_eq!(first.status(), StatusCode::OK);
    let retry = store.act_once(reply(), handler).await;
    assert!(matches!(retry, Outcome::AlreadyDone));
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_failed_handler_is_answered_500_and_its_retry_is_acted_on() {
    let store = store();
    let failed = store
        .act_once(reply(), |_| async { Err("the database is down") })
        .await;
    assert!(matches!(failed, Outcome::Failed("the database is down")));
    assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let retry = store
        .act_once(reply(), |_| async { Ok::<(), &str>(()) })
        .await;
    assert!(matches!(retry, Outcome::Acted), "{retry:?}");
}

#[tokio::test]
async fn a_delivery_while_another_is_handled_is_answered_503_with_retry_after() {
    let store = store();
    let Ok(Claim::Claimed(_held)) = store.claim(&reply()).await else {
        panic!("the first delivery claims the event");
    };
    let second = store
        .act_once(reply(), |_| async {
            panic!("the handler must not run while another delivery holds the event");
            #[allow(unreachable_code)]
            Ok::<(), &str>(())
        })
        .await;
    assert!(matches!(second, Outcome::InProgress { .. }), "{second:?}");
    let response = second.to_response();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "120");
}

#[test]
fn a_refusal_for_an_unavailable_store_is_503() {
    let refused: Outcome<()> = Outcome::Refused(StoreUnavailable::new("connection refused"));
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.to_response().headers()[header::RETRY_AFTER], "1");
    assert_eq!(Outcome::<()>::ActedWithoutDedup.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_handler_that_outlasts_its_lease_keeps_the_event_from_a_retry() {
    let store: DedupStore = Deduplicator::new(10, DEFAULT_REMEMBER_DONE)
        .lease(Duration::from_millis(100))
        .into();
    let calls = AtomicUsize::new(0);
    let slow = store.act_once(reply(), |_| async {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok::<(), &str>(())
    });
    let retry = async {
        tokio::time::sleep(Duration::from_millis(250)).await;
        store
            .act_once(reply(), |_| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Ok::<(), &str>(())
            })
            .await
    };
    let (first, second) = tokio::join!(slow, retry);
    assert!(matches!(first, Outcome::Acted), "{first:?}");
    assert!(matches!(second, Outcome::InProgress { .. }), "{second:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1, "acted on once");
}
