//! Read-modify-write loses nothing: for every resource type an operation
//! reads or writes, a JSON body carrying every property its schema in
//! `openapi/bundled.json` names (nested ones included) goes through the
//! generated type, deserialize then serialize, and comes back unchanged.
//!
//! The bodies are built from the bundled schemas, not written by hand, so a
//! property the spec declares but the generated type drops fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use whispir::types;

/// How deep a recursive schema is followed before a property is left out.
const MAX_DEPTH: usize = 8;

pub(crate) fn bundled() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/bundled.json");
    let text = std::fs::read_to_string(path).expect("openapi/bundled.json is readable");
    serde_json::from_str(&text).expect("openapi/bundled.json is JSON")
}

pub(crate) fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> (&'a Value, Option<&'a str>) {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let target = spec
                .pointer(reference.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("{reference} resolves"));
            (target, reference.rsplit('/').next())
        }
        None => (schema, None),
    }
}

/// A value for a string schema that its generated type accepts.
fn string_for(schema: &Value, place: &str) -> Value {
    match schema.get("format").and_then(Value::as_str) {
        Some("date-time") => json!("2024-05-06T07:08:09Z"),
        Some("email") => json!("ada@example.com"),
        Some("uri") => json!("https://api.au.whispir.com/workspaces/9A4C5521FFC7B15B"),
        Some("uuid") => json!("0f8fad5b-d9cb-469f-a165-70867728950e"),
        _ => json!(format!("text of {place}")),
    }
}

/// A body with every property the schema names, recursively. `stack` holds
/// the component names being expanded, so recursive schemas end.
pub(crate) fn full_body(
    spec: &Value,
    schema: &Value,
    place: &str,
    stack: &mut Vec<String>,
) -> Option<Value> {
    let (schema, name) = resolve(spec, schema);
    if let Some(name) = name {
        if stack.iter().filter(|n| *n == name).count() > 1 || stack.len() > MAX_DEPTH {
            return None;
        }
        stack.push(name.to_string());
    }
    let value = body_of(spec, schema, place, stack);
    if name.is_some() {
        stack.pop();
    }
    Some(value)
}

fn body_of(spec: &Value, schema: &Value, place: &str, stack: &mut Vec<String>) -> Value {
    if let Some(first) = schema
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|v| v.first())
    {
        return first.clone();
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    let kind = schema.get("type").and_then(Value::as_str);
    match kind {
        Some("string") => string_for(schema, place),
        Some("integer") => {
            let minimum = schema.get("minimum").and_then(Value::as_i64).unwrap_or(0);
            json!(minimum.max(0) + 7)
        }
        Some("number") => json!(2.5),
        Some("boolean") => json!(true),
        Some("array") => {
            let items = schema.get("items").expect("an array names its items");
            match full_body(spec, items, &format!("{place}[]"), stack) {
                Some(item) => json!([item]),
                None => json!([]),
            }
        }
        _ if properties.is_some() || kind == Some("object") => {
            let mut map = Map::new();
            for (name, property) in properties.into_iter().flatten() {
                if let Some(value) = full_body(spec, property, &format!("{place}.{name}"), stack) {
                    map.insert(name.clone(), value);
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|a| a.is_object())
                && let Some(value) = full_body(spec, extra, &format!("{place}{{}}"), stack)
            {
                map.insert("extraKey".into(), value);
            }
            Value::Object(map)
        }
        other => panic!("{place}: no body for a schema of type {other:?}: {schema}"),
    }
}

/// Every property path a body carries, e.g. `Contact.link[].rel`.
fn paths(value: &Value, place: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = format!("{place}.{key}");
                out.insert(path.clone());
                paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                paths(item, &format!("{place}[]"), out);
            }
        }
        _ => {}
    }
}

fn round_trip<T: Serialize + DeserializeOwned>(name: &str, body: &Value) {
    let read: T = serde_json::from_value(body.clone()).unwrap_or_else(|err| {
        panic!("{name}: the full body does not deserialize: {err}\n{body:#}")
    });
    let written = serde_json::to_value(&read).expect("serializes");
    if &written != body {
        let (mut sent, mut back) = (BTreeSet::new(), BTreeSet::new());
        paths(body, name, &mut sent);
        paths(&written, name, &mut back);
        let lost: Vec<_> = sent.difference(&back).collect();
        let invented: Vec<_> = back.difference(&sent).collect();
        panic!(
            "{name}: read-modify-write changed the body\nlost: {lost:?}\ninvented: {invented:?}\n\
             sent: {body:#}\nwritten back: {written:#}"
        );
    }
}

