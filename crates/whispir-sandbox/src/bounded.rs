//! Collections that keep only their newest entries, so that what clients
//! make the sandbox remember stays bounded however long it runs.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// A map by id that keeps its newest `cap` entries: inserting one more
/// drops the oldest.
#[derive(Debug)]
pub(crate) struct BoundedMap<V> {
    cap: usize,
    entries: HashMap<String, V>,
    order: VecDeque<String>,
}

impl<V> BoundedMap<V> {
    /// An empty map holding at most `cap` entries (at least 1).
    pub fn new(cap: usize) -> Self {
        BoundedMap {
            cap: cap.max(1),
            entries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Inserts or replaces; a new key past the cap drops the oldest.
    pub fn insert(&mut self, key: String, value: V) {
        if self.entries.insert(key.clone(), value).is_some() {
            return;
        }
        self.order.push_back(key);
        while self.order.len() > self.cap {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&V> {
        self.entries.get(key)
    }

    /// The value of a key, to change.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut V> {
        self.entries.get_mut(key)
    }

    /// How many entries it holds.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A log that keeps its newest `cap` records, each shared, so that a
/// snapshot costs one reference count per record, not a copy.
#[derive(Debug)]
pub(crate) struct BoundedLog<T> {
    cap: usize,
    records: VecDeque<Arc<T>>,
}

impl<T> BoundedLog<T> {
    /// An empty log holding at most `cap` records (0 keeps none).
    pub fn new(cap: usize) -> Self {
        BoundedLog {
            cap,
            records: VecDeque::new(),
        }
    }

    /// Appends a record, dropping the oldest past the cap.
    pub fn push(&mut self, record: T) {
        self.push_shared(Arc::new(record));
    }

    /// Keeps a record already shared with someone else.
    pub fn push_shared(&mut self, record: Arc<T>) {
        if self.cap == 0 {
            return;
        }
        if self.records.len() == self.cap {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    /// The records, oldest first.
    pub fn snapshot(&self) -> Vec<Arc<T>> {
        self.records.iter().cloned().collect()
    }

    /// Forgets every record.
    pub fn clear(&mut self) {
        self.records.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_bounded_map_drops_its_oldest_entry_past_the_cap() {
        let mut map = BoundedMap::new(2);
        map.insert("a".into(), 1);
        map.insert("b".into(), 2);
        map.insert("a".into(), 10); // replacing keeps its place
        map.insert("c".into(), 3);
        assert_eq!(map.len(), 2);
        assert_eq!(map.get("a"), None);
        assert_eq!(map.get("b"), Some(&2));
        assert_eq!(map.get("c"), Some(&3));
    }

    #[test]
    fn a_bounded_log_keeps_the_newest_records_in_order() {
        let mut log = BoundedLog::new(3);
        for n in 0..5 {
            log.push(n);
        }
        let kept: Vec<i32> = log.snapshot().iter().map(|n| **n).collect();
        assert_eq!(kept, vec![2, 3, 4]);
        let mut none = BoundedLog::new(0);
        none.push(1);
        assert!(none.snapshot().is_empty());
    }
}
