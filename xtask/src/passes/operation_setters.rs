//! Operation-builder setters: plain-word errors, bounds checked when a value
//! is set, and the spec's description as their docs.
//!
//! progenitor writes each parameter setter of an operation builder as
//! `self.p = value.try_into().map(Some).map_err(|_| "conversion to `…` for p failed".to_string());`,
//! with no docs: a Rust path in the error, no word on what the parameter
//! takes, and bounds (`limit` 1 to 20) that only the server enforces. This
//! pass rewrites the `map_err` into `crate::models::param(…, message)` or,
//! for a whole number with bounds in the spec, `crate::models::whole_param(…, min..=max, message)`,
//! where `message` says what the parameter takes, from the spec
//! ("limit must be a whole number from 1 to 20", "sort_order must be one of:
//! asc, desc"). Every rewritten setter gets the first paragraph of the
//! parameter's description as its doc, and the same rule ("Must be a whole
//! number from 1 to 20.") when there is one. Messages and docs name the
//! parameter by its setter.
//!
//! A `map_err` closure of another shape (the body's) is left as it is; a
//! setter with no parameter in the spec is an error naming the operation;
//! `generate` checks that each operation had one setter rewritten per
//! parameter.

use std::collections::BTreeMap;

use serde_json::Value;
use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, Item};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::{Tally, builder_operation};

/// What the spec says of one parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    /// The first paragraph of its description, if it has one.
    pub description: Option<String>,
    /// The values it takes.
    pub takes: Takes,
}

/// The values a parameter takes, as its schema states them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Takes {
    /// A whole number, with the bounds the schema gives.
    Whole {
        /// `minimum`, if any.
        min: Option<i64>,
        /// `maximum`, if any.
        max: Option<i64>,
    },
    /// A number.
    Number,
    /// One of these wire values.
    OneOf(Vec<String>),
    /// `true` or `false`.
    Boolean,
    /// Text, with the lengths the schema gives.
    Text {
        /// `minLength`, if any.
        min: Option<u64>,
        /// `maxLength`, if any.
        max: Option<u64>,
    },
}

impl Takes {
    /// What a value must be, completing "limit must be …".
    fn must_be(&self) -> String {
        match self {
            Takes::Whole { min, max } => match (min, max) {
                (Some(min), Some(max)) => format!("a whole number from {min} to {max}"),
                (Some(min), None) => format!("a whole number of {min} or more"),
                (None, Some(max)) => format!("a whole number of {max} or less"),
                (None, None) => "a whole number".to_string(),
            },
            Takes::Number => "a number".to_string(),
            Takes::OneOf(values) => format!("one of: {}", values.join(", ")),
            Takes::Boolean => "true or false".to_string(),
            Takes::Text { min, max } => match (min, max) {
                (Some(min), Some(max)) => format!("text of {min} to {max} characters"),
                (Some(min), None) => format!("text of at least {min} characters"),
                (None, Some(max)) => format!("text of at most {max} characters"),
                (None, None) => "text".to_string(),
            },
        }
    }

    /// The rule for the setter's doc, `None` when the type says it all.
    fn doc_rule(&self) -> Option<String> {
        match self {
            Takes::Whole {
                min: None,
                max: None,
            }
            | Takes::Number
            | Takes::Boolean
            | Takes::Text {
                min: None,
                max: None,
            } => None,
            Takes::OneOf(values) => {
                let values: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
                Some(format!("Must be one of: {}.", values.join(", ")))
            }
            other => Some(format!("Must be {}.", other.must_be())),
        }
    }
}

/// Every operation's parameters, by method name (`message_list`) then by
/// the name of their setter (`sort_order`; `type_` for `type`).
pub type Parameters = BTreeMap<String, BTreeMap<String, Parameter>>;

/// Rust keywords progenitor suffixes with `_` in a setter name.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "box", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "yield",
];

/// The parameters of every operation of the adapted spec. A parameter
/// whose schema takes none of the [`Takes`] values is an error naming it.
pub fn parameters(adapted_spec: &Value) -> Result<Parameters, ShapeError> {
    let mut all = Parameters::new();
    for op in crate::spec::operations(adapted_spec) {
        let own = op
            .operation
            .get("parameters")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let method = heck::AsSnakeCase(op.operation_id).to_string();
        for param in op.path_parameters.iter().chain(own) {
            let param = resolve(adapted_spec, param);
            let name = param
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let place = format!("{} parameter {name}", op.operation_id);
            let schema = param
                .get("schema")
                .map(|schema| resolve(adapted_spec, schema))
                .ok_or_else(|| shape(&place, "no schema"))?;
            let takes = takes(schema).ok_or_else(|| {
                shape(
                    &place,
                    format!("no plain-word rule for the schema {schema}"),
                )
            })?;
            let description = param
                .get("description")
                .or_else(|| schema.get("description"))
                .and_then(Value::as_str)
                .and_then(first_paragraph);
            let mut setter = heck::AsSnakeCase(name).to_string();
            if KEYWORDS.contains(&setter.as_str()) {
                setter.push('_');
            }
            all.entry(method.clone())
                .or_default()
                .insert(setter, Parameter { description, takes });
        }
    }
    Ok(all)
}

