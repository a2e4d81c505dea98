//! Adversarial probes of issue 19: a hostile server, a wrong argument, a
//! second task racing the first. Tests marked `// Found by review, fixed:` expose a defect and
//! fail today; the others pin behaviour that must not regress.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use futures::StreamExt as _;
use whispir::location::MIN_POLL_INTERVAL;
use whispir::{
    Accepted, ListStream as _, Plan, RedirectRefusal, Refusal, WaitOptions, WaitOutcome,
};
use whispir_tests::{expect_error, fast_retries, mock_builder, mock_client, mock_client_with};
use wiremock::matchers::{any, header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn redirect(status: u16, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", to)
}

fn message(subject: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(serde_json::json!({ "to": "61400000001", "subject": subject }))
}

async fn answer_everything_else(server: &MockServer) {
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .with_priority(u8::MAX)
        .mount(server)
        .await;
}

async fn received(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap()
}

fn subject_of(
    result: Result<whispir::Response<whispir::types::Message>, whispir::Error>,
) -> String {
    result.unwrap().into_inner().subject
}

/// `host:port` of a mock server, for hand-written `Location` values.
fn authority(server: &MockServer) -> String {
    server.address().to_string()
}

// ---------------------------------------------------------------------------
// Redirect memory
// ---------------------------------------------------------------------------

// Found by review, fixed: [high] the redirect memory ignores the operation's effect. A 301
// answered to a *read* (`GET /contacts/CD` → `/contacts`, the very move of
// the issue's measured case) is remembered for the URL, and a later
// `contactDelete` of the same URL is rewritten to `DELETE /contacts`,
// although a DELETE answered 301 itself is never sent on
// (`SendNotRepeated`). `execute.rs:179` calls `policy.redirects.rewrite`
// for every effect; `redirect.rs:117` `rewrite` takes no effect, and
// `remember` (`redirect.rs:93`, called at `redirect.rs:283` for reads too)
// keys on the URL without query, never the method or effect.
#[tokio::test]
async fn a_move_learnt_from_a_read_never_redirects_a_delete() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/contacts/CD"))
        .respond_with(redirect(301, "/contacts"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_client_with(&server.uri(), fast_retries(1));
    // Whatever the read decodes to, the move is now remembered.
    let _ = client.contact_retrieve().contact_id("CD").send().await;
    let _ = client.contact_delete().contact_id("CD").send().await;
    let deletes: Vec<String> = received(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "DELETE")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        deletes,
        ["/contacts/CD"],
        "the DELETE went where a GET's 301 pointed"
    );
}

// Found by review, fixed: [high, same cause] a 301 answered to `scenarioRetrieve`
// (GET /scenarios/CD → /scenarios/EF) steers the next `scenarioRunCreate`
// (POST /scenarios/CD, which runs the scenario and sends its messages): the
// SDK runs scenario EF, which the caller never named. `messageList` →
// `messageCreate` (both `/messages`) share the flaw.
#[tokio::test]
async fn a_move_learnt_from_a_read_never_redirects_a_send() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/scenarios/CD"))
        .respond_with(redirect(301, "/scenarios/EF"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_client_with(&server.uri(), fast_retries(1));
    let _ = client.scenario_retrieve().scenario_id("CD").send().await;
    let _ = client.scenario_run_create().scenario_id("CD").send().await;
    let posts: Vec<String> = received(&server)
        .await
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(
        posts,
        ["/scenarios/CD"],
        "scenario EF was run instead of CD"
    );
}

/// A remembered 301 whose new place answers a 308 back: every call ends
/// in a bounded number of requests, and the memory does not send calls
/// round in circles.
#[tokio::test]
async fn a_remembered_move_then_a_308_back_ends_each_call_quickly() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(301, "/messages/CD"))
        .mount(&server)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(message("moved"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(redirect(308, "/messages/AB"))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let read = || client.message_retrieve().message_id("AB").send();
    assert_eq!(subject_of(read().await), "moved");
    for call in 0..4 {
        let before = received(&server).await.len();
        let err = expect_error(read().await);
        let sent = received(&server).await.len() - before;
        assert!(
            matches!(
                err.refusal(),
                Some(Refusal::Redirect {
                    reason: RedirectRefusal::Loop,
                    ..
                })
            ),
            "call {call}: {err:#}"
        );
        assert!(sent <= 3, "call {call}: {sent} requests");
    }
}

// ---------------------------------------------------------------------------
// Redirects of writes and reads
// ---------------------------------------------------------------------------

/// A send answered 307 (not carried out) and then, at the new place, 303
/// (carried out): sent twice, carried out once, and the call says so with
/// the 303's `Location`.
#[tokio::test]
async fn a_send_answered_307_then_303_is_carried_out_once_and_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/scenarios/CD"))
        .respond_with(redirect(307, "/v2/scenarios/CD"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/scenarios/CD"))
        .respond_with(redirect(303, "/v2/scenarios/CD/runs/1"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_client_with(&server.uri(), fast_retries(3));
    let err = expect_error(client.scenario_run_create().scenario_id("CD").send().await);
    let paths: Vec<String> = received(&server)
        .await
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(paths, ["POST /scenarios/CD", "POST /v2/scenarios/CD"]);
    match err.refusal() {
        Some(Refusal::Redirect {
            reason: RedirectRefusal::CarriedOut { location },
            ..
        }) => assert_eq!(
            location.as_deref(),
            Some(format!("{}/v2/scenarios/CD/runs/1", server.uri()).as_str())
        ),
        other => panic!("{other:?}: {err:#}"),
    }
    assert!(err.may_have_been_processed() && !err.is_retryable());
}

/// A read sent to another origin that redirects back to the API: the
/// credentials are not put back on the way back, and the answer stays
/// foreign (not cached, not remembered).
#[tokio::test]
async fn a_read_that_comes_back_from_another_origin_stays_foreign() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, &format!("{}/bounce", elsewhere.uri())))
        .mount(&api)
        .await;
    Mock::given(path("/bounce"))
        .respond_with(redirect(301, &format!("{}/messages/CD", api.uri())))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(message("back").insert_header("etag", "\"CD\""))
        .mount(&api)
        .await;
    let client = mock_builder(&api.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            subject_of(client.message_retrieve().message_id("AB").send().await),
            "back"
        );
    }
    let api_requests = received(&api).await;
    let paths: Vec<&str> = api_requests.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/messages/AB",
            "/messages/CD",
            "/messages/AB",
            "/messages/CD"
        ],
        "the foreign 301 was not remembered"
    );
    for back in api_requests
        .iter()
        .filter(|r| r.url.path() == "/messages/CD")
    {
        assert!(!back.headers.contains_key("authorization"));
        assert!(!back.headers.contains_key("x-api-key"));
        assert!(
            !back.headers.contains_key("if-none-match"),
            "the foreign answer was never cached"
        );
    }
}

