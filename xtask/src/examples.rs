//! Every example in the bundled spec must be valid against its schema: an
//! example that lies teaches users the wrong payload, and mock servers
//! built from the bundle would answer with it.

use jsonschema::Draft;
use serde_json::{Value, json};

use crate::spec::{SpecError, operations, resolve};

/// Which way a body travels: a request must not carry read-only
/// properties, a response not write-only ones, and neither needs them even
/// when they are required (OpenAPI 3.0, Schema Object `readOnly`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

impl Direction {
    /// The keyword marking properties that must not travel this way.
    fn hidden(self) -> &'static str {
        match self {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        }
    }
}

/// Bodies the API really answers errors with, one per JSON shape, and the
/// plain-text body of a 413. Every error response of the bundle must accept
/// the shape it can carry, so mock servers and conformance testers built
/// from `bundled.json` accept real traffic.
fn realistic_error_bodies() -> [(&'static str, &'static str, Value); 3] {
    [
        (
            "application/json",
            "classic error body",
            json!({
                "errorSummary": "Your request was malformed and could not be processed by the server. Please try again",
                "errorText": "Bad Request",
                "errorDetail": "java.io.EOFException: No content to map to Object due to end of input"
            }),
        ),
        (
            "application/json",
            "newer error body",
            json!({
                "status": 400,
                "message": "Client specified an invalid argument, request body or query param",
                "detail": "The authenticationId is no longer valid"
            }),
        ),
        (
            "text/plain",
            "plain-text error body",
            json!("HTTP content length exceeded 10485760 bytes."),
        ),
    ]
}

