//! The OpenTelemetry metrics a client records (feature `opentelemetry`),
//! read back through the SDK's in-memory exporter: each instrument's name,
//! unit, attributes and values for a call that succeeds, one retried after
//! 429 or over-QPS, one refused by the limiter, a redirect, a send that
//! may have gone, a campaign, and a shared plan's remaining budget held in
//! Redis.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use whispir::campaign::Campaign;
use whispir::types::Message;
use whispir::{Client, Plan, RedisQuota, RetryConfig};
use whispir_sandbox::Sandbox;
use whispir_tests::faulty_server::{Fault, FaultyServer};
use whispir_tests::metrics::{Meters, Point, Reading, attributes};
use whispir_tests::shared_quota::RedisServer;
use whispir_tests::{expect_error, fast_retries, mock_builder};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn message_json() -> serde_json::Value {
    serde_json::json!({ "to": "61400000001", "subject": "Hello" })
}

fn client(server: &str, meters: &Meters) -> Client {
    mock_builder(server, fast_retries(3))
        .meter_provider(meters.provider())
        .build()
        .unwrap()
}

/// The host and port attributes of a request to `server` (`http://127.0.0.1:N`).
fn server_attributes(server: &str) -> [(&'static str, String); 2] {
    let url = reqwest::Url::parse(server).unwrap();
    [
        ("server.address", url.host_str().unwrap().to_string()),
        ("server.port", url.port().unwrap().to_string()),
    ]
}

/// The attributes of one HTTP request of `operation` to `server`.
fn request_attributes(
    server: &str,
    method: &str,
    operation: &str,
    extra: &[(&str, &str)],
) -> BTreeMap<String, String> {
    let mut all = attributes(&[
        ("http.request.method", method),
        ("whispir.operation", operation),
    ]);
    all.extend(server_attributes(server).map(|(key, value)| (key.to_string(), value)));
    all.extend(attributes(extra));
    all
}

/// The one point of `name` with `wanted` attributes; fails naming what there is.
fn point<'a>(points: &'a [Point], name: &str, wanted: &BTreeMap<String, String>) -> &'a Point {
    points
        .iter()
        .find(|point| point.name == name && &point.attributes == wanted)
        .unwrap_or_else(|| panic!("no {name} with {wanted:?} in {points:#?}"))
}

fn count_of(point: &Point) -> u64 {
    match point.reading {
        Reading::Histogram { count, .. } => count,
        Reading::Sum(sum) => sum,
        Reading::Gauge(value) => value,
    }
}

fn sum_of(point: &Point) -> f64 {
    match point.reading {
        Reading::Histogram { sum, .. } => sum,
        ref other => panic!("{}: not a histogram: {other:?}", point.name),
    }
}

fn names(points: &[Point]) -> Vec<&str> {
    let mut names: Vec<&str> = points.iter().map(|point| point.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names
}

fn assert_units(points: &[Point]) {
    for point in points {
        let unit = match point.name.as_str() {
            "http.client.request.duration"
            | "whispir.client.call.duration"
            | "whispir.client.limiter.wait"
            | "whispir.client.pause.duration" => "s",
            "whispir.client.call.attempts" => "{attempt}",
            "whispir.client.errors" => "{error}",
            "whispir.client.sends" => "{message}",
            "whispir.client.limiter.refusals" => "{call}",
            "whispir.client.pauses" => "{pause}",
            "whispir.plan.daily_remaining" => "{request}",
            "whispir.campaign.rows" => "{row}",
            other => panic!("an instrument the contract does not name: {other}"),
        };
        assert_eq!(point.unit, unit, "{}", point.name);
    }
}

#[tokio::test]
async fn a_successful_call_records_its_request_duration_and_one_attempt() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = client(&server.uri(), &meters);
    client
        .message_retrieve()
        .message_id("A1")
        .send()
        .await
        .unwrap();

    let points = meters.points();
    assert_units(&points);
    assert_eq!(
        names(&points),
        [
            "http.client.request.duration",
            "whispir.client.call.attempts",
            "whispir.client.call.duration",
        ],
        "{points:#?}"
    );
    let request = point(
        &points,
        "http.client.request.duration",
        &request_attributes(
            &server.uri(),
            "GET",
            "messageRetrieve",
            &[("http.response.status_code", "200")],
        ),
    );
    assert_eq!(count_of(request), 1);
    assert!(
        sum_of(request) > 0.0 && sum_of(request) < 5.0,
        "{request:?}"
    );
    let operation = attributes(&[("whispir.operation", "messageRetrieve")]);
    let call = point(&points, "whispir.client.call.duration", &operation);
    assert_eq!(count_of(call), 1);
    assert!(sum_of(call) >= sum_of(request), "{call:?} {request:?}");
    let attempts = point(&points, "whispir.client.call.attempts", &operation);
    assert_eq!((count_of(attempts), sum_of(attempts)), (1, 1.0));
}

