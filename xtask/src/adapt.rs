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
//!   requests; the faithful bundle keeps the constraints for other tools;
//! - `default` is dropped from schemas: a defaulted field is not optional in
//!   the generated type and would write back a value the server never sent;
//! - free-form object properties are nullable, so an empty object read is
//!   written back rather than skipped;
//! - read-only and write-only properties are not required: one generated
//!   type serves requests and responses, and each direction leaves out the
//!   properties that travel only the other way;
//! - an `anyOf` of `required` lists (a message needs `to` or `resource`)
//!   is dropped: progenitor would make a type of each alternative; the
//!   SDK checks the rule itself before sending (`whispir::models`);
//! - a body schema the bundle narrowed (`allOf` of a `$ref` and a
//!   `required` list, see `bundle/one_way.rs`) is the named model again;
//!   a request body's extra names become the operation's `body_requires`,
//!   which the client checks before sending.

use std::collections::BTreeSet;

use heck::ToSnakeCase as _;
use serde_json::{Map, Value, json};

use crate::spec::{SpecError, resolve};

/// Header parameters the client sets itself (the conditional ones come
/// from its opt-in cache).
const CLIENT_HEADERS: [&str; 7] = [
    "accept",
    "content-type",
    "x-api-key",
    "api-key",
    "authorization",
    "if-none-match",
    "if-modified-since",
];

/// The media types one operation sends and accepts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operation's id in the spec, e.g. `messageCreate`.
    pub operation_id: String,
    /// The name progenitor gives the operation and passes to the hooks,
    /// e.g. `message_create`.
    pub method_name: String,
    /// The HTTP method, upper case.
    pub http_method: String,
    /// The path template the generated code calls, e.g. `/messages/{messageId}`.
    pub path: String,
    /// Value of the `Accept` header.
    pub accept: String,
    /// Value of the `Content-Type` header, when the operation sends one.
    pub content_type: Option<String>,
    /// The operation was moved from `/workspaces/{workspaceId}/…` to its
    /// unscoped path with an optional `workspaceId` query parameter, which
    /// the client turns back into the path prefix.
    pub workspace_scoped: bool,
    /// What sending the operation does ([`Effect`]).
    pub effect: Effect,
    /// The header parameters the caller sets (e.g. `eventType`): they
    /// select the answer, so the response cache keys on them.
    pub header_params: Vec<String>,
    /// The properties the request body must carry beyond what its model
    /// requires (a required write-only `password`), by their JSON name:
    /// the client refuses a body without them before sending.
    pub body_requires: Vec<String>,
    /// Alternatives of which the request body's model requires one whole
    /// (its `anyOf` of `required` lists: a message needs `to` or
    /// `resource`), each a list of JSON names: the client refuses a body
    /// that carries no alternative.
    pub body_requires_any: Vec<Vec<String>>,
}

/// What sending an operation does: the fact its retries, redirects and
/// caching are decided from (the SDK's `whispir_errors::Effect`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Changes nothing.
    Read,
    /// Sending it twice leaves the same state as once.
    Idempotent,
    /// Must never happen twice because of the client.
    Unrepeatable,
}

impl Effect {
    /// The variant's name in `whispir_errors::Effect`.
    pub fn variant(self) -> &'static str {
        match self {
            Effect::Read => "Read",
            Effect::Idempotent => "Idempotent",
            Effect::Unrepeatable => "Unrepeatable",
        }
    }
}

/// The spec extension that states an operation's effect where its method
/// alone would say something else (e.g. a search sent as `POST`).
pub const EFFECT_EXTENSION: &str = "x-whispir-effect";

/// The effect of an operation: its `x-whispir-effect` if it has one, else
/// what its method means (RFC 9110: GET/HEAD read, PUT/DELETE idempotent,
/// anything else unrepeatable). An operation that answers 201 or 202 (a
/// resource created, a send accepted; see the code table) is unrepeatable
/// whatever it says: a stated `read` or `idempotent` there is refused.
fn operation_effect(
    operation: &Map<String, Value>,
    method: &str,
    place: &str,
) -> Result<Effect, SpecError> {
    let by_method = match method {
        "get" | "head" => Effect::Read,
        "put" | "delete" => Effect::Idempotent,
        _ => Effect::Unrepeatable,
    };
    let stated = match operation.get(EFFECT_EXTENSION) {
        None => None,
        Some(Value::String(name)) => Some(match name.as_str() {
            "read" => Effect::Read,
            "idempotent" => Effect::Idempotent,
            "unrepeatable" => Effect::Unrepeatable,
            other => {
                return Err(SpecError::new(format!(
                    "{place}: {EFFECT_EXTENSION} is {other:?}; it must be read, idempotent or unrepeatable"
                )));
            }
        }),
        Some(other) => {
            return Err(SpecError::new(format!(
                "{place}: {EFFECT_EXTENSION} must be a string, not {other}"
            )));
        }
    };
    let creates = operation
        .get("responses")
        .and_then(Value::as_object)
        .is_some_and(|responses| responses.contains_key("201") || responses.contains_key("202"));
    match stated {
        Some(effect) if creates && effect != Effect::Unrepeatable => Err(SpecError::new(format!(
            "{place}: {EFFECT_EXTENSION} says {effect:?}, but the operation answers 201 or 202 \
             (it creates or sends): it is unrepeatable"
        ))),
        Some(effect) => Ok(effect),
        None if creates => Ok(Effect::Unrepeatable),
        None => Ok(by_method),
    }
}

