//! Every operation of the bundled spec is generated and has its media types.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;

use whispir::operations::OperationSpec;

fn bundled() -> serde_json::Value {
    serde_json::from_str(include_str!("../../openapi/bundled.json")).expect("bundled.json is JSON")
}

fn operation_ids() -> BTreeSet<String> {
    let spec = bundled();
    let mut ids = BTreeSet::new();
    for item in spec["paths"].as_object().expect("paths").values() {
        for (method, op) in item.as_object().expect("path item") {
            if method != "parameters" {
                ids.insert(op["operationId"].as_str().expect("operationId").to_string());
            }
        }
    }
    ids
}

#[test]
fn the_whole_api_is_described() {
    assert_eq!(operation_ids().len(), 73);
}

#[test]
fn every_operation_has_vendor_media_types() {
    let table: BTreeSet<String> = OperationSpec::all()
        .iter()
        .map(|m| m.operation_id.to_string())
        .collect();
    assert_eq!(table, operation_ids());
}

#[test]
fn misspelled_upstream_operation_ids_are_fixed() {
    let ids = operation_ids();
    assert!(ids.contains("responseRuleList"));
    assert!(!ids.contains("reponseRuleList"));
}

#[test]
fn reads_answer_200_and_deletes_204() {
    let spec = bundled();
    let template =
        &spec["paths"]["/workspaces/{workspaceId}/templates/{templateId}"]["get"]["responses"];
    assert!(template.get("200").is_some() && template.get("201").is_none());
    let callback = &spec["paths"]["/callbacks/{callbackId}"]["delete"]["responses"];
    assert!(callback.get("204").is_some() && callback.get("200").is_none());
}
