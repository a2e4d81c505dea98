use super::*;

fn parse(text: &str) -> Result<Value, String> {
    parse_spec("spec.yaml", text).map_err(|err| err.to_string())
}

const MINIMAL: &str = "
openapi: 3.0.3
info: { title: t, version: '1' }
paths:
  /things/{thingId}:
    parameters:
      - $ref: '#/components/parameters/thingId'
    get:
      operationId: thingRetrieve
      responses:
        '200':
          description: ok
components:
  parameters:
    thingId: { name: thingId, in: path, required: true, schema: { type: string } }
";

#[test]
fn a_minimal_spec_parses() {
    let spec = parse(MINIMAL).expect("valid");
    assert_eq!(operations(&spec).len(), 1);
    assert_eq!(operations(&spec)[0].operation_id, "thingRetrieve");
}

#[test]
fn yaml_1_1_booleans_stay_strings() {
    let spec = parse(&MINIMAL.replace("version: '1'", "version: yes")).expect("valid");
    assert_eq!(spec["info"]["version"], "yes");
}

#[test]
fn invalid_yaml_is_reported_with_the_file() {
    let err = parse("openapi: [3.0").expect_err("invalid");
    assert!(err.starts_with("spec.yaml: not valid YAML"), "{err}");
}

#[test]
fn only_openapi_3_0_is_accepted() {
    let err = parse(&MINIMAL.replace("3.0.3", "3.1.0")).expect_err("3.1");
    assert!(
        err.contains("expected a 3.0.x version, found \"3.1.0\""),
        "{err}"
    );
}

#[test]
fn a_missing_operation_id_is_an_error() {
    let err =
        parse(&MINIMAL.replace("operationId: thingRetrieve", "summary: x")).expect_err("no id");
    assert!(
        err.contains("GET /things/{thingId}: operation has no operationId"),
        "{err}"
    );
}

#[test]
fn a_duplicate_operation_id_names_both_operations() {
    let text = MINIMAL.replace(
        "components:",
        "  /others:\n    get:\n      operationId: thingRetrieve\n      responses:\n        '200': { description: ok }\ncomponents:",
    );
    let err = parse(&text).expect_err("duplicate");
    assert!(
        err.contains(
            "GET /things/{thingId}: operationId thingRetrieve is already used by GET /others"
        ),
        "{err}"
    );
}

#[test]
fn a_dangling_ref_is_an_error() {
    let err =
        parse(&MINIMAL.replace("parameters/thingId'", "parameters/nope'")).expect_err("dangling");
    assert!(
        err.contains("$ref \"#/components/parameters/nope\" does not resolve"),
        "{err}"
    );
}

#[test]
fn an_undeclared_path_parameter_is_an_error() {
    let err = parse(&MINIMAL.replace("/things/{thingId}:", "/things/{thingId}/{partId}:"))
        .expect_err("undeclared");
    assert!(
        err.contains("path parameter {partId} is not declared"),
        "{err}"
    );
}

#[test]
fn the_project_spec_passes_the_checks() {
    let spec = read_spec(&crate::project_root().join(crate::SPEC_PATH)).expect("valid");
    assert!(!operations(&spec).is_empty());
}

#[test]
fn a_required_property_must_be_declared() {
    let text = MINIMAL.to_string()
        + "  schemas:\n    Thing: { type: object, required: [name, description], properties: { name: { type: string } } }\n";
    let err = parse(&text).expect_err("undeclared");
    assert!(
        err.contains("components/schemas/Thing: required property description is not declared"),
        "{err}"
    );
}

#[test]
fn a_read_only_property_must_not_have_a_default() {
    let text = MINIMAL.to_string()
        + "  schemas:\n    Thing: { type: object, properties: { id: { type: string, readOnly: true, default: AB } } }\n";
    let err = parse(&text).expect_err("default");
    assert!(
        err.contains("Thing/properties/id: a read-only property must not have a default"),
        "{err}"
    );
}

#[test]
fn errors_name_project_files_relative_to_the_root() {
    let path = crate::project_root().join("openapi/no-such-spec.yaml");
    let err = read_spec(&path).expect_err("missing");
    assert!(
        err.to_string()
            .starts_with("cannot read openapi/no-such-spec.yaml:"),
        "{err}"
    );
}
