//! The message list as Whispir documents it, through the SDK: newest
//! first, the last 7 days unless the date criteria name a range, the API
//! user's messages unless `viewType=shared`, and an accepted message only
//! once it was processed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use chrono::Utc;
use whispir::types::{Message, MessageListSortOrder, MessageListViewType};
use whispir::{ListStream as _, SentBetween};
use whispir_sandbox::{DEMO_WORKSPACE_ID, Sandbox};

async fn send(sandbox: &Sandbox, label: &str) {
    sandbox
        .client()
        .message_create()
        .body(Message::sms("61400000001", "Hello").label(label))
        .send()
        .await
        .unwrap();
}

async fn labels(request: whispir::builder::MessageList<'_>) -> Vec<String> {
    let mut items = request.stream();
    let mut labels = Vec::new();
    while let Some(message) = items.try_next().await.unwrap() {
        // The demo messages have no label.
        if let Some(label) = message.label {
            labels.push(label);
        }
    }
    labels
}

#[tokio::test]
async fn the_list_is_newest_first_unless_asked_otherwise() {
    let sandbox = Sandbox::start().await.unwrap();
    for label in ["one", "two", "three"] {
        send(&sandbox, label).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let client = sandbox.client();
    assert_eq!(labels(client.message_list()).await, ["three", "two", "one"]);
    assert_eq!(
        labels(client.message_list().sort_order(MessageListSortOrder::Asc)).await,
        ["one", "two", "three"]
    );
    // Paging keeps the order: the first page of two holds the newest two.
    let page = client
        .message_list()
        .limit(2)
        .send()
        .await
        .unwrap()
        .into_inner();
    let first: Vec<_> = page
        .messages
        .iter()
        .map(|m| m.label.clone().unwrap_or_default())
        .collect();
    assert_eq!(first, ["three", "two"]);
}

#[tokio::test]
async fn eight_days_later_only_the_date_criteria_find_a_message() {
    let sandbox = Sandbox::start().await.unwrap();
    let sent_at = Utc::now();
    send(&sandbox, "old").await;
    let client = sandbox.client();
    assert_eq!(labels(client.message_list()).await, ["old"]);
    sandbox.advance_clock(Duration::from_secs(8 * 24 * 3600));
    assert!(
        labels(client.message_list()).await.is_empty(),
        "7-day window"
    );
    let range = SentBetween::new(sent_at - chrono::Duration::minutes(1), Utc::now()).unwrap();
    assert_eq!(
        labels(client.message_list().sent_between(range)).await,
        ["old"]
    );
    // A range that ends before the message does not list it.
    let before = SentBetween::new(
        sent_at - chrono::Duration::days(5),
        sent_at - chrono::Duration::days(3),
    )
    .unwrap();
    assert!(
        labels(client.message_list().sent_between(before))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn a_date_search_without_all_four_criteria_is_refused_naming_the_missing() {
    let sandbox = Sandbox::start().await.unwrap();
    let err = sandbox
        .client()
        .message_list()
        .criteria_from_date("01/03/2026")
        .criteria_from_time("00:00")
        .send()
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("criteriaToDate") && text.contains("criteriaToTime"),
        "{text}"
    );
    // Each parameter is schema-valid alone: the refusal is a 422, not a 400.
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422));
}

#[tokio::test]
async fn empty_date_criteria_count_as_left_out_and_a_non_date_is_a_422() {
    let sandbox = Sandbox::start().await.unwrap();
    send(&sandbox, "recent").await;
    let listed = labels(
        sandbox
            .client()
            .message_list()
            .criteria_from_date("")
            .criteria_from_time("")
            .criteria_to_date("")
            .criteria_to_time(""),
    )
    .await;
    assert_eq!(listed, ["recent"]);
    let err = sandbox
        .client()
        .message_list()
        .criteria_from_date("yesterday")
        .criteria_from_time("00:00")
        .criteria_to_date("01/03/2026")
        .criteria_to_time("00:00")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(422), "{err}");
}

#[tokio::test]
async fn an_accepted_message_is_listed_once_its_processing_delay_has_passed() {
    let sandbox = Sandbox::builder()
        .processing_delay(Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    send(&sandbox, "slow").await;
    let client = sandbox.client();
    assert!(labels(client.message_list()).await.is_empty());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(labels(client.message_list()).await, ["slow"]);
}

#[tokio::test]
async fn another_users_message_is_listed_only_in_the_shared_view() {
    let dir = std::env::temp_dir().join(format!("message-list-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.json");
    let now = Utc::now().timestamp_millis();
    std::fs::write(
        &path,
        serde_json::json!({"workspaces": [{"id": "FEED", "messages": [
            {"to": "61400000001", "subject": "s", "label": "theirs", "createdTime": now, "sentByAnotherUser": true},
            {"to": "61400000001", "subject": "s", "label": "mine", "createdTime": now - 1000}
        ]}]})
        .to_string(),
    )
    .unwrap();
    let sandbox = Sandbox::builder()
        .empty(true)
        .data_file(&path)
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    assert_eq!(labels(client.message_list()).await, ["mine"]);
    assert_eq!(
        labels(client.message_list().view_type(MessageListViewType::Shared)).await,
        ["theirs", "mine"]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_demo_messages_are_in_the_default_window() {
    let sandbox = Sandbox::start().await.unwrap();
    let listed = sandbox
        .client()
        .message_list()
        .workspace_id(DEMO_WORKSPACE_ID)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.messages.len(), 3);
}