/// A cached read redirected to another origin that answers 304: the
/// validators never travel there, and a foreign 304 never turns into the
/// cached answer.
#[tokio::test]
async fn a_foreign_not_modified_never_confirms_the_cache() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(message("cached").insert_header("etag", "\"v1\""))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&api)
        .await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, &format!("{}/messages/AB", elsewhere.uri())))
        .with_priority(2)
        .mount(&api)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(304).insert_header("etag", "\"v1\""))
        .mount(&elsewhere)
        .await;
    let client = mock_builder(&api.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    assert_eq!(
        subject_of(client.message_retrieve().message_id("AB").send().await),
        "cached"
    );
    let second = client.message_retrieve().message_id("AB").send().await;
    assert!(
        second.is_err(),
        "a foreign 304 handed on the cached answer: {second:?}"
    );
    let foreign = received(&elsewhere).await;
    assert_eq!(foreign.len(), 1);
    assert!(!foreign[0].headers.contains_key("if-none-match"));
    assert!(!foreign[0].headers.contains_key("authorization"));
}

// Found by review, fixed: [medium] the cache's validators are for the URL the caller asked
// for, but they travel with the request to every same-origin redirect
// target, and that target's 304 returns the caller's cached answer. A
// server comparing dates only (the premise of `effects.rs`'
// `the_cache_keeps_each_event_type_apart`) answers "not modified" to
// another resource's `If-Modified-Since`. `execute.rs:185` adds the
// validators before the redirect loop; `redirect.rs:288` strips them only
// for another origin; `execute.rs:238` takes a same-origin 304 at any hop
// as confirming the entry of the first URL.
#[tokio::test]
async fn validators_for_one_url_never_confirm_the_answer_of_a_redirect_target() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(
            message("AB's old answer")
                .insert_header("last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, "/messages/CD"))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(path("/messages/CD"))
        .and(header_exists("if-modified-since"))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(message("CD").insert_header("last-modified", "Mon, 30 Nov 2026 10:00:00 GMT"))
        .with_priority(2)
        .mount(&server)
        .await;
    let client = mock_builder(&server.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    let read = || client.message_retrieve().message_id("AB").send();
    assert_eq!(subject_of(read().await), "AB's old answer");
    assert_eq!(
        subject_of(read().await),
        "CD",
        "the answer of where AB is now"
    );
}

// ---------------------------------------------------------------------------
// Location tricks
// ---------------------------------------------------------------------------

/// `//host/x` and `\\host\x` name another origin: a read goes there
/// without credentials, a write is refused as `OtherOrigin`.
#[tokio::test]
async fn protocol_relative_and_backslash_locations_are_another_origin() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    answer_everything_else(&elsewhere).await;
    let client = mock_client_with(&api.uri(), fast_retries(1));
    let other = authority(&elsewhere);
    for location in [
        format!("//{other}/x"),
        format!("\\\\{other}\\x"),
        format!("/\\{other}/x"),
    ] {
        api.reset().await;
        Mock::given(any())
            .respond_with(redirect(302, &location))
            .mount(&api)
            .await;
        let _ = client.message_retrieve().message_id("AB").send().await;
        let err = expect_error(client.contact_delete().contact_id("CD").send().await);
        assert!(
            matches!(
                err.refusal(),
                Some(Refusal::Redirect {
                    reason: RedirectRefusal::OtherOrigin { .. } | RedirectRefusal::SendNotRepeated,
                    ..
                })
            ),
            "{location}: {err:#}"
        );
    }
    let foreign = received(&elsewhere).await;
    assert!(!foreign.is_empty(), "the reads went there");
    for request in foreign {
        assert_eq!(request.method.as_str(), "GET", "only reads leave");
        assert!(!request.headers.contains_key("authorization"));
        assert!(!request.headers.contains_key("x-api-key"));
    }
}

/// Upper-case scheme and host, user info and an IPv4 host with a trailing
/// dot all name the API's own origin; `localhost` for `127.0.0.1` does not
/// (the safe direction). IPv6 hosts compare in their canonical form.
#[tokio::test]
async fn origins_are_compared_after_normalisation() {
    let api = MockServer::start().await;
    let port = api.address().port();
    let client = mock_client_with(&api.uri(), fast_retries(1));
    for (location, same) in [
        (format!("HTTP://127.0.0.1:{port}/messages/CD"), true),
        (
            format!("http://someone:secret@127.0.0.1:{port}/messages/CD"),
            true,
        ),
        (format!("http://localhost:{port}/messages/CD"), false),
        // WHATWG URL parsing drops an IPv4 host's trailing dot: the same host.
        (format!("http://127.0.0.1.:{port}/messages/CD"), true),
    ] {
        api.reset().await;
        Mock::given(path("/messages/AB"))
            .respond_with(redirect(302, &location))
            .mount(&api)
            .await;
        Mock::given(path("/messages/CD"))
            .respond_with(message("CD"))
            .mount(&api)
            .await;
        let _ = client.message_retrieve().message_id("AB").send().await;
        let hop = received(&api)
            .await
            .into_iter()
            .find(|r| r.url.path() == "/messages/CD")
            .unwrap_or_else(|| panic!("{location} was not followed"));
        assert_eq!(
            hop.headers.contains_key("authorization"),
            same,
            "{location}: credentials"
        );
    }
    let url = |text: &str| whispir::reqwest::Url::parse(text).unwrap();
    assert!(whispir_errors::same_origin(
        &url("https://[::1]:8443/a"),
        &url("https://[0:0:0:0:0:0:0:1]:8443/b")
    ));
    assert!(whispir_errors::same_origin(
        &url("https://API.AU.Whispir.com/a"),
        &url("https://api.au.whispir.com:443/b")
    ));
    assert!(!whispir_errors::same_origin(
        &url("https://[::1]:8443/a"),
        &url("https://[::2]:8443/a")
    ));
}

// ---------------------------------------------------------------------------
// Cache
// ---------------------------------------------------------------------------

/// Answers `/messages/AB`: the first unconditional request with ETag "v1",
/// every conditional one with a 304 naming ETag "v2", every later
/// unconditional one with the new answer under "v2".
struct ChangedBehindA304 {
    unconditional: AtomicUsize,
}

impl Respond for ChangedBehindA304 {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if request.headers.contains_key("if-none-match") {
            return ResponseTemplate::new(304).insert_header("etag", "\"v2\"");
        }
        match self.unconditional.fetch_add(1, Ordering::SeqCst) {
            0 => message("v1").insert_header("etag", "\"v1\""),
            _ => message("v2").insert_header("etag", "\"v2\""),
        }
    }
}

