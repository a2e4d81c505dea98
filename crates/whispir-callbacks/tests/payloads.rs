//! Each kind of payload Whispir sends, as this crate reads it. The
//! snapshots under `tests/snapshots/` are the reviewed record: the kind,
//! the channel, and every field, unknown ones included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use serde_json::json;
use whispir_callbacks::{BodyFormat, parse_body};

fn snapshot_of(format: BodyFormat, body: &str) -> serde_json::Value {
    let callback = parse_body(format, body.as_bytes()).expect("the fixture parses");
    json!({
        "kind": callback.kind(),
        "channel": callback.channel().map(|channel| format!("{channel:?}")),
        "callback": callback,
    })
}

macro_rules! payload_snapshot {
    ($name:ident, $format:expr, $file:literal) => {
        #[test]
        fn $name() {
            let body = include_str!(concat!("fixtures/", $file));
            insta::assert_json_snapshot!(stringify!($name), snapshot_of($format, body));
        }
    };
}

payload_snapshot!(reply_sms_json, BodyFormat::Json, "reply_sms.json");
payload_snapshot!(
    undeliverable_sms_json,
    BodyFormat::Json,
    "undeliverable_sms.json"
);
payload_snapshot!(
    reply_with_custom_parameters_json,
    BodyFormat::Json,
    "reply_with_custom_parameters.json"
);
payload_snapshot!(future_fields_json, BodyFormat::Json, "future_fields.json");
payload_snapshot!(reply_email_xml, BodyFormat::Xml, "reply_email.xml");
payload_snapshot!(
    undeliverable_voice_xml,
    BodyFormat::Xml,
    "undeliverable_voice.xml"
);
payload_snapshot!(future_fields_xml, BodyFormat::Xml, "future_fields.xml");
