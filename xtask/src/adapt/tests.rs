use super::*;

fn bundled() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": { "title": "t", "version": "1" },
        "paths": {
            "/things/{thingId}": {
                "parameters": [ { "$ref": "#/components/parameters/thingId" } ],
                "put": {
                    "operationId": "thingUpdate",
                    "parameters": [
                        { "$ref": "#/components/parameters/Thing-Accept" },
                        { "name": "Content-Type", "in": "header", "required": true,
                          "schema": { "type": "string", "enum": ["application/vnd.whispir.thing-v1+json", "application/vnd.whispir.thing-v1+xml"] } },
                        { "name": "x-api-key", "in": "header", "required": true, "schema": { "type": "string" } },
                        { "name": "verbose", "in": "query", "schema": { "type": "boolean" } },
                        { "name": "If-None-Match", "in": "header", "schema": { "type": "string" } }
                    ],
                    "requestBody": { "content": {
                        "application/vnd.whispir.thing-v1+xml": { "schema": { "type": "string" } },
                        "application/vnd.whispir.thing-v1+json": { "schema": { "$ref": "#/components/schemas/Thing" } }
                    } },
                    "responses": {
                        "200": { "description": "ok", "content": { "application/vnd.whispir.thing-v1+json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
                        "301": { "$ref": "#/components/responses/301MovedPermanently" },
                        "404": { "$ref": "#/components/responses/404NotFound" }
                    }
                },
                "post": {
                    "operationId": "thingSend",
                    "responses": {
                        "200": { "description": "sent", "content": { "application/vnd.whispir.thing-v1+json": { "schema": { "$ref": "#/components/schemas/Thing" } } } },
                        "202": { "description": "queued", "content": { "application/vnd.whispir.thing-v1+json": { "schema": { "type": "string" } } } }
                    }
                }
            }
        },
        "components": {
            "parameters": {
                "thingId": { "name": "thingId", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-F0-9]+$" } },
                "Thing-Accept": { "name": "Accept", "in": "header", "required": true, "schema": { "type": "string", "default": "application/vnd.whispir.thing-v1+json" } }
            },
            "responses": {
                "301MovedPermanently": { "description": "moved" },
                "404NotFound": { "description": "missing", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ApiError" } } } }
            },
            "schemas": {
                "Thing": { "type": "object", "properties": {
                    "when": { "type": "string", "pattern": "^\\d+$", "maxLength": 10 },
                    "size": { "type": "integer", "default": 1 },
                    "default": { "type": "string" },
                    "extra": { "type": "object" },
                    "labels": { "type": "object", "additionalProperties": { "type": "string" } },
                    "id": { "type": "string", "readOnly": true },
                    "content": { "$ref": "#/components/schemas/Content" }
                }, "required": ["when", "id", "content"] },
                "Content": { "type": "string", "writeOnly": true },
                "ApiError": { "type": "object" }
            }
        }
    })
}

fn adapted() -> Adapted {
    adapt(&bundled()).expect("adapts")
}

#[test]
fn vendor_json_bodies_become_application_json() {
    let spec = adapted().spec;
    let put = &spec["paths"]["/things/{thingId}"]["put"];
    let body = put["requestBody"]["content"].as_object().expect("content");
    assert_eq!(body.keys().collect::<Vec<_>>(), vec!["application/json"]);
    assert_eq!(
        body["application/json"]["schema"]["$ref"],
        "#/components/schemas/Thing"
    );
    assert!(put["responses"]["200"]["content"]["application/json"].is_object());
}

#[test]
fn error_responses_become_one_raw_stream() {
    let spec = adapted().spec;
    let missing = &spec["paths"]["/things/{thingId}"]["put"]["responses"]["404"];
    assert_eq!(
        missing["content"],
        json!({ "application/octet-stream": {} })
    );
    assert_eq!(missing["description"], "missing");
}

#[test]
fn redirects_are_left_to_the_client() {
    let spec = adapted().spec;
    assert!(
        spec["paths"]["/things/{thingId}"]["put"]["responses"]
            .get("301")
            .is_none()
    );
}

#[test]
fn mixed_success_bodies_become_raw_streams() {
    let spec = adapted().spec;
    let responses = &spec["paths"]["/things/{thingId}"]["post"]["responses"];
    for code in ["200", "202"] {
        assert_eq!(
            responses[code]["content"],
            json!({ "application/octet-stream": {} }),
            "{code}"
        );
    }
}