// Found by review, fixed: [low] a 304 is matched to the validators sent, but what the 304
// itself says is never looked at. A 304 naming another strong ETag ("v2")
// than the cached entry's ("v1") does not select that entry (RFC 9111
// §4.3.4: with no stored response of that validator the cache must not
// use the 304), yet v1 is handed on. `cache.rs:221-227` compares the entry
// with `sent` only, never with the 304's `ETag`.
#[tokio::test]
async fn a_not_modified_naming_another_etag_does_not_confirm_the_cached_answer() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(ChangedBehindA304 {
            unconditional: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    let client = mock_builder(&server.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    let read = || client.message_retrieve().message_id("AB").send();
    assert_eq!(subject_of(read().await), "v1");
    assert_eq!(
        subject_of(read().await),
        "v2",
        "a 304 for \"v2\" handed on the answer cached as \"v1\""
    );
}

/// Two calls for one key race: the first sent v1's validators and its 304
/// arrives after the second stored v2. The 304 confirms v1 only, which the
/// cache no longer holds: the first call asks again, in full, once.
#[tokio::test]
async fn a_not_modified_that_loses_a_race_asks_again_in_full() {
    struct Race {
        calls: AtomicUsize,
    }
    impl Respond for Race {
        fn respond(&self, request: &Request) -> ResponseTemplate {
            match self.calls.fetch_add(1, Ordering::SeqCst) {
                0 => message("v1").insert_header("etag", "\"v1\""),
                // The first racer: slow, "v1 not modified".
                1 => {
                    assert!(request.headers.contains_key("if-none-match"));
                    ResponseTemplate::new(304)
                        .insert_header("etag", "\"v1\"")
                        .set_delay(Duration::from_millis(600))
                }
                // The second racer, and the first one's full repeat.
                _ => message("v2").insert_header("etag", "\"v2\""),
            }
        }
    }
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(Race {
            calls: AtomicUsize::new(0),
        })
        .mount(&server)
        .await;
    let client = mock_builder(&server.uri(), fast_retries(1))
        .response_cache(16)
        .build()
        .unwrap();
    let read = || client.message_retrieve().message_id("AB").send();
    assert_eq!(subject_of(read().await), "v1");
    let (first, second) = futures::join!(read(), async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        read().await
    });
    assert_eq!(subject_of(second), "v2");
    assert_eq!(
        subject_of(first),
        "v2",
        "the racer did not get the stale v1"
    );
    let requests = received(&server).await;
    assert_eq!(requests.len(), 4);
    assert!(!requests[3].headers.contains_key("if-none-match"));
}

/// A raw HTTP/1.1 server that answers every request with `head` and, for
/// a request without `If-None-Match`, a chunked body of `body`; a request
/// with it gets a 304. Returns its URL and the requests' validators.
async fn chunked_server(
    head: &'static str,
    body: &'static str,
) -> (String, Arc<std::sync::Mutex<Vec<bool>>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let conditional = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = conditional.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                let has_validator = text.contains("if-none-match:");
                seen.lock().unwrap().push(has_validator);
                let answer = if has_validator {
                    "HTTP/1.1 304 Not Modified\r\netag: \"A\"\r\nconnection: close\r\n\r\n"
                        .to_string()
                } else {
                    format!(
                        "HTTP/1.1 200 OK\r\n{head}\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
                        body.len()
                    )
                };
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{address}"), conditional)
}

/// An answer without `Content-Length` whose entry is exactly the cache's
/// byte budget is kept; one byte less of budget and it is not (and is
/// handed on whole either way).
#[tokio::test]
async fn an_answer_without_a_length_exactly_at_the_budget_is_kept() {
    const HEADERS: [(&str, &str); 3] = [
        ("etag", "\"A\""),
        ("transfer-encoding", "chunked"),
        ("connection", "close"),
    ];
    const HEAD: &str = "etag: \"A\"\r\ntransfer-encoding: chunked\r\nconnection: close\r\n";
    const BODY: &str = r#"{"to":"61400000001","subject":"exact"}"#;
    let (uri, conditional) = chunked_server(HEAD, BODY).await;
    let accept = whispir::operations::OperationSpec::for_operation_id("messageRetrieve")
        .unwrap()
        .accept;
    let url = format!("{uri}/messages/AB");
    // The cache key: 16 hex digits, Accept and the URL, space-separated.
    let key = 16 + 1 + accept.len() + 1 + url.len();
    let headers: usize = HEADERS.iter().map(|(n, v)| n.len() + v.len()).sum();
    let exact = key + headers + BODY.len();
    for (budget, kept) in [(exact - 1, false), (exact, true)] {
        conditional.lock().unwrap().clear();
        let client = mock_builder(&uri, fast_retries(1))
            .response_cache(16)
            .response_cache_bytes(budget)
            .build()
            .unwrap();
        let read = || client.message_retrieve().message_id("AB").send();
        assert_eq!(subject_of(read().await), "exact", "budget {budget}");
        let _ = read().await;
        assert_eq!(
            *conditional.lock().unwrap(),
            [false, kept],
            "budget {budget} of {exact}: kept?"
        );
    }
}

// ---------------------------------------------------------------------------
// Limiter and daily budget
// ---------------------------------------------------------------------------

/// Every hop of the API's own redirects passes the limiter and counts
/// against the daily budget; a hop over the budget is refused as such.
#[tokio::test]
async fn every_hop_to_the_api_counts_against_the_daily_budget() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, "/messages/CD"))
        .mount(&server)
        .await;
    Mock::given(path("/messages/CD"))
        .respond_with(redirect(302, "/messages/EF"))
        .mount(&server)
        .await;
    answer_everything_else(&server).await;
    let client = mock_builder(&server.uri(), fast_retries(3))
        .rate_limit(Plan::new(
            NonZeroU32::new(30).unwrap(),
            Some(NonZeroU32::new(2).unwrap()),
        ))
        .build()
        .unwrap();
    let err = expect_error(client.message_retrieve().message_id("AB").send().await);
    assert!(
        matches!(err.refusal(), Some(Refusal::DailyBudgetSpent { .. })),
        "{err:#}"
    );
    assert_eq!(received(&server).await.len(), 2);
    assert_eq!(client.remaining_today(), Some(0));
}

