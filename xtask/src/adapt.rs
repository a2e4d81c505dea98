//! Adapts the bundled spec, in memory, to what progenitor 0.15 can digest.
//!
//! The bundle stays the faithful description of the API. The generator sees
//! a copy in which:
//! - vendor `+json` request and response bodies are plain `application/json`
//!   (progenitor types only that); the real vendor types are kept in the
//!   media-type table the client applies on the wire;
//! - every error response is one raw byte stream, so each operation has a
//!   single error type and `whispir-errors` parses status, headers and body
//!   leniently;
//! - 3xx responses are dropped (the client follows or reports them);
//! - an operation whose success responses have different bodies answers a
//!   raw byte stream for all of them (progenitor needs one success type);
//! - `Accept`, `Content-Type`, API-key and `Authorization` header parameters
//!   are removed (the client sets them);
//! - `pattern` is dropped from parameters and schemas, and `minLength` /
//!   `maxLength` from schemas: on a path parameter a pattern creates a
//!   newtype per operation; on a field these create checked newtypes that
//!   would refuse a response the server really sent (a longer subject, a
//!   different date format) at deserialization. The server validates
//!   requests; the faithful bundle keeps the constraints for other tools.

use std::collections::BTreeSet;

use heck::ToSnakeCase as _;
use serde_json::{Map, Value, json};

use crate::spec::{HTTP_METHODS, SpecError, resolve};

/// Header parameters the client sets itself.
const CLIENT_HEADERS: [&str; 5] = [
    "accept",
    "content-type",
    "x-api-key",
    "api-key",
    "authorization",
];

/// The media types one operation sends and accepts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationMediaTypes {
    /// The operation's id in the spec, e.g. `messageCreate`.
    pub operation_id: String,
    /// The name progenitor gives the operation and passes to the hooks,
    /// e.g. `message_create`.
    pub method_name: String,
    /// Value of the `Accept` header.
    pub accept: String,
    /// Value of the `Content-Type` header, when the operation sends one.
    pub content_type: Option<String>,
}

/// The generator's copy of the spec and the media-type table.
#[derive(Debug)]
pub struct Adapted {
    /// The spec progenitor reads.
    pub spec: Value,
    /// Media types per operation, sorted by method name.
    pub media_types: Vec<OperationMediaTypes>,
}

/// Adapts a bundled spec for progenitor.
pub fn adapt(bundled: &Value) -> Result<Adapted, SpecError> {
    let mut spec = bundled.clone();
    let mut media_types = Vec::new();
    let path_names: Vec<String> = bundled
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| paths.keys().cloned().collect())
        .unwrap_or_default();

    for path in &path_names {
        let Some(item) = bundled.pointer(&format!("/paths/{}", pointer_segment(path))) else {
            continue;
        };
        let mut new_item = item.clone();
        let Some(new_map) = new_item.as_object_mut() else {
            return Err(SpecError::new(format!("paths/{path} is not a mapping")));
        };
        if let Some(params) = item.get("parameters").and_then(Value::as_array) {
            new_map.insert(
                "parameters".into(),
                Value::Array(adapt_parameters(bundled, params)),
            );
        }
        for method in HTTP_METHODS {
            let Some(operation) = item.get(method).and_then(Value::as_object) else {
                continue;
            };
            let operation_id = operation
                .get("operationId")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let place = format!("{operation_id} ({} {path})", method.to_uppercase());
            let (adapted, media) = adapt_operation(bundled, operation, &operation_id, &place)?;
            new_map.insert(method.to_string(), Value::Object(adapted));
            media_types.push(media);
        }
        if let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) {
            paths.insert(path.clone(), new_item);
        }
    }

    if let Some(schemas) = spec.pointer_mut("/components/schemas") {
        remove_string_constraints(schemas);
    }
    if let Some(components) = spec.get_mut("components").and_then(Value::as_object_mut) {
        // Everything these held has been inlined into the operations above.
        for kind in [
            "responses",
            "requestBodies",
            "parameters",
            "headers",
            "examples",
        ] {
            components.remove(kind);
        }
    }
    media_types.sort_by(|a, b| a.method_name.cmp(&b.method_name));
    Ok(Adapted { spec, media_types })
}

