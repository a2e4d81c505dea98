//! `cargo xtask upstream-diff PATH`: compares the project's bundled spec with
//! a published description of the API (Whispir's own OpenAPI file) and fails
//! on every difference that `openapi/CHANGES-FROM-UPSTREAM.md` does not list.
//!
//! Both documents are walked side by side: servers, security schemes, then
//! operation by operation (keyed by method and path, so a renamed
//! operationId is a difference, not a missing operation): parameters,
//! request bodies, responses, their headers and media types, and every
//! schema below them with `$ref`s resolved, so a schema that the project
//! moved into a named component compares equal to its inline original. Descriptions, titles and examples are the project's own words
//! and are not compared.
//!
//! Each difference has a place, e.g.
//! `PUT /contacts/{contactId} request application/vnd.whispir.contact-v1+json body.title`,
//! and a kind: `lost` (upstream has it, the project not), `added` or
//! `changed`. The changes file lists them in a Markdown table with the
//! columns `where` (a glob over places: `*` any text, `?` one character),
//! `difference` (`lost`, `added`, `changed` or `any`) and `reason`. A row
//! that matches no difference is an error too, so the file stays true.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value};

use crate::spec::{operations, resolve};

/// The list of accepted differences, relative to the project root.
pub const CHANGES_PATH: &str = "openapi/CHANGES-FROM-UPSTREAM.md";

/// Schema keywords compared as plain values (besides the structural ones).
const SCHEMA_FACTS: [&str; 19] = [
    "type",
    "format",
    "default",
    "readOnly",
    "writeOnly",
    "nullable",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
];

/// Boolean keywords whose absence means `false`.
const FALSE_BY_DEFAULT: [&str; 6] = [
    "readOnly",
    "writeOnly",
    "nullable",
    "uniqueItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
];

/// Schema combinators, compared branch by branch.
const COMBINATORS: [&str; 3] = ["allOf", "oneOf", "anyOf"];

/// How deep schemas are followed; the API's deepest nesting is far smaller.
const MAX_DEPTH: usize = 24;

/// Which way a fact differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Upstream has it; the project does not.
    Lost,
    /// The project has it; upstream does not.
    Added,
    /// Both have it, with different values.
    Changed,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Lost => "lost",
            Kind::Added => "added",
            Kind::Changed => "changed",
        }
    }
}

/// One difference between upstream and the project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Difference {
    /// Where it is, e.g. `GET /users parameter query limit type`.
    pub place: String,
    /// Which way it differs.
    pub kind: Kind,
    /// Upstream's value, when it has one.
    pub upstream: Option<String>,
    /// The project's value, when it has one.
    pub project: Option<String>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.kind.name())?;
        match (&self.upstream, &self.project) {
            (Some(upstream), Some(project)) => {
                write!(f, " (upstream {upstream}, project {project})")
            }
            (Some(upstream), None) if upstream != "present" => write!(f, " (upstream {upstream})"),
            (None, Some(project)) if project != "present" => write!(f, " (project {project})"),
            _ => Ok(()),
        }
    }
}

/// Compares two OpenAPI 3.0 documents and returns their differences, sorted.
pub fn differences(upstream: &Value, project: &Value) -> Vec<Difference> {
    let mut walk = Walk {
        upstream,
        project,
        found: Vec::new(),
        narrowed: Vec::new(),
    };
    walk.servers();
    walk.security();
    walk.operations();
    walk.found.sort();
    walk.found.dedup();
    walk.found
}

struct Walk<'a> {
    upstream: &'a Value,
    project: &'a Value,
    found: Vec<Difference>,
    /// The names a narrowed body (`allOf` of a `$ref` and a `required`
    /// list, see `bundle/one_way.rs`) adds to the schema compared next.
    narrowed: Vec<String>,
}

/// A pair of optional values, one per side.
type Pair<'a> = (Option<&'a Value>, Option<&'a Value>);

impl<'a> Walk<'a> {
    fn push(&mut self, place: &str, kind: Kind, upstream: Option<String>, project: Option<String>) {
        self.found.push(Difference {
            place: place.to_string(),
            kind,
            upstream,
            project,
        });
    }