// Found by review, fixed: [low] requests a foreign server makes a read bounce between spend
// the API's daily quota (and per-second pacing), though they never reach
// the API: one call can burn MAX_HOPS + 1 units of the plan's day. A
// foreign answer feeds no shared state, but foreign requests do.
// `redirect.rs:215` passes the gate for every hop, whatever its origin.
#[tokio::test]
async fn hops_on_another_origin_do_not_spend_the_apis_daily_budget() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/messages/AB"))
        .respond_with(redirect(302, &format!("{}/1", elsewhere.uri())))
        .mount(&api)
        .await;
    for (from, to) in [("/1", "/2"), ("/2", "/3"), ("/3", "/4")] {
        Mock::given(path(from))
            .respond_with(redirect(302, to))
            .mount(&elsewhere)
            .await;
    }
    Mock::given(path("/4"))
        .respond_with(message("far away"))
        .mount(&elsewhere)
        .await;
    let client = mock_builder(&api.uri(), fast_retries(1))
        .rate_limit(Plan::new(
            NonZeroU32::new(30).unwrap(),
            Some(NonZeroU32::new(100).unwrap()),
        ))
        .build()
        .unwrap();
    assert_eq!(
        subject_of(client.message_retrieve().message_id("AB").send().await),
        "far away"
    );
    assert_eq!(received(&api).await.len(), 1);
    assert_eq!(
        client.remaining_today(),
        Some(99),
        "one request reached the API"
    );
}

