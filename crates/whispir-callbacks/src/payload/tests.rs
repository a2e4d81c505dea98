use super::*;
use crate::receiver::{BodyFormat, parse_body};

fn parse(json: &str) -> Callback {
    serde_json::from_str(json).expect("parses")
}

#[test]
fn reads_the_documented_reply() {
    let callback = parse(
        r#"{
          "messageid": "ABC4857BCCF484575FCA",
          "messagelocation": "https://api.au.whispir.com/messages/ABC4857BCCF484575FCA",
          "from": {"name": "Fred Waters", "mri": "Fred_Waters.528798.Sandbox@Contact.whispir.com",
                   "mobile": "+1000000000", "email": "me@example.com", "voice": "+1000000000"},
          "responseMessage": {"channel": "SMS", "acknowledged": "09/01/16 13:22", "content": "Yes"}
        }"#,
    );
    assert_eq!(callback.message_id, "ABC4857BCCF484575FCA");
    assert_eq!(callback.kind(), CallbackKind::Reply);
    assert_eq!(callback.channel(), Some(&Channel::Sms));
    assert_eq!(callback.content(), Some("Yes"));
    let from = callback.from.expect("from");
    assert_eq!(
        from.mri.as_deref(),
        Some("Fred_Waters.528798.Sandbox@Contact.whispir.com")
    );
    assert!(callback.extra.is_empty());
}

#[test]
fn reads_the_other_spellings_whispir_uses() {
    let callback = parse(
        r#"{"messageId": "A1", "location": "https://example.test/messages/A1",
            "responsemessage": {"channel": "sms", "undeliverable": "09/01/16 13:22"}}"#,
    );
    assert_eq!(callback.message_id, "A1");
    assert_eq!(
        callback.message_location.as_deref(),
        Some("https://example.test/messages/A1")
    );
    assert_eq!(callback.kind(), CallbackKind::Undeliverable);
}

#[test]
fn undeliverable_wins_over_acknowledged() {
    let callback = parse(
        r#"{"messageid": "A1", "responseMessage": {"acknowledged": "x", "undeliverable": "y"}}"#,
    );
    assert_eq!(callback.kind(), CallbackKind::Undeliverable);
}

#[test]
fn without_either_timestamp_the_kind_is_unknown() {
    assert_eq!(
        parse(r#"{"messageid": "A1"}"#).kind(),
        CallbackKind::Unknown
    );
}

#[test]
fn unknown_fields_are_kept_at_every_level() {
    let callback = parse(
        r#"{"messageid": "A1", "status": "DELIVRD", "nested": {"a": [1, 2]},
            "from": {"name": "N", "twitter": "@n"},
            "responseMessage": {"channel": "SMS", "sentiment": 0.5}}"#,
    );
    assert_eq!(callback.extra.get("status"), Some(&Value::from("DELIVRD")));
    assert_eq!(
        callback.extra.get("nested"),
        Some(&serde_json::json!({"a": [1, 2]}))
    );
    let from = callback.from.expect("from");
    assert_eq!(from.extra.get("twitter"), Some(&Value::from("@n")));
    let message = callback.response_message.expect("message");
    assert_eq!(message.extra.get("sentiment"), Some(&Value::from(0.5)));
}

#[test]
fn channels_are_read_without_regard_to_case_and_unknown_ones_kept() {
    assert_eq!(Channel::from_name("sms"), Channel::Sms);
    assert_eq!(Channel::from_name("Email"), Channel::Email);
    assert_eq!(Channel::from_name("VOICE"), Channel::Voice);
    assert_eq!(Channel::from_name("N/A"), Channel::NotApplicable);
    assert_eq!(
        Channel::from_name("WhatsApp"),
        Channel::Unknown("WhatsApp".into())
    );
    assert_eq!(Channel::from_name("WhatsApp").as_str(), "WhatsApp");
}

