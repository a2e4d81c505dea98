use super::*;
use crate::codes::parse_table;

const TABLE: &str = "## Successful response codes

| Response Code | Meaning |
| --- | --- |
| **200 OK** | Fine. |
| **201 Created** | Made. <br /><br /> See the Location header. |
| **301 Moved Permanently** | Moved. <br /><br /> Follow the Location header. |
| **304 Not Modified** | Same. |

## Unsuccessful response codes

| Response Code | Meaning |
| --- | --- |
| **403 Forbidden** | No. <br /><br /> Check the key. |
| **413 Payload Too Large** | Too big. |
| **429 Too Many Requests** | Slow down. |
| **500 Internal Server Error** | Broken. |
";

fn table() -> Vec<ResponseCode> {
    parse_table("t.md", TABLE).expect("valid table")
}

fn spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": { "title": "t", "version": "1" },
        "paths": {
            "/things": {
                "get": { "operationId": "thingList", "responses": { "200": { "description": "ok" } } },
                "post": {
                    "operationId": "thingCreate",
                    "requestBody": { "content": { "application/json": { "schema": {} } } },
                    "responses": { "201": { "description": "made" } }
                }
            }
        },
        "components": { "schemas": { "ApiError": {}, "ApiErrorNextGen": {} } }
    })
}

#[test]
fn every_operation_references_every_unsuccessful_code() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    for method in ["get", "post"] {
        let responses = &bundled["paths"]["/things"][method]["responses"];
        for (code, name) in [
            ("403", "403Forbidden"),
            ("429", "429TooManyRequests"),
            ("500", "500InternalServerError"),
            ("301", "301MovedPermanently"),
        ] {
            assert_eq!(
                responses[code]["$ref"],
                format!("#/components/responses/{name}"),
                "{method} {code}"
            );
        }
    }
}

#[test]
fn not_modified_is_referenced_by_reads_only() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    assert!(bundled["paths"]["/things"]["get"]["responses"]["304"].is_object());
    assert!(
        bundled["paths"]["/things"]["post"]["responses"]
            .get("304")
            .is_none()
    );
}

#[test]
fn shared_responses_take_the_table_texts_and_bodies() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let responses = &bundled["components"]["responses"];
    assert_eq!(
        responses["403Forbidden"]["description"],
        "No.\n\nCheck the key."
    );
    let json_schema = &responses["500InternalServerError"]["content"]["application/json"]["schema"];
    assert_eq!(
        json_schema["anyOf"][0]["$ref"],
        "#/components/schemas/ApiError"
    );
    assert_eq!(
        json_schema["anyOf"][1]["$ref"],
        "#/components/schemas/ApiErrorNextGen"
    );
    assert!(responses["500InternalServerError"]["content"]["application/xml"].is_object());
    assert!(responses["413PayloadTooLarge"]["content"]["text/plain"].is_object());
    assert!(
        responses["413PayloadTooLarge"]["content"]
            .get("application/json")
            .is_none()
    );
}

#[test]
fn payload_too_large_is_referenced_by_operations_with_a_body_only() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let paths = &bundled["paths"]["/things"];
    assert_eq!(
        paths["post"]["responses"]["413"]["$ref"],
        "#/components/responses/413PayloadTooLarge"
    );
    assert!(paths["get"]["responses"].get("413").is_none());
}

#[test]
fn reads_accept_the_conditional_headers_and_304_names_its_validators() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let get = bundled["paths"]["/things"]["get"]["parameters"].to_string();
    assert!(
        get.contains("#/components/parameters/If-None-Match"),
        "{get}"
    );
    assert!(
        get.contains("#/components/parameters/If-Modified-Since"),
        "{get}"
    );
    assert!(
        bundled["paths"]["/things"]["post"]
            .get("parameters")
            .is_none()
    );
    let parameter = &bundled["components"]["parameters"]["If-None-Match"];
    assert_eq!(parameter["in"], "header");
    assert_eq!(parameter["required"], false);
    let headers = &bundled["components"]["responses"]["304NotModified"]["headers"];
    for header in ["ETag", "Last-Modified"] {
        assert!(headers[header].is_object(), "{header}");
    }
}