// ---------------------------------------------------------------------------
// Retry-After against the answer's Date
// ---------------------------------------------------------------------------

/// A server whose clock is far in the past (or future) still means what
/// it says: the wait is the difference of its two dates.
#[tokio::test]
async fn a_retry_after_date_is_read_against_a_far_off_server_date() {
    let server = MockServer::start().await;
    let far_past = SystemTime::UNIX_EPOCH + Duration::from_secs(631_152_000); // 1990
    let far_future = SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_800); // 2100
    for (sent, wait) in [(far_past, 2), (far_future, 5)] {
        server.reset().await;
        Mock::given(any())
            .respond_with(
                ResponseTemplate::new(429)
                    .insert_header("date", httpdate::fmt_http_date(sent).as_str())
                    .insert_header(
                        "retry-after",
                        httpdate::fmt_http_date(sent + Duration::from_secs(wait)).as_str(),
                    ),
            )
            .mount(&server)
            .await;
        let err = expect_error(
            mock_client(&server.uri())
                .message_retrieve()
                .message_id("AB")
                .send()
                .await,
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(wait)));
    }
}

/// A garbage `Date` falls back to the local clock; a garbage `Retry-After`
/// is ignored.
#[tokio::test]
async fn garbage_dates_fall_back_or_are_ignored() {
    let server = MockServer::start().await;
    let local = SystemTime::now() + Duration::from_secs(120);
    Mock::given(header("x-case", "date"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("date", "not a date")
                .insert_header("retry-after", httpdate::fmt_http_date(local).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("date", httpdate::fmt_http_date(SystemTime::now()).as_str())
                .insert_header("retry-after", "soon, 1.5"),
        )
        .with_priority(u8::MAX)
        .mount(&server)
        .await;
    let http = whispir::reqwest::Client::builder().default_headers(
        [(
            whispir::reqwest::header::HeaderName::from_static("x-case"),
            whispir::reqwest::header::HeaderValue::from_static("date"),
        )]
        .into_iter()
        .collect(),
    );
    let dated = mock_builder(&server.uri(), fast_retries(1))
        .http_client(http)
        .build()
        .unwrap();
    let err = expect_error(dated.message_retrieve().message_id("AB").send().await);
    let wait = err.retry_after().expect("read from the local clock");
    assert!(
        (Duration::from_secs(115)..=Duration::from_secs(121)).contains(&wait),
        "{wait:?}"
    );
    let err = expect_error(
        mock_client(&server.uri())
            .message_retrieve()
            .message_id("AB")
            .send()
            .await,
    );
    assert_eq!(err.retry_after(), None);
}

// ---------------------------------------------------------------------------
// wait()
// ---------------------------------------------------------------------------

/// `wait()` with zero intervals against a server answering every poll 429
/// with `Retry-After: 0`: polls still keep the minimum interval apart and
/// the wait ends at its deadline, not in a burst of requests.
#[tokio::test]
async fn zero_intervals_and_retry_after_zero_do_not_poll_back_to_back() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    let location = format!("{}/workspaces/AB12/messages/CD34", server.uri());
    let accepted = Accepted::from_location(location.parse().unwrap()).unwrap();
    let deadline = Duration::from_secs(1);
    let outcome = accepted
        .wait(
            &mock_client(&server.uri()),
            WaitOptions {
                deadline,
                initial_interval: Duration::ZERO,
                max_interval: Duration::ZERO,
                ..WaitOptions::default()
            },
        )
        .await
        .expect("throttling is waited out");
    assert!(
        matches!(outcome, WaitOutcome::DeadlineReached(None)),
        "{outcome:?}"
    );
    let most = 1 + (deadline.as_millis() / MIN_POLL_INTERVAL.as_millis()) as usize;
    let polled = received(&server).await.len();
    assert!((2..=most).contains(&polled), "{polled} polls");
}

// ---------------------------------------------------------------------------
// Paging
// ---------------------------------------------------------------------------

fn message_page(subjects: &[String]) -> ResponseTemplate {
    let messages: Vec<serde_json::Value> = subjects
        .iter()
        .map(|s| serde_json::json!({ "to": "61400000001", "subject": s }))
        .collect();
    ResponseTemplate::new(200).set_body_json(serde_json::json!({
        "messages": messages,
        "link": [{ "rel": "next", "uri": "https://api.au.whispir.com/messages?offset=x" }],
    }))
}

/// Ignores `offset`: answers the same twenty messages, in an order that
/// `reorder` picks for the n-th request.
struct IgnoresOffset {
    calls: AtomicUsize,
    reorder: fn(usize, &mut Vec<String>),
}

impl Respond for IgnoresOffset {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let mut subjects: Vec<String> = (0..20).map(|i| format!("message {i}")).collect();
        (self.reorder)(n, &mut subjects);
        message_page(&subjects)
    }
}

