//! Campaigns against the sandbox: one dynamic message per chunk of rows
//! reaches every row with its own text in three requests, and carries no
//! `to` (its rows are the recipients), while a message with neither `to`
//! nor `resource` is refused before any request; what Whispir
//! would refuse is refused before any request, naming the row or tag; a
//! rerun finds its upload instead of repeating it; each row's status and
//! replies come back with its row number; and the sandbox refuses a bad
//! dynamic message the way Whispir does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use whispir::campaign::{Campaign, CampaignError, SentSearch};
use whispir::types::{Message, MessageResource};
use whispir_sandbox::{Limits, Sandbox};

/// Row `row`'s mobile number: unique per row.
fn mobile(row: usize) -> String {
    format!("614{row:08}")
}

/// `count` rows: a name, a mobile number and a code of each row's own.
fn rows(count: usize) -> String {
    let mut csv = String::from("First Name,mobile,code\n");
    for row in 1..=count {
        csv.push_str(&format!("Person {row},{},C{row:05}\n", mobile(row)));
    }
    csv
}

const TEXT: &str = "Hi @@first_name@@, your code is @@code@@.";

fn expected_text(row: usize) -> String {
    format!("Hi Person {row}, your code is C{row:05}.")
}

async fn sandbox(recorded: usize) -> Sandbox {
    Sandbox::builder()
        .limits(Limits {
            max_recorded_requests: recorded,
            max_sent_messages: 20_000,
            ..Limits::default()
        })
        .message_step(Duration::from_millis(20))
        .start()
        .await
        .unwrap()
}

