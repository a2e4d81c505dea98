//! How many places each rewrite pass touched, checked against how many the
//! operation table (and the adapted spec) say it must touch.
//!
//! A pass that meets a shape it does not know refuses it; a pass that never
//! meets a place at all (progenitor renamed it, a matcher stopped matching)
//! would say nothing. So every pass reports what it rewrote, place by place,
//! and `generate` compares that with what the facts imply: one `send()` per
//! operation, one checked segment per path parameter, one moved workspace
//! per workspace-scoped operation… A difference is an error naming the pass
//! and every operation (or model) where the two disagree.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::adapt::OperationSpec;

/// How many places a pass rewrote (or must rewrite), by operation method
/// name (`message_list`) or, for the model passes, by model (`Email`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally(BTreeMap<String, usize>);

impl Tally {
    /// Counts `count` more places at `place`.
    pub fn add(&mut self, place: impl Into<String>, count: usize) {
        *self.0.entry(place.into()).or_default() += count;
    }

    /// How many places in all.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }

    /// The places counted, sorted.
    pub fn places(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many places at `place`.
    pub fn at(&self, place: &str) -> usize {
        self.0.get(place).copied().unwrap_or(0)
    }

    /// Every place where `self` and `other` differ, as
    /// `place (expected E, found F)`, sorted by place.
    fn differences(&self, found: &Tally) -> Vec<String> {
        let mut places: Vec<&String> = self.0.keys().chain(found.0.keys()).collect();
        places.sort();
        places.dedup();
        places
            .into_iter()
            .filter(|place| self.at(place) != found.at(place))
            .map(|place| {
                format!(
                    "{place} (expected {}, found {})",
                    self.at(place),
                    found.at(place)
                )
            })
            .collect()
    }
}

impl<S: Into<String>> FromIterator<(S, usize)> for Tally {
    fn from_iter<I: IntoIterator<Item = (S, usize)>>(places: I) -> Self {
        let mut tally = Tally::default();
        for (place, count) in places {
            tally.add(place, count);
        }
        tally
    }
}

/// A pass rewrote another number of places than the facts imply.
#[derive(Debug, thiserror::Error)]
#[error(
    "{pass}: {found} {what}, but {expected} expected ({basis}); \
     it differs at {}. The pass no longer recognises what progenitor writes there: \
     fix the pass (or the spec), then run `cargo xtask regen`",
    .differences.join(", ")
)]
pub struct CountError {
    /// The pass, named like its module.
    pub pass: &'static str,
    /// What it counts, e.g. `send() rewritten`.
    pub what: &'static str,
    /// What the expected number is made of, e.g. `73 operations`.
    pub basis: String,
    /// How many places the facts imply.
    pub expected: usize,
    /// How many places the pass rewrote.
    pub found: usize,
    /// `place (expected E, found F)` for every place that differs.
    pub differences: Vec<String>,
}

/// What one pass rewrote against what it had to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassCount {
    /// The pass, named like its module.
    pub pass: &'static str,
    /// What it counts, e.g. `send() rewritten`.
    pub what: &'static str,
    /// What the expected places are, e.g. `operations`.
    pub of: &'static str,
    /// Places the facts imply.
    pub expected: Tally,
    /// Places the pass rewrote.
    pub found: Tally,
}

impl PassCount {
    /// The count, or an error naming every place where the pass did not
    /// rewrite what it had to (or rewrote what it should not have).
    pub fn checked(self) -> Result<Self, CountError> {
        let differences = self.expected.differences(&self.found);
        if differences.is_empty() {
            return Ok(self);
        }
        Err(CountError {
            pass: self.pass,
            what: self.what,
            basis: format!("{} {}", self.expected.total(), self.of),
            expected: self.expected.total(),
            found: self.found.total(),
            differences,
        })
    }
}

/// `response_handling: 73 send() rewritten (73 operations)`.
impl fmt::Display for PassCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} {} ({} {})",
            self.pass,
            self.found.total(),
            self.what,
            self.expected.total(),
            self.of
        )
    }
}

/// One place per operation of the table.
pub fn each_operation(operations: &[OperationSpec]) -> Tally {
    operations
        .iter()
        .map(|op| (op.method_name.as_str(), 1))
        .collect()
}

/// One place per workspace-scoped operation of the table.
pub fn workspace_scoped(operations: &[OperationSpec]) -> Tally {
    operations
        .iter()
        .filter(|op| op.workspace_scoped)
        .map(|op| (op.method_name.as_str(), 1))
        .collect()
}