    /// Records presence differences; returns both sides when both exist.
    fn presence<'v>(&mut self, place: &str, pair: Pair<'v>) -> Option<(&'v Value, &'v Value)> {
        match pair {
            (Some(u), Some(p)) => Some((u, p)),
            (Some(_), None) => {
                self.push(place, Kind::Lost, Some("present".into()), None);
                None
            }
            (None, Some(_)) => {
                self.push(place, Kind::Added, None, Some("present".into()));
                None
            }
            (None, None) => None,
        }
    }

    /// Compares one plain value.
    fn fact(&mut self, place: &str, upstream: Option<&Value>, project: Option<&Value>) {
        let shown = |v: Option<&Value>| v.map(|v| v.to_string());
        match (upstream, project) {
            (Some(u), Some(p)) if !same_value(u, p) => {
                self.push(place, Kind::Changed, shown(Some(u)), shown(Some(p)));
            }
            (Some(_), None) => self.push(place, Kind::Lost, shown(upstream), None),
            (None, Some(_)) => self.push(place, Kind::Added, None, shown(project)),
            _ => {}
        }
    }

    /// Compares two sets of names, one difference per name.
    fn set(&mut self, place: &str, upstream: &BTreeSet<String>, project: &BTreeSet<String>) {
        for name in upstream.difference(project) {
            self.push(&format!("{place} {name}"), Kind::Lost, None, None);
        }
        for name in project.difference(upstream) {
            self.push(&format!("{place} {name}"), Kind::Added, None, None);
        }
    }

    fn servers(&mut self) {
        let urls = |spec: &Value| -> BTreeSet<String> {
            spec.get("servers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|server| server.get("url").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        };
        self.set("server", &urls(self.upstream), &urls(self.project));
    }

    fn security(&mut self) {
        let schemes = |spec: &'a Value| {
            spec.pointer("/components/securitySchemes")
                .and_then(Value::as_object)
        };
        let (upstream, project) = (schemes(self.upstream), schemes(self.project));
        for name in union_keys(upstream, project) {
            let place = format!("security scheme {name}");
            let pair = (
                upstream.and_then(|m| m.get(&name)),
                project.and_then(|m| m.get(&name)),
            );
            if let Some((u, p)) = self.presence(&place, pair) {
                let (u, p) = (self.resolve_up(u), self.resolve_project(p));
                for key in ["type", "scheme", "in", "name", "bearerFormat"] {
                    self.fact(
                        &format!("{place} {key}"),
                        u.and_then(|u| u.get(key)),
                        p.and_then(|p| p.get(key)),
                    );
                }
            }
        }
        let requirements = |spec: &Value| -> BTreeSet<String> {
            spec.get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|req| {
                    let mut names: Vec<&String> =
                        req.as_object().into_iter().flat_map(Map::keys).collect();
                    names.sort();
                    names
                        .iter()
                        .map(|n| n.as_str())
                        .collect::<Vec<_>>()
                        .join("+")
                })
                .collect()
        };
        self.set(
            "security requirement",
            &requirements(self.upstream),
            &requirements(self.project),
        );
    }

    fn resolve_up(&self, value: &'a Value) -> Option<&'a Value> {
        resolve(self.upstream, value)
    }

    fn resolve_project(&self, value: &'a Value) -> Option<&'a Value> {
        resolve(self.project, value)
    }

    fn operations(&mut self) {
        let index = |spec: &'a Value| {
            operations(spec)
                .into_iter()
                .map(|op| (format!("{} {}", op.method.to_uppercase(), op.path), op))
                .collect::<BTreeMap<_, _>>()
        };
        let (upstream, project) = (index(self.upstream), index(self.project));
        let keys: BTreeSet<&String> = upstream.keys().chain(project.keys()).collect();
        for key in keys {
            let pair = (upstream.get(key), project.get(key));
            match pair {
                (Some(u), Some(p)) => {
                    self.fact(
                        &format!("{key} operationId"),
                        u.operation.get("operationId"),
                        p.operation.get("operationId"),
                    );
                    let u_params = self.parameters(self.upstream, u.path_parameters, u.operation);
                    let p_params = self.parameters(self.project, p.path_parameters, p.operation);
                    self.compare_parameters(key, &u_params, &p_params);
                    self.request_body(key, u.operation, p.operation);
                    self.responses(key, u.operation, p.operation);
                }
                (Some(_), None) => self.push(key, Kind::Lost, None, None),
                (None, Some(_)) => self.push(key, Kind::Added, None, None),
                (None, None) => {}
            }
        }
    }

    /// The operation's parameters, resolved, keyed by `in name` (header
    /// names in lower case); operation-level ones override path-level ones.
    fn parameters(
        &self,
        spec: &'a Value,
        path_level: &'a [Value],
        operation: &'a Map<String, Value>,
    ) -> BTreeMap<String, &'a Value> {
        let own = operation
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let mut found = BTreeMap::new();
        for param in path_level.iter().chain(own) {
            let Some(param) = resolve(spec, param) else {
                continue;
            };
            let location = param.get("in").and_then(Value::as_str).unwrap_or("?");
            let name = param.get("name").and_then(Value::as_str).unwrap_or("?");
            let name = if location == "header" {
                name.to_ascii_lowercase()
            } else {
                name.to_string()
            };
            found.insert(format!("{location} {name}"), param);
        }
        found
    }

    fn compare_parameters(
        &mut self,
        op: &str,
        upstream: &BTreeMap<String, &'a Value>,
        project: &BTreeMap<String, &'a Value>,
    ) {
        for key in union_keys_btree(upstream, project) {
            let place = format!("{op} parameter {key}");
            let pair = (upstream.get(&key).copied(), project.get(&key).copied());
            if let Some((u, p)) = self.presence(&place, pair) {
                self.flag(&format!("{place} required"), u, p, "required");
                self.flag(&format!("{place} deprecated"), u, p, "deprecated");
                self.schema(&place, u.get("schema"), p.get("schema"), &mut Vec::new());
            }
        }
    }

    /// Compares a boolean that defaults to `false`.
    fn flag(&mut self, place: &str, upstream: &Value, project: &Value, key: &str) {
        let value = |v: &Value| v.get(key).and_then(Value::as_bool).unwrap_or(false);
        let (u, p) = (value(upstream), value(project));
        if u != p {
            self.push(
                place,
                Kind::Changed,
                Some(u.to_string()),
                Some(p.to_string()),
            );
        }
    }

    fn request_body(
        &mut self,
        op: &str,
        upstream: &'a Map<String, Value>,
        project: &'a Map<String, Value>,
    ) {
        let place = format!("{op} request");
        let pair = (
            upstream.get("requestBody").and_then(|b| self.resolve_up(b)),
            project
                .get("requestBody")
                .and_then(|b| self.resolve_project(b)),
        );
        if let Some((u, p)) = self.presence(&place, pair) {
            self.flag(&format!("{place} required"), u, p, "required");
            self.content(&place, u, p);
        }
    }

    fn responses(
        &mut self,
        op: &str,
        upstream: &'a Map<String, Value>,
        project: &'a Map<String, Value>,
    ) {
        let responses = |operation: &'a Map<String, Value>| {
            operation.get("responses").and_then(Value::as_object)
        };
        let (upstream, project) = (responses(upstream), responses(project));
        for status in union_keys(upstream, project) {
            let place = format!("{op} response {status}");
            let pair = (
                upstream
                    .and_then(|m| m.get(&status))
                    .and_then(|r| self.resolve_up(r)),
                project
                    .and_then(|m| m.get(&status))
                    .and_then(|r| self.resolve_project(r)),
            );
            let Some((u, p)) = self.presence(&place, pair) else {
                continue;
            };
            let headers = |spec: &'a Value, response: &'a Value| {
                response
                    .get("headers")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .filter_map(|(name, header)| {
                        resolve(spec, header).map(|h| (name.to_ascii_lowercase(), h))
                    })
                    .collect::<BTreeMap<String, &'a Value>>()
            };
            let (u_headers, p_headers) = (headers(self.upstream, u), headers(self.project, p));
            for name in union_keys_btree(&u_headers, &p_headers) {
                let header_place = format!("{place} header {name}");
                let pair = (u_headers.get(&name).copied(), p_headers.get(&name).copied());
                if let Some((uh, ph)) = self.presence(&header_place, pair) {
                    self.flag(&format!("{header_place} required"), uh, ph, "required");
                    self.schema(
                        &header_place,
                        uh.get("schema"),
                        ph.get("schema"),
                        &mut Vec::new(),
                    );
                }
            }
            self.content(&place, u, p);
        }
    }

    fn content(&mut self, place: &str, upstream: &'a Value, project: &'a Value) {
        let (u, p) = (
            upstream.get("content").and_then(Value::as_object),
            project.get("content").and_then(Value::as_object),
        );
        for media in union_keys(u, p) {
            let media_place = format!("{place} {media}");
            let pair = (u.and_then(|u| u.get(&media)), p.and_then(|p| p.get(&media)));
            if let Some((um, pm)) = self.presence(&media_place, pair) {
                self.schema(
                    &format!("{media_place} body"),
                    um.get("schema"),
                    pm.get("schema"),
                    &mut Vec::new(),
                );
            }
        }
    }

    /// Compares two schemas and everything below them. `seen` holds the
    /// `$ref` pairs being expanded, so recursive schemas end.
    fn schema(
        &mut self,
        place: &str,
        upstream: Option<&'a Value>,
        project: Option<&'a Value>,
        seen: &mut Vec<(String, String)>,
    ) {
        let Some((u, p)) = self.presence(&format!("{place} schema"), (upstream, project)) else {
            return;
        };
        // The project may widen one named schema to a choice that includes
        // it (`oneOf: [ApiError, ApiErrorNextGen]`): that is one difference,
        // and the named schema is still compared with upstream's.
        if let Some((combinator, branch)) = widened_branch(u, p) {
            let alternatives: Vec<String> = p
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(ref_name)
                .map(|r| r.rsplit('/').next().unwrap_or_default().to_string())
                .collect();
            self.push(
                &format!("{place} {combinator}"),
                Kind::Added,
                None,
                Some(alternatives.join(" | ")),
            );
            self.schema(place, Some(u), Some(branch), seen);
            return;
        }
        // The bundle may require a one-way property only where it travels:
        // one difference, and the narrowed schema is compared as the named
        // schema with those names required.
        if let Some((reference, names)) = crate::bundle::one_way::narrowed(p) {
            self.push(
                &format!("{place} allOf"),
                Kind::Added,
                None,
                Some(format!("required {}", names.join(", "))),
            );
            self.narrowed = names;
            self.schema(place, Some(u), Some(reference), seen);
            return;
        }
        let also_required = std::mem::take(&mut self.narrowed);
        let refs = (ref_name(u), ref_name(p));
        if seen.contains(&refs) || seen.len() >= MAX_DEPTH {
            return;
        }
        let (Some(u), Some(p)) = (self.resolve_up(u), self.resolve_project(p)) else {
            return;
        };
        seen.push(refs);
        for key in SCHEMA_FACTS {
            let normalise = |v: Option<&'a Value>| -> Option<&'a Value> {
                v.filter(|v| !(FALSE_BY_DEFAULT.contains(&key) && *v == &Value::Bool(false)))
            };
            self.fact(
                &format!("{place} {key}"),
                normalise(u.get(key)),
                normalise(p.get(key)),
            );
        }
        let enum_values = |v: &Value| -> BTreeSet<String> {
            v.get("enum")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(Value::to_string)
                .collect()
        };
        self.set(&format!("{place} enum"), &enum_values(u), &enum_values(p));
        let required = |v: &Value| -> BTreeSet<String> {
            v.get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        let mut project_required = required(p);
        project_required.extend(also_required);
        self.set(
            &format!("{place} required"),
            &required(u),
            &project_required,
        );

        let (u_props, p_props) = (
            u.get("properties").and_then(Value::as_object),
            p.get("properties").and_then(Value::as_object),
        );
        for name in union_keys(u_props, p_props) {
            self.schema(
                &format!("{place}.{name}"),
                u_props.and_then(|m| m.get(&name)),
                p_props.and_then(|m| m.get(&name)),
                seen,
            );
        }
        if u.get("items").is_some() || p.get("items").is_some() {
            self.schema(&format!("{place}[]"), u.get("items"), p.get("items"), seen);
        }
        match (u.get("additionalProperties"), p.get("additionalProperties")) {
            (Some(us @ Value::Object(_)), Some(ps @ Value::Object(_))) => {
                self.schema(&format!("{place}{{}}"), Some(us), Some(ps), seen);
            }
            (us, ps) => {
                let shown = |v: Option<&Value>| match v {
                    None | Some(Value::Bool(true)) => None,
                    Some(Value::Object(_)) => Some(Value::String("a schema".into())),
                    Some(other) => Some(other.clone()),
                };
                let (us, ps) = (shown(us), shown(ps));
                self.fact(
                    &format!("{place} additionalProperties"),
                    us.as_ref(),
                    ps.as_ref(),
                );
            }
        }
        for combinator in COMBINATORS {
            let branches = |v: &'a Value| {
                v.get(combinator)
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice)
            };
            let (ub, pb) = (branches(u), branches(p));
            for i in 0..ub.len().max(pb.len()) {
                self.schema(
                    &format!("{place} {combinator}[{i}]"),
                    ub.get(i),
                    pb.get(i),
                    seen,
                );
            }
        }
        seen.pop();
    }
}

