#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use super::*;

const URL: &str = "https://api.example.test/workspaces/W1/messages/";

fn get(id: &str) -> reqwest::Request {
    reqwest::Request::new(reqwest::Method::GET, format!("{URL}{id}").parse().unwrap())
}

fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> reqwest::Response {
    let mut response = http::Response::new(reqwest::Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    for (name, value) in headers {
        response.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            value.parse().unwrap(),
        );
    }
    if status != 304 {
        response
            .headers_mut()
            .insert(CONTENT_LENGTH, body.len().into());
    }
    reqwest::Response::from(response)
}

fn ok_with_etag(etag: &str, body: &str) -> reqwest::Response {
    answer(200, &[("etag", etag)], body)
}

fn not_modified() -> reqwest::Response {
    answer(304, &[], "")
}

fn cache(entries: usize, max_bytes: usize) -> ResponseCache {
    ResponseCache::new(NonZeroUsize::new(entries).unwrap(), max_bytes)
}

async fn body_of(settled: Settled) -> String {
    match settled {
        Settled::Response(response) => response.text().await.unwrap(),
        Settled::RepeatWithoutValidators { .. } => panic!("asked for a repeat"),
    }
}

/// Caches an answer for `id` and returns its key.
async fn keep(cache: &ResponseCache, id: &str, body: &str) -> String {
    keep_tagged(cache, id, &format!("\"{id}\""), body).await
}

/// Caches an answer for `id` with the ETag `etag` and returns its key.
async fn keep_tagged(cache: &ResponseCache, id: &str, etag: &str, body: &str) -> String {
    let key = cache.key(&get(id), &[]);
    let settled = cache
        .settle(&key, ok_with_etag(etag, body), None)
        .await
        .unwrap();
    assert_eq!(
        body_of(settled).await,
        body,
        "a kept answer is handed on whole"
    );
    key
}

fn is_cached(cache: &ResponseCache, id: &str) -> bool {
    let key = cache.key(&get(id), &[]);
    cache.add_validators(&key, &mut get(id)).is_some()
}

#[tokio::test]
async fn a_not_modified_answer_becomes_the_cached_one() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = keep(&cache, "A", r#"{"subject":"cached"}"#).await;
    let mut request = get("A");
    let sent = cache.add_validators(&key, &mut request).unwrap();
    assert_eq!(request.headers()[IF_NONE_MATCH], "\"A\"");
    let settled = cache
        .settle(&key, not_modified(), Some(&sent))
        .await
        .unwrap();
    assert_eq!(body_of(settled).await, r#"{"subject":"cached"}"#);
}

#[tokio::test]
async fn a_not_modified_confirms_only_the_entry_whose_validators_were_sent() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = keep_tagged(&cache, "A", "\"v1\"", "first").await;
    let mut request = get("A");
    let sent = cache.add_validators(&key, &mut request).unwrap();
    // Another call's fresh answer replaces the entry before the 304 arrives.
    keep_tagged(&cache, "A", "\"v2\"", "second").await;
    match cache
        .settle(&key, not_modified(), Some(&sent))
        .await
        .unwrap()
    {
        Settled::RepeatWithoutValidators { .. } => {}
        Settled::Response(response) => panic!("handed on {:?}", response.text().await),
    }
    // Without validators sent, a 304 confirms nothing.
    assert!(matches!(
        cache.settle(&key, not_modified(), None).await.unwrap(),
        Settled::RepeatWithoutValidators { .. }
    ));
}

fn with_header(mut request: reqwest::Request, name: &'static str, value: &str) -> reqwest::Request {
    request
        .headers_mut()
        .insert(name, HeaderValue::from_str(value).unwrap());
    request
}

#[test]
fn the_key_holds_the_header_parameters_that_select_the_answer() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let params = ["eventType"];
    let a = cache.key(&with_header(get("E"), "eventType", "A"), &params);
    let b = cache.key(&with_header(get("E"), "eventType", "B"), &params);
    let none = cache.key(&get("E"), &params);
    let empty = cache.key(&with_header(get("E"), "eventType", ""), &params);
    assert_ne!(a, b);
    assert_ne!(none, empty);
    assert_ne!(a, none);
    // A header the operation does not document does not split the cache.
    assert_eq!(
        cache.key(&with_header(get("E"), "x-trace", "1"), &params),
        none
    );
}

#[test]
fn the_key_holds_the_identity_of_the_credentials_but_not_the_credentials() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let alice = with_header(get("A"), "authorization", "Basic YWxpY2U6c2VjcmV0");
    let bob = with_header(get("A"), "authorization", "Basic Ym9iOnNlY3JldA==");
    let alice_other_key = with_header(alice.try_clone().unwrap(), "x-api-key", "k2");
    let (a, b, c) = (
        cache.key(&alice, &[]),
        cache.key(&bob, &[]),
        cache.key(&alice_other_key, &[]),
    );
    assert_ne!(a, b);
    assert_ne!(a, c);
    assert_eq!(a, cache.key(&alice, &[]), "stable for one client");
    assert!(
        !a.contains("YWxpY2U6c2VjcmV0") && !c.contains("k2"),
        "{a} {c}"
    );
}

