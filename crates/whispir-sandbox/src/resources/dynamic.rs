//! Dynamic messages: a message whose `resource` names uploaded rows
//! becomes one delivery per row, its `@@tags@@` filled from the row.
//!
//! The rows are what `resourceCreate` stored, decoded by its media type:
//! CSV (a header line, then rows), JSON (a list of objects, or an object
//! holding one) or XML (a root element whose children are the rows, each
//! row's children its cells). Each channel the message uses takes its
//! addresses from its mapping column (`smsMappingField`, default `mobile`;
//! `emailMappingField`, default `email`; `voiceMappingField`, default
//! `mobile`), as Whispir's "Dynamic and bulk messages" page describes.
//! Tags are read and filled by the SDK's own rule
//! (`whispir::campaign::{tags, tag_name, fill}`), so that a campaign the
//! SDK accepts is one the sandbox accepts.
//!
//! What Whispir refuses is refused the same way, with 422 naming it: a
//! resource that does not exist in the workspace, one that cannot be
//! decoded, a mapping column the rows lack, a tag that names no column
//! and is no tag Whispir fills itself.

use axum::http::StatusCode;
use base64::Engine as _;
use serde_json::{Map, Value};
use whispir::campaign::{SYSTEM_TAGS, fill, tag_name, tags};

use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::state::AppState;

/// One row of a dynamic message: who it goes to and what they read.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// The data row, from 1.
    pub number: usize,
    /// The row's address on the message's first channel.
    pub address: String,
    /// The message with this row's values in its tags and its address in
    /// `to`.
    pub message: Value,
    /// The row's values by column, for callbacks' custom parameters.
    pub values: Map<String, Value>,
}

fn refuse(problem: String) -> ApiFailure {
    ApiFailure::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        problem,
        "see Whispir's \"Dynamic and bulk messages\" page: upload the rows with resourceCreate, name the columns in the message's resource and its @@tags@@",
    )
}

/// Whether `message` is a dynamic message: its `resource` names a resource.
pub(crate) fn is_dynamic(message: &Value) -> bool {
    message.pointer("/resource/resourceId").is_some()
}

/// The rows a dynamic message goes to, each with its own message; `None`
/// for a message without a `resource`.
pub(crate) fn rows(
    state: &AppState,
    workspace: &Option<String>,
    message: &Value,
) -> Result<Option<Vec<Row>>, ApiFailure> {
    let Some(source) = message.get("resource") else {
        return Ok(None);
    };
    let id = source
        .get("resourceId")
        .and_then(Value::as_str)
        .unwrap_or("");
    let resource = lock(&state.store)
        .get(workspace, "resources", id)
        .map(|record| record.value.clone())
        .ok_or_else(|| {
            refuse(format!(
                "resource.resourceId: no resource with id {id:?} in this workspace"
            ))
        })?;
    let (columns, cells) = table(&resource)?;
    let column_of = |field: &str, default: &str| -> Result<usize, ApiFailure> {
        let named = source.get(field).and_then(Value::as_str);
        let wanted = named.unwrap_or(default);
        columns
            .iter()
            .position(|column| column.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| {
                refuse(match named {
                    Some(_) => format!(
                        "resource.{field}: the resource has no column {wanted:?} (columns: {})",
                        columns.join(", ")
                    ),
                    None => format!(
                        "resource.{field} is required: the resource has no {default:?} column to use instead (columns: {})",
                        columns.join(", ")
                    ),
                })
            })
    };
    let mut channels = Vec::new();
    if message.get("body").is_some_and(|body| !body.is_null()) {
        channels.push(column_of("smsMappingField", "mobile")?);
    }
    if message.get("email").is_some_and(Value::is_object) {
        channels.push(column_of("emailMappingField", "email")?);
    }
    if message.get("voice").is_some_and(Value::is_object) {
        channels.push(column_of("voiceMappingField", "mobile")?);
    }
    let address_at = match channels.first() {
        Some(&at) => at,
        // A subject alone is an SMS of one line.
        None => column_of("smsMappingField", "mobile")?,
    };
    let tagged: Vec<String> = columns.iter().map(|c| tag_name(c)).collect();
    let texts = tagged_texts(message);
    for text in &texts {
        for tag in tags(text) {
            let named = tag_name(tag);
            if !tagged.contains(&named) && !SYSTEM_TAGS.contains(&named.as_str()) {
                return Err(refuse(format!(
                    "the tag @@{tag}@@ names no column of the resource (columns: {})",
                    columns.join(", ")
                )));
            }
        }
    }
    let rows = cells
        .into_iter()
        .enumerate()
        .map(|(index, cells)| {
            let value_of = |tag: &str| {
                let named = tag_name(tag);
                tagged
                    .iter()
                    .position(|column| *column == named)
                    .and_then(|at| cells.get(at))
                    .map(String::as_str)
            };
            let mut filled = message.clone();
            fill_texts(&mut filled, &value_of);
            let address = cells.get(address_at).cloned().unwrap_or_default();
            if let Some(map) = filled.as_object_mut() {
                map.insert("to".into(), Value::String(address.clone()));
            }
            let values = columns
                .iter()
                .zip(&cells)
                .map(|(column, value)| (column.clone(), Value::String(value.clone())))
                .collect();
            Row {
                number: index + 1,
                address,
                message: filled,
                values,
            }
        })
        .collect();
    Ok(Some(rows))
}