/// When upstream names a schema by `$ref` and the project offers a
/// `oneOf`/`anyOf` (and nothing else) with a branch of that same `$ref`,
/// returns the combinator and that branch.
fn widened_branch<'v>(upstream: &Value, project: &'v Value) -> Option<(&'static str, &'v Value)> {
    let name = upstream.get("$ref")?.as_str()?;
    ["oneOf", "anyOf"].into_iter().find_map(|combinator| {
        let branches = project.get(combinator)?.as_array()?;
        let only_choice = project.as_object().is_some_and(|m| m.len() == 1);
        let branch = branches
            .iter()
            .find(|b| b.get("$ref").and_then(Value::as_str) == Some(name))?;
        only_choice.then_some((combinator, branch))
    })
}

fn ref_name(value: &Value) -> String {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string()
}

/// Equal as JSON, except that integer and float spellings of one number
/// (`5` and `5.0`) are the same value.
fn same_value(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => x == y,
        _ => a == b,
    }
}

fn union_keys(a: Option<&Map<String, Value>>, b: Option<&Map<String, Value>>) -> Vec<String> {
    let keys: BTreeSet<&String> = a
        .into_iter()
        .flat_map(Map::keys)
        .chain(b.into_iter().flat_map(Map::keys))
        .collect();
    keys.into_iter().cloned().collect()
}