#[tokio::test]
async fn an_answer_marked_no_store_is_never_kept() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    for cache_control in ["no-store", "private, No-Store", "max-age=0 , no-store"] {
        let key = cache.key(&get("A"), &[]);
        let response = answer(
            200,
            &[("etag", "\"A\""), ("cache-control", cache_control)],
            "{}",
        );
        let settled = cache.settle(&key, response, None).await.unwrap();
        assert_eq!(body_of(settled).await, "{}");
        assert!(!is_cached(&cache, "A"), "{cache_control}");
    }
    // `no-cache` only asks for revalidation, which every use does anyway.
    let key = cache.key(&get("B"), &[]);
    let response = answer(
        200,
        &[("etag", "\"B\""), ("cache-control", "no-cache")],
        "{}",
    );
    cache.settle(&key, response, None).await.unwrap();
    assert!(is_cached(&cache, "B"));
}

#[tokio::test]
async fn a_fresh_answer_that_is_not_kept_replaces_the_cached_one() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = keep(&cache, "A", "old").await;
    let response = answer(
        200,
        &[("etag", "\"A2\""), ("cache-control", "no-store")],
        "new",
    );
    cache.settle(&key, response, None).await.unwrap();
    assert!(!is_cached(&cache, "A"), "the old answer is stale");
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_budget() {
    let body = "x".repeat(1_000);
    let one = entry_size(
        &cache(1, 1).key(&get("A"), &[]),
        ok_with_etag("\"A\"", &body).headers(),
        body.len(),
    );
    // Room for three answers, and entries for a hundred.
    let cache = cache(100, 3 * one + one / 2);
    for id in ["A", "B", "C", "D", "E"] {
        keep(&cache, id, &body).await;
        assert!(cache.stored().bytes <= 3 * one + one / 2);
    }
    assert_eq!(cache.stored().bytes, 3 * one);
    assert!(
        !is_cached(&cache, "A") && !is_cached(&cache, "B"),
        "oldest go first"
    );
    assert!(is_cached(&cache, "C") && is_cached(&cache, "D") && is_cached(&cache, "E"));
}

#[tokio::test]
async fn the_cache_stays_within_its_entry_count() {
    let cache = cache(2, DEFAULT_CACHE_BYTES);
    for id in ["A", "B", "C"] {
        keep(&cache, id, "{}").await;
    }
    assert!(!is_cached(&cache, "A"));
    assert!(is_cached(&cache, "B") && is_cached(&cache, "C"));
    let two = cache.stored().bytes;
    keep(&cache, "D", "{}").await;
    assert_eq!(
        cache.stored().bytes,
        two,
        "an evicted entry's bytes are freed"
    );
}

#[tokio::test]
async fn an_answer_larger_than_the_whole_budget_is_not_kept() {
    let cache = cache(16, 500);
    keep(&cache, "A", "small").await;
    let big = "x".repeat(1_000);
    keep(&cache, "B", &big).await;
    assert!(!is_cached(&cache, "B"));
    assert!(is_cached(&cache, "A"), "a refused answer evicts nothing");
}

/// A 200 with an ETag whose body arrives in `chunks`, without a length.
fn streamed(etag: &str, chunks: Vec<String>) -> reqwest::Response {
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let mut response = http::Response::new(reqwest::Body::wrap_stream(stream));
    response
        .headers_mut()
        .insert(ETAG, HeaderValue::from_str(etag).unwrap());
    reqwest::Response::from(response)
}

#[tokio::test]
async fn an_answer_without_a_declared_length_is_kept_when_it_fits() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = cache.key(&get("A"), &[]);
    let response = streamed("\"A\"", vec!["{\"a\":".into(), "1}".into()]);
    assert_eq!(response.content_length(), None);
    let settled = cache.settle(&key, response, None).await.unwrap();
    assert_eq!(body_of(settled).await, "{\"a\":1}");
    assert!(is_cached(&cache, "A"));
}

#[tokio::test]
async fn an_answer_without_a_declared_length_too_long_to_keep_is_handed_on_whole() {
    let cache = cache(16, 2_000);
    let key = cache.key(&get("A"), &[]);
    let chunks: Vec<String> = (0..10).map(|n| n.to_string().repeat(500)).collect();
    let whole: String = chunks.concat();
    let settled = cache
        .settle(&key, streamed("\"A\"", chunks), None)
        .await
        .unwrap();
    assert_eq!(body_of(settled).await, whole);
    assert!(!is_cached(&cache, "A"));
    assert_eq!(cache.stored().bytes, 0);
}

#[tokio::test]
async fn a_not_modified_for_an_evicted_answer_asks_for_a_repeat_without_validators() {
    let cache = cache(1, DEFAULT_CACHE_BYTES);
    let key = keep(&cache, "A", "{}").await;
    let mut request = get("A");
    request.headers_mut().insert(
        LAST_MODIFIED,
        "Wed, 25 Nov 2026 10:00:00 GMT".parse().unwrap(),
    );
    let sent = cache.add_validators(&key, &mut request).unwrap();
    // Another call's answer takes the only place before the 304 arrives.
    keep(&cache, "B", "{}").await;
    match cache
        .settle(&key, not_modified(), Some(&sent))
        .await
        .unwrap()
    {
        Settled::RepeatWithoutValidators { not_modified } => {
            assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED)
        }
        Settled::Response(response) => panic!("handed on {}", response.status()),
    }
    ResponseCache::remove_validators(&mut request);
    assert!(!request.headers().contains_key(IF_NONE_MATCH));
    assert!(!request.headers().contains_key(IF_MODIFIED_SINCE));
}

#[tokio::test]
async fn an_error_answer_leaves_the_cached_one_alone() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = keep(&cache, "A", "{}").await;
    let settled = cache
        .settle(&key, answer(503, &[], "busy"), None)
        .await
        .unwrap();
    assert_eq!(body_of(settled).await, "busy");
    assert!(is_cached(&cache, "A"));
}
