#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use super::*;

const URL: &str = "https://api.example.test/workspaces/W1/messages/";

fn get(id: &str) -> reqwest::Request {
    reqwest::Request::new(Method::GET, format!("{URL}{id}").parse().unwrap())
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
    let key = ResponseCache::key(&get(id)).unwrap();
    let settled = cache
        .settle(&key, ok_with_etag(&format!("\"{id}\""), body))
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
    let key = ResponseCache::key(&get(id)).unwrap();
    cache.add_validators(&key, &mut get(id))
}

#[tokio::test]
async fn a_not_modified_answer_becomes_the_cached_one() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = keep(&cache, "A", r#"{"subject":"cached"}"#).await;
    let mut request = get("A");
    assert!(cache.add_validators(&key, &mut request));
    assert_eq!(request.headers()[IF_NONE_MATCH], "\"A\"");
    let settled = cache.settle(&key, not_modified()).await.unwrap();
    assert_eq!(body_of(settled).await, r#"{"subject":"cached"}"#);
}

#[tokio::test]
async fn only_get_requests_have_a_key() {
    let post = reqwest::Request::new(Method::POST, URL.parse().unwrap());
    assert_eq!(ResponseCache::key(&post), None);
    assert!(ResponseCache::key(&get("A")).is_some());
}

#[tokio::test]
async fn an_answer_marked_no_store_is_never_kept() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    for cache_control in ["no-store", "private, No-Store", "max-age=0 , no-store"] {
        let key = ResponseCache::key(&get("A")).unwrap();
        let response = answer(
            200,
            &[("etag", "\"A\""), ("cache-control", cache_control)],
            "{}",
        );
        let settled = cache.settle(&key, response).await.unwrap();
        assert_eq!(body_of(settled).await, "{}");
        assert!(!is_cached(&cache, "A"), "{cache_control}");
    }
    // `no-cache` only asks for revalidation, which every use does anyway.
    let key = ResponseCache::key(&get("B")).unwrap();
    let response = answer(
        200,
        &[("etag", "\"B\""), ("cache-control", "no-cache")],
        "{}",
    );
    cache.settle(&key, response).await.unwrap();
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
    cache.settle(&key, response).await.unwrap();
    assert!(!is_cached(&cache, "A"), "the old answer is stale");
}

#[tokio::test]
async fn the_cache_stays_within_its_byte_budget() {
    let body = "x".repeat(1_000);
    let one = entry_size(
        &ResponseCache::key(&get("A")).unwrap(),
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

#[tokio::test]
async fn an_answer_without_a_declared_length_is_not_kept() {
    let cache = cache(16, DEFAULT_CACHE_BYTES);
    let key = ResponseCache::key(&get("A")).unwrap();
    let mut response = ok_with_etag("\"A\"", "{}");
    response.headers_mut().remove(CONTENT_LENGTH);
    let settled = cache.settle(&key, response).await.unwrap();
    assert_eq!(body_of(settled).await, "{}");
    assert!(!is_cached(&cache, "A"));
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
    assert!(cache.add_validators(&key, &mut request));
    // Another call's answer takes the only place before the 304 arrives.
    keep(&cache, "B", "{}").await;
    match cache.settle(&key, not_modified()).await.unwrap() {
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
    let settled = cache.settle(&key, answer(503, &[], "busy")).await.unwrap();
    assert_eq!(body_of(settled).await, "busy");
    assert!(is_cached(&cache, "A"));
}
