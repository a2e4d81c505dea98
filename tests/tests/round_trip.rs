//! Serialize → deserialize gives the same value for the main models, with
//! arbitrary text, known and unknown enum values, and optional parts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use proptest::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use whispir::types::{Contact, Message, Template};

/// Serializes, parses back and serializes again: both renderings and the
/// input must agree.
fn assert_round_trip<T: Serialize + DeserializeOwned>(input: &Value) {
    let first: T = serde_json::from_value(input.clone()).expect("valid input parses");
    let rendered = serde_json::to_value(&first).expect("serializes");
    let second: T = serde_json::from_value(rendered.clone()).expect("own output parses");
    assert_eq!(serde_json::to_value(&second).expect("serializes"), rendered);
    assert_eq!(&rendered, input, "no field is lost or invented");
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[ -~]{0,40}", "\\PC{0,20}"]
}

fn enum_value(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(known).prop_map(str::to_string),
        "[a-zA-Z]{1,12}"
    ]
}

fn with_optional(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}

fn message() -> impl Strategy<Value = Value> {
    (
        text(),
        text(),
        proptest::option::of(text()),
        proptest::option::of(enum_value(&["default", "defaultNoReply", "noDlr"])),
        proptest::option::of((text(), enum_value(&["text/plain", "text/html"]))),
        // An empty map is written as absent, which reads back the same.
        proptest::option::of(proptest::collection::btree_map("[a-z]{1,8}", text(), 1..4)),
        proptest::option::of(0i64..1_000_000),
    )
        .prop_map(
            |(to, subject, body, kind, email, callback_parameters, repetitions)| {
                let mut map = Map::new();
                map.insert("to".into(), json!(to));
                map.insert("subject".into(), json!(subject));
                with_optional(&mut map, "body", body.map(Value::from));
                with_optional(&mut map, "type", kind.map(Value::from));
                with_optional(
                    &mut map,
                    "email",
                    email.map(|(body, kind)| json!({ "body": body, "type": kind })),
                );
                with_optional(
                    &mut map,
                    "callbackParameters",
                    callback_parameters.map(|m| json!(m)),
                );
                with_optional(&mut map, "repetitionCount", repetitions.map(Value::from));
                Value::Object(map)
            },
        )
}

fn contact() -> impl Strategy<Value = Value> {
    (
        (text(), text(), text(), text(), text(), text()),
        proptest::option::of(enum_value(&["PROJECT", "COMPANY"])),
        proptest::option::of(text()),
    )
        .prop_map(
            |((first, last, timezone, country, email, mobile), kind, job)| {
                let mut map = Map::new();
                for (key, value) in [
                    ("firstName", first),
                    ("lastName", last),
                    ("timezone", timezone),
                    ("workCountry", country),
                    ("workEmailAddress1", email),
                    ("workMobilePhone1", mobile),
                ] {
                    map.insert(key.into(), json!(value));
                }
                with_optional(&mut map, "type", kind.map(Value::from));
                with_optional(&mut map, "jobTitle", job.map(Value::from));
                Value::Object(map)
            },
        )
}

fn template() -> impl Strategy<Value = Value> {
    (text(), text(), text(), proptest::option::of(text())).prop_map(
        |(name, subject, body, description)| {
            let mut map = Map::new();
            map.insert("messageTemplateName".into(), json!(name));
            map.insert("subject".into(), json!(subject));
            map.insert("body".into(), json!(body));
            with_optional(
                &mut map,
                "messageTemplateDescription",
                description.map(Value::from),
            );
            Value::Object(map)
        },
    )
}

proptest! {
    #[test]
    fn messages_round_trip(input in message()) {
        assert_round_trip::<Message>(&input);
    }

    #[test]
    fn contacts_round_trip(input in contact()) {
        assert_round_trip::<Contact>(&input);
    }

    #[test]
    fn templates_round_trip(input in template()) {
        assert_round_trip::<Template>(&input);
    }
}
