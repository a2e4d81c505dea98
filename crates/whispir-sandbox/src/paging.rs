//! What every resource shares: a record as the API shows it, its URL,
//! the 404 for a missing one, and lists filtered, sorted and paged.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::store::{Record, Scope};

/// A 404 naming the missing item.
pub(crate) fn not_found(collection: &str, id: &str) -> ApiFailure {
    ApiFailure::not_found(format!(
        "no {} with id {id}",
        collection.trim_end_matches('s')
    ))
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
/// or `{"status": "No records found"}`. Without `sortFields` the items
/// keep the order given (Whispir documents no default order).
pub(crate) fn page(call: &Call<'_>, mut items: Vec<Value>) -> Result<Answer, ApiFailure> {
    filter(call, &mut items);
    let fields = sort_fields(call);
    if !fields.is_empty() {
        sort(&mut items, &fields);
    }
    if call
        .query("sortOrder")
        .is_some_and(|order| order.eq_ignore_ascii_case("desc"))
    {
        items.reverse();
    }
    paginate(call, items)
}

/// The fields of `sortFields`, in order: comma-separated, blanks dropped.
pub(crate) fn sort_fields<'a>(call: &'a Call<'_>) -> Vec<&'a str> {
    call.query("sortFields")
        .map(|fields| {
            fields
                .split(',')
                .map(str::trim)
                .filter(|field| !field.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Sorts items ascending by each field in turn (the next one decides
/// ties), stably: items equal in every field keep their order.
pub(crate) fn sort(items: &mut [Value], fields: &[&str]) {
    items.sort_by(|a, b| {
        fields
            .iter()
            .map(|field| compare(a.get(*field), b.get(*field)))
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    });
}

/// Two values of a field: numbers by value, text without regard to case,
/// a missing field first.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (Some(Value::Number(a)), Some(Value::Number(b))) => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(a), Some(b)) => text(a).cmp(&text(b)),
    }
}

/// A value as text to sort by.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_lowercase(),
        other => other.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_field_decides_ties_and_numbers_sort_by_value() {
        let mut items = vec![
            json!({"id": "a", "group": "B", "rank": 10}),
            json!({"id": "b", "group": "a", "rank": 9}),
            json!({"id": "c", "group": "b", "rank": 2}),
            json!({"id": "d"}),
        ];
        sort(&mut items, &["group", "rank"]);
        let ids: Vec<_> = items.iter().map(|item| item["id"].clone()).collect();
        assert_eq!(ids, [json!("d"), json!("b"), json!("c"), json!("a")]);
    }
}
