//! No field lost: for every resource type the SDK reads and writes back,
//! a server answers with every documented field plus fields the spec does
//! not have (at the top level, in nested objects and in list items); the
//! SDK's generated operation reads it, one field is changed through the
//! model's builder, and the SDK's update operation writes it back. The
//! server must receive every unknown field unchanged, the changed field
//! changed, and everything else as it sent it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeSet;

use serde_json::{Value, json};
use whispir_tests::mock_client;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::read_modify_write::{bundled, full_body, resolve};

/// The value every changed field is given.
const CHANGED: &str = "changed by the round trip";

/// A value no `Debug` output may show: unknown fields may hold people's data.
const PRIVATE: &str = "a value Debug must not show";

/// A body with every property the schema of component `name` documents,
/// plus a field the spec does not have in every object with declared
/// properties. Returns it with the JSON pointers of the added fields.
fn body_with_unknown_fields(spec: &Value, name: &str) -> (Value, Vec<String>) {
    let schema = json!({ "$ref": format!("#/components/schemas/{name}") });
    let mut body = full_body(spec, &schema, name, &mut Vec::new()).expect("a body");
    let mut added = Vec::new();
    add_unknown_fields(spec, &schema, &mut body, "", &mut added);
    (body, added)
}

fn add_unknown_fields(
    spec: &Value,
    schema: &Value,
    value: &mut Value,
    pointer: &str,
    added: &mut Vec<String>,
) {
    let (schema, _) = resolve(spec, schema);
    match value {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return; // a free-form map: every key is its own already
            };
            for (key, child) in map.iter_mut() {
                if let Some(property) = properties.get(key) {
                    add_unknown_fields(spec, property, child, &format!("{pointer}/{key}"), added);
                }
            }
            map.insert(
                "addedLater".into(),
                json!({ "at": pointer, "list": [1, 2.5, null, { "note": PRIVATE }], "flag": true }),
            );
            map.insert("addedLaterToo".into(), json!(["a", 7]));
            added.push(format!("{pointer}/addedLater"));
            added.push(format!("{pointer}/addedLaterToo"));
        }
        Value::Array(items) => {
            let Some(item_schema) = schema.get("items") else {
                return;
            };
            for (index, item) in items.iter_mut().enumerate() {
                add_unknown_fields(
                    spec,
                    item_schema,
                    item,
                    &format!("{pointer}/{index}"),
                    added,
                );
            }
        }
        _ => {}
    }
}

/// Every pointer of every leaf and object in a body, e.g. `/link/0/rel`.
fn pointers(value: &Value, pointer: &str, out: &mut BTreeSet<String>) {
    out.insert(pointer.to_string());
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                pointers(child, &format!("{pointer}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                pointers(item, &format!("{pointer}/{index}"), out);
            }
        }
        _ => {}
    }
}

/// The body of the one write request the server received.
/// A server that answers one GET of `get_path` with `served` and one
/// request with `verb` with `answer`.
async fn read_then_write_server(
    get_path: &str,
    served: &Value,
    verb: &str,
    answer: ResponseTemplate,
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(get_path))
        .respond_with(ResponseTemplate::new(200).set_body_json(served))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method(verb))
        .respond_with(answer)
        .expect(1)
        .mount(&server)
        .await;
    server
}

async fn written(server: &MockServer, verb: &str) -> Value {
    let requests = server.received_requests().await.expect("recording is on");
    let writes: Vec<_> = requests
        .iter()
        .filter(|request| request.method.as_str() == verb)
        .collect();
    assert_eq!(writes.len(), 1, "one {verb}");
    serde_json::from_slice(&writes[0].body).expect("a JSON body")
}