/// `value`, or what its `$ref` points at.
fn resolve<'a>(spec: &'a Value, value: &'a Value) -> &'a Value {
    value
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|pointer| pointer.strip_prefix('#'))
        .and_then(|pointer| spec.pointer(pointer))
        .unwrap_or(value)
}

/// The values `schema` takes, `None` for a schema of another kind.
fn takes(schema: &Value) -> Option<Takes> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Option<Vec<String>> = values
            .iter()
            .map(|value| value.as_str().map(str::to_string))
            .collect();
        return values.map(Takes::OneOf);
    }
    match schema.get("type").and_then(Value::as_str)? {
        "integer" => Some(Takes::Whole {
            min: schema.get("minimum").and_then(Value::as_i64),
            max: schema.get("maximum").and_then(Value::as_i64),
        }),
        "number" => Some(Takes::Number),
        "boolean" => Some(Takes::Boolean),
        "string" => Some(Takes::Text {
            min: schema.get("minLength").and_then(Value::as_u64),
            max: schema.get("maxLength").and_then(Value::as_u64),
        }),
        _ => None,
    }
}

/// The first paragraph of `description`, on one line; `None` when empty.
pub(crate) fn first_paragraph(description: &str) -> Option<String> {
    let paragraph = description.trim().split("\n\n").next()?;
    let line = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    (!line.is_empty()).then_some(line)
}