/// The places of a message that carry text with tags.
const TEXT_PLACES: [&str; 5] = [
    "/subject",
    "/body",
    "/email/body",
    "/voice/body",
    "/web/body",
];

fn tagged_texts(message: &Value) -> Vec<String> {
    TEXT_PLACES
        .iter()
        .filter_map(|place| message.pointer(place).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn fill_texts<'a>(message: &mut Value, value_of: &impl Fn(&str) -> Option<&'a str>) {
    for place in TEXT_PLACES {
        if let Some(text) = message.pointer_mut(place)
            && let Some(written) = text.as_str()
        {
            *text = Value::String(fill(written, value_of));
        }
    }
}

/// A resource's rows: its column names and each row's cells, decoded by
/// its media type.
fn table(resource: &Value) -> Result<(Vec<String>, Vec<Vec<String>>), ApiFailure> {
    let content = resource
        .get("derefUri")
        .and_then(Value::as_str)
        .unwrap_or("");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content.trim())
        .map_err(|err| {
            refuse(format!(
                "resource.resourceId: the resource's content is not base64: {err}"
            ))
        })?;
    let media = resource
        .get("mimeType")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_ascii_lowercase();
    let undecodable = |err: String| {
        refuse(format!(
            "resource.resourceId: the resource ({media}) cannot be read: {err}"
        ))
    };
    if media.contains("json") {
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|err| undecodable(err.to_string()))?;
        records(&value).ok_or_else(|| undecodable("no list of rows".into()))
    } else if media.contains("xml") {
        let value = crate::xml::to_json(&bytes).map_err(undecodable)?;
        records(&value).ok_or_else(|| undecodable("no rows under the root element".into()))
    } else {
        csv_rows(&bytes).map_err(undecodable)
    }
}

fn csv_rows(bytes: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let columns = reader
        .headers()
        .map_err(|err| err.to_string())?
        .iter()
        .map(|column| column.trim().to_string())
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            record
                .map(|record| record.iter().map(str::to_string).collect())
                .map_err(|err| err.to_string())
        })
        .collect::<Result<_, _>>()?;
    Ok((columns, rows))
}

/// The rows of decoded JSON (or XML read as JSON): a list of objects, an
/// object holding such a list, or one object alone (one row).
fn records(value: &Value) -> Option<(Vec<String>, Vec<Vec<String>>)> {
    let objects: Vec<&Map<String, Value>> = match value {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(map) => {
            if let Some(inner) = map.values().find(|v| v.is_array() || v.is_object()) {
                return records(inner)
                    .filter(|(_, rows)| !rows.is_empty())
                    .or_else(|| Some(one_row(map)));
            }
            vec![map]
        }
        _ => return None,
    };
    let columns: Vec<String> = objects
        .first()
        .map(|first| first.keys().cloned().collect())?;
    let rows = objects
        .iter()
        .map(|object| {
            columns
                .iter()
                .map(|column| cell(object.get(column)))
                .collect()
        })
        .collect();
    Some((columns, rows))
}

fn one_row(map: &Map<String, Value>) -> (Vec<String>, Vec<Vec<String>>) {
    let columns: Vec<String> = map.keys().cloned().collect();
    let row = columns.iter().map(|column| cell(map.get(column))).collect();
    (columns, vec![row])
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(text)) => text.clone(),
        Some(other) => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    fn resource(mime: &str, content: &str) -> Value {
        json!({
            "mimeType": mime,
            "derefUri": base64::engine::general_purpose::STANDARD.encode(content),
        })
    }

    #[test]
    fn csv_json_and_xml_resources_decode_to_the_same_rows() {
        let expected = (
            vec!["mobile".to_string(), "name".to_string()],
            vec![
                vec!["61400000001".to_string(), "Ann".to_string()],
                vec!["61400000002".to_string(), "Bob, Jr".to_string()],
            ],
        );
        let csv = resource(
            "text/csv",
            "mobile,name\n61400000001,Ann\n61400000002,\"Bob, Jr\"\n",
        );
        assert_eq!(table(&csv).unwrap(), expected);
        let json = resource(
            "application/json",
            r#"[{"mobile":"61400000001","name":"Ann"},{"mobile":"61400000002","name":"Bob, Jr"}]"#,
        );
        assert_eq!(table(&json).unwrap(), expected);
        let wrapped = resource(
            "application/json",
            r#"{"rows":[{"mobile":"61400000001","name":"Ann"},{"mobile":"61400000002","name":"Bob, Jr"}]}"#,
        );
        assert_eq!(table(&wrapped).unwrap(), expected);
        let xml = resource(
            "application/xml",
            "<rows><row><mobile>61400000001</mobile><name>Ann</name></row>\
             <row><mobile>61400000002</mobile><name>Bob, Jr</name></row></rows>",
        );
        assert_eq!(table(&xml).unwrap(), expected);
    }

    #[test]
    fn content_that_is_not_base64_is_refused() {
        let broken = json!({"mimeType": "text/csv", "derefUri": "%%%"});
        assert_eq!(
            table(&broken).unwrap_err().status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
}
