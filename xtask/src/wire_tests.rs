//! Generates `tests/tests/operations/generated.rs`: one wire check per operation,
//! derived from the adapted spec. Each test mounts a mock that accepts only
//! the method, path, vendor media types, credentials, required parameters
//! and request body the spec prescribes, answers a minimal valid body, and
//! calls the generated method.

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value, json};

use crate::adapt::OperationSpec;
use crate::spec::{operations, resolve};

/// The workspace id the generated tests use.
const WORKSPACE: &str = "AB12";

/// A minimal instance of a schema: required properties only, the first enum
/// value, fixed scalars. `None` past a nesting depth that only a recursive
/// schema reaches.
pub fn sample(spec: &Value, schema: &Value, depth: usize) -> Value {
    if depth > 12 {
        return Value::Null;
    }
    let Some(schema) = resolve(spec, schema) else {
        return Value::Null;
    };
    if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
        return first.clone();
    }
    for combinator in ["oneOf", "anyOf", "allOf"] {
        if let Some(first) = schema.get(combinator).and_then(|c| c.get(0)) {
            return sample(spec, first, depth + 1);
        }
    }
    let kind = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_else(|| {
            if schema.get("properties").is_some() {
                "object"
            } else {
                "string"
            }
        });
    match kind {
        "integer" => json!(1),
        "number" => json!(1.5),
        "boolean" => json!(true),
        "array" => {
            let wants_items = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0) > 0;
            match schema.get("items") {
                Some(items) if wants_items => json!([sample(spec, items, depth + 1)]),
                _ => json!([]),
            }
        }
        "object" => {
            let mut object = Map::new();
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for name in required {
                    if let Some(property) = properties.get(name) {
                        object.insert(name.to_string(), sample(spec, property, depth + 1));
                    }
                }
            }
            Value::Object(object)
        }
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("date-time") => json!("2026-01-02T03:04:05Z"),
            Some("date") => json!("2026-01-02"),
            Some("uuid") => json!("00000000-0000-0000-0000-000000000001"),
            Some("uri") => json!("https://example.com/x"),
            _ => json!("x"),
        },
    }
}