#[test]
fn client_headers_are_removed_and_other_parameters_kept() {
    let spec = adapted().spec;
    let params = spec["paths"]["/things/{thingId}"]["put"]["parameters"]
        .as_array()
        .expect("params");
    let names: Vec<&str> = params.iter().filter_map(|p| p["name"].as_str()).collect();
    assert_eq!(
        names,
        vec!["thingId", "verbose"],
        "path-level parameters move into the operation"
    );
}

#[test]
fn string_constraints_are_dropped_from_parameters_and_schemas() {
    let spec = adapted().spec;
    let path_param = &spec["paths"]["/things/{thingId}"]["put"]["parameters"][0];
    assert_eq!(path_param["name"], "thingId");
    assert!(path_param["schema"].get("pattern").is_none());
    assert!(
        spec["components"]["schemas"]["Thing"]["properties"]["when"]
            .get("pattern")
            .is_none()
    );
}

#[test]
fn defaults_are_dropped_from_schemas_but_not_properties_named_default() {
    let spec = adapted().spec;
    let properties = &spec["components"]["schemas"]["Thing"]["properties"];
    assert!(properties["size"].get("default").is_none());
    assert_eq!(properties["default"]["type"], "string");
    let bundled = bundled();
    assert_eq!(
        bundled["components"]["schemas"]["Thing"]["properties"]["size"]["default"],
        1
    );
}

#[test]
fn free_form_object_properties_become_nullable_for_the_generator() {
    let spec = adapted().spec;
    let properties = &spec["components"]["schemas"]["Thing"]["properties"];
    assert_eq!(properties["extra"]["nullable"], true);
    assert!(properties["labels"].get("nullable").is_none());
    assert!(properties["when"].get("nullable").is_none());
}

#[test]
fn one_way_properties_are_not_required_for_the_generator() {
    let spec = adapted().spec;
    assert_eq!(
        spec["components"]["schemas"]["Thing"]["required"],
        json!(["when"])
    );
    assert_eq!(
        bundled()["components"]["schemas"]["Thing"]["required"],
        json!(["when", "id", "content"])
    );
}

#[test]
fn the_media_table_takes_declared_headers_then_bodies() {
    let operations = adapted().operations;
    assert_eq!(
        operations,
        vec![
            OperationSpec {
                operation_id: "thingSend".into(),
                method_name: "thing_send".into(),
                http_method: "POST".into(),
                path: "/things/{thingId}".into(),
                accept: "application/vnd.whispir.thing-v1+json".into(),
                content_type: None,
                workspace_scoped: false,
                effect: Effect::Unrepeatable,
                header_params: Vec::new(),
                body_requires: Vec::new(),
                body_requires_any: Vec::new(),
            },
            OperationSpec {
                operation_id: "thingUpdate".into(),
                method_name: "thing_update".into(),
                http_method: "PUT".into(),
                path: "/things/{thingId}".into(),
                accept: "application/vnd.whispir.thing-v1+json".into(),
                content_type: Some("application/vnd.whispir.thing-v1+json".into()),
                workspace_scoped: false,
                effect: Effect::Idempotent,
                header_params: Vec::new(),
                body_requires: Vec::new(),
                body_requires_any: Vec::new(),
            },
        ]
    );
}

#[test]
fn the_faithful_bundle_is_left_untouched() {
    let original = bundled();
    let _ = adapt(&original).expect("adapts");
    assert_eq!(original, bundled());
}

#[test]
fn the_adapted_spec_reads_as_openapi() {
    let spec = adapted().spec;
    let parsed: Result<openapiv3::OpenAPI, _> = serde_json::from_value(spec);
    assert!(parsed.is_ok(), "{parsed:?}");
}