#[tokio::test]
async fn a_call_retried_after_429_records_both_attempts_the_pause_and_no_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .with_priority(2)
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = client(&server.uri(), &meters);
    client
        .message_retrieve()
        .message_id("A1")
        .send()
        .await
        .unwrap();

    let points = meters.points();
    assert_units(&points);
    let refused = point(
        &points,
        "http.client.request.duration",
        &request_attributes(
            &server.uri(),
            "GET",
            "messageRetrieve",
            &[("http.response.status_code", "429"), ("error.type", "429")],
        ),
    );
    assert_eq!(count_of(refused), 1);
    let answered = point(
        &points,
        "http.client.request.duration",
        &request_attributes(
            &server.uri(),
            "GET",
            "messageRetrieve",
            &[("http.response.status_code", "200")],
        ),
    );
    assert_eq!(count_of(answered), 1);
    let operation = attributes(&[("whispir.operation", "messageRetrieve")]);
    let attempts = point(&points, "whispir.client.call.attempts", &operation);
    assert_eq!((count_of(attempts), sum_of(attempts)), (1, 2.0));
    // The call succeeded: no error, and its duration has no error type.
    assert_eq!(
        count_of(point(&points, "whispir.client.call.duration", &operation)),
        1
    );
    assert!(
        !names(&points).contains(&"whispir.client.errors"),
        "{points:#?}"
    );
    let reason = attributes(&[("whispir.pause.reason", "too_many_requests")]);
    assert_eq!(
        count_of(point(&points, "whispir.client.pauses", &reason)),
        1
    );
    let pause = point(&points, "whispir.client.pause.duration", &reason);
    assert_eq!((count_of(pause), sum_of(pause)), (1, 1.0));
}