/// One place per `{parameter}` of each operation's path in the table (the
/// unscoped path for workspace-scoped operations: their workspace goes
/// through `segments::workspace_prefix`, not a path argument).
pub fn path_parameters(operations: &[OperationSpec]) -> Tally {
    operations
        .iter()
        .map(|op| (op.method_name.as_str(), op.path.matches('{').count()))
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// One place per operation of the adapted spec with a request body.
pub fn request_bodies(adapted_spec: &Value) -> Tally {
    crate::spec::operations(adapted_spec)
        .into_iter()
        .filter(|op| op.operation.contains_key("requestBody"))
        .map(|op| (method_name(op.operation_id), 1))
        .collect()
}

/// One place per parameter (path, query, header) of each operation of the
/// adapted spec: each has one setter on the operation builder.
pub fn parameters(adapted_spec: &Value) -> Tally {
    crate::spec::operations(adapted_spec)
        .into_iter()
        .map(|op| {
            let own = op
                .operation
                .get("parameters")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (method_name(op.operation_id), op.path_parameters.len() + own)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// The method name of an operation id, as `adapt` writes it in the table.
fn method_name(operation_id: &str) -> String {
    heck::AsSnakeCase(operation_id).to_string()
}

/// The method name of the operation an operation builder (`MessageList`)
/// builds: `message_list`.
pub fn builder_operation(builder: &syn::Ident) -> String {
    method_name(&builder.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    fn count(found: Tally) -> PassCount {
        PassCount {
            pass: "response_handling",
            what: "send() rewritten",
            of: "operations",
            expected: [("message_create", 1), ("message_list", 1), ("user_list", 1)]
                .into_iter()
                .collect(),
            found,
        }
    }

    #[test]
    fn a_pass_that_touched_fewer_places_than_the_table_says_is_refused_with_the_operations_missed()
    {
        let err = count([("message_create", 1)].into_iter().collect())
            .checked()
            .expect_err("two operations missed");
        assert_eq!(err.pass, "response_handling");
        assert_eq!((err.expected, err.found), (3, 1));
        let shown = err.to_string();
        assert!(
            shown.starts_with(
                "response_handling: 1 send() rewritten, but 3 expected (3 operations); \
                 it differs at message_list (expected 1, found 0), user_list (expected 1, found 0)."
            ),
            "{shown}"
        );
    }

    #[test]
    fn a_pass_that_touched_a_place_twice_or_one_not_in_the_table_is_refused_by_name() {
        let found = [
            ("message_create", 2),
            ("message_list", 1),
            ("user_list", 1),
            ("stray", 1),
        ]
        .into_iter()
        .collect();
        let err = count(found).checked().expect_err("too many");
        assert_eq!(
            err.differences,
            [
                "message_create (expected 1, found 2)",
                "stray (expected 0, found 1)"
            ]
        );
    }

    #[test]
    fn a_count_that_matches_is_one_line_naming_the_pass_and_both_totals() {
        let matching = count(
            [("message_create", 1), ("message_list", 1), ("user_list", 1)]
                .into_iter()
                .collect(),
        )
        .checked()
        .expect("matches");
        assert_eq!(
            matching.to_string(),
            "response_handling: 3 send() rewritten (3 operations)"
        );
    }

    #[test]
    fn the_table_gives_one_place_per_path_parameter_and_scoped_operation() {
        let op = |name: &str, path: &str, scoped| OperationSpec {
            operation_id: name.into(),
            method_name: method_name(name),
            http_method: "GET".into(),
            path: path.into(),
            accept: "application/json".into(),
            content_type: None,
            workspace_scoped: scoped,
            effect: crate::adapt::Effect::Read,
            header_params: Vec::new(),
            body_requires: Vec::new(),
            body_requires_any: Vec::new(),
        };
        let table = [
            op("messageList", "/messages", true),
            op(
                "messageStatusList",
                "/messages/{messageId}/messagestatus",
                true,
            ),
            op("workspaceRetrieve", "/workspaces/{workspaceId}", false),
        ];
        assert_eq!(
            path_parameters(&table),
            [("message_status_list", 1), ("workspace_retrieve", 1)]
                .into_iter()
                .collect()
        );
        assert_eq!(
            workspace_scoped(&table),
            [("message_list", 1), ("message_status_list", 1)]
                .into_iter()
                .collect()
        );
        assert_eq!(each_operation(&table).total(), 3);
    }

    #[test]
    fn the_spec_gives_one_place_per_parameter_and_request_body() {
        let spec = serde_json::json!({ "paths": {
            "/messages": {
                "get": { "operationId": "messageList", "parameters": [
                    { "name": "limit", "in": "query" }, { "name": "offset", "in": "query" }
                ] },
                "post": { "operationId": "messageCreate", "requestBody": {} }
            },
            "/auth": { "post": { "operationId": "authCreate" } }
        } });
        assert_eq!(
            parameters(&spec),
            [("message_list", 2)].into_iter().collect()
        );
        assert_eq!(
            request_bodies(&spec),
            [("message_create", 1)].into_iter().collect()
        );
    }

    #[test]
    fn a_builder_names_its_operation_like_the_table() {
        let builder: syn::Ident = syn::parse_str("DistributionListList").unwrap();
        assert_eq!(builder_operation(&builder), "distribution_list_list");
    }
}