/// The generator's copy of the spec and the per-operation facts the client
/// applies on the wire.
#[derive(Debug)]
pub struct Adapted {
    /// The spec progenitor reads.
    pub spec: Value,
    /// One entry per operation, sorted by method name.
    pub operations: Vec<OperationSpec>,
    /// The string enums, generated as open enums.
    pub enums: Vec<crate::enums::OpenEnum>,
}

/// The path prefix of workspace-scoped resources.
pub const WORKSPACE_PREFIX: &str = "/workspaces/{workspaceId}/";
/// The parameter naming the workspace.
pub const WORKSPACE_PARAM: &str = "workspaceId";

/// Adapts a bundled spec for progenitor.
pub fn adapt(bundled: &Value) -> Result<Adapted, SpecError> {
    let mut spec = bundled.clone();
    let mut operations = Vec::new();
    let Some(paths) = bundled.get("paths").and_then(Value::as_object) else {
        return Err(SpecError::new("paths: missing or not a mapping"));
    };
    let mut new_paths = Map::new();

    for op in crate::spec::operations(bundled) {
        let (path, method, operation) = (op.path, op.method, op.operation);
        let operation_id = op.operation_id.to_string();
        let path_params = op.path_parameters;
        let place = format!("{operation_id} ({} {path})", method.to_uppercase());
        // Path-level parameters move into each operation, so that one
        // path item can be split between a scoped and an unscoped path.
        let mut merged = operation.clone();
        let own = operation
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        // An operation-level parameter overrides a path-level one of the
        // same name and location (OpenAPI semantics).
        let key = |param: &Value| {
            resolve(bundled, param).map(|p| (p.get("name").cloned(), p.get("in").cloned()))
        };
        let own_keys: Vec<_> = own.iter().map(key).collect();
        let all_params: Vec<Value> = path_params
            .iter()
            .filter(|param| !own_keys.contains(&key(param)))
            .chain(own)
            .cloned()
            .collect();
        merged.insert("parameters".into(), Value::Array(all_params));

        let unscoped = path
            .strip_prefix(WORKSPACE_PREFIX)
            .map(|rest| format!("/{rest}"))
            .filter(|unscoped| {
                paths
                    .get(unscoped)
                    .and_then(|other| other.get(method))
                    .is_none()
            });
        let (adapted, mut facts) = adapt_operation(
            bundled,
            &merged,
            &operation_id,
            method,
            unscoped.is_some(),
            &place,
        )?;
        let target = unscoped.unwrap_or_else(|| path.to_string());
        facts.path.clone_from(&target);
        let entry = new_paths.entry(target).or_insert_with(|| json!({}));
        if let Some(entry) = entry.as_object_mut() {
            entry.insert(method.to_string(), Value::Object(adapted));
        }
        operations.push(facts);
    }
    spec["paths"] = Value::Object(new_paths);

    if let Some(schemas) = spec.pointer_mut("/components/schemas") {
        remove_string_constraints(schemas);
        remove_defaults(schemas);
        remove_required_alternatives(schemas);
        keep_empty_objects(schemas);
    }
    let snapshot = spec.clone();
    relax_one_way_required(&snapshot, &mut spec);
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
    operations.sort_by(|a, b| a.method_name.cmp(&b.method_name));
    let enums = crate::enums::hoist_enums(&mut spec)?;
    Ok(Adapted {
        spec,
        operations,
        enums,
    })
}