/// What a round trip must have written: the body served, `field` changed.
fn check(name: &str, served: &Value, received: &Value, unknown: &[String], field: &str) {
    assert!(
        unknown.contains(&"/addedLater".to_string()),
        "{name}: an unknown field at the top level"
    );
    for pointer in unknown {
        assert_eq!(
            received.pointer(pointer),
            served.pointer(pointer),
            "{name}: the unknown field {pointer} was not sent back unchanged"
        );
    }
    assert_ne!(served[field], CHANGED, "{name}: the field changes");
    assert_eq!(received[field], CHANGED, "{name}: {field} was not changed");
    let mut expected = served.clone();
    expected[field] = json!(CHANGED);
    if &expected != received {
        let (mut sent, mut back) = (BTreeSet::new(), BTreeSet::new());
        pointers(&expected, "", &mut sent);
        pointers(received, "", &mut back);
        let lost: Vec<_> = sent.difference(&back).collect();
        let invented: Vec<_> = back.difference(&sent).collect();
        panic!("{name}: the body written back differs\nlost: {lost:?}\ninvented: {invented:?}");
    }
}

/// One test per resource type: serve `schema` at `path`, read it with
/// `$read`, write it back with `$write` (given the read model as `$model`,
/// changing `field` through its builder).
macro_rules! keeps_unknown_fields {
    ($test:ident, $schema:literal, $path:literal, $verb:literal, $answer:expr, $field:literal,
     |$client:ident| $read:expr, |$model:ident| $write:expr $(,)?) => {
        #[tokio::test]
        async fn $test() {
            let spec = bundled();
            let (served, unknown) = body_with_unknown_fields(&spec, $schema);
            let server = read_then_write_server($path, &served, $verb, $answer).await;
            let $client = mock_client(&server.uri());
            let $model = $read.send().await.expect("reads").into_inner();
            assert!(
                $model.extra_fields.contains_key("addedLater"),
                "{}",
                $schema
            );
            let shown = format!("{:?}", $model);
            assert!(
                shown.contains("\"addedLater\""),
                "Debug names the unknown fields: {shown}"
            );
            assert!(
                !shown.contains(PRIVATE),
                "Debug shows no unknown value: {shown}"
            );
            $write.send().await.expect("writes back");
            let received = written(&server, $verb).await;
            check($schema, &served, &received, &unknown, $field);
        }
    };
}

keeps_unknown_fields!(
    a_contact_keeps_unknown_fields,
    "Contact",
    "/workspaces/AB12/contacts/A1",
    "PUT",
    ResponseTemplate::new(204),
    "firstName",
    |client| client
        .contact_retrieve()
        .workspace_id("AB12")
        .contact_id("A1"),
    |read| client
        .contact_update()
        .workspace_id("AB12")
        .contact_id("A1")
        .body(read)
        .body_map(|b| b.first_name(CHANGED)),
);

keeps_unknown_fields!(
    a_callback_keeps_unknown_fields,
    "Callback",
    "/callbacks/C1",
    "PUT",
    ResponseTemplate::new(204),
    "name",
    |client| client.callback_retrieve().callback_id("C1"),
    |read| client
        .callback_update()
        .callback_id("C1")
        .body(read)
        .body_map(|b| b.name(CHANGED)),
);

keeps_unknown_fields!(
    a_key_keeps_unknown_fields,
    "Key",
    "/keys/K1",
    "PUT",
    ResponseTemplate::new(204),
    "description",
    |client| client.key_retrieve().key_id("K1"),
    |read| client
        .key_update()
        .key_id("K1")
        .body(read)
        .body_map(|b| b.description(CHANGED)),
);

/// A user as the API answers it: without its write-only `userName` and
/// `password`. The update sends the login name again (the SDK requires it)
/// but no password, which the API keeps.
#[tokio::test]
async fn a_user_keeps_unknown_fields() {
    let spec = bundled();
    let (mut served, unknown) = body_with_unknown_fields(&spec, "User");
    let map = served.as_object_mut().expect("an object");
    for write_only in ["userName", "password"] {
        assert!(
            map.remove(write_only).is_some(),
            "User documents {write_only}"
        );
    }
    let server =
        read_then_write_server("/users/U1", &served, "PUT", ResponseTemplate::new(204)).await;
    let client = mock_client(&server.uri());
    let read = client
        .user_retrieve()
        .user_id("U1")
        .send()
        .await
        .expect("reads")
        .into_inner();
    assert!(read.extra_fields.contains_key("addedLater"));
    client
        .user_update()
        .user_id("U1")
        .body(read)
        .body_map(|b| b.user_name("sid").first_name(CHANGED))
        .send()
        .await
        .expect("writes back without the password");
    let received = written(&server, "PUT").await;
    assert_eq!(received.get("password"), None, "no password invented");
    served["userName"] = json!("sid");
    check("User", &served, &received, &unknown, "firstName");
}

