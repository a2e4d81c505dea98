//! The bundle step: the project's spec plus the shared responses built from
//! the code table, written as `openapi/bundled.json`.
//!
//! The bundle is the faithful description of the API (vendor media types,
//! real error bodies); adapting it for progenitor happens later, in memory
//! (see `adapt.rs`).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::codes::{CodeClass, ResponseCode};
use crate::spec::{SpecError, operations};

/// Name of the schema of the classic JSON error body.
pub const API_ERROR_SCHEMA: &str = "ApiError";
/// Name of the schema of the newer JSON error body (`status`, `message`, `detail`).
pub const API_ERROR_NEXT_GEN_SCHEMA: &str = "ApiErrorNextGen";

/// Response headers per code beyond `Location`: an over-quota 403 names
/// its reason in `X-Error-Code` / `X-Error-Detail` (Whispir's rate-limit
/// documentation); a 429 may say when to retry in `Retry-After` (RFC 6585,
/// section 4); a 304 repeats the validators of the cached copy (RFC 9110,
/// section 15.4.5).
const RESPONSE_HEADERS: [(u16, &[&str]); 3] = [
    (304, &["ETag", "Last-Modified"]),
    (403, &["X-Error-Code", "X-Error-Detail"]),
    (429, &["Retry-After"]),
];
/// The only code the API answers with a plain-text body.
const PLAIN_TEXT_CODE: u16 = 413;
/// Answered only to requests that carry a body.
const PAYLOAD_TOO_LARGE: u16 = 413;
/// Conditional-request headers every read accepts (RFC 9110, section 13.1),
/// as `(component name, header)`. The client's cache sets them itself.
const CONDITIONAL_HEADERS: [(&str, &str); 2] = [
    ("If-None-Match", "If-None-Match"),
    ("If-Modified-Since", "If-Modified-Since"),
];

/// Name of the shared response for a code, e.g. `429TooManyRequests`.
pub fn shared_response_name(code: &ResponseCode) -> String {
    format!("{}{}", code.code, code.pascal_reason())
}

/// Builds the bundled spec from the project's spec and the code table.
pub fn bundle(spec: &Value, table: &[ResponseCode]) -> Result<Value, SpecError> {
    let mut bundled = spec.clone();
    check_success_codes(&bundled, table)?;
    one_way::split(&mut bundled);

    let shared: Vec<&ResponseCode> = table
        .iter()
        .filter(|code| code.class == CodeClass::Unsuccessful || is_redirect(code.code))
        .collect();

    let responses = components_mut(&mut bundled, "responses")?;
    for code in &shared {
        let name = shared_response_name(code);
        if responses.contains_key(&name) {
            return Err(SpecError::new(format!(
                "components/responses/{name} is built from the code table; remove it from the spec"
            )));
        }
        responses.insert(name, shared_response(code));
    }
    components_mut(&mut bundled, "headers")?.extend(shared_headers());
    components_mut(&mut bundled, "parameters")?.extend(conditional_parameters());

    let location_codes: BTreeSet<String> = table
        .iter()
        .filter(|code| code.class == CodeClass::Success && code.mentions_location_header())
        .map(|code| code.code.to_string())
        .collect();

    let keys: Vec<(String, &str)> = operations(&bundled)
        .iter()
        .map(|op| (op.path.to_string(), op.method))
        .collect();
    for (path, method) in keys {
        let Some(operation) = bundled
            .pointer_mut(&format!("/paths/{}/{method}", escape_pointer(&path)))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        let operation_id = operation
            .get("operationId")
            .and_then(Value::as_str)
            .unwrap_or("(no operationId)")
            .to_string();
        let has_body = operation.contains_key("requestBody");
        if method == "get" {
            add_conditional_parameters(operation);
        }
        let Some(responses) = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut)
        else {
            return Err(SpecError::new(format!(
                "operation {operation_id} ({method} {path}) has no responses"
            )));
        };
        for (status, response) in responses.iter_mut() {
            if location_codes.contains(status) {
                document_location(response);
            }
        }
        for code in &shared {
            if (code.code == 304 && method != "get")
                || (code.code == PAYLOAD_TOO_LARGE && !has_body)
            {
                continue;
            }
            let status = code.code.to_string();
            if responses.contains_key(&status) {
                return Err(SpecError::new(format!(
                    "operation {operation_id} declares response {status} itself; \
                     {status} comes from the code table, remove it from the operation"
                )));
            }
            responses.insert(
                status,
                json!({ "$ref": format!("#/components/responses/{}", shared_response_name(code)) }),
            );
        }
    }
    Ok(sort_keys(bundled))
}

/// Every 2xx an operation declares must be a code the table knows.
fn check_success_codes(spec: &Value, table: &[ResponseCode]) -> Result<(), SpecError> {
    for op in operations(spec) {
        for status in op.responses.keys() {
            let known = status
                .parse::<u16>()
                .ok()
                .and_then(|code| table.iter().find(|row| row.code == code));
            match known {
                Some(row) if row.class == CodeClass::Success && !is_redirect(row.code) => {}
                Some(_) => {
                    return Err(SpecError::new(format!(
                        "operation {} declares response {status}; that code comes from the \
                         code table, remove it from the operation",
                        op.operation_id
                    )));
                }
                None => {
                    return Err(SpecError::new(format!(
                        "operation {} declares response {status}, which is not in the code table",
                        op.operation_id
                    )));
                }
            }
        }
    }
    Ok(())
}