fn union_keys_btree<V>(a: &BTreeMap<String, V>, b: &BTreeMap<String, V>) -> Vec<String> {
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter().cloned().collect()
}

/// Which kinds of difference a row accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// Only this kind.
    Only(Kind),
    /// Any kind.
    Any,
}

/// One row of the changes table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedChange {
    /// 1-based line of the row in the file.
    pub line: usize,
    /// Glob over difference places.
    pub pattern: String,
    /// The kinds it accepts.
    pub accepts: Accepts,
    /// Why the project differs.
    pub reason: String,
}

impl ListedChange {
    /// Whether this row lists the difference.
    pub fn lists(&self, difference: &Difference) -> bool {
        let kind_fits = match self.accepts {
            Accepts::Any => true,
            Accepts::Only(kind) => kind == difference.kind,
        };
        kind_fits && glob_matches(&self.pattern, &difference.place)
    }
}

/// Parses the changes file: every row of every table whose header starts
/// with `where | difference | reason`. `file` names it in errors.
pub fn parse_changes(file: &str, text: &str) -> Result<Vec<ListedChange>, String> {
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| line_starts.partition_point(|&start| start <= offset);
    let mut problems = Vec::new();
    let mut rows = Vec::new();
    let mut in_head = false;
    let mut table_fits = false;
    let mut header: Vec<String> = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut row_line = 0;
    let mut cell: Option<String> = None;
    let events: Vec<(Event<'_>, Range<usize>)> = Parser::new_ext(text, Options::ENABLE_TABLES)
        .into_offset_iter()
        .collect();
    for (event, range) in events {
        match event {
            Event::Start(Tag::TableHead) => {
                in_head = true;
                header.clear();
            }
            Event::End(TagEnd::TableHead) => {
                in_head = false;
                let names: Vec<String> = header.iter().map(|h| h.to_ascii_lowercase()).collect();
                table_fits = names.len() >= 3
                    && names[0] == "where"
                    && names[1] == "difference"
                    && names[2] == "reason";
            }
            Event::Start(Tag::TableRow) => {
                row.clear();
                row_line = line_of(range.start);
            }
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => {
                let text = cell.take().unwrap_or_default().trim().to_string();
                if in_head {
                    header.push(text);
                } else {
                    row.push(text);
                }
            }
            Event::End(TagEnd::TableRow) if table_fits => match parse_row(&row, row_line) {
                Ok(listed) => rows.push(listed),
                Err(problem) => problems.push(format!("{file}:{row_line}: {problem}")),
            },
            Event::Text(text) | Event::Code(text) => {
                if let Some(cell) = &mut cell {
                    cell.push_str(&text);
                }
            }
            _ => {}
        }
    }
    if rows.is_empty() && problems.is_empty() {
        problems.push(format!(
            "{file}: no table with the columns `where | difference | reason` found"
        ));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(problems.join("\n"))
    }
}

fn parse_row(cells: &[String], line: usize) -> Result<ListedChange, String> {
    let [pattern, difference, reason, ..] = cells else {
        return Err("a row needs the cells where, difference and reason".into());
    };
    if pattern.is_empty() {
        return Err("the where cell is empty".into());
    }
    let accepts = match difference.as_str() {
        "lost" => Accepts::Only(Kind::Lost),
        "added" => Accepts::Only(Kind::Added),
        "changed" => Accepts::Only(Kind::Changed),
        "any" => Accepts::Any,
        other => {
            return Err(format!(
                "difference {other:?} is not one of lost, added, changed, any"
            ));
        }
    };
    if reason.is_empty() {
        return Err(format!(
            "{pattern}: the reason is empty; say why the project differs"
        ));
    }
    Ok(ListedChange {
        line,
        pattern: pattern.clone(),
        accepts,
        reason: reason.clone(),
    })
}

/// `*` matches any run of characters (also none), `?` exactly one.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (pattern, text): (Vec<char>, Vec<char>) =
        (pattern.chars().collect(), text.chars().collect());
    // Classic two-pointer matcher with backtracking to the last `*`.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || *c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// What a comparison found, against the listed changes.
#[derive(Debug)]
pub struct Report {
    /// Every difference found.
    pub differences: Vec<Difference>,
    /// Differences no row lists.
    pub unlisted: Vec<Difference>,
    /// Rows that list no difference.
    pub unused: Vec<ListedChange>,
}

impl Report {
    /// Whether every difference is listed and every row is used.
    pub fn passes(&self) -> bool {
        self.unlisted.is_empty() && self.unused.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.passes() {
            return write!(
                f,
                "{} differences from upstream, every one listed in {CHANGES_PATH}",
                self.differences.len()
            );
        }
        if !self.unlisted.is_empty() {
            writeln!(
                f,
                "{} differences from upstream are not listed in {CHANGES_PATH}; \
                 restore them in openapi/whispir.yaml or add a row with the reason:",
                self.unlisted.len()
            )?;
            for difference in &self.unlisted {
                writeln!(f, "  {difference}")?;
            }
        }
        for row in &self.unused {
            writeln!(
                f,
                "{CHANGES_PATH}:{}: row `{}` lists no difference; remove it",
                row.line, row.pattern
            )?;
        }
        Ok(())
    }
}

/// Matches differences against the listed changes.
pub fn report(upstream: &Value, project: &Value, listed: &[ListedChange]) -> Report {
    let differences = differences(upstream, project);
    let unlisted = differences
        .iter()
        .filter(|d| !listed.iter().any(|row| row.lists(d)))
        .cloned()
        .collect();
    let unused = listed
        .iter()
        .filter(|row| !differences.iter().any(|d| row.lists(d)))
        .cloned()
        .collect();
    Report {
        differences,
        unlisted,
        unused,
    }
}

/// Reads a published description without the project's own structural
/// checks (upstream need not satisfy them).
pub fn read_upstream(path: &std::path::Path) -> Result<Value, crate::XtaskError> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::XtaskError::Read {
        path: crate::shown_path(path),
        source,
    })?;
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(&text, options).map_err(|err| crate::XtaskError::Spec {
        file: crate::shown_path(path),
        source: crate::spec::SpecError::new(format!("not valid YAML: {err}")),
    })
}

#[cfg(test)]
mod tests;