#[test]
fn empty_strings_mean_absent() {
    let callback = parse(r#"{"messageid": "A1", "from": {"email": "", "voice": ""}}"#);
    let from = callback.from.expect("from");
    assert_eq!(from.email, None);
    assert_eq!(from.voice, None);
}

#[test]
fn custom_parameters_as_an_object_keep_non_text_values_as_json_text() {
    let callback = parse(
        r#"{"messageid": "A1", "customParameters": {"CustomerId": "C-1", "count": 3, "gone": null}}"#,
    );
    assert_eq!(callback.custom_parameter("CustomerId"), Some("C-1"));
    assert_eq!(callback.custom_parameter("count"), Some("3"));
    assert_eq!(callback.custom_parameter("gone"), None);
}

#[test]
fn custom_parameters_as_entries_are_read() {
    let callback = parse(
        r#"{"messageid": "A1", "customParameters": {"entry": [
            {"key": "a", "value": "1"}, {"key": "b", "value": null}]}}"#,
    );
    assert_eq!(callback.custom_parameter("a"), Some("1"));
    assert_eq!(callback.custom_parameter("b"), Some(""));
    let single =
        parse(r#"{"messageid": "A1", "customParameters": {"entry": {"key": "k", "value": "v"}}}"#);
    assert_eq!(single.custom_parameter("k"), Some("v"));
}