fn is_redirect(code: u16) -> bool {
    (300..400).contains(&code)
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn components_mut<'a>(
    spec: &'a mut Value,
    kind: &str,
) -> Result<&'a mut Map<String, Value>, SpecError> {
    let root = spec
        .as_object_mut()
        .ok_or_else(|| SpecError::new("the spec is not a mapping"))?;
    let components = root
        .entry("components")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| SpecError::new("components is not a mapping"))?;
    components
        .entry(kind)
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| SpecError::new(format!("components/{kind} is not a mapping")))
}

/// The description of a response: the table's summary, then its remedies.
fn description(code: &ResponseCode) -> String {
    std::iter::once(code.summary.as_str())
        .chain(code.remedies.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn shared_response(code: &ResponseCode) -> Value {
    let mut response = Map::new();
    response.insert("description".into(), json!(description(code)));
    let mut headers = Map::new();
    if code.mentions_location_header() {
        headers.insert(
            "Location".into(),
            json!({ "$ref": "#/components/headers/Location" }),
        );
    }
    for (_, names) in RESPONSE_HEADERS.iter().filter(|(c, _)| *c == code.code) {
        for name in *names {
            headers.insert(
                (*name).into(),
                json!({ "$ref": format!("#/components/headers/{name}") }),
            );
        }
    }
    if !headers.is_empty() {
        response.insert("headers".into(), Value::Object(headers));
    }
    if code.class == CodeClass::Unsuccessful {
        response.insert("content".into(), error_content(code.code));
    }
    Value::Object(response)
}

fn error_content(code: u16) -> Value {
    if code == PLAIN_TEXT_CODE {
        return json!({
            "text/plain": {
                "schema": { "type": "string" },
                "example": "HTTP content length exceeded 10485760 bytes."
            }
        });
    }
    // `anyOf`, not `oneOf`: the two shapes are told apart by their required
    // lists, but a validator that skips required read-only properties would
    // find both branches matching and a `oneOf` failing.
    let schema = json!({
        "anyOf": [
            { "$ref": format!("#/components/schemas/{API_ERROR_SCHEMA}") },
            { "$ref": format!("#/components/schemas/{API_ERROR_NEXT_GEN_SCHEMA}") }
        ]
    });
    json!({
        "application/json": { "schema": schema },
        "application/xml": { "schema": { "type": "string" } }
    })
}

fn shared_headers() -> Map<String, Value> {
    let headers = json!({
        "Location": {
            "description": "URL of the resource the response is about: the created \
                            resource (201), the accepted request (202) or the new \
                            address (301, 302).",
            "required": true,
            "schema": { "type": "string", "format": "uri" }
        },
        "ETag": {
            "description": "Validator of the unchanged copy; send it back in If-None-Match.",
            "schema": { "type": "string" }
        },
        "Last-Modified": {
            "description": "When the unchanged copy last changed; send it back in \
                            If-Modified-Since.",
            "schema": { "type": "string" }
        },
        "X-Error-Code": {
            "description": "Machine-readable reason for a refusal. \
                            ERR_403_DEVELOPER_OVER_QPS: the per-second quota was \
                            exceeded. ERR_403_DEVELOPER_OVER_QPD: the daily quota \
                            is spent.",
            "schema": { "type": "string" }
        },
        "X-Error-Detail": {
            "description": "Human-readable detail of the refusal named by X-Error-Code.",
            "schema": { "type": "string" }
        },
        "Retry-After": {
            "description": "When to try again: a number of seconds or an HTTP date.",
            "schema": { "type": "string" }
        }
    });
    match headers {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The optional conditional-request header parameters of reads.
fn conditional_parameters() -> Map<String, Value> {
    CONDITIONAL_HEADERS
        .iter()
        .map(|(component, header)| {
            let description = match *header {
                "If-None-Match" => {
                    "ETag of the copy the client holds; an unchanged resource answers 304."
                }
                _ => {
                    "Last-Modified of the copy the client holds; a resource unchanged \
                      since then answers 304."
                }
            };
            let parameter = json!({
                "name": header,
                "in": "header",
                "required": false,
                "description": description,
                "schema": { "type": "string" }
            });
            ((*component).to_string(), parameter)
        })
        .collect()
}

/// Adds the conditional-request headers to a read, unless it declares them.
fn add_conditional_parameters(operation: &mut Map<String, Value>) {
    let parameters = operation.entry("parameters").or_insert_with(|| json!([]));
    let Some(parameters) = parameters.as_array_mut() else {
        return;
    };
    for (component, _) in CONDITIONAL_HEADERS {
        let reference = json!({ "$ref": format!("#/components/parameters/{component}") });
        if !parameters.contains(&reference) {
            parameters.push(reference);
        }
    }
}

fn document_location(response: &mut Value) {
    if let Some(response) = response.as_object_mut() {
        let headers = response.entry("headers").or_insert_with(|| json!({}));
        if let Some(headers) = headers.as_object_mut() {
            headers
                .entry("Location")
                .or_insert_with(|| json!({ "$ref": "#/components/headers/Location" }));
        }
    }
}

/// Rebuilds every object with its keys in sorted order, whatever map type
/// `serde_json` was built with, so the output never depends on insertion order.
pub fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key, sort_keys(value)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

/// The bundle as written to disk: pretty-printed, sorted keys, trailing newline.
pub fn to_pretty_json(bundled: &Value) -> Result<String, serde_json::Error> {
    let mut text = serde_json::to_string_pretty(bundled)?;
    text.push('\n');
    Ok(text)
}

pub mod one_way;
#[cfg(test)]
mod tests;
