//! 1,000 message sends through a server that resets connections, answers
//! 500, 503, 429 and 403 over-QPS, or answers too late. Afterwards every
//! send is either acknowledged by the server exactly once, or reported to
//! the caller as failed (not carried out) or as maybe carried out: none is
//! lost silently, none is duplicated.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use futures::StreamExt as _;
use whispir::CallOptions;
use whispir::types::Message;
use whispir_tests::faulty_server::{Fault, FaultyServer};
use whispir_tests::{fast_retries, mock_builder};

const SENDS: usize = 1000;

fn fault_for(request: u64) -> Fault {
    let mut rng = fastrand::Rng::with_seed(request);
    match rng.u8(0..100) {
        0..40 => Fault::Accept,
        40..50 => Fault::ResetBeforeActing,
        50..56 => Fault::ResetAfterActing,
        56..62 => Fault::ActThenFail,
        62..70 => Fault::Unavailable,
        70..80 => Fault::TooManyRequests,
        80..90 => Fault::OverQps,
        90..95 => Fault::Slow(Duration::from_millis(400)),
        _ => Fault::Slow(Duration::from_millis(10)),
    }
}

#[derive(Debug, Default)]
struct Tally {
    acknowledged: usize,
    failed_not_carried_out: usize,
    maybe_carried_out: usize,
    maybe_and_carried_out: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_send_is_lost_silently_or_duplicated() {
    let server = FaultyServer::start(fault_for).await;
    let options = CallOptions {
        retry_budget: 1_000_000,
        ..fast_retries(4)
    };
    let client = mock_builder(&server.uri, options)
        .attempt_timeout(Duration::from_millis(200))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();

    let outcomes: Vec<(String, Result<(), whispir::Error>)> = futures::stream::iter(0..SENDS)
        .map(|i| {
            let client = client.clone();
            async move {
                let subject = format!("send-{i}");
                let body: Message = serde_json::from_value(
                    serde_json::json!({ "to": "61400000001", "subject": subject }),
                )
                .unwrap();
                let result = client.message_create().body(body).send().await.map(|_| ());
                (subject, result)
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;

    let mut tally = Tally::default();
    for (subject, result) in &outcomes {
        let acted = server.acted_on(subject);
        assert!(acted <= 1, "{subject} was carried out {acted} times");
        match result {
            Ok(()) => {
                assert_eq!(acted, 1, "{subject} was acknowledged but not carried out");
                tally.acknowledged += 1;
            }
            Err(err) if err.may_have_been_processed() => {
                tally.maybe_carried_out += 1;
                tally.maybe_and_carried_out += usize::try_from(acted).unwrap();
            }
            Err(err) => {
                assert_eq!(
                    acted, 0,
                    "{subject} was carried out but reported as not: {err}"
                );
                tally.failed_not_carried_out += 1;
            }
        }
    }
    println!(
        "{SENDS} sends over {} requests: {tally:?}",
        server.requests()
    );
    assert_eq!(
        tally.acknowledged + tally.failed_not_carried_out + tally.maybe_carried_out,
        SENDS
    );
    assert!(
        tally.acknowledged > SENDS / 2,
        "retries should rescue most refused sends: {tally:?}"
    );
    // The faults were exercised: refused sends were retried, and some sends
    // ended in doubt. (Which send meets which fault depends on scheduling,
    // so only outcomes that a quarter of all requests lead to are required.)
    assert!(server.requests() > SENDS as u64, "no retries happened");
    assert!(
        tally.maybe_carried_out > 0,
        "no send ended in doubt: {tally:?}"
    );
}
