//! Values and fields the API adds later must not break older clients.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::enums::{DeliveryCategoryName, MessageType};
use whispir::types::{DeliveryCategory, Message};

#[test]
fn an_unknown_enum_value_is_kept_and_sent_back_unchanged() {
    let json = serde_json::json!({ "to": "61400000001", "subject": "Hi", "type": "priorityDlr" });
    let message: Message = serde_json::from_value(json.clone()).expect("new value parses");
    assert_eq!(
        message.type_,
        Some(MessageType::Unknown("priorityDlr".into()))
    );
    assert!(message.type_.as_ref().is_some_and(MessageType::is_unknown));
    assert_eq!(
        serde_json::to_value(&message).expect("serializes")["type"],
        "priorityDlr"
    );
}

#[test]
fn known_enum_values_are_typed() {
    let category: DeliveryCategory =
        serde_json::from_value(serde_json::json!({ "name": "Acknowledged", "recipientCount": 3 }))
            .expect("parses");
    assert_eq!(category.name, Some(DeliveryCategoryName::Acknowledged));
    assert_eq!(DeliveryCategoryName::from("Sent").to_string(), "Sent");
    assert_eq!(
        "Read".parse::<DeliveryCategoryName>(),
        Ok(DeliveryCategoryName::Unknown("Read".into()))
    );
}

#[test]
fn unknown_fields_are_kept_and_sent_back_unchanged() {
    let json = serde_json::json!({
        "to": "61400000001", "subject": "Hi", "aFieldFromTheFuture": { "nested": true }
    });
    let message: Message = serde_json::from_value(json.clone()).expect("extra fields are fine");
    assert_eq!(message.subject, "Hi");
    assert_eq!(message.extra_fields["aFieldFromTheFuture"]["nested"], true);
    assert_eq!(serde_json::to_value(&message).expect("serializes"), json);
}
