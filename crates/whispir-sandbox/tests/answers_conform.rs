//! Every success answer, from the sandbox and from the examples of
//! Whispir's published description, is valid against `bundled.json` for a
//! plain JSON Schema validator (one that knows nothing of OpenAPI's
//! `readOnly` and `writeOnly`) and decodes into the SDK's type. No
//! tolerance list: a user read without its password is simply valid.
#![cfg(feature = "schema-checks")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::collections::BTreeMap;

use serde_json::{Value, json};
use whispir::types;
use whispir_sandbox::{DEMO_WORKSPACE_ID, Sandbox};

const BUNDLED: &str = include_str!("../openapi/bundled.json");
/// Whispir's published description, where CI keeps it.
const REFERENCE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/reference/whispir-openapi.yaml"
);

fn bundled() -> Value {
    serde_json::from_str(BUNDLED).unwrap()
}

/// Follows `$ref`s within `doc`.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let pointer = reference.trim_start_matches('#');
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference}"));
    }
    value
}

/// The component a body schema names, directly or as the first branch of
/// the `allOf` the bundle narrows it with.
fn schema_name(schema: &Value) -> Option<&str> {
    schema
        .get("$ref")
        .or_else(|| schema.pointer("/allOf/0/$ref"))
        .and_then(Value::as_str)
        .and_then(|r| r.rsplit('/').next())
}

/// Checks `body` against `schema` (a schema of `doc`) with a plain draft 4
/// validator; returns the problems. `format` is left an annotation, as
/// draft 4 allows: upstream's own key example writes `createdTime` with a
/// `+0000` offset, which RFC 3339 (`date-time`) spells `+00:00`.
fn problems(doc: &Value, schema: &Value, body: &Value) -> Vec<String> {
    let mut root = doc.as_object().unwrap().clone();
    root.insert("allOf".into(), json!([schema]));
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(false)
        .build(&Value::Object(root))
        .unwrap();
    validator
        .iter_errors(body)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect()
}

/// Decodes `body` into the SDK type of the component `name`.
fn decode(name: &str, body: &Value) -> Result<(), String> {
    macro_rules! decode_as {
        ($($model:ident),* $(,)?) => {
            match name {
                $(stringify!($model) => serde_json::from_value::<types::$model>(body.clone())
                    .map(drop)
                    .map_err(|err| err.to_string()),)*
                other => panic!("no SDK type listed for {other}"),
            }
        };
    }
    decode_as!(
        Activity,
        ActivityCollection,
        Auth,
        Callback,
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
        Template,
        TemplateCollection,
        User,
        UserCollection,
        Workspace,
        WorkspaceCollection,
    )
}

/// Removes what a server never sends: the properties `schema` marks
/// write-only, at every depth.
fn strip_write_only(doc: &Value, schema: &Value, body: &mut Value) {
    let schema = resolve(doc, schema);
    for branch in ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|key| schema.get(*key).and_then(Value::as_array))
        .flatten()
    {
        strip_write_only(doc, branch, body);
    }
    match body {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            map.retain(|name, _| {
                properties.get(name).is_none_or(|p| {
                    resolve(doc, p).get("writeOnly").and_then(Value::as_bool) != Some(true)
                })
            });
            for (name, child) in map.iter_mut() {
                if let Some(property) = properties.get(name) {
                    strip_write_only(doc, property, child);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                items
                    .iter_mut()
                    .for_each(|item| strip_write_only(doc, item_schema, item));
            }
        }
        _ => {}
    }
}

/// The JSON success schema of `method path` answering `status` in `doc`.
fn success_schema<'a>(doc: &'a Value, path: &str, method: &str, status: &str) -> Option<&'a Value> {
    let operation = doc.get("paths")?.get(path)?.get(method)?;
    let response = resolve(doc, operation.get("responses")?.get(status)?);
    response
        .get("content")?
        .as_object()?
        .iter()
        .find(|(media, _)| media.contains("json"))
        .and_then(|(_, content)| content.get("schema"))
}

