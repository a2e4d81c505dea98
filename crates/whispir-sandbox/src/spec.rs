//! The operations of `openapi/bundled.json`: method, path template, media
//! types, required parameters and request schema, and the lookup from a
//! request's method and path to the operation it calls.

use axum::http::Method;
use serde_json::Value;

use crate::params::{Param, ParamPlace};
use crate::schema::RequestSchema;

/// The bundled spec the sandbox serves: a copy, inside the crate so that its
/// package carries it, of `openapi/bundled.json`, the file the SDK is
/// generated from (`tests/tests/packaging.rs` checks they are equal).
pub(crate) const BUNDLED_SPEC: &str = include_str!("../openapi/bundled.json");

/// One piece of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A fixed segment such as `contacts`.
    Literal(String),
    /// A parameter such as `{contactId}`.
    Param(String),
}

/// One operation of the spec.
#[derive(Debug)]
pub(crate) struct Operation {
    /// The `operationId`.
    pub id: String,
    /// The HTTP method.
    pub method: Method,
    /// The path template, split at `/`.
    pub template: Vec<Segment>,
    /// Media types the request body may have.
    pub request_types: Vec<String>,
    /// The schema the request body must match, when it has one.
    pub request_schema: Option<RequestSchema>,
    /// The same schema as written in the spec.
    pub resource_schema: Option<Value>,
    /// The success status the operation answers with.
    pub success: u16,
    /// The media type of the success body, when there is one.
    pub response_type: Option<String>,
    /// The property holding the items of a collection answer (`contacts`).
    pub list_property: Option<String>,
    /// Media types the `Accept` header may name.
    pub accept_types: Vec<String>,
    /// Path, query and header parameters, without `Accept` and `Content-Type`.
    pub params: Vec<Param>,
    /// The values the declared `Content-Type` header parameter lists.
    pub content_types_declared: Vec<String>,
    /// Whether the request body is required.
    pub body_required: bool,
    /// The schema of the success body, if any.
    pub response_schema: Option<Value>,
}

impl Operation {
    /// Whether the path starts with `/workspaces/{workspaceId}/`.
    pub fn workspace_scoped(&self) -> bool {
        matches!(
            self.template.as_slice(),
            [Segment::Literal(first), Segment::Param(_), _, ..] if first == "workspaces"
        )
    }

    /// The resource collection the operation acts on: the first literal
    /// segment after the workspace prefix (`contacts`, `callbacks`).
    pub fn collection(&self) -> &str {
        let skip = if self.workspace_scoped() { 2 } else { 0 };
        self.template
            .iter()
            .skip(skip)
            .find_map(|segment| match segment {
                Segment::Literal(name) => Some(name.as_str()),
                Segment::Param(_) => None,
            })
            .unwrap_or("")
    }

    /// Whether the path ends with a parameter (an item, not a collection).
    pub fn targets_item(&self) -> bool {
        matches!(self.template.last(), Some(Segment::Param(_)))
    }

    /// Binds the template's parameters to a request path's segments.
    fn bind(&self, segments: &[&str]) -> Option<Vec<(String, String)>> {
        if segments.len() != self.template.len() {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.template.iter().zip(segments) {
            match segment {
                Segment::Literal(literal) if literal == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(_) if part.is_empty() => return None,
                Segment::Param(name) => {
                    let value = percent_encoding::percent_decode_str(part).decode_utf8_lossy();
                    params.push((name.clone(), value.into_owned()));
                }
            }
        }
        Some(params)
    }
}

/// A request path bound to an operation.
#[derive(Debug)]
pub(crate) struct Bound<'a> {
    /// The operation.
    pub operation: &'a Operation,
    /// The values of its path parameters.
    pub params: Vec<(String, String)>,
}

impl Bound<'_> {
    /// The value of a path parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The id of the item the path names (its last parameter).
    pub fn item_id(&self) -> Option<&str> {
        if self.operation.targets_item() {
            self.params.last().map(|(_, value)| value.as_str())
        } else {
            None
        }
    }
}

/// What a method and path lead to.
#[derive(Debug)]
pub(crate) enum RouteMatch<'a> {
    /// An operation.
    Found(Bound<'a>),
    /// The path exists but not with this method; the methods it has.
    MethodNotAllowed(Vec<Method>),
    /// No operation has this path.
    NotFound,
}