keeps_unknown_fields!(
    a_workspace_keeps_unknown_fields,
    "Workspace",
    "/workspaces/AB12",
    "PUT",
    ResponseTemplate::new(204),
    "projectName",
    |client| client.workspace_retrieve().workspace_id("AB12"),
    |read| client
        .workspace_update()
        .workspace_id("AB12")
        .body(read)
        .body_map(|b| b.project_name(CHANGED)),
);

keeps_unknown_fields!(
    a_distribution_list_keeps_unknown_fields,
    "DistributionList",
    "/workspaces/AB12/distributionlists/D1",
    "PUT",
    ResponseTemplate::new(204),
    "name",
    |client| client
        .distribution_list_retrieve()
        .workspace_id("AB12")
        .distributionlist_id("D1"),
    |read| client
        .distribution_list_update()
        .workspace_id("AB12")
        .distributionlist_id("D1")
        .body(read)
        .body_map(|b| b.name(CHANGED)),
);

keeps_unknown_fields!(
    an_event_keeps_unknown_fields,
    "Event",
    "/workspaces/AB12/events/E1",
    "PUT",
    ResponseTemplate::new(204),
    "eventLabel",
    |client| client.event_retrieve().workspace_id("AB12").event_id("E1"),
    |read| client
        .event_update()
        .workspace_id("AB12")
        .event_id("E1")
        .body(read)
        .body_map(|b| b.event_label(CHANGED)),
);

keeps_unknown_fields!(
    a_resource_keeps_unknown_fields,
    "Resource",
    "/workspaces/AB12/resources/R1",
    "PUT",
    ResponseTemplate::new(200).set_body_json(json!({
        "name": "logo.png", "scope": "private", "mimeType": "image/png"
    })),
    "name",
    |client| client
        .resource_retrieve()
        .workspace_id("AB12")
        .resource_id("R1"),
    |read| client
        .resource_update()
        .workspace_id("AB12")
        .resource_id("R1")
        .body(read)
        .body_map(|b| b.name(CHANGED)),
);

keeps_unknown_fields!(
    a_response_rule_keeps_unknown_fields,
    "ResponseRule",
    "/workspaces/AB12/responserules/R1",
    "PUT",
    ResponseTemplate::new(204),
    "name",
    |client| client
        .response_rule_retrieve()
        .workspace_id("AB12")
        .response_rule_id("R1"),
    |read| client
        .response_rule_update()
        .workspace_id("AB12")
        .response_rule_id("R1")
        .body(read)
        .body_map(|b| b.name(CHANGED)),
);

keeps_unknown_fields!(
    a_scenario_keeps_unknown_fields,
    "Scenario",
    "/workspaces/AB12/scenarios/S1",
    "PUT",
    ResponseTemplate::new(204),
    "name",
    |client| client
        .scenario_retrieve()
        .workspace_id("AB12")
        .scenario_id("S1"),
    |read| client
        .scenario_update()
        .workspace_id("AB12")
        .scenario_id("S1")
        .body(read)
        .body_map(|b| b.name(CHANGED)),
);

keeps_unknown_fields!(
    a_template_keeps_unknown_fields,
    "Template",
    "/workspaces/AB12/templates/T1",
    "PUT",
    ResponseTemplate::new(204),
    "messageTemplateName",
    |client| client
        .template_retrieve()
        .workspace_id("AB12")
        .template_id("T1"),
    |read| client
        .template_update()
        .workspace_id("AB12")
        .template_id("T1")
        .body(read)
        .body_map(|b| b.message_template_name(CHANGED)),
);

