//! Reading and checking the project's OpenAPI description.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::{Map, Value};

/// The HTTP methods an OpenAPI path item may hold, in the order they are visited.
pub const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A problem with the spec, said in words that name the place.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SpecError {
    message: String,
}

impl SpecError {
    /// A new error with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// One operation of the spec, borrowed.
#[derive(Debug)]
pub struct OperationRef<'a> {
    /// The path template, e.g. `/workspaces/{workspaceId}/messages`.
    pub path: &'a str,
    /// Lower-case HTTP method.
    pub method: &'static str,
    /// The operation's id (empty when missing; `check` reports that).
    pub operation_id: &'a str,
    /// The operation object.
    pub operation: &'a Map<String, Value>,
    /// Parameters declared on the path item, shared by its operations.
    pub path_parameters: &'a [Value],
    /// The operation's responses, keyed by status.
    pub responses: Map<String, Value>,
}

/// Every operation of the spec, in path order then method order.
pub fn operations(spec: &Value) -> Vec<OperationRef<'_>> {
    let Some(paths) = spec.get("paths").and_then(Value::as_object) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (path, item) in paths {
        let path_parameters = item
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        for method in HTTP_METHODS {
            let Some(operation) = item.get(method).and_then(Value::as_object) else {
                continue;
            };
            found.push(OperationRef {
                path,
                method,
                operation_id: operation
                    .get("operationId")
                    .and_then(Value::as_str)
                    .unwrap_or(""),
                operation,
                path_parameters,
                responses: operation
                    .get("responses")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default(),
            });
        }
    }
    found
}

/// Reads a YAML spec into a JSON value (YAML 1.2 booleans only).
pub fn read_spec(path: &Path) -> Result<Value, crate::XtaskError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::XtaskError::Read {
        path: crate::shown_path(path),
        source,
    })?;
    parse_spec(&crate::shown_path(path), &text)
}

/// Parses YAML text of a spec; `file` names it in errors.
pub fn parse_spec(file: &str, text: &str) -> Result<Value, crate::XtaskError> {
    let options = serde_saphyr::options! { strict_booleans: true };
    let value: Value = serde_saphyr::from_str_with_options(text, options).map_err(|err| {
        crate::XtaskError::Spec {
            file: file.to_string(),
            source: SpecError::new(format!("not valid YAML for an OpenAPI document: {err}")),
        }
    })?;
    check(&value).map_err(|source| crate::XtaskError::Spec {
        file: file.to_string(),
        source,
    })?;
    Ok(value)
}

/// Structural checks that the generator relies on: an OpenAPI 3.0 document,
/// every operation with a unique id, every `$ref` resolving, path
/// parameters matching the template.
pub fn check(spec: &Value) -> Result<(), SpecError> {
    let version = spec.get("openapi").and_then(Value::as_str).unwrap_or("");
    if !version.starts_with("3.0.") {
        return Err(SpecError::new(format!(
            "openapi: expected a 3.0.x version, found {version:?}"
        )));
    }
    if spec.get("paths").and_then(Value::as_object).is_none() {
        return Err(SpecError::new("paths: missing or not a mapping"));
    }
    check_refs(spec, spec, "#")?;
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            check_schema(schema, &format!("components/schemas/{name}"))?;
        }
    }
    let mut seen: BTreeMap<&str, String> = BTreeMap::new();
    for op in operations(spec) {
        let place = format!("{} {}", op.method.to_uppercase(), op.path);
        if op.operation_id.is_empty() {
            return Err(SpecError::new(format!(
                "{place}: operation has no operationId"
            )));
        }
        if let Some(first) = seen.insert(op.operation_id, place.clone()) {
            return Err(SpecError::new(format!(
                "{place}: operationId {} is already used by {first}",
                op.operation_id
            )));
        }
        if op.responses.is_empty() {
            return Err(SpecError::new(format!(
                "{place} ({}): operation has no responses",
                op.operation_id
            )));
        }
        check_path_parameters(spec, &op, &place)?;
    }
    Ok(())
}

/// Checks that keep generated types honest: a required property must be
/// declared, and a read-only property must not have a default (the client
/// would send the default back in every request body).
fn check_schema(schema: &Value, at: &str) -> Result<(), SpecError> {
    let Some(map) = schema.as_object() else {
        return Ok(());
    };
    let properties = map.get("properties").and_then(Value::as_object);
    if let (Some(required), Some(properties)) =
        (map.get("required").and_then(Value::as_array), properties)
    {
        for name in required.iter().filter_map(Value::as_str) {
            if !properties.contains_key(name) {
                return Err(SpecError::new(format!(
                    "{at}: required property {name} is not declared in properties"
                )));
            }
        }
    }
    for (name, property) in properties.into_iter().flatten() {
        let read_only = property.get("readOnly").and_then(Value::as_bool) == Some(true);
        if read_only && property.get("default").is_some() {
            return Err(SpecError::new(format!(
                "{at}/properties/{name}: a read-only property must not have a default"
            )));
        }
        check_schema(property, &format!("{at}/properties/{name}"))?;
    }
    if let Some(items) = map.get("items") {
        check_schema(items, &format!("{at}/items"))?;
    }
    Ok(())
}

/// Every `{name}` in the path has a path parameter, and every path parameter
/// appears in the path.
fn check_path_parameters(
    spec: &Value,
    op: &OperationRef<'_>,
    place: &str,
) -> Result<(), SpecError> {
    let in_template: BTreeSet<&str> = op
        .path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect();
    let own = op
        .operation
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    let declared: BTreeSet<String> = op
        .path_parameters
        .iter()
        .chain(own)
        .filter_map(|param| resolve(spec, param))
        .filter(|param| param.get("in").and_then(Value::as_str) == Some("path"))
        .filter_map(|param| {
            param
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect();
    for name in &in_template {
        if !declared.contains(*name) {
            return Err(SpecError::new(format!(
                "{place} ({}): path parameter {{{name}}} is not declared",
                op.operation_id
            )));
        }
    }
    for name in &declared {
        if !in_template.contains(name.as_str()) {
            return Err(SpecError::new(format!(
                "{place} ({}): path parameter {name} does not appear in the path",
                op.operation_id
            )));
        }
    }
    Ok(())
}

/// Follows a local `$ref` (one level at a time) to the object it names.
pub fn resolve<'a>(spec: &'a Value, value: &'a Value) -> Option<&'a Value> {
    let mut current = value;
    for _ in 0..16 {
        match current.get("$ref").and_then(Value::as_str) {
            Some(reference) => current = spec.pointer(reference.strip_prefix('#')?)?,
            None => return Some(current),
        }
    }
    None
}

fn check_refs(spec: &Value, value: &Value, at: &str) -> Result<(), SpecError> {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref") {
                let target = reference
                    .as_str()
                    .and_then(|r| r.strip_prefix('#'))
                    .and_then(|pointer| spec.pointer(pointer));
                if target.is_none() {
                    return Err(SpecError::new(format!(
                        "{at}: $ref {reference} does not resolve (only local references \
                         of the form #/components/... are supported)"
                    )));
                }
            }
            for (key, child) in map {
                check_refs(spec, child, &format!("{at}/{key}"))?;
            }
            Ok(())
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                check_refs(spec, child, &format!("{at}/{i}"))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