fn adapt_operation(
    spec: &Value,
    operation: &Map<String, Value>,
    operation_id: &str,
    method: &str,
    workspace_scoped: bool,
    place: &str,
) -> Result<(Map<String, Value>, OperationSpec), SpecError> {
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

    let mut body_requires = Vec::new();
    let mut body_requires_any = Vec::new();
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
                let mut entry = content.get(media).cloned().unwrap_or_else(|| json!({}));
                body_requires = unnarrow(&mut entry);
                body_requires_any = entry
                    .get("schema")
                    .and_then(|schema| resolve(spec, schema))
                    .and_then(required_alternatives)
                    .unwrap_or_default();
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

    let mut params = adapt_parameters(spec, own_params);
    if workspace_scoped {
        params.retain(|param| param.get("name").and_then(Value::as_str) != Some(WORKSPACE_PARAM));
        params.insert(
            0,
            json!({
                "name": WORKSPACE_PARAM,
                "in": "query",
                "required": false,
                "description": "The workspace to act in; without it, the company's default workspace.",
                "schema": { "type": "string" }
            }),
        );
    }
    adapted.insert("parameters".into(), Value::Array(params));

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
                    let mut entry = content.get(&media).cloned().unwrap_or_else(|| json!({}));
                    // A response requires its read-only fields; the model,
                    // which serves both ways, does not.
                    unnarrow(&mut entry);
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
    let header_params = adapted
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter(|param| param.get("in").and_then(Value::as_str) == Some("header"))
        .filter_map(|param| param.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let effect = operation_effect(operation, method, place)?;
    adapted.remove(EFFECT_EXTENSION);
    Ok((
        adapted,
        OperationSpec {
            operation_id: operation_id.to_string(),
            method_name: operation_id.to_snake_case(),
            http_method: method.to_uppercase(),
            path: String::new(),
            accept,
            content_type,
            workspace_scoped,
            effect,
            header_params,
            body_requires,
            body_requires_any,
        },
    ))
}

/// Turns a media entry whose schema the bundle narrowed back into the named
/// schema; returns the names the narrowing required.
fn unnarrow(entry: &mut Value) -> Vec<String> {
    let Some(schema) = entry.get_mut("schema") else {
        return Vec::new();
    };
    match crate::bundle::one_way::narrowed(schema) {
        Some((reference, names)) => {
            *schema = reference.clone();
            names
        }
        None => Vec::new(),
    }
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

/// The alternatives of an `anyOf` whose members are each only a
/// `required` list (`anyOf: [{required: [to]}, {required: [resource]}]`):
/// at least one of the lists must be present. `None` for any other schema.
pub fn required_alternatives(schema: &Value) -> Option<Vec<Vec<String>>> {
    alternatives_in(schema.as_object()?)
}

fn alternatives_in(schema: &Map<String, Value>) -> Option<Vec<Vec<String>>> {
    schema
        .get("anyOf")?
        .as_array()?
        .iter()
        .map(|member| {
            let member = member.as_object()?;
            if member.len() != 1 {
                return None;
            }
            member
                .get("required")?
                .as_array()?
                .iter()
                .map(|name| name.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Removes every `anyOf` of `required` lists below `value`
/// ([`required_alternatives`]): a rule across fields that no generated
/// type can hold. The SDK checks it before sending; the bundle keeps it.
fn remove_required_alternatives(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if alternatives_in(map).is_some() {
                map.remove("anyOf");
            }
            map.values_mut().for_each(remove_required_alternatives);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_required_alternatives),
        _ => {}
    }
}

/// Removes `default` from every schema below `value`: with a default, the
/// generated field is no longer optional and serializes the default back,
/// so a read-modify-write would send a field the server never sent. The
/// server applies its defaults itself; the bundle keeps them for other tools.
fn remove_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            // A property named `default` holds a schema object, not a value.
            if map.get("default").is_some_and(|v| !v.is_object()) {
                map.remove("default");
            }
            map.values_mut().for_each(remove_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_defaults),
        _ => {}
    }
}

/// Marks free-form object properties (`type: object`, nothing declared) as
/// nullable for the generator: the generated field is then an optional map
/// that writes an empty object back, where a plain map would skip it. An
/// empty object can carry meaning (an RCS `shareLocationAction: {}` is the
/// action itself), so a read-modify-write must not drop it.
fn keep_empty_objects(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
                for property in properties.values_mut() {
                    let Some(property) = property.as_object_mut() else {
                        continue;
                    };
                    let free_form = property.get("type").and_then(Value::as_str) == Some("object")
                        && !property.contains_key("properties")
                        && !property.contains_key("additionalProperties");
                    if free_form {
                        property.insert("nullable".into(), Value::Bool(true));
                    }
                }
            }
            map.values_mut().for_each(keep_empty_objects);
        }
        Value::Array(items) => items.iter_mut().for_each(keep_empty_objects),
        _ => {}
    }
}

/// Drops read-only and write-only properties from `required` lists below
/// `value`. A generated type serves both directions, and OpenAPI requires
/// such a property only in the direction it travels: a required write-only
/// `derefUri` would make every read of a resource fail, a required
/// read-only id every request built without it. `spec` resolves `$ref`s.
fn relax_one_way_required(spec: &Value, value: &mut Value) {
    match value {
        Value::Object(map) => {
            let one_way: Vec<Value> = map
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, property)| {
                    resolve(spec, property).is_some_and(|p| {
                        ["readOnly", "writeOnly"]
                            .iter()
                            .any(|key| p.get(*key).and_then(Value::as_bool) == Some(true))
                    })
                })
                .map(|(name, _)| Value::String(name.clone()))
                .collect();
            if let Some(required) = map.get_mut("required").and_then(Value::as_array_mut) {
                required.retain(|name| !one_way.contains(name));
                if required.is_empty() {
                    map.remove("required");
                }
            }
            map.values_mut()
                .for_each(|child| relax_one_way_required(spec, child));
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|child| relax_one_way_required(spec, child)),
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
