use std::time::{Duration, Instant};

use super::*;
use crate::receiver::{BodyFormat, parse_body};

fn reply(message_id: &str, mobile: &str, at: &str, content: &str) -> Callback {
    let body = serde_json::json!({
        "messageid": message_id,
        "from": {"mobile": mobile},
        "responseMessage": {"channel": "SMS", "acknowledged": at, "content": content},
    });
    parse_body(BodyFormat::Json, body.to_string().as_bytes()).expect("parses")
}

const HOUR: Duration = Duration::from_secs(3600);

fn claimed(claim: Claim) -> ClaimTicket {
    match claim {
        Claim::Claimed(ticket) => ticket,
        other => panic!("expected a claim, got {other:?}"),
    }
}

/// Claims and marks done at once: the event was acted on.
fn act(seen: &Deduplicator, callback: &Callback) -> bool {
    match seen.claim(callback) {
        Claim::Claimed(ticket) => {
            seen.done(&ticket);
            true
        }
        _ => false,
    }
}

#[test]
fn a_retry_after_done_is_done() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "01/02/24 10:00", "Y");
    let ticket = claimed(seen.claim(&callback));
    seen.done(&ticket);
    assert_eq!(seen.claim(&callback.clone()), Claim::Done);
    assert_eq!(seen.len(), 1);
}

#[test]
fn a_retry_while_claimed_is_in_progress_for_the_rest_of_the_lease() {
    let seen = Deduplicator::new(10, HOUR).lease(Duration::from_secs(60));
    let callback = reply("M1", "+61400000001", "t", "Y");
    let start = Instant::now();
    claimed(seen.claim_at(&callback, start));
    assert_eq!(
        seen.claim_at(&callback, start + Duration::from_secs(20)),
        Claim::InProgress {
            retry_after: Duration::from_secs(40)
        }
    );
}

#[test]
fn a_claim_whose_lease_ran_out_is_taken_over() {
    let seen = Deduplicator::new(10, HOUR).lease(Duration::from_secs(60));
    let callback = reply("M1", "+61400000001", "t", "Y");
    let start = Instant::now();
    let first = claimed(seen.claim_at(&callback, start));
    let second = claimed(seen.claim_at(&callback, start + Duration::from_secs(60)));
    assert_ne!(first, second);
    // The first holder's release no longer frees the event.
    seen.release(&first);
    assert!(matches!(
        seen.claim_at(&callback, start + Duration::from_secs(61)),
        Claim::InProgress { .. }
    ));
}

#[test]
fn a_failed_handler_releases_its_claim_and_the_retry_is_acted_on() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    let ticket = claimed(seen.claim(&callback));
    seen.release(&ticket);
    assert!(seen.is_empty());
    assert!(act(&seen, &callback), "the retry is acted on");
    assert_eq!(seen.claim(&callback), Claim::Done);
}

#[test]
fn different_events_on_one_message_are_each_new() {
    let seen = Deduplicator::new(10, HOUR);
    assert!(act(
        &seen,
        &reply("M1", "+61400000001", "01/02/24 10:00", "Y")
    ));
    assert!(
        act(&seen, &reply("M1", "+61400000002", "01/02/24 10:00", "Y")),
        "another recipient"
    );
    assert!(
        act(&seen, &reply("M1", "+61400000001", "01/02/24 10:05", "N")),
        "a second reply"
    );
    assert!(
        act(&seen, &reply("M2", "+61400000001", "01/02/24 10:00", "Y")),
        "another message"
    );
    let mut failed = reply("M1", "+61400000001", "01/02/24 10:00", "Y");
    if let Some(message) = failed.response_message.as_mut() {
        message.acknowledged = None;
        message.undeliverable = Some("01/02/24 10:00".into());
    }
    assert!(act(&seen, &failed), "a failure is another status");
    assert_eq!(seen.len(), 5);
}

#[test]
fn a_done_event_is_new_again_after_remember_done() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    let start = Instant::now();
    let ticket = claimed(seen.claim_at(&callback, start));
    seen.done_at(&ticket, start);
    assert_eq!(
        seen.claim_at(&callback, start + HOUR - Duration::from_secs(1)),
        Claim::Done
    );
    claimed(seen.claim_at(&callback, start + HOUR));
}

