//! The `schemars` feature: generated models describe themselves.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;

fn spec_fields(schema_name: &str) -> BTreeSet<String> {
    let bundled: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/bundled.json"))
            .expect("bundled.json is JSON");
    bundled["components"]["schemas"][schema_name]["properties"]
        .as_object()
        .expect("the schema has properties")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn message_schema_names_the_same_fields_as_the_spec() {
    let schema =
        serde_json::to_value(schemars::schema_for!(whispir::types::Message)).expect("serializes");
    let fields: BTreeSet<String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    assert_eq!(fields, spec_fields("Message"));
}
