use serde_json::json;

use super::*;

fn spec(schema: Value) -> Value {
    json!({
        "openapi": "3.0.3",
        "paths": { "/things/{thingId}": {
            "parameters": [{ "name": "thingId", "in": "path", "required": true,
                             "schema": { "type": "string" } }],
            "put": {
                "operationId": "thingUpdate",
                "requestBody": { "content": { "application/json": {
                    "schema": { "$ref": "#/components/schemas/Thing" } } } },
                "responses": { "204": { "description": "done" } }
            }
        } },
        "components": { "schemas": { "Thing": schema } }
    })
}

fn thing() -> Value {
    json!({
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": { "type": "string", "minLength": 1 },
            "title": { "type": "string", "readOnly": true },
            "size": { "type": "number", "default": 1 },
            "kind": { "type": "string", "enum": ["a", "b"] },
            "parts": { "type": "array", "items": { "$ref": "#/components/schemas/Thing" } }
        }
    })
}

fn places(found: &[Difference]) -> Vec<String> {
    found.iter().map(ToString::to_string).collect()
}

#[test]
fn identical_documents_have_no_difference() {
    assert!(differences(&spec(thing()), &spec(thing())).is_empty());
}

#[test]
fn descriptions_and_examples_are_not_compared() {
    let mut ours = thing();
    ours["description"] = json!("our words");
    ours["properties"]["name"]["example"] = json!("lamp");
    assert!(differences(&spec(thing()), &spec(ours)).is_empty());
}

#[test]
fn a_dropped_property_named_like_a_keyword_is_lost() {
    let mut ours = thing();
    ours["properties"]
        .as_object_mut()
        .expect("properties")
        .remove("title");
    let found = differences(&spec(thing()), &spec(ours));
    assert_eq!(
        places(&found),
        ["PUT /things/{thingId} request application/json body.title schema: lost"]
    );
}

#[test]
fn every_kind_of_schema_fact_is_compared() {
    let mut ours = thing();
    ours["required"] = json!([]);
    ours["properties"]["name"]
        .as_object_mut()
        .expect("name")
        .remove("minLength");
    ours["properties"]["title"]["readOnly"] = json!(false);
    ours["properties"]["size"] = json!({ "type": "integer" });
    ours["properties"]["kind"]["enum"] = json!(["a", "c"]);
    let found = places(&differences(&spec(thing()), &spec(ours)));
    let body = "PUT /things/{thingId} request application/json body";
    assert_eq!(
        found,
        [
            format!("{body} required name: lost"),
            format!("{body}.kind enum \"b\": lost"),
            format!("{body}.kind enum \"c\": added"),
            format!("{body}.name minLength: lost (upstream 1)"),
            format!("{body}.size default: lost (upstream 1)"),
            format!("{body}.size type: changed (upstream \"number\", project \"integer\")"),
            format!("{body}.title readOnly: lost (upstream true)"),
        ]
    );
}

#[test]
fn an_inline_schema_equals_the_component_it_was_moved_to() {
    let mut inline = spec(thing());
    inline["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/json"]["schema"] =
        thing();
    // The recursive `parts` item still points at the component.
    assert!(differences(&inline, &spec(thing())).is_empty());
}

#[test]
fn operations_parameters_and_responses_are_compared() {
    let upstream = spec(thing());
    let mut ours = spec(thing());
    let put = &mut ours["paths"]["/things/{thingId}"]["put"];
    put["operationId"] = json!("thingReplace");
    put["parameters"] = json!([{ "name": "Accept", "in": "header", "required": true,
                                 "schema": { "type": "string" } }]);
    put["responses"]["204"]["headers"] = json!({ "Location": { "schema": { "type": "string" } } });
    put["responses"]["200"] = json!({ "description": "ok" });
    let found = places(&differences(&upstream, &ours));
    assert_eq!(
        found,
        [
            "PUT /things/{thingId} operationId: changed (upstream \"thingUpdate\", project \"thingReplace\")",
            "PUT /things/{thingId} parameter header accept: added",
            "PUT /things/{thingId} response 200: added",
            "PUT /things/{thingId} response 204 header location: added",
        ]
    );
}

const CHANGES: &str = "\
# Changes

| where | difference | reason |
| --- | --- | --- |
| `PUT /things/{thingId} operationId` | changed | a clearer name |
| `* response 200` | added | the API answers it |
";

#[test]
fn rows_are_parsed_with_their_lines() {
    let rows = parse_changes("CHANGES.md", CHANGES).expect("parses");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].line, 5);
    assert_eq!(rows[1].pattern, "* response 200");
    assert_eq!(rows[1].accepts, Accepts::Only(Kind::Added));
}

#[test]
fn a_row_without_reason_is_refused() {
    let text = CHANGES.replace("a clearer name", "");
    let err = parse_changes("CHANGES.md", &text).expect_err("no reason");
    assert!(err.starts_with("CHANGES.md:5:"), "{err}");
}

