//! Arguments checked when they are set, and explained in plain words: an
//! out-of-range `limit` or an unknown `sort_order` never reaches the wire,
//! and a `limit` set before `.stream()` is the page size.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::ListStream as _;
use whispir::types::MessageListSortOrder;
use whispir_tests::mock_client;
use wiremock::matchers::{any, method, path, query_param};
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

/// A page of `count` messages from `first`, linking to a next page.
fn page(first: usize, count: usize) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = (first..first + count)
        .map(|i| serde_json::json!({ "to": "61400000001", "subject": format!("message {i}") }))
        .collect();
    serde_json::json!({
        "messages": messages,
        "link": [ { "rel": "next", "uri": "https://api.au.whispir.com/messages?offset=x" } ],
    })
}

#[tokio::test]
async fn a_limit_above_the_largest_page_is_refused_in_the_setter_naming_the_range() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .message_list()
        .limit(50)
        .send()
        .await
        .expect_err("50 is above the spec's maximum of 20");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        err.to_string()
            .contains("limit must be a whole number from 1 to 20"),
        "{err}"
    );
}

#[tokio::test]
async fn a_limit_of_zero_is_explained_without_a_rust_path() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .message_list()
        .limit(0)
        .send()
        .await
        .expect_err("0 is below the spec's minimum of 1");
    let text = err.to_string();
    assert!(
        text.contains("limit must be a whole number from 1 to 20"),
        "{text}"
    );
    assert!(!text.contains("::") && !text.contains("NonZero"), "{text}");
}

#[tokio::test]
async fn an_unknown_sort_order_lists_the_values_the_api_takes() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .message_list()
        .sort_order("descending")
        .send()
        .await
        .expect_err("not a sort order");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        err.to_string()
            .contains("sort_order must be one of: asc, desc"),
        "{err}"
    );
}

#[tokio::test]
async fn sort_order_still_takes_the_enum_or_its_wire_name() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .and(query_param("sortOrder", "desc"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .expect(2)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    client
        .message_list()
        .sort_order("desc")
        .send()
        .await
        .expect("the wire name");
    client
        .message_list()
        .sort_order(MessageListSortOrder::Desc)
        .send()
        .await
        .expect("the enum");
}

#[tokio::test]
async fn a_limit_set_before_stream_is_the_page_size_and_max_items_stops_the_stream() {
    let server = MockServer::start().await;
    for offset in [0, 5] {
        Mock::given(method("GET"))
            .and(path("/messages"))
            .and(query_param("limit", "5"))
            .and(query_param("offset", offset.to_string()))
            .respond_with(ResponseTemplate::new(200).set_body_json(page(offset, 5)))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = mock_client(&server.uri());
    let messages = client
        .message_list()
        .limit(5)
        .stream()
        .max_items(8)
        .try_collect()
        .await
        .expect("two pages of five, eight read");
    let subjects: Vec<_> = messages.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects.len(), 8);
    assert_eq!(subjects.last(), Some(&"message 7"));
    // Dropping the server checks that no third page was asked for.
}

#[tokio::test]
async fn a_limit_above_the_largest_page_ends_a_stream_before_anything_is_sent() {
    let server = nothing_may_be_sent().await;
    let client = mock_client(&server.uri());
    let err = client
        .message_list()
        .limit(21)
        .stream()
        .try_collect()
        .await
        .expect_err("21 is above the maximum");
    assert!(
        err.to_string()
            .contains("limit must be a whole number from 1 to 20"),
        "{err}"
    );
}