/// Runs the round trip through the generated type named like the schema.
/// A resource type without an arm here fails, so a new one cannot be skipped.
fn round_trip_named(name: &str, body: &Value) {
    macro_rules! by_name {
        ($($ty:ident),* $(,)?) => {
            match name {
                $(stringify!($ty) => round_trip::<types::$ty>(name, body),)*
                other => panic!("{other}: add the generated type to read_modify_write.rs"),
            }
        };
    }
    by_name!(
        Activity,
        ActivityCollection,
        Auth,
        Callback,
        CallbackCall,
        CallbackCallCollection,
        CallbackCollection,
        Contact,
        ContactCollection,
        CustomList,
        CustomListCollection,
        DistributionList,
        DistributionListCollection,
        Event,
        EventCollection,
        Import,
        Key,
        KeyCollection,
        Message,
        MessageCollection,
        MessageResponseCollection,
        MessageStatusCollection,
        Otp,
        Resource,
        ResourceCollection,
        ResponseRule,
        ResponseRuleCollection,
        Scenario,
        ScenarioCollection,
        SendCodeCreateBody,
        Template,
        TemplateCollection,
        User,
        UserCollection,
        VerifyCodeCreateBody,
        Workspace,
        WorkspaceCollection,
    );
}

/// The schemas operations send or answer with (2xx), by generated type
/// name: a component's name, or `{OperationId}Body` for an inline request.
fn resource_schemas(spec: &Value) -> BTreeMap<String, Value> {
    let mut found = BTreeMap::new();
    let operations = spec["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values());
    for operation in operations {
        let request = operation.pointer("/requestBody/content");
        let responses = operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(status, _)| status.starts_with('2'))
            .filter_map(|(_, response)| response.get("content"));
        for (is_request, content) in request
            .into_iter()
            .map(|c| (true, c))
            .chain(responses.map(|c| (false, c)))
        {
            for media in content.as_object().expect("content").values() {
                let Some(schema) = media.get("schema") else {
                    continue;
                };
                if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    found.insert(name.to_string(), schema.clone());
                } else if is_request && schema.get("properties").is_some() {
                    let id = operation["operationId"].as_str().expect("operationId");
                    let mut name = id[..1].to_ascii_uppercase();
                    name.push_str(&id[1..]);
                    found.insert(format!("{name}Body"), schema.clone());
                }
            }
        }
    }
    found
}

#[test]
fn every_resource_type_keeps_every_property_through_read_modify_write() {
    let spec = bundled();
    let schemas = resource_schemas(&spec);
    assert!(schemas.len() >= 30, "found only {:?}", schemas.keys());
    for expected in [
        "Message",
        "Contact",
        "TemplateCollection",
        "SendCodeCreateBody",
    ] {
        assert!(
            schemas.contains_key(expected),
            "{expected} is not exercised"
        );
    }
    for (name, schema) in &schemas {
        let body = full_body(&spec, schema, name, &mut Vec::new()).expect("a body");
        let mut carried = BTreeSet::new();
        paths(&body, name, &mut carried);
        assert!(!carried.is_empty(), "{name}: the body carries no property");
        round_trip_named(name, &body);
    }
}

#[test]
fn restored_properties_are_carried_by_the_full_bodies() {
    let spec = bundled();
    for (name, property) in [
        ("Contact", "title"),
        ("User", "title"),
        ("Activity", "description"),
        ("Key", "description"),
        ("DistributionList", "description"),
        ("ResponseRule", "description"),
        ("Scenario", "description"),
    ] {
        let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
        let body = full_body(&spec, &schema, name, &mut Vec::new()).expect("a body");
        assert!(body.get(property).is_some(), "{name}.{property}");
    }
}

#[test]
fn an_empty_rcs_share_location_action_is_written_back() {
    let suggestion = json!({
        "postbackData": "where",
        "shareLocationAction": {},
        "text": "Where are you?"
    });
    let read: types::RcsSuggestion = serde_json::from_value(suggestion.clone()).expect("reads");
    assert_eq!(serde_json::to_value(&read).expect("serializes"), suggestion);
}

#[test]
fn a_resource_read_without_its_write_only_content_deserializes() {
    // `derefUri` is required on upload only; a read does not carry it.
    let read: types::Resource = serde_json::from_value(json!({
        "name": "logo.png",
        "scope": "private",
        "mimeType": "image/png"
    }))
    .expect("a resource as the API answers it");
    assert!(read.deref_uri.is_none());
}

#[test]
fn a_contact_read_then_written_keeps_its_title() {
    let read: types::Contact = serde_json::from_value(json!({
        "firstName": "Ada",
        "lastName": "Lovelace",
        "workMobilePhone1": "61400000000",
        "workEmailAddress1": "ada@example.com",
        "workCountry": "Australia",
        "timezone": "Australia/Melbourne",
        "title": "Dr"
    }))
    .expect("a contact");
    let written = serde_json::to_value(&read).expect("serializes");
    assert_eq!(written["title"], "Dr");
}
