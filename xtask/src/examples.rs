//! Every example in the bundled spec must be valid against its schema: an
//! example that lies teaches users the wrong payload, and mock servers
//! built from the bundle would answer with it.

use jsonschema::Draft;
use serde_json::{Value, json};

use crate::spec::{SpecError, operations, resolve};

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
            check_content(spec, body, &format!("{place} request body"), &mut problems);
        }
        for (status, response) in &op.responses {
            if let Some(response) = resolve(spec, response) {
                check_content(
                    spec,
                    response,
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

fn check_content(spec: &Value, holder: &Value, place: &str, problems: &mut Vec<String>) {
    let Some(content) = holder.get("content").and_then(Value::as_object) else {
        return;
    };
    for (media_type, media) in content {
        let Some(schema) = media.get("schema") else {
            continue;
        };
        if let Some(example) = media.get("example") {
            validate(
                spec,
                schema,
                example,
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
                validate(
                    spec,
                    schema,
                    value,
                    &format!("{place} {media_type} example {name}"),
                    problems,
                );
            }
        }
    }
}

fn check_schema_examples(spec: &Value, schema: &Value, place: &str, problems: &mut Vec<String>) {
    if let Some(example) = schema.get("example") {
        validate(spec, schema, example, &format!("{place} example"), problems);
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
    place: &str,
    problems: &mut Vec<String>,
) {
    // The schema is checked inside a document that holds the components, so
    // its `#/components/...` references resolve.
    let root = json!({
        "allOf": [schema],
        "components": spec.get("components").cloned().unwrap_or(Value::Null),
    });
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
    fn the_project_spec_examples_are_valid() {
        let root = crate::project_root();
        let table = crate::codes::read_table(&root.join(crate::TABLE_PATH)).expect("table");
        let spec = crate::spec::read_spec(&root.join(crate::SPEC_PATH)).expect("spec");
        let bundled = crate::bundle::bundle(&spec, &table).expect("bundle");
        check_examples(&bundled).expect("every example is valid");
    }
}