/// Validates a realistic body of each error shape against every error
/// response (status 400 and above) of every operation.
pub fn check_error_bodies(spec: &Value) -> Result<(), SpecError> {
    let mut problems = Vec::new();
    let bodies = realistic_error_bodies();
    for op in operations(spec) {
        for (status, response) in &op.responses {
            if status.as_str() < "400" {
                continue;
            }
            let Some(content) = resolve(spec, response)
                .and_then(|r| r.get("content"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            for (media_type, body_name, body) in &bodies {
                let Some(schema) = content.get(*media_type).and_then(|m| m.get("schema")) else {
                    continue;
                };
                validate(
                    spec,
                    schema,
                    body,
                    Direction::Response,
                    &format!(
                        "{} response {status} {media_type}: a {body_name}",
                        op.operation_id
                    ),
                    &mut problems,
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SpecError::new(problems.join("\n")))
    }
}

/// Validates media-type examples (`example`, `examples/*/value`) of every
/// request and response, and schema-level `example`s of the components.
pub fn check_examples(spec: &Value) -> Result<(), SpecError> {
    let mut problems = Vec::new();
    for op in operations(spec) {
        let place = format!(
            "{} ({} {})",
            op.operation_id,
            op.method.to_uppercase(),
            op.path
        );
        if let Some(body) = op
            .operation
            .get("requestBody")
            .and_then(|b| resolve(spec, b))
        {
            check_content(
                spec,
                body,
                Direction::Request,
                &format!("{place} request body"),
                &mut problems,
            );
        }
        for (status, response) in &op.responses {
            if let Some(response) = resolve(spec, response) {
                check_content(
                    spec,
                    response,
                    Direction::Response,
                    &format!("{place} response {status}"),
                    &mut problems,
                );
            }
        }
    }
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            check_schema_examples(
                spec,
                schema,
                &format!("components/schemas/{name}"),
                &mut problems,
            );
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(SpecError::new(problems.join("\n")))
    }
}

fn check_content(
    spec: &Value,
    holder: &Value,
    direction: Direction,
    place: &str,
    problems: &mut Vec<String>,
) {
    let Some(content) = holder.get("content").and_then(Value::as_object) else {
        return;
    };
    for (media_type, media) in content {
        let Some(schema) = media.get("schema") else {
            continue;
        };
        if let Some(example) = media.get("example") {
            validate_directed(
                spec,
                schema,
                example,
                Some(direction),
                &format!("{place} {media_type} example"),
                problems,
            );
        }
        for (name, example) in media
            .get("examples")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let Some(value) = resolve(spec, example).and_then(|e| e.get("value")) {
                validate_directed(
                    spec,
                    schema,
                    value,
                    Some(direction),
                    &format!("{place} {media_type} example {name}"),
                    problems,
                );
            }
        }
    }
}

fn check_schema_examples(spec: &Value, schema: &Value, place: &str, problems: &mut Vec<String>) {
    if let Some(example) = schema.get("example") {
        validate_directed(
            spec,
            schema,
            example,
            None,
            &format!("{place} example"),
            problems,
        );
    }
    for (name, property) in schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        check_schema_examples(
            spec,
            property,
            &format!("{place}/properties/{name}"),
            problems,
        );
    }
    if let Some(items) = schema.get("items") {
        check_schema_examples(spec, items, &format!("{place}/items"), problems);
    }
}

fn validate(
    spec: &Value,
    schema: &Value,
    instance: &Value,
    direction: Direction,
    place: &str,
    problems: &mut Vec<String>,
) {
    validate_directed(spec, schema, instance, Some(direction), place, problems);
}

fn validate_directed(
    spec: &Value,
    schema: &Value,
    instance: &Value,
    direction: Option<Direction>,
    place: &str,
    problems: &mut Vec<String>,
) {
    // The schema is checked inside a document that holds the components, so
    // its `#/components/...` references resolve.
    let mut root = json!({
        "allOf": [schema],
        "components": spec.get("components").cloned().unwrap_or(Value::Null),
    });
    if let Some(direction) = direction {
        hide_properties(spec, &mut root, direction.hidden());
    }
    match jsonschema::options().with_draft(Draft::Draft4).build(&root) {
        Ok(validator) => {
            let errors: Vec<String> = validator
                .iter_errors(instance)
                .map(|err| format!("{} at {}", err, err.instance_path()))
                .collect();
            if !errors.is_empty() {
                problems.push(format!(
                    "{place} does not match its schema: {}",
                    errors.join("; ")
                ));
            }
        }
        Err(err) => problems.push(format!("{place}: its schema cannot be compiled: {err}")),
    }
}

/// Turns every property marked `hidden` (`readOnly` or `writeOnly`) into a
/// schema nothing matches and drops it from `required`: the body may leave it
/// out and must not send it.
fn hide_properties(spec: &Value, value: &mut Value, hidden: &str) {
    match value {
        Value::Object(map) => {
            let mut dropped = Vec::new();
            if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
                for (name, property) in properties.iter_mut() {
                    let marked = resolve(spec, property)
                        .and_then(|p| p.get(hidden))
                        .and_then(Value::as_bool)
                        == Some(true);
                    if marked {
                        *property = json!({ "not": {} });
                        dropped.push(Value::String(name.clone()));
                    }
                }
            }
            if let Some(required) = map.get_mut("required").and_then(Value::as_array_mut) {
                required.retain(|name| !dropped.contains(name));
                if required.is_empty() {
                    map.remove("required");
                }
            }
            map.values_mut()
                .for_each(|child| hide_properties(spec, child, hidden));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| hide_properties(spec, child, hidden)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(example: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": { "/things": { "post": {
                "operationId": "thingCreate",
                "requestBody": { "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/Thing" },
                    "example": example
                } } },
                "responses": { "201": { "description": "made" } }
            } } },
            "components": { "schemas": { "Thing": {
                "type": "object", "required": ["name"],
                "properties": {
                    "name": { "type": "string", "example": "lamp" },
                    "kind": { "type": "string", "enum": ["a", "b"] }
                }
            } } }
        })
    }

    #[test]
    fn a_valid_example_passes() {
        check_examples(&spec(json!({ "name": "lamp", "kind": "a" }))).expect("valid");
    }

    #[test]
    fn an_invalid_example_is_reported_with_its_place() {
        let err = check_examples(&spec(json!({ "kind": "z" }))).expect_err("invalid");
        let text = err.to_string();
        assert!(text.starts_with("thingCreate (POST /things) request body application/json example does not match its schema"), "{text}");
        assert!(text.contains("\"name\" is a required property"), "{text}");
    }

    #[test]
    fn schema_level_examples_are_checked_too() {
        let mut bad = spec(json!({ "name": "lamp" }));
        bad["components"]["schemas"]["Thing"]["properties"]["name"]["example"] = json!(42);
        let err = check_examples(&bad).expect_err("invalid");
        assert!(
            err.to_string()
                .contains("components/schemas/Thing/properties/name example"),
            "{err}"
        );
    }

    #[test]
    fn a_request_example_must_not_send_a_read_only_property() {
        let mut bad = spec(json!({ "name": "lamp", "id": "7" }));
        bad["components"]["schemas"]["Thing"]["properties"]["id"] =
            json!({ "type": "string", "readOnly": true });
        bad["components"]["schemas"]["Thing"]["required"] = json!(["name", "id"]);
        let err = check_examples(&bad).expect_err("read-only sent");
        assert!(err.to_string().contains("at /id"), "{err}");
        // Left out, the required read-only property is fine in a request.
        let mut good = bad.clone();
        good["paths"]["/things"]["post"]["requestBody"]["content"]["application/json"]["example"] =
            json!({ "name": "lamp" });
        check_examples(&good).expect("read-only left out");
    }

    fn error_spec(schema: Value) -> Value {
        json!({
            "openapi": "3.0.3",
            "paths": { "/things": { "get": {
                "operationId": "thingList",
                "responses": { "400": { "content": { "application/json": {
                    "schema": schema
                } } } }
            } } },
            "components": { "schemas": {
                "A": { "type": "object", "required": ["errorText"],
                       "properties": { "errorText": { "type": "string" } } },
                "B": { "type": "object", "required": ["message"],
                       "properties": { "message": { "type": "string" } } },
                "Loose": { "type": "object", "properties": { "message": { "type": "string" } } }
            } }
        })
    }

    #[test]
    fn both_error_shapes_must_pass_the_error_responses() {
        let either = json!({ "oneOf": [
            { "$ref": "#/components/schemas/A" }, { "$ref": "#/components/schemas/B" }
        ] });
        check_error_bodies(&error_spec(either)).expect("each body matches one branch");
        let only_classic = json!({ "$ref": "#/components/schemas/A" });
        let err = check_error_bodies(&error_spec(only_classic)).expect_err("newer refused");
        assert!(err.to_string().contains("a newer error body"), "{err}");
    }

    #[test]
    fn a_one_of_whose_branches_both_match_is_refused() {
        let ambiguous = json!({ "oneOf": [
            { "$ref": "#/components/schemas/Loose" }, { "$ref": "#/components/schemas/Loose" }
        ] });
        let err = check_error_bodies(&error_spec(ambiguous)).expect_err("ambiguous");
        assert!(err.to_string().contains("thingList response 400"), "{err}");
    }

    #[test]
    fn the_project_bundle_accepts_real_error_bodies() {
        let root = crate::project_root();
        let table = crate::codes::read_table(&root.join(crate::TABLE_PATH)).expect("table");
        let spec = crate::spec::read_spec(&root.join(crate::SPEC_PATH)).expect("spec");
        let bundled = crate::bundle::bundle(&spec, &table).expect("bundle");
        check_error_bodies(&bundled).expect("every error response accepts real bodies");
    }

    #[test]
    fn the_project_spec_examples_are_valid() {
        let root = crate::project_root();
        let table = crate::codes::read_table(&root.join(crate::TABLE_PATH)).expect("table");
        let spec = crate::spec::read_spec(&root.join(crate::SPEC_PATH)).expect("spec");
        let bundled = crate::bundle::bundle(&spec, &table).expect("bundle");
        check_examples(&bundled).expect("every example is valid");
    }
}
