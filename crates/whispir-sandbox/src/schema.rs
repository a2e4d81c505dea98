//! Request bodies checked against the operation's schema, with errors that
//! name the fields.

use serde_json::{Map, Value};

/// A compiled request schema.
pub(crate) struct RequestSchema {
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for RequestSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestSchema")
    }
}

impl RequestSchema {
    /// Compiles an OpenAPI 3.0 schema whose `$ref`s point into `components`.
    pub fn compile(schema: &Value, components: &Value) -> Result<Self, String> {
        let mut root = match to_json_schema(schema) {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("allOf".into(), Value::Array(vec![other]));
                map
            }
        };
        root.insert("components".into(), to_json_schema(components));
        let root = Value::Object(root);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(false)
            .build(&root)
            .map_err(|err| err.to_string())?;
        Ok(RequestSchema { validator })
    }

    /// The problems of a body, each naming the field; empty when it is valid.
    pub fn problems(&self, body: &Value) -> Vec<String> {
        self.validator
            .iter_errors(body)
            .map(|error| {
                let path = error.instance_path().to_string();
                if path.is_empty() {
                    error.to_string()
                } else {
                    format!(
                        "{}: {error}",
                        path.trim_start_matches('/').replace('/', ".")
                    )
                }
            })
            .take(20)
            .collect()
    }
}

/// Turns OpenAPI 3.0 schema keywords into JSON Schema draft 4:
/// `nullable: true` becomes a `null` alternative of the type.
fn to_json_schema(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                match key.as_str() {
                    "nullable" | "example" | "examples" | "readOnly" | "writeOnly" | "xml"
                    | "discriminator" | "externalDocs" | "deprecated" => {}
                    _ => {
                        out.insert(key.clone(), to_json_schema(item));
                    }
                }
            }
            if map.get("nullable").and_then(Value::as_bool) == Some(true)
                && let Some(Value::String(kind)) = out.get("type").cloned()
            {
                out.insert(
                    "type".into(),
                    Value::Array(vec![Value::String(kind), Value::String("null".into())]),
                );
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    fn a_missing_required_field_is_named() {
        let components = json!({"schemas": {"Thing": {"type": "object", "required": ["name"],
            "properties": {"name": {"type": "string"}, "size": {"type": "integer", "nullable": true}}}}});
        let schema =
            RequestSchema::compile(&json!({"$ref": "#/components/schemas/Thing"}), &components)
                .unwrap();
        let problems = schema.problems(&json!({"size": null}));
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("name"), "{problems:?}");
        assert!(
            schema
                .problems(&json!({"name": "a", "size": null}))
                .is_empty()
        );
        let wrong = schema.problems(&json!({"name": "a", "size": "big"}));
        assert!(wrong[0].starts_with("size:"), "{wrong:?}");
    }
}