/// Reads at most 100 pages of results; how many items, and the error.
async fn read_stream(client: &whispir::Client) -> (usize, Option<whispir::Error>) {
    let results: Vec<_> = client.message_list().stream().take(2_000).collect().await;
    let count = results.iter().filter(|r| r.is_ok()).count();
    (count, results.into_iter().find_map(Result::err))
}

// Found by review, fixed: [medium] the repeated-page check compares each page with the one
// before it, byte for byte in order. A server that ignores `offset` and
// returns its page in no fixed order (an SQL query without ORDER BY)
// is never caught: the stream reads until the page cap, 10,000 requests
// (the smallest plan's whole day). `pagination.rs:368` compares one
// order-sensitive hash (`pagination.rs:332`) with the previous page's only.
#[tokio::test]
async fn a_server_ignoring_the_offset_in_no_fixed_order_ends_within_a_handful_of_pages() {
    let server = MockServer::start().await;
    Mock::given(path("/messages"))
        .respond_with(IgnoresOffset {
            calls: AtomicUsize::new(0),
            reorder: |n, subjects| subjects.rotate_left(n % 20),
        })
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let (count, error) = read_stream(&client).await;
    assert!(
        error.is_some(),
        "no error after {count} items in {} pages of the same twenty",
        received(&server).await.len()
    );
    assert!(received(&server).await.len() <= 5);
}

