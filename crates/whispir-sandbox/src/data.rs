//! Data to start with: the embedded demo data, and data files of the same
//! shape (JSON or YAML).
//!
//! A data file is an object: `workspaces` is a list of workspaces, each of
//! which may hold lists of its resources (`contacts`, `messages`, …); the
//! company-wide collections (`callbacks`, `users`, `keys`, `customlists`,
//! `activities`) are lists at the top. Ids given in the file are kept.
//!
//! A message is listed as the API user's own unless it has
//! `"sentByAnotherUser": true` (a key of the sandbox only, dropped on
//! load): then only `viewType=shared` lists it. The demo messages are
//! dated an hour or so before the sandbox starts, so that the message
//! list's 7-day window holds them; a data file's keep their `createdTime`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::config::{ConfigError, read_document};
use crate::store::{IdStyle, Store, WORKSPACES};

/// The demo data every sandbox starts with unless told to start empty.
const DEMO: &str = include_str!("demo.json");

/// Collections inside a workspace.
pub const WORKSPACE_COLLECTIONS: [&str; 9] = [
    "contacts",
    "distributionlists",
    "events",
    "messages",
    "resources",
    "responserules",
    "scenarios",
    "templates",
    "activities",
];

/// Company-wide collections besides workspaces.
pub const COMPANY_COLLECTIONS: [&str; 5] =
    ["callbacks", "users", "keys", "customlists", "activities"];

/// The id of the demo workspace, the default one.
pub const DEMO_WORKSPACE_ID: &str = "A1B2C3D4E5F60718293A";