fn workspace_spec() -> Value {
    let op =
        |id: &str| json!({ "operationId": id, "responses": { "204": { "description": "done" } } });
    json!({
        "openapi": "3.0.3",
        "info": { "title": "t", "version": "1" },
        "paths": {
            "/workspaces/{workspaceId}/things": {
                "parameters": [ { "name": "workspaceId", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "get": op("thingWorkspaceList"),
                "post": op("thingCreate")
            },
            "/things": { "get": op("thingList") },
            "/workspaces/{workspaceId}": {
                "parameters": [ { "name": "workspaceId", "in": "path", "required": true, "schema": { "type": "string" } } ],
                "get": op("workspaceRetrieve")
            }
        }
    })
}

#[test]
fn workspace_scoped_operations_move_to_their_unscoped_path() {
    let adapted = adapt(&workspace_spec()).expect("adapts");
    let create = &adapted.spec["paths"]["/things"]["post"];
    assert_eq!(create["operationId"], "thingCreate");
    assert_eq!(
        create["parameters"][0],
        json!({
            "name": "workspaceId", "in": "query", "required": false,
            "description": "The workspace to act in; without it, the company's default workspace.",
            "schema": { "type": "string" }
        })
    );
    let scoped: Vec<(&str, bool)> = adapted
        .operations
        .iter()
        .map(|op| (op.operation_id.as_str(), op.workspace_scoped))
        .collect();
    assert_eq!(
        scoped,
        vec![
            ("thingCreate", true),
            ("thingList", false),
            ("thingWorkspaceList", false),
            ("workspaceRetrieve", false)
        ]
    );
}

#[test]
fn a_scoped_operation_whose_unscoped_twin_exists_stays_scoped() {
    let adapted = adapt(&workspace_spec()).expect("adapts");
    let paths = adapted.spec["paths"].as_object().expect("paths");
    assert_eq!(paths["/things"]["get"]["operationId"], "thingList");
    assert_eq!(
        paths["/workspaces/{workspaceId}/things"]["get"]["operationId"],
        "thingWorkspaceList"
    );
    assert!(
        paths["/workspaces/{workspaceId}/things"]
            .get("post")
            .is_none()
    );
    assert_eq!(
        paths["/workspaces/{workspaceId}"]["get"]["operationId"],
        "workspaceRetrieve"
    );
}

#[test]
fn an_operation_parameter_overrides_the_path_level_one() {
    let mut spec = bundled();
    spec["paths"]["/things/{thingId}"]["put"]["parameters"]
        .as_array_mut()
        .expect("params")
        .push(json!({ "name": "thingId", "in": "path", "required": true, "schema": { "type": "integer" } }));
    let adapted = adapt(&spec).expect("adapts");
    let params = adapted.spec["paths"]["/things/{thingId}"]["put"]["parameters"]
        .as_array()
        .expect("params")
        .clone();
    let thing_ids: Vec<&Value> = params.iter().filter(|p| p["name"] == "thingId").collect();
    assert_eq!(thing_ids.len(), 1);
    assert_eq!(thing_ids[0]["schema"]["type"], "integer");
}

fn with_operation(method: &str, operation: Value) -> Value {
    let mut spec = bundled();
    spec["paths"]["/extra"] = json!({ method: operation });
    spec
}

fn effect_of(spec: &Value, operation_id: &str) -> Effect {
    adapt(spec)
        .expect("adapts")
        .operations
        .into_iter()
        .find(|op| op.operation_id == operation_id)
        .expect("listed")
        .effect
}

#[test]
fn an_operation_effect_follows_its_method_unless_stated() {
    let get = with_operation(
        "get",
        json!({ "operationId": "extraList", "responses": { "200": { "description": "ok" } } }),
    );
    assert_eq!(effect_of(&get, "extraList"), Effect::Read);
    let delete = with_operation(
        "delete",
        json!({ "operationId": "extraDelete", "responses": { "204": { "description": "gone" } } }),
    );
    assert_eq!(effect_of(&delete, "extraDelete"), Effect::Idempotent);
    let search = with_operation(
        "post",
        json!({ "operationId": "extraSearch", "x-whispir-effect": "read", "responses": { "200": { "description": "ok" } } }),
    );
    assert_eq!(effect_of(&search, "extraSearch"), Effect::Read);
    let adapted = adapt(&search).expect("adapts");
    assert!(
        adapted.spec["paths"]["/extra"]["post"]
            .get(EFFECT_EXTENSION)
            .is_none(),
        "the generator never sees the extension"
    );
}

#[test]
fn an_operation_that_creates_or_sends_is_unrepeatable_whatever_its_method() {
    let put = with_operation(
        "put",
        json!({ "operationId": "extraPut", "responses": { "201": { "description": "created" } } }),
    );
    assert_eq!(effect_of(&put, "extraPut"), Effect::Unrepeatable);
}

#[test]
fn a_stated_effect_that_contradicts_a_create_is_refused_by_operation() {
    let lying = with_operation(
        "post",
        json!({ "operationId": "extraSend", "x-whispir-effect": "read", "responses": { "202": { "description": "queued" } } }),
    );
    let err = adapt(&lying).expect_err("refused").to_string();
    assert!(err.contains("extraSend"), "{err}");
    assert!(err.contains("unrepeatable"), "{err}");
}

#[test]
fn an_unknown_stated_effect_is_refused_by_operation() {
    let odd = with_operation(
        "post",
        json!({ "operationId": "extraOdd", "x-whispir-effect": "safe-ish", "responses": { "200": { "description": "ok" } } }),
    );
    let err = adapt(&odd).expect_err("refused").to_string();
    assert!(
        err.contains("extraOdd") && err.contains("safe-ish"),
        "{err}"
    );
}

#[test]
fn header_parameters_the_caller_sets_are_listed() {
    let spec = with_operation(
        "get",
        json!({ "operationId": "extraEvents",
                "parameters": [ { "name": "eventType", "in": "header", "schema": { "type": "string" } },
                                { "name": "x-api-key", "in": "header", "schema": { "type": "string" } } ],
                "responses": { "200": { "description": "ok" } } }),
    );
    let operation = adapt(&spec)
        .expect("adapts")
        .operations
        .into_iter()
        .find(|op| op.operation_id == "extraEvents")
        .expect("listed");
    assert_eq!(operation.header_params, vec!["eventType".to_string()]);
}

#[test]
fn a_narrowed_request_body_is_its_model_with_the_names_to_check() {
    let mut spec = bundled();
    spec["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/vnd.whispir.thing-v1+json"]
        ["schema"] = json!({
        "allOf": [{ "$ref": "#/components/schemas/Thing" }, { "required": ["content"] }]
    });
    let adapted = adapt(&spec).expect("adapts");
    let update = adapted
        .operations
        .iter()
        .find(|op| op.operation_id == "thingUpdate")
        .expect("listed");
    assert_eq!(update.body_requires, ["content"]);
    assert_eq!(
        adapted.spec["paths"]["/things/{thingId}"]["put"]["requestBody"]["content"]["application/json"]
            ["schema"],
        json!({ "$ref": "#/components/schemas/Thing" })
    );
    let send = adapted
        .operations
        .iter()
        .find(|op| op.operation_id == "thingSend")
        .expect("listed");
    assert!(send.body_requires.is_empty());
}

#[test]
fn alternative_required_lists_leave_the_types_and_become_the_body_check() {
    let mut spec = bundled();
    spec["components"]["schemas"]["Thing"]["anyOf"] =
        json!([{ "required": ["id"] }, { "required": ["content", "name"] }]);
    let adapted = adapt(&spec).expect("adapts");
    let update = adapted
        .operations
        .iter()
        .find(|op| op.operation_id == "thingUpdate")
        .expect("listed");
    assert_eq!(
        update.body_requires_any,
        [
            vec!["id".to_string()],
            vec!["content".to_string(), "name".to_string()]
        ]
    );
    assert!(
        adapted.spec["components"]["schemas"]["Thing"]
            .get("anyOf")
            .is_none()
    );
    // An `anyOf` of schemas is a choice of types, not a rule: it stays.
    let choice = json!({ "anyOf": [{ "type": "string" }, { "required": ["id"] }] });
    assert_eq!(required_alternatives(&choice), None);
}

#[test]
fn a_narrowed_response_body_is_its_model() {
    let mut spec = bundled();
    spec["paths"]["/things/{thingId}"]["put"]["responses"]["200"]["content"]["application/vnd.whispir.thing-v1+json"]
        ["schema"] = json!({
        "allOf": [{ "$ref": "#/components/schemas/Thing" }, { "required": ["id"] }]
    });
    let adapted = adapt(&spec).expect("adapts");
    assert_eq!(
        adapted.spec["paths"]["/things/{thingId}"]["put"]["responses"]["200"]["content"]["application/json"]
            ["schema"],
        json!({ "$ref": "#/components/schemas/Thing" })
    );
}
