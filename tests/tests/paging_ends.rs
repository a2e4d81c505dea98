//! A list stream always ends: against a server that ignores `offset`, one
//! whose pages link past the total they state, and a list longer than the
//! stream's page cap, it stops with a typed error after the items it could
//! trust, instead of asking forever. It starts where the request says:
//! its own `limit` and `offset` are used, never replaced. The errors' text
//! is snapshotted with the other errors users see.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use futures::StreamExt as _;
use whispir::{Items, ListStream as _, Refusal};
use whispir_tests::mock_client;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// A message page of `count` messages from `first`, with a `next` link,
/// stating a total of `total`.
fn page(first: u32, count: u32, total: u32) -> serde_json::Value {
    let mut page = last_page(first, count, total);
    page["link"].as_array_mut().expect("links").push(
        serde_json::json!({ "rel": "next", "uri": "https://api.au.whispir.com/messages?offset=x" }),
    );
    page
}

/// Like [`page`], without a `next` link.
fn last_page(first: u32, count: u32, total: u32) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = (first..first + count)
        .map(|i| serde_json::json!({ "to": "61400000001", "subject": format!("message {i}") }))
        .collect();
    serde_json::json!({
        "messages": messages,
        "link": [{ "rel": "self", "uri": "https://api.au.whispir.com/messages" }],
        "status": format!("{} to {} of {total}", first + 1, first + count),
    })
}

/// Answers every request with the page its `offset` asks for, always
/// linking to a next one.
struct EndlessList {
    total: u32,
}

impl Respond for EndlessList {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let offset = request
            .url
            .query_pairs()
            .find(|(name, _)| name == "offset")
            .and_then(|(_, value)| value.parse().ok())
            .unwrap_or(0);
        ResponseTemplate::new(200).set_body_json(page(offset, 20, self.total))
    }
}

/// What a stream yields, read to its end or to 500 results at most (an
/// endless stream shows as 500 items without an error).
async fn read(items: Items<'_, whispir::types::Message>) -> (usize, Option<whispir::Error>) {
    let results: Vec<_> = items.take(500).collect().await;
    let count = results.iter().filter(|result| result.is_ok()).count();
    let error = results.into_iter().find_map(Result::err);
    (count, error)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.expect("recorded").len()
}

fn shown(err: &whispir::Error) -> String {
    format!("display: {err}\n\nalternate:\n{err:#}\n")
}

/// Snapshots what users see of `err`, with the other errors.
fn snapshot(name: &str, err: &whispir::Error) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots/errors");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name.to_string(), shown(err)));
}

#[tokio::test]
async fn a_server_that_ignores_the_offset_ends_the_stream_as_page_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(0, 20, 400)))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().stream()).await;
    assert_eq!(count, 20, "the first page, not its repeats");
    let err = error.expect("an error, not an endless stream");
    assert_eq!(err.refusal(), Some(&Refusal::PageRepeated { offset: 20 }));
    assert!(!err.is_retryable());
    assert_eq!(requests(&server).await, 2);
    snapshot("paging-page-repeated", &err);
}

#[tokio::test]
async fn a_next_link_past_the_stated_total_ends_the_stream_as_past_stated_total() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(EndlessList { total: 40 })
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().stream()).await;
    assert_eq!(count, 40, "every item the API said the list holds");
    let err = error.expect("an error, not a page past the total");
    assert_eq!(
        err.refusal(),
        Some(&Refusal::PastStatedTotal {
            offset: 40,
            total: 40
        })
    );
    assert_eq!(requests(&server).await, 2);
    snapshot("paging-past-stated-total", &err);
}

#[tokio::test]
async fn a_list_longer_than_the_page_cap_ends_the_stream_as_page_cap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(EndlessList { total: 1_000_000 })
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().stream().max_pages(3)).await;
    assert_eq!(count, 60);
    let err = error.expect("an error at the cap");
    assert_eq!(err.refusal(), Some(&Refusal::PageCap { max_pages: 3 }));
    assert_eq!(requests(&server).await, 3);
    snapshot("paging-page-cap", &err);
}

#[tokio::test]
async fn a_page_size_the_api_does_not_serve_is_an_error_not_a_clamp() {
    let server = MockServer::start().await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().stream_pages_of(50)).await;
    assert_eq!(count, 0);
    let err = error.expect("an error naming the size");
    assert!(err.is_invalid_request(), "{err:?}");
    assert_eq!(requests(&server).await, 0, "nothing was sent");
    snapshot("paging-page-size", &err);
}

#[tokio::test]
async fn a_stream_starts_at_the_requests_own_offset_in_pages_of_its_limit() {
    let server = MockServer::start().await;
    for (offset, body) in [("40", page(40, 5, 47)), ("45", last_page(45, 2, 47))] {
        Mock::given(method("GET"))
            .and(path("/messages"))
            .and(query_param("limit", "5"))
            .and(query_param("offset", offset))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = mock_client(&server.uri());
    let messages = client
        .message_list()
        .limit(5)
        .offset(40)
        .stream()
        .try_collect()
        .await
        .expect("two pages");
    let subjects: Vec<&str> = messages.iter().map(|m| m.subject.as_str()).collect();
    assert_eq!(subjects.first(), Some(&"message 40"));
    assert_eq!(subjects.len(), 7);
}

#[tokio::test]
async fn a_requested_limit_the_api_does_not_serve_is_an_error_not_a_smaller_page() {
    let server = MockServer::start().await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().limit(50).stream()).await;
    assert_eq!(count, 0);
    let err = error.expect("an error naming the range");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(
        err.to_string()
            .contains("limit must be a whole number from 1 to 20"),
        "{err}"
    );
    assert_eq!(requests(&server).await, 0, "nothing was sent");
}

#[tokio::test]
async fn a_refused_offset_is_the_streams_error_not_offset_zero() {
    let server = MockServer::start().await;
    let client = mock_client(&server.uri());
    let (count, error) = read(client.message_list().offset(-1_i64).stream()).await;
    assert_eq!(count, 0);
    let err = error.expect("the setter's error");
    assert!(err.is_invalid_request(), "{err:?}");
    assert!(err.to_string().contains("offset"), "{err}");
    assert_eq!(requests(&server).await, 0, "nothing was sent");
}
