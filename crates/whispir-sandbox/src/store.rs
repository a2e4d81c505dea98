//! The sandbox's memory: resources as JSON values in collections, each
//! collection either company-wide or inside one workspace.

use std::collections::HashMap;

use serde_json::Value;

/// Which collection: company-wide (`None`) or inside a workspace.
pub(crate) type Scope = Option<String>;

/// One stored resource.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// Its id.
    pub id: String,
    /// Its fields, without `id` and `link` (added when it is shown).
    pub value: Value,
    /// Whether another user than the API's sent it (a message listed only
    /// with `viewType=shared`).
    pub other_user: bool,
}

/// How ids of a collection look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdStyle {
    /// Upper-case hexadecimal, like Whispir's ids.
    Hex,
    /// A UUID (API keys).
    Uuid,
}

/// Every collection of the sandbox.
#[derive(Debug)]
pub(crate) struct Store {
    collections: HashMap<(Scope, String), Vec<Record>>,
    rng: fastrand::Rng,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            collections: HashMap::new(),
            rng: fastrand::Rng::new(),
        }
    }
}

/// The most records a collection keeps; past it the oldest goes, so no
/// client can make the sandbox's memory grow without bound.
pub(crate) const MAX_RECORDS: usize = 10_000;

/// The collection that holds workspaces.
pub(crate) const WORKSPACES: &str = "workspaces";

impl Store {
    /// A fresh id.
    pub fn new_id(&mut self, style: IdStyle) -> String {
        match style {
            IdStyle::Hex => format!("{:016X}{:04X}", self.rng.u64(..), self.rng.u16(..)),
            IdStyle::Uuid => {
                let a = self.rng.u128(..);
                let hex = format!("{a:032x}");
                format!(
                    "{}-{}-4{}-a{}-{}",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[13..16],
                    &hex[17..20],
                    &hex[20..32]
                )
            }
        }
    }

    /// The records of a collection, oldest first.
    pub fn list(&self, scope: &Scope, collection: &str) -> &[Record] {
        self.collections
            .get(&(scope.clone(), collection.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// One record.
    pub fn get(&self, scope: &Scope, collection: &str, id: &str) -> Option<&Record> {
        self.list(scope, collection)
            .iter()
            .find(|record| record.id == id)
    }

    /// One record, to change.
    pub fn get_mut(&mut self, scope: &Scope, collection: &str, id: &str) -> Option<&mut Record> {
        self.collections
            .get_mut(&(scope.clone(), collection.to_string()))?
            .iter_mut()
            .find(|record| record.id == id)
    }

    /// Whether a workspace exists.
    pub fn has_workspace(&self, id: &str) -> bool {
        self.get(&None, WORKSPACES, id).is_some()
    }

    /// The first workspace: the one calls without a workspace act in.
    pub fn default_workspace(&self) -> Option<String> {
        self.list(&None, WORKSPACES)
            .first()
            .map(|record| record.id.clone())
    }

    /// Stores a new record and returns its id: the value's own `id` when it
    /// has an unused one (data files), a fresh one otherwise. The collection
    /// keeps its newest [`MAX_RECORDS`].
    pub fn insert(
        &mut self,
        scope: &Scope,
        collection: &str,
        value: Value,
        style: IdStyle,
    ) -> String {
        self.insert_keeping(scope, collection, value, style, MAX_RECORDS)
    }

    /// Stores a new record like [`insert`](Store::insert), keeping the
    /// collection's newest `max` records.
    pub fn insert_keeping(
        &mut self,
        scope: &Scope,
        collection: &str,
        mut value: Value,
        style: IdStyle,
        max: usize,
    ) -> String {
        let given = value
            .as_object_mut()
            .and_then(|map| map.remove("id"))
            .and_then(|id| id.as_str().map(String::from))
            .filter(|id| !id.is_empty() && self.get(scope, collection, id).is_none());
        if let Some(map) = value.as_object_mut() {
            map.remove("link");
        }
        let id = match given {
            Some(id) => id,
            None => self.new_id(style),
        };
        let records = self
            .collections
            .entry((scope.clone(), collection.to_string()))
            .or_default();
        records.push(Record {
            id: id.clone(),
            value,
            other_user: false,
        });
        let excess = records.len().saturating_sub(max);
        records.drain(..excess);
        id
    }

    /// Replaces a record's fields; false when there is no such record.
    pub fn replace(&mut self, scope: &Scope, collection: &str, id: &str, mut value: Value) -> bool {
        if let Some(map) = value.as_object_mut() {
            map.remove("id");
            map.remove("link");
        }
        match self.get_mut(scope, collection, id) {
            Some(record) => {
                record.value = value;
                true
            }
            None => false,
        }
    }

    /// Removes a record; false when there is no such record.
    pub fn remove(&mut self, scope: &Scope, collection: &str, id: &str) -> bool {
        let Some(records) = self
            .collections
            .get_mut(&(scope.clone(), collection.to_string()))
        else {
            return false;
        };
        let before = records.len();
        records.retain(|record| record.id != id);
        records.len() != before
    }

    /// Empties a collection.
    pub fn clear(&mut self, scope: &Scope, collection: &str) {
        self.collections
            .remove(&(scope.clone(), collection.to_string()));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    fn a_record_lives_in_its_workspace_only() {
        let mut store = Store::default();
        let a = Some("A".to_string());
        let b = Some("B".to_string());
        let id = store.insert(&a, "contacts", json!({"firstName": "Ann"}), IdStyle::Hex);
        assert!(store.get(&a, "contacts", &id).is_some());
        assert!(store.get(&b, "contacts", &id).is_none());
        assert!(store.remove(&a, "contacts", &id));
        assert!(store.list(&a, "contacts").is_empty());
    }

    #[test]
    fn a_full_collection_drops_its_oldest_record() {
        let mut store = Store::default();
        let first = store.insert(&None, "keys", json!({}), IdStyle::Hex);
        for _ in 0..MAX_RECORDS {
            store.insert(&None, "keys", json!({}), IdStyle::Hex);
        }
        assert_eq!(store.list(&None, "keys").len(), MAX_RECORDS);
        assert!(store.get(&None, "keys", &first).is_none());
    }

    #[test]
    fn a_collection_with_its_own_bound_keeps_only_its_newest() {
        let mut store = Store::default();
        let ids: Vec<String> = (0..5)
            .map(|_| store.insert_keeping(&None, "calls", json!({}), IdStyle::Hex, 3))
            .collect();
        let kept: Vec<&str> = store
            .list(&None, "calls")
            .iter()
            .map(|record| record.id.as_str())
            .collect();
        assert_eq!(kept, [&ids[2], &ids[3], &ids[4]]);
        store.insert_keeping(&None, "calls", json!({}), IdStyle::Hex, 0);
        assert!(store.list(&None, "calls").is_empty());
    }

    #[test]
    fn ids_look_like_whispir_ids() {
        let mut store = Store::default();
        let id = store.new_id(IdStyle::Hex);
        assert_eq!(id.len(), 20);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        assert_eq!(store.new_id(IdStyle::Uuid).len(), 36);
    }
}