fn operations(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .requests()
        .iter()
        .map(|request| request.operation_id.clone().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn ten_thousand_rows_reach_ten_thousand_recipients_each_with_its_own_text() {
    let sandbox = sandbox(1_000).await;
    let campaign = Campaign::from_csv(&rows(10_000))
        .unwrap()
        .name("codes")
        .sms("mobile", TEXT);
    let sent = campaign.send(sandbox.client()).await.unwrap();
    assert_eq!(sent.chunks().len(), 1);
    assert_eq!(sent.chunks()[0].rows(), 1..=10_000);
    assert_eq!(
        operations(&sandbox),
        ["resourceList", "resourceCreate", "messageCreate"],
        "three requests for 10,000 rows"
    );
    let delivered = sandbox.sent_messages();
    assert_eq!(delivered.len(), 10_000);
    let message_id = sent.chunks()[0].message().message_id();
    for (index, one) in delivered.iter().enumerate() {
        let row = index + 1;
        assert_eq!(one.row, Some(row));
        assert_eq!(one.to, [mobile(row)]);
        assert_eq!(one.text(), expected_text(row));
        assert_eq!(one.message_id, message_id);
    }
}

#[tokio::test]
async fn a_chunk_sends_its_dynamic_message_without_a_to_key() {
    let sandbox = sandbox(1_000).await;
    let sent = Campaign::from_csv(&rows(3))
        .unwrap()
        .sms("mobile", TEXT)
        .send(sandbox.client())
        .await
        .unwrap();
    assert_eq!(sent.chunks().len(), 1);
    let requests = sandbox.requests();
    let create = requests
        .iter()
        .find(|request| request.operation_id.as_deref() == Some("messageCreate"))
        .expect("the chunk's messageCreate");
    let body = create.body.as_ref().expect("a JSON body");
    assert!(body.get("to").is_none(), "{body}");
    assert_eq!(body["resource"]["smsMappingField"], "mobile");
    assert!(body["resource"]["resourceId"].is_string(), "{body}");
    assert_eq!(sandbox.sent_messages().len(), 3);
}

#[tokio::test]
async fn a_message_with_neither_to_nor_resource_is_refused_before_any_request() {
    let sandbox = sandbox(1_000).await;
    let message: Message = Message::builder()
        .subject("Hi")
        .body("nobody")
        .try_into()
        .unwrap();
    let err = sandbox
        .client()
        .message_create()
        .body(message)
        .send()
        .await
        .unwrap_err();
    assert!(err.is_invalid_request(), "{err:?}");
    assert_eq!(
        err.to_string(),
        "messageCreate: invalid request: body: missing required field: to or resource"
    );
    assert!(sandbox.requests().is_empty());
}

#[tokio::test]
async fn what_whispir_would_refuse_is_refused_before_any_request_naming_row_or_tag() {
    let sandbox = sandbox(1_000).await;
    let client = sandbox.client();

    let unknown_tag = Campaign::from_csv(&rows(10))
        .unwrap()
        .sms("mobile", "Hi @@firstname@@")
        .send(client)
        .await
        .unwrap_err();
    assert!(
        matches!(&unknown_tag, CampaignError::UnknownTag { tag, .. } if tag == "firstname"),
        "{unknown_tag}"
    );
    assert!(unknown_tag.to_string().contains("@@firstname@@"));

    let bad_address = rows(10_000).replace(&mobile(7_311), "0400 007 311");
    let bad_address = Campaign::from_csv(&bad_address)
        .unwrap()
        .sms("mobile", TEXT)
        .send(client)
        .await
        .unwrap_err();
    assert!(
        bad_address
            .to_string()
            .starts_with("row 7311: mobile \"0400 007 311\""),
        "{bad_address}"
    );

    // One row larger than one upload may be (10 MB per request, in base64).
    let mut oversize = String::from("mobile,notes\n");
    for row in 1..=3 {
        oversize.push_str(&format!("{},short\n", mobile(row)));
    }
    oversize.push_str(&format!("{},{}\n", mobile(4), "y".repeat(8_000_000)));
    let oversize = Campaign::from_csv(&oversize)
        .unwrap()
        .sms("mobile", "Hi")
        .send(client)
        .await
        .unwrap_err();
    assert!(
        matches!(oversize, CampaignError::RowTooLarge { row: 4, .. }),
        "{oversize}"
    );
    assert!(oversize.to_string().starts_with("row 4: "), "{oversize}");

    assert!(
        sandbox.requests().is_empty(),
        "nothing was uploaded or sent"
    );
    assert!(sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn a_rerun_finds_its_upload_instead_of_repeating_it() {
    let sandbox = sandbox(1_000).await;
    let client = sandbox.client();
    let campaign = Campaign::from_csv(&rows(5))
        .unwrap()
        .name("rerun")
        .sms("mobile", TEXT);
    // The first run uploads, then stops before sending (a crash).
    let first = campaign.plan().unwrap();
    let uploaded = first.chunks()[0].upload_once(client).await.unwrap();
    assert!(!uploaded.was_reused());
    // The rerun plans the same chunks and finds that upload.
    let again = campaign.plan().unwrap();
    let chunk = &again.chunks()[0];
    assert_eq!(chunk.upload_name(), first.chunks()[0].upload_name());
    let found = chunk.upload_once(client).await.unwrap();
    assert!(found.was_reused());
    assert_eq!(found.id(), uploaded.id());
    let began = std::time::SystemTime::now().into();
    assert_eq!(
        chunk.find_sent(client, began).await.unwrap(),
        SentSearch::NotSent,
        "a whole listing without the label proves it was not sent"
    );
    let sent = chunk.send(client, found).await.unwrap();
    // A later run finds the message by its label, once Whispir lists it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let listed = loop {
        if let SentSearch::Sent(listed) = chunk.find_sent(client, began).await.unwrap() {
            break listed;
        }
        assert!(Instant::now() < deadline, "the message is never listed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(listed.message_id(), sent.message().message_id());
    assert_eq!(sandbox.sent_messages().len(), 5);
    let creates = operations(&sandbox)
        .iter()
        .filter(|op| *op == "resourceCreate")
        .count();
    assert_eq!(creates, 1, "one upload for two runs");
    // Once done, the upload is deleted.
    sent.resource().delete(client).await.unwrap();
    assert!(chunk.find_upload(client).await.unwrap().is_none());
}

/// A page of the message list: `count` other messages from `offset`,
/// stating `total`.
fn listing_page(offset: usize, count: usize, total: usize) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = (offset..offset + count)
        .map(|i| serde_json::json!({"to": "61400000001", "subject": "s", "label": format!("other-{i}")}))
        .collect();
    serde_json::json!({"messages": messages, "status": format!("{} to {} of {total}", offset + 1, offset + count)})
}

#[tokio::test]
async fn find_sent_calls_a_chunk_not_sent_only_on_a_whole_listing() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let chunk = Campaign::from_csv(&rows(2))
        .unwrap()
        .sms("mobile", TEXT)
        .plan()
        .unwrap()
        .chunks()[0]
        .clone();
    let since = std::time::SystemTime::now().into();
    // A listing that states 3 messages and ends after 1, one that repeats
    // a message, one whose total changes: none proves absence.
    for (pages, reason) in [
        (
            vec![listing_page(0, 1, 3), listing_page(1, 0, 3)],
            "stated 3 messages but 1",
        ),
        (
            vec![listing_page(0, 1, 2), listing_page(0, 1, 2)],
            "stated 2 messages but 1",
        ),
        (
            vec![listing_page(0, 1, 2), listing_page(1, 1, 3)],
            "changed from 2 to 3",
        ),
    ] {
        let server = MockServer::start().await;
        // Page `n` answers the request at offset `n` (each page holds one).
        Mock::given(method("GET"))
            .and(path("/messages"))
            .respond_with(move |request: &wiremock::Request| {
                let offset: usize = request
                    .url
                    .query_pairs()
                    .find(|(name, _)| name == "offset")
                    .and_then(|(_, value)| value.parse().ok())
                    .unwrap_or(0);
                let page = pages
                    .get(offset)
                    .cloned()
                    .unwrap_or_else(|| listing_page(offset, 0, 0));
                ResponseTemplate::new(200).set_body_json(page)
            })
            .mount(&server)
            .await;
        let client = whispir_tests::mock_client(&server.uri());
        match chunk.find_sent(&client, since).await.unwrap() {
            SentSearch::Unproven(why) => assert!(why.contains(reason), "{why}"),
            other => panic!("{reason}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn find_sent_proves_nothing_of_a_send_dated_after_the_clock_now() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let chunk = Campaign::from_csv(&rows(2))
        .unwrap()
        .sms("mobile", TEXT)
        .plan()
        .unwrap()
        .chunks()[0]
        .clone();
    // An empty, whole listing: it would prove a send of an hour ago absent.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing_page(0, 0, 0)))
        .mount(&server)
        .await;
    let client = whispir_tests::mock_client(&server.uri());
    let now = std::time::SystemTime::now();
    let hour = Duration::from_secs(3600);
    assert_eq!(
        chunk.find_sent(&client, (now - hour).into()).await.unwrap(),
        SentSearch::NotSent
    );
    // Dated a day ahead: the clock that dated it was set back since, and
    // the send may lie before any range the listing could start at.
    match chunk
        .find_sent(&client, (now + 24 * hour).into())
        .await
        .unwrap()
    {
        SentSearch::Unproven(why) => assert!(why.contains("clock was set back"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn each_rows_status_and_replies_come_back_with_its_row() {
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(10))
        .failing_recipient(mobile(2))
        .start()
        .await
        .unwrap();
    let client = sandbox.client();
    let sent = Campaign::from_csv(&rows(3))
        .unwrap()
        .sms("mobile", TEXT)
        .send(client)
        .await
        .unwrap();
    let chunk = &sent.chunks()[0];
    tokio::time::sleep(Duration::from_millis(60)).await;
    assert!(
        sandbox
            .simulate_reply(chunk.message().message_id(), &mobile(3), "YES")
            .await
    );
    let results = chunk.results(client).await.unwrap();
    let seen: Vec<(usize, String, Option<&str>, Vec<String>)> = results
        .iter()
        .map(|r| {
            (
                r.row,
                r.address.clone(),
                r.category.as_deref(),
                r.replies.clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (1, mobile(1), Some("Received"), vec![]),
            (2, mobile(2), Some("Undeliverable"), vec![]),
            (3, mobile(3), Some("Acknowledged"), vec!["YES".to_string()]),
        ]
    );
}

/// A dynamic message built by hand, from `resource`, without `to`.
fn dynamic(resource: MessageResource, text: &str) -> Message {
    Message::builder()
        .subject(text)
        .body("")
        .resource(resource)
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn the_sandbox_refuses_a_bad_dynamic_message_as_whispir_does() {
    let sandbox = sandbox(1_000).await;
    let client = sandbox.client();
    let plan = Campaign::from_csv(&rows(2))
        .unwrap()
        .sms("mobile", TEXT)
        .plan()
        .unwrap();
    let uploaded = plan.chunks()[0].upload(client).await.unwrap();
    let resource = |id: &str, column: &str| MessageResource {
        resource_id: id.to_string(),
        sms_mapping_field: Some(column.to_string()),
        email_mapping_field: None,
        voice_mapping_field: None,
        extra_fields: Default::default(),
    };
    for (message, names) in [
        (dynamic(resource("ABCDEF", "mobile"), "Hi"), "ABCDEF"),
        (dynamic(resource(uploaded.id(), "phone"), "Hi"), "\"phone\""),
        (
            dynamic(resource(uploaded.id(), "mobile"), "Hi @@nickname@@"),
            "@@nickname@@",
        ),
    ] {
        let err = client
            .message_create()
            .body(message)
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(422), "{err}");
        assert!(err.to_string().contains(names), "{names}: {err}");
    }
    assert!(sandbox.sent_messages().is_empty());
}

/// The figures of BENCHMARKS.md's campaign table (which the README's
/// "Campaigns" quotes): 10,000 rows sent as one dynamic
/// message and as one message per row, against the sandbox. Requests are
/// counted by the sandbox; Whispir counts each request against the plan's
/// daily quota, so they are also the quota units spent. Wall times are
/// printed (`cargo test -p whispir-tests --test suite campaigns::ten --
/// --nocapture`), not asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_rows_cost_three_requests_dynamic_and_ten_thousand_per_row() {
    const ROWS: usize = 10_000;
    let dynamic = sandbox(20_000).await;
    let started = Instant::now();
    Campaign::from_csv(&rows(ROWS))
        .unwrap()
        .sms("mobile", TEXT)
        .send(dynamic.client())
        .await
        .unwrap();
    let dynamic_time = started.elapsed();
    let dynamic_requests = dynamic.requests().len();

    let per_row = sandbox(20_000).await;
    let client = per_row.client();
    let started = Instant::now();
    let sends = futures::stream::iter(1..=ROWS)
        .map(|row| async move {
            client
                .message_create()
                .body(Message::sms(mobile(row), expected_text(row)))
                .send()
                .await
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
    let per_row_time = started.elapsed();
    assert!(sends.iter().all(Result::is_ok));
    let per_row_requests = per_row.requests().len();

    eprintln!(
        "{ROWS} rows: dynamic {dynamic_requests} requests in {dynamic_time:?}; \
         per row {per_row_requests} requests in {per_row_time:?}"
    );
    assert_eq!(dynamic_requests, 3);
    assert_eq!(per_row_requests, ROWS);
    assert!(per_row_requests / dynamic_requests >= 3_000);
    assert_eq!(dynamic.sent_messages().len(), ROWS);
    assert_eq!(per_row.sent_messages().len(), ROWS);
}