#[test]
fn quota_codes_document_only_their_sourced_headers() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let responses = &bundled["components"]["responses"];
    let names = |response: &str| -> Vec<String> {
        responses[response]["headers"]
            .as_object()
            .map(|h| h.keys().cloned().collect())
            .unwrap_or_default()
    };
    assert_eq!(names("403Forbidden"), ["X-Error-Code", "X-Error-Detail"]);
    assert_eq!(names("429TooManyRequests"), ["Retry-After"]);
    assert!(
        bundled["components"]["responses"]["500InternalServerError"]
            .get("headers")
            .is_none()
    );
}

#[test]
fn codes_whose_text_names_location_document_the_header() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let created = &bundled["paths"]["/things"]["post"]["responses"]["201"];
    assert_eq!(
        created["headers"]["Location"]["$ref"],
        "#/components/headers/Location"
    );
    let ok = &bundled["paths"]["/things"]["get"]["responses"]["200"];
    assert!(ok.get("headers").is_none());
    assert!(
        bundled["components"]["responses"]["301MovedPermanently"]["headers"]["Location"]
            .is_object()
    );
}

#[test]
fn an_error_response_in_the_spec_is_refused() {
    let mut spec = spec();
    spec["paths"]["/things"]["get"]["responses"]["429"] = json!({ "description": "mine" });
    let err = bundle(&spec, &table()).expect_err("refused");
    assert!(
        err.to_string().contains("thingList declares response 429"),
        "{err}"
    );
}

#[test]
fn a_success_code_outside_the_table_is_refused() {
    let mut spec = spec();
    spec["paths"]["/things"]["get"]["responses"]["203"] = json!({ "description": "odd" });
    let err = bundle(&spec, &table()).expect_err("refused");
    assert!(
        err.to_string()
            .contains("203, which is not in the code table"),
        "{err}"
    );
}

#[test]
fn output_is_sorted_pretty_json_with_a_trailing_newline() {
    let bundled = bundle(&spec(), &table()).expect("bundles");
    let text = to_pretty_json(&bundled).expect("renders");
    assert!(text.ends_with("}\n"));
    let top_keys: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("  \""))
        .map(|line| line.trim_start().split('"').nth(1).unwrap_or_default())
        .collect();
    let mut sorted = top_keys.clone();
    sorted.sort_unstable();
    assert_eq!(top_keys, sorted);
}

#[test]
fn sort_keys_orders_nested_objects() {
    let value = json!({ "b": { "z": 1, "a": [ { "y": 1, "x": 2 } ] }, "a": 0 });
    let text = serde_json::to_string(&sort_keys(value)).expect("renders");
    assert_eq!(text, r#"{"a":0,"b":{"a":[{"x":2,"y":1}],"z":1}}"#);
}

#[test]
fn the_project_bundle_covers_every_operation_with_every_table_error() {
    let root = crate::project_root();
    let table = crate::codes::read_table(&root.join(crate::TABLE_PATH)).expect("table");
    let spec = crate::spec::read_spec(&root.join(crate::SPEC_PATH)).expect("spec");
    let bundled = bundle(&spec, &table).expect("bundles");
    let ops = operations(&bundled);
    assert!(!ops.is_empty());
    for op in ops {
        let has_body = op.operation.contains_key("requestBody");
        for code in [
            "400", "401", "403", "404", "405", "413", "415", "422", "429", "500", "501",
        ] {
            if code == "413" && !has_body {
                assert!(op.responses.get(code).is_none(), "{}", op.operation_id);
                continue;
            }
            let reference = op.responses[code]["$ref"].as_str().unwrap_or_default();
            assert!(
                reference.starts_with(&format!("#/components/responses/{code}")),
                "{} {code}",
                op.operation_id
            );
        }
    }
}