fn json_tokens(value: &Value) -> TokenStream {
    let text = value.to_string();
    quote! { ::serde_json::from_str::<::serde_json::Value>(#text).unwrap() }
}

/// The generated test file.
pub fn test_file(spec: &Value, table: &[OperationSpec]) -> TokenStream {
    let tests = operations(spec).into_iter().filter_map(|op| {
        let facts = table.iter().find(|t| t.operation_id == op.operation_id)?;
        Some(operation_test(spec, &op, facts))
    });
    quote! {
        //! One wire check per operation of the spec.

        use whispir_tests::{TEST_API_KEY, TEST_AUTHORIZATION, mock_client};
        use wiremock::matchers::{body_json, header, method, path, query_param};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        #(#tests)*
    }
}

fn operation_test(
    spec: &Value,
    op: &crate::spec::OperationRef<'_>,
    facts: &OperationSpec,
) -> TokenStream {
    let test_name = format_ident!("{}_sends_what_the_spec_says", facts.method_name);
    let call = format_ident!("{}", facts.method_name);
    let http_method = &facts.http_method;
    let accept = &facts.accept;

    let mut expected_path = op.path.to_string();
    let mut setters = Vec::new();
    let mut matchers = Vec::new();
    if facts.workspace_scoped {
        expected_path = format!("/workspaces/{WORKSPACE}{expected_path}");
        setters.push(quote! { .workspace_id(#WORKSPACE) });
    }
    let params = op
        .operation
        .get("parameters")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (index, param) in params.iter().filter_map(|p| resolve(spec, p)).enumerate() {
        let name = param
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let location = param.get("in").and_then(Value::as_str).unwrap_or_default();
        let required = param
            .get("required")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let setter = format_ident!("{}", name.to_snake_case());
        let value = format!("P{index}");
        match location {
            "path" => {
                // Upper-case hex: the form ids are documented to have.
                let value = format!("A{index}");
                expected_path = expected_path.replace(&format!("{{{name}}}"), &value);
                setters.push(quote! { .#setter(#value) });
            }
            "query" if required => {
                matchers.push(quote! { .and(query_param(#name, #value)) });
                setters.push(quote! { .#setter(#value) });
            }
            "header" if required => {
                matchers.push(quote! { .and(header(#name, #value)) });
                setters.push(quote! { .#setter(#value) });
            }
            _ => {}
        }
    }
    if let Some(content_type) = &facts.content_type {
        matchers.push(quote! { .and(header("content-type", #content_type)) });
    }

    let mut body_setup = quote! {};
    if let Some(schema) = op
        .operation
        .get("requestBody")
        .and_then(|b| b.get("content"))
        .and_then(|c| c.get("application/json"))
        .and_then(|m| m.get("schema"))
    {
        let type_name = match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => reference
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_upper_camel_case(),
            None => format!("{}Body", op.operation_id.to_upper_camel_case()),
        };
        let body_type = format_ident!("{type_name}");
        let mut sampled = sample(spec, schema, 0);
        // What the client checks before sending beyond the model's own
        // required fields (a new user's write-only `password`; a message's
        // `to`, the first of its alternatives).
        let properties = resolve(spec, schema).and_then(|s| s.get("properties"));
        let first_alternative = facts.body_requires_any.first().into_iter().flatten();
        if let Some(object) = sampled.as_object_mut() {
            for name in facts.body_requires.iter().chain(first_alternative) {
                if let Some(property) = properties.and_then(|p| p.get(name)) {
                    object.insert(name.clone(), sample(spec, property, 1));
                }
            }
        }
        let body = json_tokens(&sampled);
        body_setup = quote! {
            let request_body = #body;
            let typed: whispir::types::#body_type = ::serde_json::from_value(request_body.clone()).unwrap();
        };
        matchers.push(quote! { .and(body_json(&request_body)) });
        setters.push(quote! { .body(typed) });
    }

    let (status, response) = op
        .responses
        .iter()
        .find(|(status, _)| status.starts_with('2'))
        .map(|(status, response)| (status.parse::<u16>().unwrap_or(200), response.clone()))
        .unwrap_or((200, Value::Null));
    let content = response.get("content").and_then(Value::as_object);
    let respond = match content {
        Some(content) if content.contains_key("application/json") => {
            let schema = content["application/json"]
                .get("schema")
                .cloned()
                .unwrap_or(Value::Null);
            let body = json_tokens(&sample(spec, &schema, 0));
            quote! { ResponseTemplate::new(#status).set_body_json(#body) }
        }
        Some(content) if !content.is_empty() => {
            quote! { ResponseTemplate::new(#status).set_body_string("accepted") }
        }
        _ => quote! { ResponseTemplate::new(#status) },
    };

    quote! {
        #[tokio::test]
        async fn #test_name() {
            let server = MockServer::start().await;
            #body_setup
            Mock::given(method(#http_method))
                .and(path(#expected_path))
                .and(header("accept", #accept))
                .and(header("authorization", TEST_AUTHORIZATION))
                .and(header("x-api-key", TEST_API_KEY))
                #(#matchers)*
                .respond_with(#respond)
                .expect(1)
                .mount(&server)
                .await;
            let client = mock_client(&server.uri());
            let response = client.#call() #(#setters)* .send().await;
            assert!(response.is_ok(), "{:?}", response.err());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_hold_required_fields_only_with_fixed_values() {
        let spec = json!({ "components": { "schemas": {
            "Kind": { "type": "string", "enum": ["b", "c"] },
            "Thing": { "type": "object", "required": ["name", "kind", "count", "at", "tags", "ratio"], "properties": {
                "name": { "type": "string" },
                "kind": { "$ref": "#/components/schemas/Kind" },
                "count": { "type": "integer" },
                "ratio": { "type": "number" },
                "at": { "type": "string", "format": "date-time" },
                "tags": { "type": "array", "minItems": 1, "items": { "type": "boolean" } },
                "optional": { "type": "string" }
            } }
        } } });
        let value = sample(&spec, &json!({ "$ref": "#/components/schemas/Thing" }), 0);
        assert_eq!(
            value,
            json!({ "name": "x", "kind": "b", "count": 1, "ratio": 1.5, "at": "2026-01-02T03:04:05Z", "tags": [true] })
        );
    }

    #[test]
    fn recursive_schemas_end() {
        let spec = json!({ "components": { "schemas": {
            "Node": { "type": "object", "required": ["next"], "properties": { "next": { "$ref": "#/components/schemas/Node" } } }
        } } });
        let value = sample(&spec, &json!({ "$ref": "#/components/schemas/Node" }), 0);
        assert!(value.to_string().contains("null"));
    }
}
