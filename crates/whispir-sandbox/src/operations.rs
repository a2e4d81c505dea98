//! The operations: the ones with their own behaviour go to their modules,
//! every other one is list, create, retrieve, update or delete on its
//! collection.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::errors::ApiFailure;
use crate::pipeline::{Answer, Call};
use crate::schema::fill_required;
use crate::state::lock;
use crate::store::{IdStyle, Record, Scope};
use crate::{auth_endpoint, callbacks, imports, messages, otp};

/// Runs the operation of a call.
pub(crate) fn dispatch(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let operation = call.bound.operation;
    match operation.id.as_str() {
        "authCreate" => Ok(auth_endpoint::create_token(call)),
        "authVerificationRetrieve" => Ok(Answer::empty(StatusCode::OK)),
        "messageCreate" => messages::create(call),
        "messageList" => messages::list(call),
        "messageStatusList" => messages::status_list(call),
        "messageResponseList" => messages::response_list(call),
        "scenarioRunCreate" => messages::run_scenario(call),
        "callbackCallList" => callbacks::call_list(call),
        "callbackCallUpdate" => callbacks::call_update(call),
        "sendCodeCreate" => otp::send_code(call),
        "verifyCodeCreate" => otp::verify_code(call),
        "importCreate" => imports::create(call),
        "usersDelete" => {
            lock(&call.state.store).clear(&None, "users");
            Ok(Answer::empty(StatusCode::NO_CONTENT))
        }
        "userWorkspaceList" => list(call, &None, "users"),
        "activityList" => list(call, &None, "activities"),
        _ => generic(call),
    }
}

/// List, create, retrieve, update or delete, by method and path shape.
fn generic(call: &Call<'_>) -> Result<Answer, ApiFailure> {
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

/// A 404 naming the missing item.
pub(crate) fn not_found(collection: &str, id: &str) -> ApiFailure {
    ApiFailure::not_found(format!(
        "no {} with id {id}",
        collection.trim_end_matches('s')
    ))
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

/// The URL of one resource.
pub(crate) fn item_uri(call: &Call<'_>, scope: &Scope, collection: &str, id: &str) -> String {
    match scope {
        Some(workspace) => format!("{}/workspaces/{workspace}/{collection}/{id}", call.base),
        None => format!("{}/{collection}/{id}", call.base),
    }
}

/// A record as the API shows it: its fields, `id` and a `self` link.
pub(crate) fn show(record: &Record, uri: &str) -> Value {
    let mut value = record.value.clone();
    if let Some(map) = value.as_object_mut() {
        map.insert("id".into(), Value::String(record.id.clone()));
        map.insert(
            "link".into(),
            json!([{"uri": uri, "rel": "self", "method": "GET"}]),
        );
    }
    value
}

/// Lists a collection, filtered, sorted and paged.
pub(crate) fn list(call: &Call<'_>, scope: &Scope, collection: &str) -> Result<Answer, ApiFailure> {
    let items: Vec<Value> = {
        let store = lock(&call.state.store);
        store
            .list(scope, collection)
            .iter()
            .map(|record| show(record, &item_uri(call, scope, collection, &record.id)))
            .collect()
    };
    page(call, items)
}

/// Query parameters that steer a list rather than filter it.
const NOT_FILTERS: [&str; 13] = [
    "limit",
    "offset",
    "sortOrder",
    "sortFields",
    "fields",
    "view",
    "filter",
    "customFields",
    "criteriaFromDate",
    "criteriaFromTime",
    "criteriaToDate",
    "criteriaToTime",
    "viewType",
];

/// Filters, sorts and pages items into a collection answer with `link`s,
/// or `{"status": "No records found"}`.
pub(crate) fn page(call: &Call<'_>, mut items: Vec<Value>) -> Result<Answer, ApiFailure> {
    filter(call, &mut items);
    if let Some(field) = call.query("sortFields").filter(|f| !f.is_empty()) {
        let field = field.split(',').next().unwrap_or(field);
        items.sort_by_key(|item| sort_key(item, field));
    }
    if call
        .query("sortOrder")
        .is_some_and(|order| order.eq_ignore_ascii_case("desc"))
    {
        items.reverse();
    }
    paginate(call, items)
}

/// Keeps the items whose fields match the query's filter parameters.
pub(crate) fn filter(call: &Call<'_>, items: &mut Vec<Value>) {
    for (name, wanted) in &call.query {
        if NOT_FILTERS.contains(&name.as_str()) {
            continue;
        }
        items.retain(|item| match item.get(name) {
            Some(Value::String(value)) => value.to_lowercase().contains(&wanted.to_lowercase()),
            Some(other) => other.to_string().as_str() == wanted.as_str(),
            None => true,
        });
    }
}

/// Pages items, in the order given, into a collection answer with
/// `link`s, or `{"status": "No records found"}`.
pub(crate) fn paginate(call: &Call<'_>, mut items: Vec<Value>) -> Result<Answer, ApiFailure> {
    let limit = call
        .query("limit")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(whispir::MAX_PAGE_SIZE as usize)
        .clamp(1, whispir::MAX_PAGE_SIZE as usize);
    // The parameters were checked: an offset too big for usize is past the end.
    let offset = call
        .query("offset")
        .map_or(0, |v| v.parse::<usize>().unwrap_or(usize::MAX));
    let total = items.len();
    if offset >= total {
        return Ok(Answer::ok(json!({"status": "No records found"})));
    }
    let end = (offset + limit).min(total);
    let page: Vec<Value> = items.drain(offset..end).collect();
    let mut links = Vec::new();
    let page_uri = |offset: usize| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in &call.query {
            if key != "limit" && key != "offset" {
                query.append_pair(key, value);
            }
        }
        query.append_pair("limit", &limit.to_string());
        query.append_pair("offset", &offset.to_string());
        format!("{}{}?{}", call.base, call.path, query.finish())
    };
    if end < total {
        links.push(json!({"uri": page_uri(end), "rel": "next", "method": "GET"}));
    }
    if offset > 0 {
        links.push(
            json!({"uri": page_uri(offset.saturating_sub(limit)), "rel": "prev", "method": "GET"}),
        );
    }
    let property = call
        .bound
        .operation
        .list_property
        .clone()
        .unwrap_or_else(|| "items".to_string());
    let mut body = Map::new();
    body.insert(property, Value::Array(page));
    body.insert(
        "status".into(),
        json!(format!("{} to {} of {}", offset + 1, end, total)),
    );
    body.insert("link".into(), Value::Array(links));
    Ok(Answer::ok(Value::Object(body)))
}

pub(crate) fn sort_key(item: &Value, field: &str) -> String {
    match item.get(field) {
        Some(Value::String(text)) => text.to_lowercase(),
        Some(other) => other.to_string(),
        None => String::new(),
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