// A message is not updated but sent again: read, change, `POST`.
keeps_unknown_fields!(
    a_message_sent_again_keeps_unknown_fields,
    "Message",
    "/workspaces/AB12/messages/CD34",
    "POST",
    ResponseTemplate::new(202).insert_header(
        "location",
        "https://api.au.whispir.com/workspaces/AB12/messages/M2"
    ),
    "subject",
    |client| client
        .message_retrieve()
        .workspace_id("AB12")
        .message_id("CD34"),
    |read| client
        .message_create()
        .workspace_id("AB12")
        .body(read)
        .body_map(|b| b.subject(CHANGED)),
);

/// Resources read only as list items: serve a page whose `$items` hold one
/// full item at `$path`, write the item back.
macro_rules! keeps_unknown_fields_of_list_items {
    ($test:ident, $schema:literal, $items:literal, $path:literal,
     $verb:literal, $answer:expr, $field:literal, |$client:ident| $read:expr,
     |$page:ident| $pick:expr, |$model:ident| $write:expr $(,)?) => {
        #[tokio::test]
        async fn $test() {
            let spec = bundled();
            let (item, unknown) = body_with_unknown_fields(&spec, $schema);
            let page = json!({ $items: [item], "status": "1 to 1 of 1" });
            let server = read_then_write_server($path, &page, $verb, $answer).await;
            let $client = mock_client(&server.uri());
            let $page = $read.send().await.expect("reads").into_inner();
            let $model = $pick;
            assert!($model.extra_fields.contains_key("addedLater"), "{}", $schema);
            $write.send().await.expect("writes back");
            let received = written(&server, $verb).await;
            check($schema, &item, &received, &unknown, $field);
        }
    };
}

keeps_unknown_fields_of_list_items!(
    an_activity_keeps_unknown_fields,
    "Activity",
    "activities",
    "/activities",
    "POST",
    ResponseTemplate::new(201).set_body_json(json!({})),
    "description",
    |client| client.activity_list(),
    |page| page.activities.into_iter().next().expect("an activity"),
    |read| client
        .activity_create()
        .body(read)
        .body_map(|b| b.description(CHANGED)),
);

keeps_unknown_fields_of_list_items!(
    a_callback_call_keeps_unknown_fields,
    "CallbackCall",
    "calls",
    "/callbacks/C1/calls",
    "PUT",
    ResponseTemplate::new(204),
    "messageId",
    |client| client.callback_call_list().callback_id("C1"),
    |page| page.calls.into_iter().next().expect("a call"),
    |read| client
        .callback_call_update()
        .callback_id("C1")
        .id("P1")
        .body(read)
        .body_map(|b| b.message_id(CHANGED)),
);

/// The resource types the tests above round-trip.
const ROUND_TRIPPED: &[&str] = &[
    "Activity",
    "Callback",
    "CallbackCall",
    "Contact",
    "DistributionList",
    "Event",
    "Key",
    "Message",
    "Resource",
    "ResponseRule",
    "Scenario",
    "Template",
    "User",
    "Workspace",
];

/// The component schemas of a media object's schema: its `$ref`, or those
/// of its `allOf`.
fn top_level_refs(schema: &Value) -> Vec<String> {
    let name = |s: &Value| {
        s.get("$ref")
            .and_then(Value::as_str)
            .map(|r| r.rsplit('/').next().unwrap_or_default().to_string())
    };
    let mut found: Vec<String> = name(schema).into_iter().collect();
    for part in schema
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        found.extend(name(part));
    }
    found
}

/// Every component schema `value` references, transitively.
fn reachable(spec: &Value, value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && found.insert(name.to_string())
            {
                reachable(spec, &spec["components"]["schemas"][name], found);
            }
            map.values().for_each(|child| reachable(spec, child, found));
        }
        Value::Array(items) => items.iter().for_each(|item| reachable(spec, item, found)),
        _ => {}
    }
}