#[test]
fn unlisted_differences_and_unused_rows_fail() {
    let upstream = spec(thing());
    let mut ours = spec(thing());
    ours["paths"]["/things/{thingId}"]["put"]["responses"]["200"] = json!({ "description": "ok" });
    ours["components"]["schemas"]["Thing"]["properties"]["kind"]["enum"] = json!(["a"]);
    let rows = parse_changes("CHANGES.md", CHANGES).expect("parses");
    let report = report(&upstream, &ours, &rows);
    assert!(!report.passes());
    assert_eq!(places(&report.unlisted).len(), 1);
    assert!(places(&report.unlisted)[0].ends_with("body.kind enum \"b\": lost"));
    assert_eq!(report.unused.len(), 1);
    assert_eq!(report.unused[0].line, 5);
}

#[test]
fn listed_differences_pass() {
    let upstream = spec(thing());
    let mut ours = spec(thing());
    ours["paths"]["/things/{thingId}"]["put"]["responses"]["200"] = json!({ "description": "ok" });
    ours["paths"]["/things/{thingId}"]["put"]["operationId"] = json!("thingReplace");
    let rows = parse_changes("CHANGES.md", CHANGES).expect("parses");
    assert!(report(&upstream, &ours, &rows).passes());
}

#[test]
fn globs_match_whole_places() {
    assert!(glob_matches("* response 4??", "GET /a response 404"));
    assert!(!glob_matches(
        "* response 4??",
        "GET /a response 404 header x"
    ));
    assert!(glob_matches("a*b*c", "abbbc"));
    assert!(!glob_matches("a*b", "abc"));
}

#[test]
fn a_schema_widened_to_a_choice_is_one_difference_and_still_compared() {
    let mut upstream = spec(thing());
    upstream["components"]["schemas"]["Other"] = json!({ "type": "object" });
    let mut ours = upstream.clone();
    ours["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/json"]["schema"] = json!({ "oneOf": [
            { "$ref": "#/components/schemas/Thing" },
            { "$ref": "#/components/schemas/Other" }
        ] });
    ours["components"]["schemas"]["Thing"]["properties"]["size"]["type"] = json!("integer");
    let found = places(&differences(&upstream, &ours));
    let body = "PUT /things/{thingId} request application/json body";
    assert_eq!(
        found,
        [
            format!("{body} oneOf: added (project Thing | Other)"),
            format!("{body}.size type: changed (upstream \"number\", project \"integer\")"),
        ]
    );
}

#[test]
fn a_body_narrowed_with_required_names_is_compared_with_them() {
    let mut upstream_thing = thing();
    upstream_thing["required"] = json!(["name", "kind"]);
    let upstream = spec(upstream_thing);
    // The bundle's way: the schema requires `name` only, the request body
    // requires `kind` too.
    let mut ours = spec(thing());
    ours["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/json"]["schema"] = json!({ "allOf": [
            { "$ref": "#/components/schemas/Thing" },
            { "required": ["kind"] }
        ] });
    let found = places(&differences(&upstream, &ours));
    let body = "PUT /things/{thingId} request application/json body";
    assert_eq!(
        found,
        [format!("{body} allOf: added (project required kind)")]
    );
    ours["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/json"]["schema"]
        ["allOf"][1] = json!({ "required": ["size"] });
    let found = places(&differences(&upstream, &ours));
    assert_eq!(
        found,
        [
            format!("{body} allOf: added (project required size)"),
            format!("{body} required kind: lost"),
            format!("{body} required size: added"),
        ]
    );
}

#[test]
fn servers_and_security_schemes_are_compared() {
    let mut upstream = spec(thing());
    upstream["servers"] = json!([{ "url": "https://api.au.example" }]);
    upstream["components"]["securitySchemes"] =
        json!({ "Key": { "type": "apiKey", "in": "header", "name": "Api-Key" } });
    let mut ours = upstream.clone();
    ours["servers"] = json!([{ "url": "https://api.nz.example" }]);
    ours["components"]["securitySchemes"]["Key"]["name"] = json!("x-api-key");
    assert_eq!(
        places(&differences(&upstream, &ours)),
        [
            "security scheme Key name: changed (upstream \"Api-Key\", project \"x-api-key\")",
            "server https://api.au.example: lost",
            "server https://api.nz.example: added",
        ]
    );
}

#[test]
fn the_project_changes_file_parses_with_a_reason_on_every_row() {
    let path = crate::project_root().join(CHANGES_PATH);
    let text = std::fs::read_to_string(path).expect("the changes file is readable");
    let rows = parse_changes(CHANGES_PATH, &text).expect("the changes file parses");
    assert!(rows.len() > 20, "{} rows", rows.len());
    assert!(rows.iter().all(|row| row.reason.len() > 10));
}
