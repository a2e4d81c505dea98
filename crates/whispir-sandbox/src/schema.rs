//! Request bodies checked against the operation's schema, with errors that
//! name the fields.

use serde_json::{Map, Value};

/// A compiled request schema. Without the `schema-checks` feature it
/// accepts every body: only the sandbox's own rules (media types,
/// recipients, required fields it fills) apply.
pub(crate) struct RequestSchema {
    #[cfg(feature = "schema-checks")]
    validator: jsonschema::Validator,
}

impl std::fmt::Debug for RequestSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequestSchema")
    }
}

impl RequestSchema {
    /// Compiles an OpenAPI 3.0 schema whose `$ref`s point into `components`.
    #[cfg(feature = "schema-checks")]
    pub fn compile(schema: &Value, components: &Value) -> Result<Self, String> {
        let mut root = match to_json_schema(schema, components) {
            Value::Object(map) => map,
            other => {
                let mut map = Map::new();
                map.insert("allOf".into(), Value::Array(vec![other]));
                map
            }
        };
        root.insert("components".into(), to_json_schema(components, components));
        let root = Value::Object(root);
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|err| err.to_string())?;
        Ok(RequestSchema { validator })
    }

    /// Without `schema-checks`: a schema that accepts every body.
    #[cfg(not(feature = "schema-checks"))]
    #[allow(clippy::unnecessary_wraps)] // the same signature as with the feature
    pub fn compile(_schema: &Value, _components: &Value) -> Result<Self, String> {
        Ok(RequestSchema {})
    }

    /// The problems of a body, each naming the field; empty when it is valid.
    #[cfg(feature = "schema-checks")]
    pub fn problems(&self, body: &Value) -> Vec<String> {
        self.validator
            .iter_errors(body)
            .map(|error| {
                let path = error.instance_path().to_string();
                let text = describe(&error);
                if path.is_empty() {
                    text
                } else {
                    format!("{}: {text}", path.trim_start_matches('/').replace('/', "."))
                }
            })
            .take(20)
            .collect()
    }

    /// Without `schema-checks`: no problems.
    #[cfg(not(feature = "schema-checks"))]
    pub fn problems(&self, _body: &Value) -> Vec<String> {
        Vec::new()
    }
}

/// One problem in words. An `anyOf` names what each alternative lacks (a
/// message's `"to" is a required property, or "resource" is a required
/// property`) instead of repeating the whole body as the validator does.
#[cfg(feature = "schema-checks")]
fn describe(error: &jsonschema::ValidationError<'_>) -> String {
    let jsonschema::error::ValidationErrorKind::AnyOf { context } = error.kind() else {
        return error.to_string();
    };
    let alternatives: Vec<String> = context
        .iter()
        .map(|problems| {
            let each: Vec<String> = problems.iter().map(ToString::to_string).collect();
            each.join(" and ")
        })
        .collect();
    if alternatives.is_empty() || alternatives.iter().any(String::is_empty) {
        return error.to_string();
    }
    alternatives.join(", or ")
}

/// Turns OpenAPI 3.0 schema keywords into JSON Schema draft 4 for a
/// request: `nullable: true` becomes a `null` alternative of the type, and
/// read-only properties are not required (the server fills them).
#[cfg(feature = "schema-checks")]
fn to_json_schema(value: &Value, components: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, item) in map {
                match key.as_str() {
                    "nullable" | "example" | "examples" | "readOnly" | "writeOnly" | "xml"
                    | "discriminator" | "externalDocs" | "deprecated" => {}
                    "required" => {
                        let properties = map.get("properties");
                        let kept: Vec<Value> = item
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter(|name| {
                                let property = name
                                    .as_str()
                                    .and_then(|name| properties.and_then(|p| p.get(name)));
                                !property.is_some_and(|p| flag(p, "readOnly", components))
                            })
                            .cloned()
                            .collect();
                        if !kept.is_empty() {
                            out.insert(key.clone(), Value::Array(kept));
                        }
                    }
                    _ => {
                        out.insert(key.clone(), to_json_schema(item, components));
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
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| to_json_schema(item, components))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Follows a `#/components/...` reference.
fn deref<'a>(schema: &'a Value, components: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix("#/components")
            .and_then(|pointer| components.pointer(pointer))
            .unwrap_or(schema),
        None => schema,
    }
}