// Found by review, fixed: [medium, same cause] a server cycling between two pages (offset
// ignored, or read as a page parity) is never caught either: no page is
// the same as the one just before it.
#[tokio::test]
async fn a_server_alternating_two_pages_ends_within_a_handful_of_pages() {
    let server = MockServer::start().await;
    Mock::given(path("/messages"))
        .respond_with(IgnoresOffset {
            calls: AtomicUsize::new(0),
            reorder: |n, subjects| {
                if n % 2 == 1 {
                    for subject in subjects.iter_mut() {
                        subject.push_str(" (odd)");
                    }
                }
            },
        })
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let (count, error) = read_stream(&client).await;
    assert!(
        error.is_some(),
        "no error after {count} items in {} pages cycling between two",
        received(&server).await.len()
    );
    assert!(received(&server).await.len() <= 5);
}

// Found by review, fixed: [medium-high] the user's own `limit` and `offset` are silently
// replaced by 20 and 0. Commit 428393e says the stream starts at the
// request's own window "where the ListRequest can tell them", but no
// generated implementation tells them: `xtask/src/passes/pagination.rs:237-240`
// writes `OPERATION_ID`, `window` and `fetch_page` only, so
// `requested_window` is always the default `None` (`pagination.rs:52`,
// read at `pagination.rs:310`). A caller resuming at offset 35 reads the
// list again from the start; `.limit(50).stream()` is quietly clamped
// instead of the error `stream_pages_of(50)` gives.
#[tokio::test]
async fn a_stream_starts_at_the_callers_offset_in_pages_of_the_callers_limit() {
    let server = MockServer::start().await;
    Mock::given(path("/messages"))
        .respond_with(message_page(&[]))
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let items: Vec<_> = client
        .message_list()
        .limit(7u32)
        .offset(35u32)
        .stream()
        .collect()
        .await;
    assert!(items.is_empty());
    let asked = received(&server).await;
    assert_eq!(asked.len(), 1);
    let query: Vec<(String, String)> = asked[0]
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .filter(|(k, _)| k == "limit" || k == "offset")
        .collect();
    assert!(query.contains(&("limit".into(), "7".into())), "{query:?}");
    assert!(query.contains(&("offset".into(), "35".into())), "{query:?}");
}
