//! Required one-way properties, said so that any JSON Schema validator
//! reads them right.
//!
//! OpenAPI 3.0 lets a schema require a `writeOnly` property (then only
//! requests must carry it) or a `readOnly` one (then only responses must).
//! Validators that do not know OpenAPI's directions apply such a `required`
//! everywhere, and so refuse every real read of a user (the API never
//! returns `password`). Where a schema travels both ways, the bundle takes
//! a one-way property out of the schema's `required` list and requires it
//! again where a body of that schema travels its way:
//! `allOf: [{$ref: …/User}, {required: [userName, password]}]` on the
//! request body of `userCreate`. A schema that travels one way only keeps
//! its list as it is. The generator reads the `allOf` back as the named
//! model plus a check before sending (see `adapt.rs`).
//!
//! Some operations do not need a one-way property although their body
//! travels its way: [`NOT_REQUIRED`] lists them, each with its reason.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::spec::operations;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// The one-way properties an operation's body does not have to carry,
/// although the body travels their way: (operation, property, reason).
pub const NOT_REQUIRED: &[(&str, &str, &str)] = &[(
    "userUpdate",
    "password",
    "an update without a password keeps the stored one (upstream's `userUpdate` \
     description), and the documented GET, change, PUT has none to send: a read \
     never returns it",
)];

/// Whether `operation_id`'s body must carry the one-way `property`.
fn required_by(operation_id: &str, property: &str) -> bool {
    !NOT_REQUIRED
        .iter()
        .any(|(operation, name, _)| *operation == operation_id && *name == property)
}

/// Which way a body travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Direction {
    Request,
    Response,
}

impl Direction {
    /// The flag of the properties that travel this way only.
    fn only_flag(self) -> &'static str {
        match self {
            Direction::Request => "writeOnly",
            Direction::Response => "readOnly",
        }
    }
}

/// The `{schema: …}` entries of every request and response body, by
/// direction, with their operation's id.
fn body_schemas(spec: &Value) -> Vec<(Direction, String, String)> {
    let mut found = Vec::new();
    for op in operations(spec) {
        let base = format!(
            "/paths/{}/{}",
            op.path.replace('~', "~0").replace('/', "~1"),
            op.method
        );
        let contents = |pointer: String| -> Vec<String> {
            spec.pointer(&pointer)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter(|(_, media)| media.get("schema").is_some())
                .map(|(name, _)| {
                    format!(
                        "{pointer}/{}/schema",
                        name.replace('~', "~0").replace('/', "~1")
                    )
                })
                .collect()
        };
        let id = op.operation_id.to_string();
        for pointer in contents(format!("{base}/requestBody/content")) {
            found.push((Direction::Request, pointer, id.clone()));
        }
        let statuses: Vec<String> = op
            .operation
            .get("responses")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .map(|(status, _)| status.clone())
            .collect();
        for status in statuses {
            for pointer in contents(format!("{base}/responses/{status}/content")) {
                found.push((Direction::Response, pointer, id.clone()));
            }
        }
    }
    found
}

/// The names of the component schemas `value` refers to, directly or
/// through other schemas.
fn reachable(spec: &Value, value: &Value, seen: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
                && seen.insert(name.to_string())
                && let Some(target) = spec.pointer(&format!("/components/schemas/{name}"))
            {
                reachable(spec, target, seen);
            }
            map.values().for_each(|child| reachable(spec, child, seen));
        }
        Value::Array(items) => items.iter().for_each(|child| reachable(spec, child, seen)),
        _ => {}
    }
}

/// The required properties of a schema flagged `flag`, in `required` order.
fn required_flagged(schema: &Value, flag: &str) -> Vec<String> {
    let properties = schema.get("properties").and_then(Value::as_object);
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|name| {
            properties
                .and_then(|p| p.get(*name))
                .and_then(|p| p.get(flag))
                .and_then(Value::as_bool)
                == Some(true)
        })
        .map(str::to_string)
        .collect()
}

/// Moves every required one-way property of a schema that travels both
/// ways from the schema to the bodies that travel its way (see the module
/// docs).
pub fn split(spec: &mut Value) {
    let bodies = body_schemas(spec);
    let mut travels: BTreeMap<Direction, BTreeSet<String>> = BTreeMap::new();
    for (direction, pointer, _) in &bodies {
        if let Some(schema) = spec.pointer(pointer) {
            let mut seen = BTreeSet::new();
            reachable(spec, schema, &mut seen);
            travels.entry(*direction).or_default().extend(seen);
        }
    }
    let both: BTreeSet<&String> = travels
        .get(&Direction::Request)
        .into_iter()
        .flatten()
        .filter(|name| {
            travels
                .get(&Direction::Response)
                .is_some_and(|r| r.contains(*name))
        })
        .collect();
    // (schema, direction) -> the properties required only that way.
    let mut moved: BTreeMap<(String, Direction), Vec<String>> = BTreeMap::new();
    for name in both {
        let Some(schema) = spec.pointer(&format!("/components/schemas/{name}")) else {
            continue;
        };
        for direction in [Direction::Request, Direction::Response] {
            let names = required_flagged(schema, direction.only_flag());
            if !names.is_empty() {
                moved.insert((name.clone(), direction), names);
            }
        }
    }
    for ((name, _), names) in &moved {
        let Some(schema) = spec
            .pointer_mut(&format!("/components/schemas/{name}"))
            .and_then(Value::as_object_mut)
        else {
            continue;
        };
        if let Some(required) = schema.get_mut("required").and_then(Value::as_array_mut) {
            required.retain(|n| n.as_str().is_none_or(|n| !names.iter().any(|m| m == n)));
            if required.is_empty() {
                schema.remove("required");
            }
        }
    }
    for (direction, pointer, id) in bodies {
        let Some(slot) = spec.pointer_mut(&pointer) else {
            continue;
        };
        let Some(name) = slot
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix(SCHEMA_PREFIX))
        else {
            continue;
        };
        if slot.as_object().is_some_and(|m| m.len() != 1) {
            continue;
        }
        let names: Vec<&String> = moved
            .get(&(name.to_string(), direction))
            .into_iter()
            .flatten()
            .filter(|property| required_by(&id, property))
            .collect();
        if !names.is_empty() {
            let reference = slot.clone();
            *slot = json!({ "allOf": [reference, { "required": names }] });
        }
    }
}