/// Whether a schema (or the one it refers to) sets a boolean keyword.
fn flag(schema: &Value, keyword: &str, components: &Value) -> bool {
    schema.get(keyword).and_then(Value::as_bool) == Some(true)
        || deref(schema, components)
            .get(keyword)
            .and_then(Value::as_bool)
            == Some(true)
}

/// A schema with the properties and `required` names of its `allOf`
/// branches (as the bundle narrows a body: `allOf: [{$ref: …/Key},
/// {required: [type]}]`) merged into it.
fn merged(schema: &Value, components: &Value) -> Value {
    let Some(branches) = schema.get("allOf").and_then(Value::as_array) else {
        return schema.clone();
    };
    let mut out = schema.as_object().cloned().unwrap_or_default();
    out.remove("allOf");
    for branch in branches {
        let branch = merged(deref(branch, components), components);
        for key in ["properties", "required"] {
            match (out.get_mut(key), branch.get(key)) {
                (Some(Value::Object(mine)), Some(Value::Object(theirs))) => {
                    mine.extend(theirs.clone());
                }
                (Some(Value::Array(mine)), Some(Value::Array(theirs))) => {
                    mine.extend(
                        theirs
                            .iter()
                            .filter(|n| !mine.contains(n))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                }
                (None, Some(theirs)) => {
                    out.insert(key.to_string(), theirs.clone());
                }
                _ => {}
            }
        }
    }
    Value::Object(out)
}

/// Fills the required fields a stored resource lacks: from its previous
/// version when there is one (fields the server owns survive an update),
/// else the schema's default, its first enum value, or an empty value of
/// its type. Read-only fields of the previous version are kept too.
pub(crate) fn fill_required(
    value: &mut Value,
    schema: &Value,
    components: &Value,
    old: Option<&Value>,
) {
    let schema = &merged(deref(schema, components), components);
    let Some(map) = value.as_object_mut() else {
        return;
    };
    let properties = schema.get("properties").and_then(Value::as_object);
    let old = old.and_then(Value::as_object);
    if let (Some(properties), Some(old)) = (properties, old) {
        for (name, property) in properties {
            if flag(property, "readOnly", components)
                && !map.contains_key(name)
                && let Some(previous) = old.get(name)
            {
                map.insert(name.clone(), previous.clone());
            }
        }
    }
    let required = schema.get("required").and_then(Value::as_array);
    for name in required.into_iter().flatten().filter_map(Value::as_str) {
        if map.contains_key(name) {
            continue;
        }
        if let Some(previous) = old.and_then(|old| old.get(name)) {
            map.insert(name.to_string(), previous.clone());
            continue;
        }
        let property = properties
            .and_then(|p| p.get(name))
            .map_or(&Value::Null, |p| deref(p, components));
        let filled = if let Some(default) = property.get("default") {
            default.clone()
        } else if let Some(first) = property.get("enum").and_then(|e| e.get(0)) {
            first.clone()
        } else {
            match property.get("type").and_then(Value::as_str) {
                Some("integer" | "number") => Value::from(0),
                Some("boolean") => Value::Bool(false),
                Some("array") => Value::Array(Vec::new()),
                Some("object") => {
                    let mut inner = Value::Object(Map::new());
                    fill_required(&mut inner, property, components, None);
                    inner
                }
                _ => Value::String(String::new()),
            }
        };
        map.insert(name.to_string(), filled);
    }
}

/// Gives the strings read from XML the types their schema wants: a single
/// element where an array is expected becomes a one-item array, `true`
/// and numbers stop being text.
pub(crate) fn coerce_xml(value: &mut Value, schema: &Value, components: &Value, depth: usize) {
    if depth > 32 {
        return;
    }
    let schema = deref(schema, components);
    let kind = schema.get("type").and_then(Value::as_str);
    if kind == Some("array") && !value.is_array() {
        let single = value.take();
        *value = Value::Array(vec![single]);
    }
    match value {
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    coerce_xml(item, item_schema, components, depth + 1);
                }
            }
        }
        Value::Object(map) => {
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, child) in map.iter_mut() {
                    if let Some(property) = properties.get(name) {
                        coerce_xml(child, property, components, depth + 1);
                    }
                }
            }
        }
        Value::String(text) => {
            let typed = match kind {
                Some("boolean") => text.parse::<bool>().ok().map(Value::Bool),
                Some("integer") => text.parse::<i64>().ok().map(Value::from),
                Some("number") => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                Some("object") if text.is_empty() => Some(Value::Object(Map::new())),
                _ => None,
            };
            if let Some(typed) = typed {
                *value = typed;
            }
        }
        _ => {}
    }
}