fn pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn adapt_operation(
    spec: &Value,
    operation: &Map<String, Value>,
    operation_id: &str,
    place: &str,
) -> Result<(Map<String, Value>, OperationMediaTypes), SpecError> {
    let mut adapted = operation.clone();
    let own_params = operation
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);

    let declared_header = |name: &str| -> Option<String> {
        own_params
            .iter()
            .filter_map(|param| resolve(spec, param))
            .find(|param| {
                param.get("in").and_then(Value::as_str) == Some("header")
                    && param
                        .get("name")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .and_then(|param| param.get("schema"))
            .and_then(|schema| {
                schema
                    .get("default")
                    .or_else(|| schema.get("enum").and_then(|e| e.get(0)))
            })
            .and_then(Value::as_str)
            .map(str::to_string)
    };

    let request_content = match operation.get("requestBody") {
        Some(body) => {
            let body = resolve(spec, body)
                .ok_or_else(|| SpecError::new(format!("{place}: requestBody does not resolve")))?;
            let mut body = body.clone();
            let content = body
                .get("content")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let chosen = json_media_type(&content).or_else(|| content.keys().next().cloned());
            if let (Some(media), Some(map)) = (&chosen, body.as_object_mut()) {
                let entry = content.get(media).cloned().unwrap_or_else(|| json!({}));
                let key = if is_json(media) {
                    "application/json".to_string()
                } else {
                    media.clone()
                };
                map.insert("content".into(), json!({ key: entry }));
            }
            adapted.insert("requestBody".into(), body);
            chosen
        }
        None => None,
    };

    adapted.insert(
        "parameters".into(),
        Value::Array(adapt_parameters(spec, own_params)),
    );

    let responses = operation
        .get("responses")
        .and_then(Value::as_object)
        .ok_or_else(|| SpecError::new(format!("{place}: no responses")))?;
    let mut new_responses = Map::new();
    let mut success_bodies = BTreeSet::new();
    let mut success_media = None;
    for (status, response) in responses {
        let response = resolve(spec, response).ok_or_else(|| {
            SpecError::new(format!("{place}: response {status} does not resolve"))
        })?;
        let description = response
            .get("description")
            .cloned()
            .unwrap_or_else(|| json!(""));
        match status.chars().next() {
            Some('2') => {
                let content = response
                    .get("content")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                let mut new_response = json!({ "description": description });
                if let Some(media) = json_media_type(&content) {
                    let entry = content.get(&media).cloned().unwrap_or_else(|| json!({}));
                    success_bodies.insert(entry.to_string());
                    new_response["content"] = json!({ "application/json": entry });
                    success_media.get_or_insert(media);
                } else if let Some((media, entry)) = content.iter().next() {
                    success_bodies.insert(format!("raw {media}"));
                    new_response["content"] = json!({ media.clone(): entry.clone() });
                } else {
                    success_bodies.insert("empty".into());
                }
                new_responses.insert(status.clone(), new_response);
            }
            Some('4' | '5') => {
                new_responses.insert(
                    status.clone(),
                    json!({
                        "description": description,
                        "content": { "application/octet-stream": {} }
                    }),
                );
            }
            // 1xx and 3xx never reach generated code: the client follows or
            // reports them before.
            _ => {}
        }
    }
    if success_bodies.len() > 1 {
        for (status, response) in new_responses.iter_mut() {
            if status.starts_with('2') {
                response["content"] = json!({ "application/octet-stream": {} });
            }
        }
    }
    adapted.insert("responses".into(), Value::Object(new_responses));

    let accept = declared_header("accept")
        .or(success_media)
        .unwrap_or_else(|| "application/json".to_string());
    let content_type = declared_header("content-type").or(request_content);
    Ok((
        adapted,
        OperationMediaTypes {
            operation_id: operation_id.to_string(),
            method_name: operation_id.to_snake_case(),
            accept,
            content_type,
        },
    ))
}

/// Inlines parameters, drops the headers the client sets and path patterns.
fn adapt_parameters(spec: &Value, params: &[Value]) -> Vec<Value> {
    params
        .iter()
        .filter_map(|param| resolve(spec, param))
        .filter(|param| {
            let is_header = param.get("in").and_then(Value::as_str) == Some("header");
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            !(is_header && CLIENT_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)))
        })
        .map(|param| {
            let mut param = param.clone();
            let is_path = param.get("in").and_then(Value::as_str) == Some("path");
            if let Some(schema) = param.get_mut("schema").and_then(Value::as_object_mut)
                && is_path
            {
                schema.remove("pattern");
            }
            param
        })
        .collect()
}

/// String constraints removed from the generator's schemas.
const STRING_CONSTRAINTS: [&str; 3] = ["pattern", "minLength", "maxLength"];

/// Removes string constraints from every schema below `value`.
fn remove_string_constraints(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for key in STRING_CONSTRAINTS {
                // A property named like a keyword holds an object, not a value.
                if map.get(key).is_some_and(|v| v.is_string() || v.is_number()) {
                    map.remove(key);
                }
            }
            map.values_mut().for_each(remove_string_constraints);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_string_constraints),
        _ => {}
    }
}

fn is_json(media: &str) -> bool {
    let essence = media.split(';').next().unwrap_or_default().trim();
    essence == "application/json" || essence.ends_with("+json")
}

/// The first JSON media type of a content map, vendor types included.
fn json_media_type(content: &Map<String, Value>) -> Option<String> {
    content.keys().find(|media| is_json(media)).cloned()
}

#[cfg(test)]
mod tests;