/// The names an `allOf` of one schema `$ref` and one `required` list adds
/// to the referenced schema, with the `$ref`: how the bundle requires a
/// one-way property where it travels (see [`split`]).
pub fn narrowed(schema: &Value) -> Option<(&Value, Vec<String>)> {
    let map: &Map<String, Value> = schema.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let [reference, extra] = map.get("allOf")?.as_array()?.as_slice() else {
        return None;
    };
    reference.get("$ref")?.as_str()?;
    let extra = extra.as_object()?;
    if extra.len() != 1 {
        return None;
    }
    let names = extra
        .get("required")?
        .as_array()?
        .iter()
        .map(|n| n.as_str().map(str::to_string))
        .collect::<Option<Vec<_>>>()?;
    Some((reference, names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Value {
        json!({
            "paths": {
                "/users": {
                    "post": {
                        "operationId": "userCreate",
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}},
                        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}
                    }
                },
                "/keys": {
                    "post": {
                        "operationId": "keyCreate",
                        "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Key"}}}},
                        "responses": {"201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Key"}}}}}
                    }
                },
                "/lists": {
                    "get": {
                        "operationId": "listList",
                        "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Summary"}}}}}
                    }
                }
            },
            "components": {"schemas": {
                "User": {"type": "object", "required": ["name", "password"], "properties": {
                    "name": {"type": "string"}, "password": {"type": "string", "writeOnly": true}}},
                "Key": {"type": "object", "required": ["type"], "properties": {
                    "type": {"type": "string", "readOnly": true}}},
                "Summary": {"type": "object", "required": ["name"], "properties": {
                    "name": {"type": "string", "readOnly": true}}}
            }}
        })
    }

    #[test]
    fn a_write_only_requirement_moves_to_the_request_bodies() {
        let mut spec = spec();
        split(&mut spec);
        assert_eq!(
            spec.pointer("/components/schemas/User/required"),
            Some(&json!(["name"]))
        );
        let request = "/paths/~1users/post/requestBody/content/application~1json/schema";
        assert_eq!(
            spec.pointer(request),
            Some(
                &json!({"allOf": [{"$ref": "#/components/schemas/User"}, {"required": ["password"]}]})
            )
        );
        let response = "/paths/~1users/post/responses/201/content/application~1json/schema";
        assert_eq!(
            spec.pointer(response),
            Some(&json!({"$ref": "#/components/schemas/User"}))
        );
    }

    #[test]
    fn a_user_update_need_not_carry_the_password_it_never_read() {
        let mut spec = spec();
        let create = spec.pointer("/paths/~1users/post").cloned().expect("there");
        let mut update = create;
        update["operationId"] = json!("userUpdate");
        spec["paths"]["/users/{id}"] = json!({ "put": update });
        split(&mut spec);
        let update = "/paths/~1users~1{id}/put/requestBody/content/application~1json/schema";
        assert_eq!(
            spec.pointer(update),
            Some(&json!({"$ref": "#/components/schemas/User"})),
            "the password is the only one-way property here, so nothing is added"
        );
        let create = "/paths/~1users/post/requestBody/content/application~1json/schema";
        let (_, names) = narrowed(spec.pointer(create).expect("there")).expect("narrowed");
        assert_eq!(names, ["password"]);
    }

    #[test]
    fn a_read_only_requirement_moves_to_the_response_bodies() {
        let mut spec = spec();
        split(&mut spec);
        assert_eq!(spec.pointer("/components/schemas/Key/required"), None);
        let response = "/paths/~1keys/post/responses/201/content/application~1json/schema";
        let (reference, names) =
            narrowed(spec.pointer(response).expect("there")).expect("narrowed");
        assert_eq!(reference, &json!({"$ref": "#/components/schemas/Key"}));
        assert_eq!(names, ["type"]);
    }

    #[test]
    fn a_schema_that_travels_one_way_keeps_its_requirements() {
        let mut spec = spec();
        split(&mut spec);
        assert_eq!(
            spec.pointer("/components/schemas/Summary/required"),
            Some(&json!(["name"]))
        );
    }
}