#[tokio::test]
async fn a_call_the_limiter_refuses_is_counted_with_its_reason_and_the_budget_left() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&server)
        .await;
    let meters = Meters::new();
    let plan = Plan::new(NonZeroU32::new(5).unwrap(), NonZeroU32::new(1));
    let client = mock_builder(&server.uri(), fast_retries(3))
        .rate_limit(plan)
        .meter_provider(meters.provider())
        .build()
        .unwrap();
    client
        .message_retrieve()
        .message_id("A1")
        .send()
        .await
        .unwrap();
    let err = expect_error(client.message_retrieve().message_id("A2").send().await);
    assert!(err.refusal().is_some(), "{err}");

    let points = meters.points();
    assert_units(&points);
    let local = attributes(&[("whispir.limiter", "local")]);
    assert_eq!(
        count_of(point(&points, "whispir.client.limiter.wait", &local)),
        1
    );
    let refusal = attributes(&[
        ("whispir.limiter", "local"),
        ("whispir.refusal.reason", "daily_budget_spent"),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.limiter.refusals", &refusal)),
        1
    );
    let class = err.class().name();
    let errors = attributes(&[
        ("whispir.operation", "messageRetrieve"),
        ("whispir.error.class", class),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.errors", &errors)),
        1
    );
    let failed = attributes(&[
        ("whispir.operation", "messageRetrieve"),
        ("error.type", class),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.call.duration", &failed)),
        1
    );
    // The refused call sent nothing: one request in all, and no attempt.
    let requests: u64 = points
        .iter()
        .filter(|point| point.name == "http.client.request.duration")
        .map(count_of)
        .sum();
    assert_eq!(requests, 1);
    let operation = attributes(&[("whispir.operation", "messageRetrieve")]);
    let attempts = point(&points, "whispir.client.call.attempts", &operation);
    assert_eq!((count_of(attempts), sum_of(attempts)), (2, 1.0));
    let left = attributes(&[("whispir.plan.scope", "local")]);
    assert_eq!(
        point(&points, "whispir.plan.daily_remaining", &left).reading,
        Reading::Gauge(0)
    );
}

#[tokio::test]
async fn a_redirected_read_records_each_request_of_its_one_attempt() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/0A"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/messages/0B"))
        .mount(&server)
        .await;
    Mock::given(path("/messages/0B"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = client(&server.uri(), &meters);
    client
        .message_retrieve()
        .message_id("0A")
        .send()
        .await
        .unwrap();

    let points = meters.points();
    for status in ["301", "200"] {
        let wanted = request_attributes(
            &server.uri(),
            "GET",
            "messageRetrieve",
            &[("http.response.status_code", status)],
        );
        assert_eq!(
            count_of(point(&points, "http.client.request.duration", &wanted)),
            1
        );
    }
    let operation = attributes(&[("whispir.operation", "messageRetrieve")]);
    let attempts = point(&points, "whispir.client.call.attempts", &operation);
    assert_eq!((count_of(attempts), sum_of(attempts)), (1, 1.0));
    assert!(
        !names(&points).contains(&"whispir.client.errors"),
        "{points:#?}"
    );
}

fn message(subject: &str) -> Message {
    serde_json::from_value(serde_json::json!({ "to": "61400000001", "subject": subject })).unwrap()
}

#[tokio::test]
async fn a_send_cut_off_after_the_server_acted_counts_as_may_have_been_sent() {
    let server = FaultyServer::start(|n| {
        if n == 1 {
            Fault::Accept
        } else {
            Fault::ResetAfterActing
        }
    })
    .await;
    let meters = Meters::new();
    let client = mock_builder(&server.uri, fast_retries(3))
        .meter_provider(meters.provider())
        .build()
        .unwrap();
    client
        .message_create()
        .body(message("first"))
        .send()
        .await
        .unwrap();
    let err = expect_error(client.message_create().body(message("second")).send().await);
    assert!(err.may_have_been_processed(), "{err}");
    // Never sent again: the server acted on each once.
    assert_eq!(
        (server.acted_on("first"), server.acted_on("second")),
        (1, 1)
    );

    let points = meters.points();
    assert_units(&points);
    for outcome in ["accepted", "may_have_been_sent"] {
        let wanted = attributes(&[
            ("whispir.operation", "messageCreate"),
            ("whispir.send.outcome", outcome),
        ]);
        assert_eq!(count_of(point(&points, "whispir.client.sends", &wanted)), 1);
    }
    let errors = attributes(&[
        ("whispir.operation", "messageCreate"),
        ("whispir.error.class", "Transport"),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.errors", &errors)),
        1
    );
    // The cut-off request: no status, the transport failure's kind.
    let cut = points
        .iter()
        .find(|point| {
            point.name == "http.client.request.duration"
                && point.attributes.contains_key("error.type")
        })
        .unwrap_or_else(|| panic!("no failed request in {points:#?}"));
    assert!(
        !cut.attributes.contains_key("http.response.status_code"),
        "{cut:?}"
    );
    assert!(
        ["Body", "Other", "Timeout"].contains(&cut.attributes["error.type"].as_str()),
        "{cut:?}"
    );
    assert_eq!(cut.attributes["http.request.method"], "POST");
}

#[tokio::test]
async fn a_refused_send_counts_as_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "errorSummary": "bad recipient"
        })))
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = client(&server.uri(), &meters);
    expect_error(client.message_create().body(message("x")).send().await);

    let points = meters.points();
    let refused = attributes(&[
        ("whispir.operation", "messageCreate"),
        ("whispir.send.outcome", "refused"),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.sends", &refused)),
        1
    );
    let request = request_attributes(
        &server.uri(),
        "POST",
        "messageCreate",
        &[("http.response.status_code", "422"), ("error.type", "422")],
    );
    assert_eq!(
        count_of(point(&points, "http.client.request.duration", &request)),
        1
    );
}

#[tokio::test]
async fn no_attribute_holds_a_recipient_a_text_or_a_credential() {
    // Whispir's refusal echoes the message; a redirect and a retry pass
    // through other paths of the recording.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(422).set_body_json(serde_json::json!({
            "errorSummary": "bad recipient 61400000987 for Secret-subject-text"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    let meters = Meters::new();
    let client = client(&server.uri(), &meters);
    let message: Message = serde_json::from_value(
        serde_json::json!({ "to": "61400000987", "subject": "Secret-subject-text" }),
    )
    .unwrap();
    expect_error(client.message_create().body(message).send().await);
    let _ = client
        .message_retrieve()
        .message_id("MSG-ID-4711")
        .send()
        .await;

    let points = meters.points();
    assert!(!points.is_empty());
    for point in &points {
        for (key, value) in &point.attributes {
            for secret in [
                "61400000987",
                "Secret-subject-text",
                "MSG-ID-4711",
                whispir_tests::TEST_USER,
                whispir_tests::TEST_PASSWORD,
                whispir_tests::TEST_API_KEY,
            ] {
                assert!(
                    !key.contains(secret) && !value.contains(secret),
                    "{}: {key}={value} holds {secret:?}",
                    point.name
                );
            }
        }
    }
}

