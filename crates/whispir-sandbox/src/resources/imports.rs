//! Contact imports: a CSV resource turned into contacts through the
//! import's field mapping.

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::not_found;
use crate::store::IdStyle;

/// Fields a contact must have; an import fills the ones its CSV lacks with "".
const CONTACT_FIELDS: [&str; 6] = [
    "firstName",
    "lastName",
    "workMobilePhone1",
    "workEmailAddress1",
    "workCountry",
    "timezone",
];

/// `POST …/imports`: imports the rows of the resource; 202 with the
/// contacts' URL.
pub(crate) fn create(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let body = call.body.clone().unwrap_or_else(|| json!({}));
    let resource_id = body.get("resourceId").and_then(Value::as_str).unwrap_or("");
    let mode = body
        .get("importMode")
        .and_then(Value::as_str)
        .unwrap_or("duplicate");
    let mapping = body
        .pointer("/importOptions/fieldMapping")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut store = lock(&call.state.store);
    let resource = store
        .get(&call.workspace, "resources", resource_id)
        .map(|record| record.value.clone())
        .ok_or_else(|| not_found("resources", resource_id))?;
    let content = resource
        .get("derefUri")
        .and_then(Value::as_str)
        .unwrap_or("");
    let csv = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| {
            ApiFailure::unprocessable(&[
                "resourceId: the resource is not a base64-encoded CSV file".into(),
            ])
        })?;
    for contact in rows(&csv, &mapping) {
        let phone = contact.get("workMobilePhone1").cloned();
        let existing = store
            .list(&call.workspace, "contacts")
            .iter()
            .find(|record| {
                phone.is_some() && record.value.get("workMobilePhone1") == phone.as_ref()
            })
            .map(|record| record.id.clone());
        match (mode, existing) {
            ("ignore", Some(_)) => {}
            ("replace", Some(id)) => {
                store.replace(&call.workspace, "contacts", &id, Value::Object(contact));
            }
            _ => {
                store.insert(
                    &call.workspace,
                    "contacts",
                    Value::Object(contact),
                    IdStyle::Hex,
                );
            }
        }
    }
    let location = format!("{}/workspaces/{}/contacts", call.base, call.workspace_id());
    Ok(Answer::empty(StatusCode::ACCEPTED).at(location))
}

/// The contacts of a CSV file: the first line names the columns, the
/// mapping says which column fills which contact field.
fn rows(csv: &str, mapping: &Map<String, Value>) -> Vec<Map<String, Value>> {
    let mut lines = csv.lines().filter(|line| !line.trim().is_empty());
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').map(str::trim).collect();
            let mut contact = Map::new();
            for (field, column) in mapping {
                let column = column.as_str().unwrap_or(field);
                if let Some(index) = columns.iter().position(|c| c.eq_ignore_ascii_case(column)) {
                    contact.insert(
                        field.clone(),
                        json!(cells.get(index).copied().unwrap_or("")),
                    );
                }
            }
            for field in CONTACT_FIELDS {
                contact.entry(field).or_insert_with(|| json!(""));
            }
            contact
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn rows_follow_the_field_mapping() {
        let mapping = json!({"firstName": "First", "workMobilePhone1": "Mobile"});
        let contacts = rows(
            "First,Mobile\nAnn,61400000001\n\nBob,61400000002\n",
            mapping.as_object().unwrap(),
        );
        assert_eq!(contacts.len(), 2);
        assert_eq!(contacts[1]["firstName"], "Bob");
        assert_eq!(contacts[0]["workMobilePhone1"], "61400000001");
        assert_eq!(contacts[0]["timezone"], "");
    }
}