/// Doc attributes for `lines`, one `///` line each, blank lines between.
pub(crate) fn doc_attrs(paragraphs: &[String]) -> Vec<syn::Attribute> {
    let mut attrs = Vec::new();
    for (i, paragraph) in paragraphs.iter().enumerate() {
        if i > 0 {
            attrs.push(syn::parse_quote!(#[doc = ""]));
        }
        let line = format!(" {paragraph}");
        attrs.push(syn::parse_quote!(#[doc = #line]));
    }
    attrs
}

/// Rewrites the setters of every operation builder. Returns how many
/// setters now check their value in plain words, by operation.
pub fn rewrite(file: &mut syn::File, parameters: &Parameters) -> Result<Tally, ShapeError> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| shape("generated client", "no `mod builder`"))?;
    let mut replaced = Tally::default();
    let none = BTreeMap::new();
    for item in builder.1.iter_mut() {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(builder) = block.self_ty.as_ref() else {
            continue;
        };
        let Some(name) = builder.path.segments.last() else {
            continue;
        };
        let operation = builder_operation(&name.ident);
        let params = parameters.get(&operation).unwrap_or(&none);
        for member in &mut block.items {
            let ImplItem::Fn(setter) = member else {
                continue;
            };
            if setter.sig.ident == "send" {
                continue;
            }
            let name = setter.sig.ident.to_string();
            let mut checked = Checked {
                setter: &name,
                param: params.get(&name),
                replaced: 0,
                missing: false,
            };
            checked.visit_block_mut(&mut setter.block);
            if checked.missing {
                return Err(shape(
                    &operation,
                    format!(
                        "the setter `{name}` converts its value, but the spec has no such parameter"
                    ),
                ));
            }
            if checked.replaced == 0 {
                continue;
            }
            if let Some(param) = params.get(&name) {
                let paragraphs: Vec<String> = param
                    .description
                    .iter()
                    .cloned()
                    .chain(param.takes.doc_rule())
                    .collect();
                let mut attrs = doc_attrs(&paragraphs);
                attrs.append(&mut setter.attrs);
                setter.attrs = attrs;
            }
            replaced.add(operation.clone(), checked.replaced);
        }
    }
    if replaced.total() == 0 {
        return Err(shape("mod builder", "no setter converts its value"));
    }
    Ok(replaced)
}

/// Rewrites the conversion of one setter.
struct Checked<'a> {
    setter: &'a str,
    param: Option<&'a Parameter>,
    replaced: usize,
    /// A conversion was found, but no parameter for it.
    missing: bool,
}

impl VisitMut for Checked<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        let Expr::MethodCall(call) = expr else { return };
        if call.method != "map_err" || call.args.len() != 1 {
            return;
        }
        let Some(Expr::Closure(closure)) = call.args.first() else {
            return;
        };
        if text(&closure.inputs) != "_" {
            return;
        }
        let mut body = closure.body.as_ref();
        // `{ "…".to_string() }` or `"…".to_string()`.
        if let Expr::Block(block) = body
            && let [syn::Stmt::Expr(inner, None)] = block.block.stmts.as_slice()
        {
            body = inner;
        }
        let Expr::MethodCall(to_string) = body else {
            return;
        };
        if !matches!(
            to_string.receiver.as_ref(),
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            })
        ) || to_string.method != "to_string"
        {
            return;
        }
        let Some(param) = self.param else {
            self.missing = true;
            return;
        };
        let receiver = call.receiver.as_ref().clone();
        let message = format!("{} must be {}", self.setter, param.takes.must_be());
        *expr = match &param.takes {
            Takes::Whole { min, max } if min.is_some() || max.is_some() => {
                let min = match min {
                    Some(min) => {
                        let min = proc_macro2::Literal::i128_unsuffixed(i128::from(*min));
                        quote::quote!(#min)
                    }
                    None => quote::quote!(i128::MIN),
                };
                let max = match max {
                    Some(max) => {
                        let max = proc_macro2::Literal::i128_unsuffixed(i128::from(*max));
                        quote::quote!(#max)
                    }
                    None => quote::quote!(i128::MAX),
                };
                syn::parse_quote!(crate::models::whole_param(#receiver, #min..=#max, #message))
            }
            _ => syn::parse_quote!(crate::models::param(#receiver, #message)),
        };
        self.replaced += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    /// `messageList` with a bounded `limit`, a bare `offset` and an enum.
    fn spec() -> Value {
        serde_json::json!({
            "paths": { "/messages": { "get": {
                "operationId": "messageList",
                "parameters": [
                    { "name": "limit", "in": "query",
                      "description": "Page size; the API returns at most 20 items per page.\n\nMore words.",
                      "schema": { "type": "integer", "format": "uint32", "minimum": 1, "maximum": 20 } },
                    { "name": "offset", "in": "query",
                      "schema": { "type": "integer", "format": "uint32", "minimum": 0 } },
                    { "name": "sortOrder", "in": "query", "description": "Sort direction.",
                      "schema": { "$ref": "#/components/schemas/Order" } },
                    { "name": "type", "in": "query", "schema": { "type": "string", "maxLength": 32 } },
                ],
            } } },
            "components": { "schemas": { "Order": { "type": "string", "enum": ["asc", "desc"] } } },
        })
    }

    fn builder(setters: &str) -> syn::File {
        syn::parse_str(&format!(
            "pub mod builder {{ impl<'a> MessageList<'a> {{ {setters} }} }}"
        ))
        .unwrap()
    }

    fn setter(name: &str, ty: &str) -> String {
        format!(
            r#"pub fn {name}<V>(mut self, value: V) -> Self where V: std::convert::TryInto<{ty}> {{
                self.{name} = value.try_into().map(Some).map_err(|_| {{
                    "conversion to `{ty}` for {name} failed".to_string()
                }});
                self
            }}"#
        )
    }

    #[test]
    fn the_spec_gives_each_setter_its_rule_and_first_paragraph() {
        let params = parameters(&spec()).unwrap();
        let list = &params["message_list"];
        assert_eq!(
            list["limit"],
            Parameter {
                description: Some(
                    "Page size; the API returns at most 20 items per page.".to_string()
                ),
                takes: Takes::Whole {
                    min: Some(1),
                    max: Some(20)
                },
            }
        );
        assert_eq!(list["offset"].description, None);
        assert_eq!(
            list["sort_order"].takes,
            Takes::OneOf(vec!["asc".to_string(), "desc".to_string()])
        );
        assert!(list.contains_key("type_"), "{list:?}");
    }

    #[test]
    fn a_bounded_whole_number_is_checked_in_its_setter_with_the_range_in_words() {
        let mut file = builder(&setter("limit", ":: std :: num :: NonZeroU32"));
        let params = parameters(&spec()).unwrap();
        assert_eq!(
            rewrite(&mut file, &params).unwrap(),
            [("message_list", 1)].into_iter().collect()
        );
        let out = text(&file);
        assert!(
            out.contains(
                "self.limit=crate::models::whole_param(value.try_into().map(Some),1..=20,\"limitmustbeawholenumberfrom1to20\");"
            ),
            "{out}"
        );
        assert!(
            !out.contains("NonZeroU32`"),
            "no Rust path in the message: {out}"
        );
    }

    #[test]
    fn an_enum_setter_lists_the_wire_values() {
        let mut file = builder(&setter("sort_order", "types :: MessageListSortOrder"));
        rewrite(&mut file, &parameters(&spec()).unwrap()).unwrap();
        let out = text(&file);
        assert!(
            out.contains(
                "crate::models::param(value.try_into().map(Some),\"sort_ordermustbeoneof:asc,desc\")"
            ),
            "{out}"
        );
    }

    #[test]
    fn other_rules_are_said_in_plain_words() {
        let offset = Takes::Whole {
            min: Some(0),
            max: None,
        };
        assert_eq!(offset.must_be(), "a whole number of 0 or more");
        let id = Takes::Text {
            min: None,
            max: Some(32),
        };
        assert_eq!(id.must_be(), "text of at most 32 characters");
        assert_eq!(Takes::Boolean.must_be(), "true or false");
        assert_eq!(Takes::Boolean.doc_rule(), None);
    }

    #[test]
    fn a_setter_is_documented_with_its_description_and_rule() {
        let mut file = builder(&format!(
            "{}{}",
            setter("limit", "u32"),
            setter("offset", "u32")
        ));
        rewrite(&mut file, &parameters(&spec()).unwrap()).unwrap();
        let out = prettyplease::unparse(&file);
        assert!(
            out.contains(
                "/// Page size; the API returns at most 20 items per page.\n        ///\n        /// Must be a whole number from 1 to 20.\n        pub fn limit"
            ),
            "{out}"
        );
        assert!(!out.contains("More words"), "{out}");
        // No description: only the rule.
        assert!(
            out.contains("/// Must be a whole number of 0 or more.\n        pub fn offset"),
            "{out}"
        );
    }

    #[test]
    fn a_setter_without_a_parameter_in_the_spec_is_refused_by_operation() {
        let mut file = builder(&setter("page", "u32"));
        let err = rewrite(&mut file, &parameters(&spec()).unwrap()).unwrap_err();
        assert_eq!(err.place, "message_list");
        assert!(err.problem.contains("`page`"), "{err}");
    }

    #[test]
    fn a_parameter_schema_without_a_rule_is_refused_by_name() {
        let mut spec = spec();
        spec["paths"]["/messages"]["get"]["parameters"][1]["schema"] =
            serde_json::json!({ "type": "array" });
        let err = parameters(&spec).unwrap_err();
        assert_eq!(err.place, "messageList parameter offset");
    }

    #[test]
    fn output_without_conversions_is_refused() {
        let mut file: syn::File = syn::parse_str("pub mod builder {}").unwrap();
        assert!(rewrite(&mut file, &Parameters::new()).is_err());
    }

    #[test]
    fn a_parameter_setter_of_another_shape_is_missed_by_name() {
        let mut file = builder(&format!(
            "{}{}",
            setter("limit", "u32"),
            r#"pub fn offset<V>(mut self, value: V) -> Self {
                self.offset = value.try_into().map(Some).map_err(|e| e.to_string());
                self
            }"#
        ));
        let count = crate::rewrite_counts::PassCount {
            pass: "operation_setters",
            what: "setters share their error text",
            of: "parameters",
            expected: [("message_list", 2)].into_iter().collect(),
            found: rewrite(&mut file, &parameters(&spec()).unwrap()).unwrap(),
        };
        let err = count.checked().expect_err("offset was not rewritten");
        assert_eq!(err.differences, ["message_list (expected 2, found 1)"]);
    }

    #[test]
    fn the_generated_limit_setters_state_their_maximum_and_check_it() {
        let source =
            std::fs::read_to_string(crate::project_root().join("crates/whispir/src/generated.rs"))
                .unwrap();
        let limits = source.matches("pub fn limit<V>").count();
        assert!(limits > 0);
        assert_eq!(
            source
                .matches("/// Must be a whole number from 1 to 20.\n        pub fn limit<V>")
                .count(),
            limits
        );
        assert_eq!(
            source
                .matches("\"limit must be a whole number from 1 to 20\"")
                .count(),
            limits
        );
        // progenitor's parameter messages ended `… for limit failed"`.
        assert!(
            !source.contains(" failed\",\n"),
            "a parameter message is left as progenitor wrote it"
        );
    }
}