#[tokio::test]
async fn a_campaigns_rows_are_counted_by_outcome() {
    let sandbox = Sandbox::start().await.unwrap();
    let meters = Meters::new();
    let client = sandbox
        .client_builder()
        .meter_provider(meters.provider())
        .build()
        .unwrap();
    let rows = "name,mobile\nAnn,61400000001\nBob,61400000002\nCy,61400000003\n";
    Campaign::from_csv(rows)
        .unwrap()
        .name("metrics")
        .sms("mobile", "Hi @@name@@")
        .send(&client)
        .await
        .unwrap();

    let points = meters.points();
    assert_units(&points);
    let accepted = attributes(&[("whispir.row.outcome", "accepted")]);
    assert_eq!(
        count_of(point(&points, "whispir.campaign.rows", &accepted)),
        3
    );
}

#[tokio::test]
async fn a_shared_plan_reports_the_budget_redis_holds_for_every_process() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .mount(&server)
        .await;
    let plan = Plan::new(NonZeroU32::new(20).unwrap(), NonZeroU32::new(100));
    let shared = |meters: &Meters| {
        mock_builder(
            &server.uri(),
            whispir::CallOptions {
                retry: RetryConfig::disabled(),
                ..whispir::CallOptions::default()
            },
        )
        .rate_limit(plan)
        .shared(RedisQuota::new(&redis.url(), "metrics-test").unwrap())
        .meter_provider(meters.provider())
        .build()
        .unwrap()
    };
    let (ours, theirs) = (Meters::new(), Meters::new());
    let (one, other) = (shared(&ours), shared(&theirs));
    for id in ["A1", "A2", "A3"] {
        one.message_retrieve().message_id(id).send().await.unwrap();
    }
    for id in ["B1", "B2"] {
        other
            .message_retrieve()
            .message_id(id)
            .send()
            .await
            .unwrap();
    }
    // What Redis holds for the account, as this process last read it.
    one.context()
        .rate_limiter()
        .unwrap()
        .refresh()
        .await
        .unwrap();

    let points = ours.points();
    assert_units(&points);
    let scope = attributes(&[("whispir.plan.scope", "shared")]);
    assert_eq!(
        point(&points, "whispir.plan.daily_remaining", &scope).reading,
        Reading::Gauge(95)
    );
    let wait = attributes(&[("whispir.limiter", "shared")]);
    assert_eq!(
        count_of(point(&points, "whispir.client.limiter.wait", &wait)),
        3
    );
}

#[tokio::test]
async fn an_over_qps_answer_is_counted_as_a_pause_of_the_next_second() {
    let server = FaultyServer::start(|n| {
        if n == 1 {
            Fault::OverQps
        } else {
            Fault::Accept
        }
    })
    .await;
    let meters = Meters::new();
    let plan = Plan::new(NonZeroU32::new(5).unwrap(), None);
    let client = mock_builder(&server.uri, fast_retries(3))
        .rate_limit(plan)
        .meter_provider(meters.provider())
        .build()
        .unwrap();
    // A 403 over-QPS provably was not acted on: even a send is retried.
    client
        .message_create()
        .body(message("qps"))
        .send()
        .await
        .unwrap();
    assert_eq!(server.acted_on("qps"), 1);

    let points = meters.points();
    assert_units(&points);
    let reason = attributes(&[("whispir.pause.reason", "over_qps")]);
    assert_eq!(
        count_of(point(&points, "whispir.client.pauses", &reason)),
        1
    );
    let pause = point(&points, "whispir.client.pause.duration", &reason);
    assert_eq!((count_of(pause), sum_of(pause)), (1, 1.0));
    // Both attempts passed the limiter (the retry's own wait covered the
    // pause, so the limiter held neither long).
    let local = attributes(&[("whispir.limiter", "local")]);
    let wait = point(&points, "whispir.client.limiter.wait", &local);
    assert_eq!(count_of(wait), 2);
    let forbidden = request_attributes(
        &server.uri,
        "POST",
        "messageCreate",
        &[("http.response.status_code", "403"), ("error.type", "403")],
    );
    assert_eq!(
        count_of(point(&points, "http.client.request.duration", &forbidden)),
        1
    );
    let accepted = attributes(&[
        ("whispir.operation", "messageCreate"),
        ("whispir.send.outcome", "accepted"),
    ]);
    assert_eq!(
        count_of(point(&points, "whispir.client.sends", &accepted)),
        1
    );
}
