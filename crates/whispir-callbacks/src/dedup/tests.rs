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

#[test]
fn a_retry_is_seen_once() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "01/02/24 10:00", "Y");
    assert!(seen.first_time(&callback));
    assert!(!seen.first_time(&callback.clone()));
    assert_eq!(seen.len(), 1);
}

#[test]
fn different_events_on_one_message_are_each_new() {
    let seen = Deduplicator::new(10, HOUR);
    assert!(seen.first_time(&reply("M1", "+61400000001", "01/02/24 10:00", "Y")));
    assert!(
        seen.first_time(&reply("M1", "+61400000002", "01/02/24 10:00", "Y")),
        "another recipient"
    );
    assert!(
        seen.first_time(&reply("M1", "+61400000001", "01/02/24 10:05", "N")),
        "a second reply"
    );
    assert!(
        seen.first_time(&reply("M2", "+61400000001", "01/02/24 10:00", "Y")),
        "another message"
    );
    let mut failed = reply("M1", "+61400000001", "01/02/24 10:00", "Y");
    if let Some(message) = failed.response_message.as_mut() {
        message.acknowledged = None;
        message.undeliverable = Some("01/02/24 10:00".into());
    }
    assert!(seen.first_time(&failed), "a failure is another status");
    assert_eq!(seen.len(), 5);
}

#[test]
fn an_event_is_new_again_after_the_ttl() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    let start = Instant::now();
    assert!(seen.first_time_at(&callback, start));
    assert!(!seen.first_time_at(&callback, start + HOUR - Duration::from_secs(1)));
    assert!(seen.first_time_at(&callback, start + HOUR));
}

#[test]
fn memory_is_bounded_by_capacity_oldest_forgotten_first() {
    let seen = Deduplicator::new(3, HOUR);
    let events: Vec<Callback> = (0..5)
        .map(|i| reply(&format!("M{i}"), "+61400000001", "t", "Y"))
        .collect();
    for event in &events {
        assert!(seen.first_time(event));
    }
    assert_eq!(seen.len(), 3);
    assert!(!seen.first_time(&events[4]));
    assert!(!seen.first_time(&events[2]));
    assert!(seen.first_time(&events[0]), "the oldest was forgotten");
    assert_eq!(seen.len(), 3);
}

#[test]
fn a_capacity_of_zero_still_remembers_one() {
    let seen = Deduplicator::new(0, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    assert!(seen.first_time(&callback));
    assert!(!seen.first_time(&callback));
}

#[test]
fn forget_lets_the_next_delivery_in() {
    let seen = Deduplicator::new(10, HOUR);
    let callback = reply("M1", "+61400000001", "t", "Y");
    assert!(seen.first_time(&callback));
    seen.forget(&callback);
    assert!(seen.is_empty());
    assert!(seen.first_time(&callback));
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
    assert!(seen.first_time(&to_send("ORD-1")));
    assert!(
        seen.first_time(&to_send("ORD-2")),
        "another send's reply, not a retry"
    );
    assert!(!seen.first_time(&to_send("ORD-1")), "a retry of the first");
    assert_eq!(seen.len(), 2);
}