/// Removes the write-only properties (passwords, uploaded content) from an
/// answer, following its schema.
pub(crate) fn strip_write_only(
    value: &mut Value,
    schema: &Value,
    components: &Value,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let schema = deref(schema, components);
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for branch in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            strip_write_only(value, branch, components, depth + 1);
        }
    }
    match value {
        Value::Object(map) => {
            let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
                return;
            };
            map.retain(|name, _| {
                !properties
                    .get(name)
                    .is_some_and(|property| flag(property, "writeOnly", components))
            });
            for (name, child) in map.iter_mut() {
                if let Some(property) = properties.get(name) {
                    strip_write_only(child, property, components, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(item_schema) = schema.get("items") {
                for item in items {
                    strip_write_only(item, item_schema, components, depth + 1);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    #[cfg(feature = "schema-checks")]
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

    #[test]
    fn alternatives_of_required_fields_are_named_each() {
        let components = json!({"schemas": {"Message": {"type": "object", "required": ["subject"],
            "anyOf": [{"required": ["to"]}, {"required": ["resource"]}],
            "properties": {"to": {"type": "string"}, "subject": {"type": "string"},
                "resource": {"type": "object"}}}}});
        let schema = RequestSchema::compile(
            &json!({"$ref": "#/components/schemas/Message"}),
            &components,
        )
        .unwrap();
        assert_eq!(
            schema.problems(&json!({"subject": "Hi"})),
            [r#""to" is a required property, or "resource" is a required property"#]
        );
        assert!(
            schema
                .problems(&json!({"subject": "Hi", "to": "1"}))
                .is_empty()
        );
        let dynamic = json!({"subject": "Hi", "resource": {"resourceId": "A1"}});
        assert!(schema.problems(&dynamic).is_empty());
    }

    #[test]
    fn read_only_fields_are_not_required_in_requests() {
        let components = json!({"schemas": {"Key": {"type": "object", "required": ["type"],
            "properties": {"type": {"type": "string", "readOnly": true}}}}});
        let schema =
            RequestSchema::compile(&json!({"$ref": "#/components/schemas/Key"}), &components)
                .unwrap();
        assert!(schema.problems(&json!({})).is_empty());
    }

    #[test]
    fn missing_required_fields_are_filled_from_the_old_version_or_the_schema() {
        let components = json!({"schemas": {"Key": {"type": "object", "required": ["type", "name", "size"],
            "properties": {"type": {"type": "string", "readOnly": true, "enum": ["basic"]},
                "name": {"type": "string"}, "size": {"type": "integer", "default": 3},
                "owner": {"type": "string", "readOnly": true}}}}});
        let schema = json!({"$ref": "#/components/schemas/Key"});
        let mut fresh = json!({});
        fill_required(&mut fresh, &schema, &components, None);
        assert_eq!(fresh, json!({"type": "basic", "name": "", "size": 3}));
        let mut update = json!({"size": 5});
        fill_required(
            &mut update,
            &schema,
            &components,
            Some(&json!({"name": "a", "owner": "me"})),
        );
        assert_eq!(
            update,
            json!({"type": "basic", "name": "a", "size": 5, "owner": "me"})
        );
    }

    #[test]
    fn write_only_fields_leave_answers() {
        let components = json!({"schemas": {"User": {"type": "object",
            "properties": {"password": {"type": "string", "writeOnly": true}, "name": {"type": "string"}}},
            "Users": {"type": "object", "properties": {"users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}}}}}});
        let mut page = json!({"users": [{"name": "a", "password": "secret"}]});
        strip_write_only(
            &mut page,
            &json!({"$ref": "#/components/schemas/Users"}),
            &components,
            0,
        );
        assert_eq!(page, json!({"users": [{"name": "a"}]}));
    }
}