#[test]
fn every_resource_type_returned_and_sent_back_is_round_tripped() {
    let spec = bundled();
    let (mut accepted, mut returned) = (BTreeSet::new(), BTreeSet::new());
    for item in spec["paths"].as_object().expect("paths").values() {
        for operation in item.as_object().expect("a path item").values() {
            for media in operation
                .pointer("/requestBody/content")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                accepted.extend(top_level_refs(&media.1["schema"]));
            }
            for (status, response) in operation
                .get("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if status.starts_with('2') {
                    reachable(&spec, response, &mut returned);
                }
            }
        }
    }
    let due: BTreeSet<&String> = accepted.intersection(&returned).collect();
    let tested: BTreeSet<String> = ROUND_TRIPPED.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = due.iter().filter(|name| !tested.contains(**name)).collect();
    assert!(
        missing.is_empty(),
        "resource types not round-tripped: {missing:?}"
    );
    assert!(due.len() >= 12, "{due:?}");
}

#[test]
fn the_bodies_carry_unknown_fields_in_nested_objects_and_list_items() {
    let spec = bundled();
    let (_, unknown) = body_with_unknown_fields(&spec, "Contact");
    assert!(
        unknown.iter().any(|p| p.starts_with("/link/0/")),
        "{unknown:?}"
    );
    let (_, unknown) = body_with_unknown_fields(&spec, "Message");
    assert!(
        unknown.iter().any(|p| p.starts_with("/email/")),
        "{unknown:?}"
    );
}

#[test]
fn a_list_page_keeps_the_unknown_fields_of_its_items() {
    let spec = bundled();
    let (contact, _) = body_with_unknown_fields(&spec, "Contact");
    let page: whispir::types::ContactCollection =
        serde_json::from_value(json!({ "contacts": [contact.clone(), contact], "status": "ok" }))
            .expect("a page");
    for item in &page.contacts {
        assert_eq!(item.extra_fields["addedLaterToo"], json!(["a", 7]));
    }
}

#[test]
fn a_model_built_from_scratch_has_no_unknown_fields_and_writes_none() {
    let message =
        whispir::types::Message::try_from(whispir::types::Message::sms("61400000001", "Hi"))
            .expect("a message");
    assert!(message.extra_fields.is_empty());
    let written = serde_json::to_value(&message).expect("serializes");
    assert!(written.get("addedLater").is_none());
}

#[tokio::test]
async fn a_declared_name_put_into_extra_fields_is_refused_naming_it() {
    let mut contact: whispir::types::Contact = serde_json::from_value(json!({
        "firstName": "Ada", "lastName": "Lovelace", "workEmailAddress1": "ada@example.com",
        "workMobilePhone1": "61400000000", "workCountry": "Australia",
        "timezone": "Australia/Melbourne", "pronouns": "she/her"
    }))
    .expect("decodes");
    contact
        .extra_fields
        .insert("firstName".into(), json!("Augusta"));
    let err = serde_json::to_string(&contact).expect_err("firstName would go twice");
    assert!(
        err.to_string()
            .contains("extra_fields holds `firstName`, a field Contact declares"),
        "{err}"
    );
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    let err = client
        .contact_update()
        .workspace_id("AB12")
        .contact_id("A1")
        .body(contact)
        .send()
        .await
        .expect_err("refused before sending");
    assert!(err.to_string().contains("`firstName`"), "{err}");
    assert!(err.is_invalid_request(), "{err:?}");
}

#[test]
fn an_unknown_key_given_twice_keeps_its_last_value() {
    let text = r#"{"firstName":"Ada","lastName":"Lovelace","workEmailAddress1":"ada@example.com",
        "workMobilePhone1":"61400000000","workCountry":"Australia",
        "timezone":"Australia/Melbourne","x":1,"x":2}"#;
    let contact: whispir::types::Contact = serde_json::from_str(text).expect("decodes");
    assert_eq!(contact.extra_fields["x"], 2);
    assert_eq!(contact.extra_fields.len(), 1);
    let known_twice = text.replace(r#""x":1,"x":2"#, r#""timezone":"UTC""#);
    let err = serde_json::from_str::<whispir::types::Contact>(&known_twice)
        .expect_err("a declared key given twice is an error, as with serde's derive");
    assert!(
        err.to_string().contains("duplicate field `timezone`"),
        "{err}"
    );
}