#[test]
fn the_references_examples_as_the_api_sends_them_are_valid_and_decode() {
    let text = std::fs::read_to_string(REFERENCE)
        .unwrap_or_else(|err| panic!("{REFERENCE}: {err} (CI keeps the reference there)"));
    let reference: Value = serde_saphyr::from_str(&text).unwrap();
    let doc = bundled();
    let mut checked = BTreeMap::new();
    let mut failures = Vec::new();
    for (path, item) in reference["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(responses) = operation.get("responses").and_then(Value::as_object) else {
                continue;
            };
            let id = operation["operationId"].as_str().unwrap_or(method);
            for (status, response) in responses.iter().filter(|(s, _)| s.starts_with('2')) {
                let response = resolve(&reference, response);
                let contents = response.get("content").and_then(Value::as_object);
                for content in contents.into_iter().flat_map(|c| c.values()) {
                    let examples = content.get("example").into_iter().chain(
                        content
                            .get("examples")
                            .and_then(Value::as_object)
                            .into_iter()
                            .flat_map(|e| e.values())
                            .filter_map(|e| resolve(&reference, e).get("value")),
                    );
                    for example in examples {
                        // The project answers some reads with 200 where upstream says 201.
                        let Some(schema) = success_schema(&doc, path, method, status)
                            .or_else(|| success_schema(&doc, path, method, "200"))
                        else {
                            continue;
                        };
                        let mut body = example.clone();
                        strip_write_only(&doc, schema, &mut body);
                        let name = schema_name(schema).unwrap_or("(inline)");
                        for problem in problems(&doc, schema, &body) {
                            failures.push(format!("{id} {status}: {problem}"));
                        }
                        if name != "(inline)"
                            && let Err(err) = decode(name, &body)
                        {
                            failures.push(format!("{id} {status} as {name}: {err}"));
                        }
                        *checked.entry(name.to_string()).or_insert(0) += 1;
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    for expected in ["User", "Key", "Resource", "Otp", "Contact", "Message"] {
        assert!(checked.contains_key(expected), "{expected}: {checked:?}");
    }
}

/// Every read the sandbox answers from its demo data: each list, then the
/// first item of each, by the read operation of its path.
#[tokio::test]
async fn every_resource_the_sandbox_answers_is_valid_and_decodes() {
    let sandbox = Sandbox::builder().start().await.unwrap();
    let credentials = sandbox.credentials();
    let http = reqwest::Client::new();
    let doc = bundled();
    let mut reads: Vec<(&str, &Value)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(path, item)| Some((path.as_str(), item.get("get")?)))
        .collect();
    reads.sort_by_key(|(path, _)| path.matches('/').count());
    // The id of the first item of each list answered, by its concrete path.
    let mut first_ids: BTreeMap<String, String> = BTreeMap::new();
    let mut checked = Vec::new();
    let mut failures = Vec::new();
    for (template, operation) in reads {
        let id = operation["operationId"].as_str().unwrap();
        let mut concrete = String::new();
        let mut complete = true;
        for segment in template.split('/').filter(|s| !s.is_empty()) {
            let value = match segment {
                "{workspaceId}" => DEMO_WORKSPACE_ID.to_string(),
                s if s.starts_with('{') => match first_ids.get(&concrete) {
                    Some(id) => id.clone(),
                    None => {
                        complete = false;
                        break;
                    }
                },
                s => s.to_string(),
            };
            concrete.push('/');
            concrete.push_str(&value);
        }
        if !complete {
            continue;
        }
        let Some(schema) = success_schema(&doc, template, "get", "200") else {
            continue;
        };
        let accept = resolve(&doc, &operation["responses"]["200"])["content"]
            .as_object()
            .and_then(|c| c.keys().find(|m| m.contains("json")))
            .cloned()
            .unwrap();
        let mut request = http
            .get(format!("{}{concrete}", sandbox.base_url()))
            .basic_auth(&credentials.user, Some(&credentials.password))
            .header("x-api-key", &credentials.api_key)
            .header("accept", &accept);
        // Required header parameters the caller sets (`eventType`).
        for param in operation["parameters"].as_array().into_iter().flatten() {
            let param = resolve(&doc, param);
            if param["in"] == "header" && param["required"] == true {
                let name = param["name"].as_str().unwrap();
                if !name.eq_ignore_ascii_case("accept") {
                    request = request.header(name, "SingleEvent");
                }
            }
        }
        let answer = request.send().await.unwrap();
        if !answer.status().is_success() {
            failures.push(format!("{id} {concrete}: {}", answer.status()));
            continue;
        }
        let body: Value = answer.json().await.unwrap();
        let items = body
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(key, _)| *key != "link")
            .find_map(|(_, value)| value.as_array());
        if let Some(first) = items
            .and_then(|items| items.first())
            .and_then(|item| item.get("id"))
            .and_then(Value::as_str)
        {
            first_ids.insert(concrete.clone(), first.to_string());
        }
        let name = schema_name(schema).unwrap_or("(inline)");
        for problem in problems(&doc, schema, &body) {
            failures.push(format!("{id} {concrete}: {problem}"));
        }
        if let Err(err) = decode(name, &body) {
            failures.push(format!("{id} {concrete} as {name}: {err}"));
        }
        checked.push(id.to_string());
    }
    assert!(failures.is_empty(), "{failures:#?}");
    for expected in [
        "userList",
        "userRetrieve",
        "keyList",
        "keyRetrieve",
        "resourceRetrieve",
        "contactRetrieve",
        "messageRetrieve",
        "callbackRetrieve",
    ] {
        assert!(
            checked.iter().any(|id| id == expected),
            "{expected}: {checked:?}"
        );
    }
}