#[test]
fn a_parameter_named_entry_is_an_ordinary_parameter() {
    let callback = parse(r#"{"messageid": "A1", "customParameters": {"entry": "front door"}}"#);
    assert_eq!(callback.custom_parameter("entry"), Some("front door"));
    let callback = parse(r#"{"messageid": "A1", "customParameters": {"entry": ["a", "b"]}}"#);
    assert_eq!(callback.custom_parameter("entry"), Some(r#"["a","b"]"#));
}

#[test]
fn custom_parameters_of_another_type_are_malformed() {
    let result = serde_json::from_str::<Callback>(r#"{"messageid": "A1", "customParameters": 7}"#);
    assert!(result.is_err());
    let result =
        serde_json::from_str::<Callback>(r#"{"messageid": "A1", "customParameters": [7]}"#);
    assert!(result.is_err());
    let result = serde_json::from_str::<Callback>(
        r#"{"messageid": "A1", "customParameters": {"entry": {"key": null, "value": "v"}}}"#,
    );
    assert!(result.is_err());
}

#[test]
fn a_missing_or_empty_message_id_is_malformed() {
    assert!(serde_json::from_str::<Callback>(r#"{"from": {}}"#).is_err());
    assert!(serde_json::from_str::<Callback>(r#"{"messageid": ""}"#).is_err());
    assert!(serde_json::from_str::<Callback>(r#"{"messageid": null}"#).is_err());
}

#[test]
fn serialises_in_whispirs_json_shape_and_reads_back() {
    let callback = parse(
        r#"{"messageid": "A1", "messagelocation": "https://x.test/messages/A1",
            "from": {"name": "N"}, "responseMessage": {"channel": "sms", "acknowledged": "t", "content": "Y"},
            "customParameters": {"k": "v"}, "later": true}"#,
    );
    let json = serde_json::to_value(&callback).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({
            "messageid": "A1", "messagelocation": "https://x.test/messages/A1",
            "from": {"name": "N"},
            "responseMessage": {"channel": "SMS", "acknowledged": "t", "content": "Y"},
            "customParameters": {"k": "v"}, "later": true
        })
    );
    assert_eq!(
        serde_json::from_value::<Callback>(json).expect("reads back"),
        callback
    );
}

#[test]
fn both_spellings_of_the_message_id_parse_in_either_order_and_messageid_wins() {
    for body in [
        r#"{"messageid": "A1", "messageId": "B2"}"#,
        r#"{"messageId": "B2", "messageid": "A1"}"#,
    ] {
        let callback = parse(body);
        assert_eq!(callback.message_id, "A1", "{body}");
        assert_eq!(
            callback.extra.get("messageId"),
            Some(&Value::from("B2")),
            "{body}"
        );
    }
}

#[test]
fn both_spellings_of_the_message_id_alike_read_as_that_id() {
    let callback = parse(r#"{"messageId": "A1", "messageid": "A1"}"#);
    assert_eq!(callback.message_id, "A1");
    assert_eq!(callback.extra.get("messageId"), Some(&Value::from("A1")));
}

#[test]
fn both_spellings_of_the_message_id_in_xml_parse_and_messageid_wins() {
    for body in [
        "<r><messageid>A1</messageid><messageId>B2</messageId></r>",
        "<r><messageId>B2</messageId><messageid>A1</messageid></r>",
    ] {
        let callback = parse_body(BodyFormat::Xml, body.as_bytes()).expect("parses");
        assert_eq!(callback.message_id, "A1", "{body}");
        assert_eq!(callback.extra.get("messageId"), Some(&Value::from("B2")));
    }
}

#[test]
fn either_spelling_of_the_message_id_alone_is_read() {
    for body in [
        r#"{"messageid": "A1"}"#,
        r#"{"messageId": "A1"}"#,
        r#"{"messageID": "A1"}"#,
    ] {
        let callback = parse(body);
        assert_eq!(callback.message_id, "A1", "{body}");
        assert!(callback.extra.is_empty(), "{body}");
    }
}

#[test]
fn the_other_spellings_of_a_field_give_way_to_whispirs_documented_one() {
    let callback = parse(
        r#"{"messageId": "B2", "messageID": "C3", "location": "https://x.test/b",
            "messagelocation": "https://x.test/a",
            "responsemessage": {"content": "later"}, "responseMessage": {"content": "first"},
            "customparameters": {"k": "2"}, "customParameters": {"k": "1"}}"#,
    );
    assert_eq!(callback.message_id, "B2", "messageId before messageID");
    assert_eq!(
        callback.message_location.as_deref(),
        Some("https://x.test/a")
    );
    assert_eq!(callback.content(), Some("first"));
    assert_eq!(callback.custom_parameter("k"), Some("1"));
    let kept: Vec<&str> = callback.extra.keys().map(String::as_str).collect();
    assert_eq!(
        kept,
        [
            "customparameters",
            "location",
            "messageID",
            "responsemessage"
        ]
    );
}

#[test]
fn a_callback_read_from_two_spellings_serialises_both_and_reads_back_the_same() {
    let callback = parse(r#"{"messageId": "B2", "messageid": "A1"}"#);
    let json = serde_json::to_value(&callback).expect("serialises");
    assert_eq!(
        json,
        serde_json::json!({"messageid": "A1", "messageId": "B2"})
    );
    assert_eq!(
        serde_json::from_value::<Callback>(json).expect("reads back"),
        callback
    );
}

#[test]
fn the_same_spelling_twice_is_malformed_and_named() {
    let error = serde_json::from_str::<Callback>(r#"{"messageid": "A1", "messageid": "B2"}"#)
        .expect_err("two values, no rule to pick one");
    assert!(
        error.to_string().contains("duplicate field `messageid`"),
        "{error}"
    );
}

#[test]
fn a_bad_field_is_named_as_the_body_spelled_it() {
    let error = serde_json::from_str::<Callback>(r#"{"messageId": 7}"#).expect_err("not text");
    assert!(error.to_string().contains("`messageId`"), "{error}");
    let error = serde_json::from_str::<Callback>(r#"{"messageId": ""}"#).expect_err("empty");
    assert!(
        error.to_string().contains("`messageId` is empty"),
        "{error}"
    );
    let error = serde_json::from_str::<Callback>(r#"{"from": {}}"#).expect_err("no id");
    assert!(
        error.to_string().contains("missing field `messageid`"),
        "{error}"
    );
}