/// Every operation of the spec.
#[derive(Debug)]
pub(crate) struct Spec {
    /// The operations, in spec order.
    pub operations: Vec<Operation>,
    /// The whole document, for following `$ref`s.
    pub document: Value,
}

/// Why the embedded spec cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec is not JSON.
    #[error("the embedded spec is not JSON")]
    Json(#[from] serde_json::Error),
    /// A schema of the spec does not compile.
    #[error("the request schema of {operation} does not compile: {reason}")]
    Schema {
        /// The operation.
        operation: String,
        /// Why.
        reason: String,
    },
}

impl Spec {
    /// Reads the embedded bundled spec.
    pub fn load() -> Result<Self, SpecError> {
        let document: Value = serde_json::from_str(BUNDLED_SPEC)?;
        let components = document.get("components").cloned().unwrap_or(Value::Null);
        let mut operations = Vec::new();
        let paths = document.get("paths").and_then(Value::as_object);
        for (path, item) in paths.into_iter().flatten() {
            let shared = item.get("parameters").and_then(Value::as_array);
            for (method, operation) in item.as_object().into_iter().flatten() {
                let Ok(method) = method.to_ascii_uppercase().parse::<Method>() else {
                    continue;
                };
                if !matches!(
                    method,
                    Method::GET | Method::POST | Method::PUT | Method::DELETE | Method::PATCH
                ) {
                    continue;
                }
                operations.push(read_operation(
                    &document,
                    &components,
                    path,
                    method,
                    operation,
                    shared,
                )?);
            }
        }
        Ok(Spec {
            operations,
            document,
        })
    }

    /// The operation with this id.
    #[cfg(test)]
    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|operation| operation.id == id)
    }

    /// The operation a method and path call.
    pub fn route(&self, method: &Method, path: &str) -> RouteMatch<'_> {
        let trimmed = path.trim_end_matches('/');
        let segments: Vec<&str> = trimmed.split('/').skip(1).collect();
        let mut allowed = Vec::new();
        for operation in &self.operations {
            if let Some(params) = operation.bind(&segments) {
                if operation.method == *method {
                    return RouteMatch::Found(Bound { operation, params });
                }
                allowed.push(operation.method.clone());
            }
        }
        if allowed.is_empty() {
            RouteMatch::NotFound
        } else {
            RouteMatch::MethodNotAllowed(allowed)
        }
    }
}

