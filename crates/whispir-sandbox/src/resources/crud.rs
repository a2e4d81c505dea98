//! List, create, retrieve, update or delete on a collection: every
//! operation without behaviour of its own.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::{item_uri, list, not_found, show};
use crate::schema::fill_required;
use crate::store::{IdStyle, Scope};

/// List, create, retrieve, update or delete, by method and path shape.
pub(crate) fn generic(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let operation = call.bound.operation;
    let collection = operation.collection().to_string();
    let scope = call.workspace.clone();
    match (&operation.method, call.bound.item_id()) {
        (&Method::GET, None) => list(call, &scope, &collection),
        (&Method::POST, None) => {
            let body = call.body.clone().unwrap_or_else(|| json!({}));
            create(call, &scope, &collection, body)
        }
        (&Method::GET, Some(id)) => {
            let store = lock(&call.state.store);
            let record = store
                .get(&scope, &collection, id)
                .ok_or_else(|| not_found(&collection, id))?;
            Ok(Answer::ok(show(
                record,
                &item_uri(call, &scope, &collection, id),
            )))
        }
        (&Method::PUT, Some(id)) => {
            let mut body = call.body.clone().unwrap_or_else(|| json!({}));
            let mut store = lock(&call.state.store);
            let old = store
                .get(&scope, &collection, id)
                .map(|record| record.value.clone())
                .ok_or_else(|| not_found(&collection, id))?;
            complete(call, &mut body, Some(&old));
            keep_password(&collection, &mut body, &old);
            if !store.replace(&scope, &collection, id, body) {
                return Err(not_found(&collection, id));
            }
            if operation.success == 200 {
                let record = store
                    .get(&scope, &collection, id)
                    .ok_or_else(|| not_found(&collection, id))?;
                return Ok(Answer::ok(show(
                    record,
                    &item_uri(call, &scope, &collection, id),
                )));
            }
            Ok(Answer::empty(StatusCode::NO_CONTENT))
        }
        (&Method::DELETE, Some(id)) => {
            if !lock(&call.state.store).remove(&scope, &collection, id) {
                return Err(not_found(&collection, id));
            }
            Ok(Answer::empty(StatusCode::NO_CONTENT))
        }
        _ => Err(ApiFailure::new(
            StatusCode::NOT_IMPLEMENTED,
            "Not Implemented",
            format!("{} is not implemented by the sandbox", operation.id),
        )),
    }
}

/// A user updated without a password keeps the stored one, as Whispir
/// does: a read never returns it, so a read-modify-write has none to send.
fn keep_password(collection: &str, body: &mut Value, old: &Value) {
    if collection != "users" {
        return;
    }
    if let (Some(map), Some(password)) = (body.as_object_mut(), old.get("password"))
        && map.get("password").is_none_or(Value::is_null)
    {
        map.insert("password".into(), password.clone());
    }
}

/// Stores a new resource and answers 201 with its `Location` (and body,
/// when the operation documents one).
pub(crate) fn create(
    call: &Call<'_>,
    scope: &Scope,
    collection: &str,
    mut body: Value,
) -> Result<Answer, ApiFailure> {
    let style = if collection == "keys" {
        IdStyle::Uuid
    } else {
        IdStyle::Hex
    };
    add_server_fields(collection, &mut body);
    complete(call, &mut body, None);
    let mut store = lock(&call.state.store);
    let id = store.insert(scope, collection, body, style);
    let uri = item_uri(call, scope, collection, &id);
    let answer = if call.bound.operation.response_type.is_some() {
        let record = store
            .get(scope, collection, &id)
            .ok_or_else(|| not_found(collection, &id))?;
        Answer {
            status: StatusCode::CREATED,
            body: Some(show(record, &uri)),
            location: None,
        }
    } else {
        Answer::empty(StatusCode::CREATED)
    };
    Ok(answer.at(uri))
}

/// Fills the required fields a body lacks (read-only ones the server owns,
/// or all of them when the body was optional and left out): those its
/// answer requires when the operation answers with the resource (a key's
/// read-only `type`), else those of the request.
fn complete(call: &Call<'_>, body: &mut Value, old: Option<&Value>) {
    let operation = &call.bound.operation;
    if let Some(schema) = operation
        .response_schema
        .as_ref()
        .filter(|_| operation.list_property.is_none())
        .or(operation.resource_schema.as_ref())
    {
        let components = call
            .state
            .spec
            .document
            .get("components")
            .unwrap_or(&Value::Null);
        fill_required(body, schema, components, old);
    }
}

/// Fields the server sets on creation.
fn add_server_fields(collection: &str, body: &mut Value) {
    let Some(map) = body.as_object_mut() else {
        return;
    };
    let now = chrono::Utc::now();
    match collection {
        "keys" => {
            map.insert(
                "createdTime".into(),
                json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
            map.insert(
                "lastModifiedTime".into(),
                json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
            if !map.contains_key("secret") {
                map.insert(
                    "secret".into(),
                    json!(format!("sandbox-secret-{}", fastrand::u64(..))),
                );
            }
        }
        "templates" if !map.contains_key("messageTemplateName") => {
            let name = map
                .get("subject")
                .cloned()
                .unwrap_or_else(|| json!("template"));
            map.insert("messageTemplateName".into(), name);
        }
        "contacts" => {
            map.insert(
                "lastModifiedTime".into(),
                json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_updated_without_a_password_keeps_the_stored_one() {
        let old = json!({"userName": "sid", "password": "Secret-123"});
        let mut body = json!({"userName": "sid", "firstName": "Sid"});
        keep_password("users", &mut body, &old);
        assert_eq!(body["password"], "Secret-123");
        let mut body = json!({"userName": "sid", "password": "New-456"});
        keep_password("users", &mut body, &old);
        assert_eq!(body["password"], "New-456");
        let mut body = json!({"name": "x"});
        keep_password("contacts", &mut body, &old);
        assert_eq!(body.get("password"), None);
    }
}