/// Why data cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file cannot be read or parsed.
    #[error(transparent)]
    File(#[from] ConfigError),
    /// The embedded demo data is broken.
    #[error("the embedded demo data is not valid JSON")]
    Demo(#[source] serde_json::Error),
    /// The data has the wrong shape.
    #[error("{source_name}: {reason}")]
    Shape {
        /// The file, or `demo data`.
        source_name: String,
        /// What is wrong.
        reason: String,
    },
}

/// Loads the demo data.
pub(crate) fn load_demo(store: &mut Store, now_millis: i64) -> Result<(), DataError> {
    let mut data: Value = serde_json::from_str(DEMO).map_err(DataError::Demo)?;
    date_demo_messages(&mut data, now_millis);
    load(store, data, "demo data")
}

/// Moves the demo messages' `createdTime`s, keeping their spacing, so that
/// the newest is an hour before `now_millis`.
fn date_demo_messages(data: &mut Value, now_millis: i64) {
    let mut times: Vec<&mut Value> = data
        .get_mut(WORKSPACES)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(|workspace| workspace.get_mut("messages")?.as_array_mut())
        .flatten()
        .filter_map(|message| message.get_mut("createdTime"))
        .collect();
    let Some(newest) = times.iter().filter_map(|time| time.as_i64()).max() else {
        return;
    };
    let shift = now_millis.saturating_sub(3_600_000).saturating_sub(newest);
    for time in &mut times {
        if let Some(old) = time.as_i64() {
            **time = Value::from(old.saturating_add(shift));
        }
    }
}

/// Loads a JSON or YAML data file.
pub(crate) fn load_file(store: &mut Store, path: &Path) -> Result<(), DataError> {
    let data: Value = read_document(path, "data file")?;
    load(store, data, &PathBuf::from(path).display().to_string())
}

/// Loads data of the documented shape.
pub(crate) fn load(store: &mut Store, data: Value, source_name: &str) -> Result<(), DataError> {
    let shape = |reason: String| DataError::Shape {
        source_name: source_name.to_string(),
        reason,
    };
    let Value::Object(top) = data else {
        return Err(shape("the data must be an object".into()));
    };
    for (name, value) in top {
        let Value::Array(items) = value else {
            return Err(shape(format!("{name} must be a list")));
        };
        if name == WORKSPACES {
            for workspace in items {
                load_workspace(store, workspace).map_err(shape)?;
            }
        } else if COMPANY_COLLECTIONS.contains(&name.as_str()) {
            let style = if name == "keys" {
                IdStyle::Uuid
            } else {
                IdStyle::Hex
            };
            for item in items {
                if !item.is_object() {
                    return Err(shape(format!("every item of {name} must be an object")));
                }
                store.insert(&None, &name, item, style);
            }
        } else {
            return Err(shape(format!(
                "unknown collection {name}; expected workspaces or one of {}",
                COMPANY_COLLECTIONS.join(", ")
            )));
        }
    }
    Ok(())
}

fn load_workspace(store: &mut Store, workspace: Value) -> Result<(), String> {
    let Value::Object(mut fields) = workspace else {
        return Err("every workspace must be an object".into());
    };
    let mut held: Vec<(String, Vec<Value>)> = Vec::new();
    for name in WORKSPACE_COLLECTIONS {
        match fields.remove(name) {
            Some(Value::Array(items)) => held.push((name.to_string(), items)),
            Some(_) => return Err(format!("the {name} of a workspace must be a list")),
            None => {}
        }
    }
    let id = store.insert(&None, WORKSPACES, Value::Object(fields), IdStyle::Hex);
    let scope = Some(id);
    for (name, items) in held {
        for item in items {
            if !item.is_object() {
                return Err(format!("every item of {name} must be an object"));
            }
            let mut item = item;
            let other_user = name == "messages"
                && item
                    .as_object_mut()
                    .and_then(|map| map.remove("sentByAnotherUser"))
                    .is_some_and(|flag| flag == Value::Bool(true));
            let id = store.insert(&scope, &name, item, IdStyle::Hex);
            if let Some(record) = store.get_mut(&scope, &name, &id) {
                record.other_user = other_user;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    fn the_demo_data_has_a_bit_of_everything() {
        let mut store = Store::default();
        load_demo(&mut store, 1_800_000_000_000).unwrap();
        assert_eq!(
            store.default_workspace().as_deref(),
            Some(DEMO_WORKSPACE_ID)
        );
        let demo = Some(DEMO_WORKSPACE_ID.to_string());
        for name in WORKSPACE_COLLECTIONS {
            assert!(!store.list(&demo, name).is_empty(), "no demo {name}");
        }
        for name in COMPANY_COLLECTIONS {
            assert!(!store.list(&None, name).is_empty(), "no demo {name}");
        }
    }

    #[test]
    fn the_demo_messages_are_dated_just_before_the_start_and_keep_their_spacing() {
        let mut store = Store::default();
        let now = 1_800_000_000_000;
        load_demo(&mut store, now).unwrap();
        let demo = Some(DEMO_WORKSPACE_ID.to_string());
        let times: Vec<i64> = store
            .list(&demo, "messages")
            .iter()
            .map(|record| record.value["createdTime"].as_i64().unwrap())
            .collect();
        assert_eq!(times.iter().max(), Some(&(now - 3_600_000)));
        assert_eq!(times[1] - times[0], 3_600_000);
    }

    #[test]
    fn a_message_of_another_user_is_marked_and_the_key_dropped() {
        let mut store = Store::default();
        let data = json!({"workspaces": [{"id": "FEED", "messages": [
            {"id": "M1", "to": "61400000001", "subject": "s", "sentByAnotherUser": true},
            {"id": "M2", "to": "61400000001", "subject": "s"}
        ]}]});
        load(&mut store, data, "x.json").unwrap();
        let scope = Some("FEED".to_string());
        let m1 = store.get(&scope, "messages", "M1").unwrap();
        assert!(m1.other_user);
        assert!(m1.value.get("sentByAnotherUser").is_none());
        assert!(!store.get(&scope, "messages", "M2").unwrap().other_user);
    }

    #[test]
    fn a_json_data_file_keeps_its_ids() {
        let path = std::env::temp_dir().join(format!("sandbox-data-{}.json", std::process::id()));
        std::fs::write(
            &path,
            r#"{"workspaces": [{"id": "FEED", "projectName": "J", "status": "A", "templates": [{"id": "T1", "messageTemplateName": "t", "subject": "s", "body": "b"}]}], "keys": [{"type": "basic"}]}"#,
        )
        .unwrap();
        let mut store = Store::default();
        load_file(&mut store, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(store.get(&Some("FEED".into()), "templates", "T1").is_some());
        assert_eq!(store.list(&None, "keys")[0].id.len(), 36);
    }

    #[test]
    fn data_of_the_wrong_shape_is_refused_with_the_reason() {
        let mut store = Store::default();
        let err = load(&mut store, json!({"planets": []}), "x.yaml").unwrap_err();
        assert!(
            err.to_string().contains("unknown collection planets"),
            "{err}"
        );
        assert!(
            load(
                &mut store,
                json!({"workspaces": [{"contacts": 3}]}),
                "x.yaml"
            )
            .is_err()
        );
    }
}