fn read_operation(
    document: &Value,
    components: &Value,
    path: &str,
    method: Method,
    operation: &Value,
    shared: Option<&Vec<Value>>,
) -> Result<Operation, SpecError> {
    let id = operation
        .get("operationId")
        .and_then(Value::as_str)
        .unwrap_or(path)
        .to_string();
    let template = path
        .trim_matches('/')
        .split('/')
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => Segment::Param(name.to_string()),
                None => Segment::Literal(part.to_string()),
            },
        )
        .collect();

    let content = operation
        .pointer("/requestBody/content")
        .and_then(Value::as_object);
    let request_types: Vec<String> = content
        .into_iter()
        .flatten()
        .map(|(k, _)| k.clone())
        .collect();
    let resource_schema = content
        .and_then(|c| c.values().find_map(|m| m.get("schema")))
        .cloned();
    let request_schema = match &resource_schema {
        Some(schema) => Some(
            RequestSchema::compile(schema, components).map_err(|reason| SpecError::Schema {
                operation: id.clone(),
                reason,
            })?,
        ),
        None => None,
    };

    let responses = operation.get("responses").and_then(Value::as_object);
    let mut successes: Vec<(u16, &Value)> = responses
        .into_iter()
        .flatten()
        .filter_map(|(code, response)| {
            let code: u16 = code.parse().ok()?;
            (200..300)
                .contains(&code)
                .then(|| (code, resolve(document, response)))
        })
        .collect();
    // An operation that documents both 200 and 202 (a scheduled or an
    // immediate message) answers 202 unless told otherwise.
    successes.sort_by_key(|(code, _)| std::cmp::Reverse(*code == 202));
    let (success, success_response) = successes.first().copied().unwrap_or((200, &Value::Null));
    let response_content = success_response.get("content").and_then(Value::as_object);
    let response_type = response_content.and_then(|c| c.keys().next().cloned());
    let response_schema = response_content
        .and_then(|c| c.values().next())
        .and_then(|media| media.get("schema"))
        .cloned();
    let list_property = successes
        .iter()
        .filter_map(|(_, response)| response.get("content").and_then(Value::as_object))
        .flat_map(|content| content.values())
        .filter_map(|media| media.get("schema"))
        .find_map(|schema| array_property(document, schema));

    let mut accept_types: Vec<String> = successes
        .iter()
        .filter_map(|(_, response)| response.get("content").and_then(Value::as_object))
        .flat_map(|content| content.keys().cloned())
        .collect();
    let mut params: Vec<Param> = Vec::new();
    let mut content_types_declared = Vec::new();
    let own = operation.get("parameters").and_then(Value::as_array);
    for parameter in own
        .into_iter()
        .flatten()
        .chain(shared.into_iter().flatten())
    {
        let parameter = resolve(document, parameter);
        let name = parameter.get("name").and_then(Value::as_str).unwrap_or("");
        let place = match parameter.get("in").and_then(Value::as_str) {
            Some("path") => ParamPlace::Path,
            Some("query") => ParamPlace::Query,
            Some("header") => ParamPlace::Header,
            _ => continue,
        };
        let values: Vec<String> = parameter
            .pointer("/schema/enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect();
        // OpenAPI says header parameters named Accept, Content-Type or
        // Authorization SHALL be ignored: their values only widen the media
        // types taken, and they are never required.
        if place == ParamPlace::Header && name.eq_ignore_ascii_case("accept") {
            accept_types.extend(values);
            continue;
        }
        if place == ParamPlace::Header && name.eq_ignore_ascii_case("content-type") {
            content_types_declared.extend(values);
            continue;
        }
        if place == ParamPlace::Header && name.eq_ignore_ascii_case("authorization") {
            continue;
        }
        if !params.iter().any(|p| p.name == name && p.place == place) {
            params.push(Param::read(parameter, place, components));
        }
    }
    accept_types.extend(request_types.iter().cloned());
    let mut seen = std::collections::HashSet::new();
    accept_types.retain(|media| seen.insert(media.clone()));

    Ok(Operation {
        id,
        method,
        template,
        request_types,
        request_schema,
        resource_schema,
        success,
        response_type,
        list_property,
        accept_types,
        params,
        content_types_declared,
        body_required: operation
            .pointer("/requestBody/required")
            .and_then(Value::as_bool)
            == Some(true),
        response_schema,
    })
}

/// Follows a local `$ref` once (`#/components/...`).
pub(crate) fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .unwrap_or(value),
        None => value,
    }
}

/// The name of the array property of a collection schema, other than `link`.
fn array_property(document: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(document, schema);
    let properties = schema.get("properties")?.as_object()?;
    properties.iter().find_map(|(name, property)| {
        let property = resolve(document, property);
        (name != "link" && property.get("type").and_then(Value::as_str) == Some("array"))
            .then(|| name.clone())
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn the_spec_has_seventy_three_operations() {
        let spec = Spec::load().unwrap();
        assert_eq!(spec.operations.len(), 73);
    }

    #[test]
    fn a_workspace_path_binds_its_ids() {
        let spec = Spec::load().unwrap();
        let RouteMatch::Found(bound) = spec.route(&Method::GET, "/workspaces/AB12/contacts/C1")
        else {
            panic!("no route");
        };
        assert_eq!(bound.operation.id, "contactRetrieve");
        assert_eq!(bound.param("workspaceId"), Some("AB12"));
        assert_eq!(bound.item_id(), Some("C1"));
        assert_eq!(bound.operation.collection(), "contacts");
    }

    #[test]
    fn a_known_path_with_another_method_is_not_allowed() {
        let spec = Spec::load().unwrap();
        let outcome = spec.route(&Method::PATCH, "/callbacks");
        assert!(
            matches!(outcome, RouteMatch::MethodNotAllowed(methods) if methods.contains(&Method::GET))
        );
    }

    #[test]
    fn collection_answers_name_their_items() {
        let spec = Spec::load().unwrap();
        let list = spec.operation("contactList").unwrap();
        assert_eq!(list.list_property.as_deref(), Some("contacts"));
        let create = spec.operation("messageCreate").unwrap();
        assert_eq!(create.success, 202);
    }
}