#[test]
fn memory_is_bounded_by_capacity_oldest_forgotten_first() {
    let seen = Deduplicator::new(3, HOUR);
    let events: Vec<Callback> = (0..5)
        .map(|i| reply(&format!("M{i}"), "+61400000001", "t", "Y"))
        .collect();
    for event in &events {
        assert!(act(&seen, event));
    }
    assert_eq!(seen.len(), 3);
    assert!(!act(&seen, &events[4]));
    assert!(!act(&seen, &events[2]));
    assert!(act(&seen, &events[0]), "the oldest was forgotten");
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_capacity_of_zero_still_remembers_one() {
    let seen = Deduplicator::new(0, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    assert!(act(&seen, &callback));
    assert!(!act(&seen, &callback));
}

#[test]
fn claims_and_releases_without_end_keep_the_order_bounded() {
    let seen = Deduplicator::new(4, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    for _ in 0..1_000 {
        let ticket = claimed(seen.claim(&callback));
        seen.release(&ticket);
    }
    assert!(seen.lock().order.len() <= 8);
}

#[test]
fn the_same_reply_to_two_sends_with_different_custom_parameters_is_new_each_time() {
    let seen = Deduplicator::new(10, HOUR);
    let to_send = |order: &str| {
        let mut callback = reply("M1", "+61400000001", "01/02/24 10:00", "Y");
        callback
            .custom_parameters
            .insert("orderId".into(), order.into());
        callback
    };
    assert!(act(&seen, &to_send("ORD-1")));
    assert!(
        act(&seen, &to_send("ORD-2")),
        "another send's reply, not a retry"
    );
    assert!(!act(&seen, &to_send("ORD-1")), "a retry of the first");
    assert_eq!(seen.len(), 2);
}

#[test]
fn a_field_missing_from_one_event_does_not_line_up_with_the_next() {
    // "AB" + missing vs missing + "AB": the tags keep them apart.
    let seen = Deduplicator::new(10, HOUR);
    let mut one = reply("M1", "+61400000001", "t", "Y");
    let mut other = one.clone();
    if let (Some(a), Some(b)) = (one.from.as_mut(), other.from.as_mut()) {
        a.mobile = Some("AB".into());
        a.email = None;
        b.mobile = None;
        b.email = Some("AB".into());
    }
    assert!(act(&seen, &one));
    assert!(act(&seen, &other));
}

#[test]
fn a_live_claim_is_never_forgotten_to_make_room() {
    let seen = Deduplicator::new(2, HOUR);
    let start = Instant::now();
    let held = reply("M0", "+61400000001", "t", "Y");
    claimed(seen.claim_at(&held, start));
    for i in 1..4 {
        let event = reply(&format!("M{i}"), "+61400000001", "t", "Y");
        if let Claim::Claimed(ticket) = seen.claim_at(&event, start) {
            seen.done_at(&ticket, start);
        }
    }
    assert!(
        matches!(seen.claim_at(&held, start), Claim::InProgress { .. }),
        "a retry while the first delivery is handled must not act too"
    );
    assert!(seen.len() <= 2, "still bounded: {}", seen.len());
}

#[test]
fn a_store_full_of_live_claims_answers_a_new_event_in_progress() {
    let seen = Deduplicator::new(1, HOUR);
    let start = Instant::now();
    claimed(seen.claim_at(&reply("M0", "+61400000001", "t", "Y"), start));
    let other = reply("M1", "+61400000001", "t", "Y");
    assert!(matches!(
        seen.claim_at(&other, start),
        Claim::InProgress { .. }
    ));
    // Once the lease ran out, the claim is forgotten to make room.
    claimed(seen.claim_at(&other, start + DEFAULT_LEASE + Duration::from_secs(1)));
    assert_eq!(seen.len(), 1);
}

#[test]
fn the_json_and_xml_forms_of_one_callback_are_one_event() {
    let json = br#"{"messageid":"M1","from":{"name":"Ann","mobile":"+61400000001"},"responseMessage":{"channel":"SMS","acknowledged":"01/02/24 10:00","content":" Yes &amp; no\n"},"customParameters":{"order":"42","shift":"7"}}"#;
    let xml = b"<ns2:deliveryResponse xmlns:ns2=\"http://schemas.api.whispir.com\"><messageid>M1</messageid><from><name>Ann</name><mobile>+61400000001</mobile></from><responseMessage><channel>SMS</channel><acknowledged>01/02/24 10:00</acknowledged><content> Yes &amp;amp; no&#10;</content></responseMessage><customParameters><entry><key>shift</key><value>7</value></entry><entry><key>order</key><value>42</value></entry></customParameters></ns2:deliveryResponse>";
    let from_json = parse_body(BodyFormat::Json, json).expect("JSON parses");
    let from_xml = parse_body(BodyFormat::Xml, xml).expect("XML parses");
    let seen = Deduplicator::new(10, HOUR);
    assert!(act(&seen, &from_json));
    assert_eq!(
        seen.claim(&from_xml),
        Claim::Done,
        "{from_json:?} vs {from_xml:?}"
    );
}
