//! Every path argument stays in its segment.
//!
//! progenitor puts a path parameter into the URL with its `encode_path`,
//! which leaves `.`, `..` and `\` alone: `url` then resolves dot segments
//! and reads `\` as `/`, so `contact_id("..\\users\\U1")` would act on
//! `/users/U1`. This pass replaces every `encode_path(&x.to_string())` in the
//! generated `send()` methods with the SDK's checked encoder,
//! `crate::runtime::segments::encode("x", &x, allowed)?`, which refuses
//! `""`, `.`, `..` and values outside the parameter's documented pattern
//! before anything is sent, and percent-encodes everything outside RFC
//! 3986's unreserved set.
//!
//! The encoder borrows the argument (path parameters are strings; any
//! other type fails to compile, loudly) and hands it back unchanged when
//! nothing needs encoding, so a call allocates nothing for its path.
//! Workspace-scoped operations get their workspace id into the path through
//! `segments::workspace_prefix` with the same check (see
//! `request_building`); the workspace operations themselves take it as a
//! path parameter, checked here.
//!
//! Documented patterns must have the form `^[CLASS]+$` (a character class of
//! single characters and ranges): the allowed characters are spelled out
//! in the generated code, so the SDK needs no regex engine. Another form is
//! an error naming the operation and parameter. So is a path argument that
//! is not a path parameter of its operation in the spec: its pattern (or
//! that it has none) cannot be found, and the argument would go unchecked.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, Item, LitStr, parse_quote};

use super::syntax::{ShapeError, shape, spec_static_in, text};
use crate::rewrite_counts::Tally;

/// Per generated method name, per path parameter (Rust name), the
/// characters its documented pattern allows, or `None` when the spec
/// documents no pattern for it.
pub type PathPatterns = BTreeMap<String, BTreeMap<String, Option<String>>>;

/// The characters a `^[CLASS]+$` pattern allows, e.g. `^[A-F0-9]+$` →
/// `ABCDEF0123456789`.
pub fn allowed_characters(pattern: &str) -> Option<String> {
    // `^[CLASS]+` without `$` (as upstream writes some workspace ids) is read
    // as the whole value: an id is made of its class's characters only.
    let class = pattern.strip_prefix("^[")?;
    let class = class
        .strip_suffix("]+$")
        .or_else(|| class.strip_suffix("]+"))?;
    let chars: Vec<char> = class.chars().collect();
    let mut allowed = String::new();
    let mut index = 0;
    while index < chars.len() {
        let first = chars[index];
        if matches!(first, '\\' | '^' | '[' | ']') {
            return None;
        }
        if chars.get(index + 1) == Some(&'-') && index + 2 < chars.len() {
            let last = chars[index + 2];
            if last < first {
                return None;
            }
            allowed.extend(first..=last);
            index += 3;
        } else {
            allowed.push(first);
            index += 1;
        }
    }
    (!allowed.is_empty()).then_some(allowed)
}

/// Every path parameter of the bundled spec with its documented pattern,
/// by generated method name and Rust parameter name. (The bundle still has
/// the workspace-scoped paths, so their `workspace_id` is listed too.)
pub fn path_patterns(bundled: &serde_json::Value) -> Result<PathPatterns, ShapeError> {
    let mut patterns = PathPatterns::new();
    let parameters = bundled.pointer("/components/parameters");
    let resolve = |param: &serde_json::Value| -> serde_json::Value {
        match param.get("$ref").and_then(serde_json::Value::as_str) {
            Some(reference) => reference
                .rsplit('/')
                .next()
                .and_then(|name| parameters.and_then(|all| all.get(name)))
                .cloned()
                .unwrap_or_default(),
            None => param.clone(),
        }
    };
    let Some(paths) = bundled.get("paths").and_then(serde_json::Value::as_object) else {
        return Ok(patterns);
    };
    for item in paths.values() {
        let shared: Vec<serde_json::Value> = item
            .get("parameters")
            .and_then(serde_json::Value::as_array)
            .map(|all| all.iter().map(&resolve).collect())
            .unwrap_or_default();
        let Some(operations) = item.as_object() else {
            continue;
        };
        for (method, operation) in operations {
            if method == "parameters" {
                continue;
            }
            let Some(id) = operation
                .get("operationId")
                .and_then(serde_json::Value::as_str)
            else {
                continue;
            };
            let own: Vec<serde_json::Value> = operation
                .get("parameters")
                .and_then(serde_json::Value::as_array)
                .map(|all| all.iter().map(&resolve).collect())
                .unwrap_or_default();
            for param in shared.iter().chain(&own) {
                if param.get("in").and_then(serde_json::Value::as_str) != Some("path") {
                    continue;
                }
                let Some(name) = param.get("name").and_then(serde_json::Value::as_str) else {
                    return Err(shape(id, "a path parameter without a name"));
                };
                let allowed = match param.pointer("/schema/pattern") {
                    None => None,
                    Some(serde_json::Value::String(pattern)) => {
                        Some(allowed_characters(pattern).ok_or_else(|| {
                            shape(
                                &format!("{id}.{name}"),
                                format!("the pattern {pattern:?} is not of the form ^[CLASS]+$"),
                            )
                        })?)
                    }
                    Some(other) => {
                        return Err(shape(
                            &format!("{id}.{name}"),
                            format!("the pattern {other} is not a string"),
                        ));
                    }
                };
                let method_name = heck::AsSnakeCase(id).to_string();
                let rust_name = heck::AsSnakeCase(name).to_string();
                patterns
                    .entry(method_name)
                    .or_default()
                    .insert(rust_name, allowed);
            }
        }
    }
    Ok(patterns)
}

/// Rewrites `encode_path(&x.to_string())` in one method's statements.
struct CheckedSegments<'a> {
    place: &'a str,
    /// The operation's path parameters in the spec.
    parameters: Option<&'a BTreeMap<String, Option<String>>>,
    rewritten: usize,
    problem: Option<ShapeError>,
}

impl VisitMut for CheckedSegments<'_> {
    /// `format!(…)` and `format_args!(…)` arguments are tokens to syn:
    /// parse them as expressions, rewrite those, and put the tokens back.
    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        if !mac.path.is_ident("format") && !mac.path.is_ident("format_args") {
            return;
        }
        let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
        let Ok(mut args) = syn::parse::Parser::parse2(parser, mac.tokens.clone()) else {
            self.problem = Some(shape(
                self.place,
                "a `format!` whose arguments do not parse",
            ));
            return;
        };
        for arg in args.iter_mut() {
            self.visit_expr_mut(arg);
        }
        mac.tokens = quote::ToTokens::to_token_stream(&args);
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Call(call) = expr
            && text(&call.func) == "encode_path"
        {
            let argument = call.args.first().map(text).unwrap_or_default();
            let Some(name) = argument
                .strip_prefix('&')
                .and_then(|rest| rest.strip_suffix(".to_string()"))
                .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            else {
                self.problem = Some(shape(
                    self.place,
                    format!(
                        "`encode_path({argument})` instead of `encode_path(&name.to_string())`"
                    ),
                ));
                return;
            };
            let ident = syn::Ident::new(name, Span::call_site());
            let label = LitStr::new(name, Span::call_site());
            let Some(documented) = self.parameters.and_then(|all| all.get(name)) else {
                self.problem = Some(shape(
                    self.place,
                    format!(
                        "`{name}` is not a path parameter of the operation in the spec: \
                         its pattern cannot be found"
                    ),
                ));
                return;
            };
            let allowed = match documented {
                Some(chars) => {
                    let chars = LitStr::new(chars, Span::call_site());
                    quote::quote!(::std::option::Option::Some(
                        &const { crate::runtime::segments::Allowed::new(#chars) }
                    ))
                }
                None => quote::quote!(::std::option::Option::None),
            };
            *expr = parse_quote! {
                crate::runtime::segments::encode(#label, &#ident, #allowed)
                    .map_err(Error::InvalidRequest)?
            };
            self.rewritten += 1;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Rewrites every path parameter of every `send()` in `mod builder`.
/// Returns how many were rewritten, by operation.
pub fn rewrite(file: &mut syn::File, patterns: &PathPatterns) -> Result<Tally, ShapeError> {
    let mut rewritten = Tally::default();
    for item in &mut file.items {
        let Item::Mod(module) = item else { continue };
        if module.ident != "builder" {
            continue;
        }
        let Some((_, items)) = &mut module.content else {
            continue;
        };
        for item in items.iter_mut() {
            let Item::Impl(block) = item else { continue };
            for member in &mut block.items {
                let ImplItem::Fn(method) = member else {
                    continue;
                };
                if method.sig.ident != "send" {
                    continue;
                }
                let Some(operation) = spec_static_in(&method.block).map(|name| name.to_lowercase())
                else {
                    return Err(shape(
                        &text(&block.self_ty),
                        "run the response-handling pass first: no operation name found",
                    ));
                };
                let mut checked = CheckedSegments {
                    place: &operation,
                    parameters: patterns.get(&operation),
                    rewritten: 0,
                    problem: None,
                };
                checked.visit_block_mut(&mut method.block);
                if let Some(problem) = checked.problem {
                    return Err(problem);
                }
                if text(&method.block).contains("encode_path(") {
                    // A segment this pass did not reach would be sent with
                    // progenitor's encoding, which lets `\\` through.
                    return Err(shape(
                        &operation,
                        "an `encode_path(…)` outside the URL's `format!` was left unchecked",
                    ));
                }
                rewritten.add(&operation, checked.rewritten);
            }
        }
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_class_becomes_its_characters() {
        assert_eq!(
            allowed_characters("^[A-F0-9]+$").as_deref(),
            Some("ABCDEF0123456789")
        );
        assert_eq!(allowed_characters("^[a-c_]+$").as_deref(), Some("abc_"));
        assert_eq!(
            allowed_characters("^[A-F0-9]+").as_deref(),
            Some("ABCDEF0123456789"),
            "read as the whole value"
        );
        assert_eq!(allowed_characters("^\\d+$"), None);
        assert_eq!(allowed_characters("^[\\w]+$"), None);
        assert_eq!(allowed_characters("^[z-a]+$"), None);
    }

    /// `message_retrieve`'s one path parameter, with the characters its
    /// pattern allows.
    fn message_id(allowed: Option<&str>) -> PathPatterns {
        let mut patterns = PathPatterns::new();
        patterns
            .entry("message_retrieve".into())
            .or_default()
            .insert("message_id".into(), allowed.map(str::to_string));
        patterns
    }

    fn sample(argument: &str) -> syn::File {
        sample_with(
            &format!(
                "let url = format!(\"{{}}/messages/{{}}\", client.baseurl, encode_path({argument}));"
            ),
            "",
        )
    }

    /// A generated `send()` whose request building is `url` then `extra`.
    fn sample_with(url: &str, extra: &str) -> syn::File {
        syn::parse_str(&format!(
            r#"pub mod builder {{
                impl<'a> MessageRetrieve<'a> {{
                    pub async fn send(self) -> R {{
                        let Self {{ client, message_id }} = self;
                        let request = (|| -> R {{
                            {url}
                            {extra}
                            Ok(request)
                        }})();
                        crate::runtime::call::json::<T>(&client.client, &client.inner, &crate::generated::specs::MESSAGE_RETRIEVE, request).await
                    }}
                }}
            }}"#
        ))
        .expect("parses")
    }

    #[test]
    fn path_parameters_go_through_the_checked_encoder() {
        let mut file = sample("&message_id.to_string()");
        let patterns = message_id(Some("ABCDEF0123456789"));
        let rewritten = rewrite(&mut file, &patterns).expect("rewrites");
        assert_eq!(rewritten.at("message_retrieve"), 1);
        assert_eq!(rewritten.total(), 1);
        let out = text(&file);
        assert!(
            out.contains("crate::runtime::segments::encode(\"message_id\",&message_id,::std::option::Option::Some(&const{crate::runtime::segments::Allowed::new(\"ABCDEF0123456789\")})).map_err(Error::InvalidRequest)?"),
            "{out}"
        );
        assert!(!out.contains("encode_path("), "{out}");
    }

    #[test]
    fn a_url_formatted_with_format_args_is_checked_too() {
        let mut file = sample_with(
            "let url = crate::runtime::segments::url(format_args!(\"{}/messages/{}\", client.baseurl, encode_path(&message_id.to_string())));",
            "",
        );
        assert_eq!(
            rewrite(&mut file, &message_id(None))
                .expect("rewrites")
                .total(),
            1
        );
        let out = text(&file);
        assert!(
            out.contains(
                "crate::runtime::segments::encode(\"message_id\",&message_id,::std::option::Option::None)"
            ),
            "without a documented pattern: {out}"
        );
        assert!(!out.contains("encode_path("), "{out}");
    }

    #[test]
    fn a_segment_the_pass_cannot_reach_is_refused_by_operation() {
        let mut file = sample_with(
            "let url = format!(\"{}/messages\", client.baseurl);",
            "let parts = vec![encode_path(&message_id.to_string())];",
        );
        let err = rewrite(&mut file, &PathPatterns::new()).expect_err("unchecked segment");
        assert!(
            err.to_string()
                .starts_with("message_retrieve: unexpected shape"),
            "{err}"
        );
        assert!(err.to_string().contains("left unchecked"), "{err}");
    }

    #[test]
    fn another_argument_shape_is_refused_by_operation() {
        let mut file = sample("&format!(\"{}\", message_id)");
        let err = rewrite(&mut file, &PathPatterns::new()).expect_err("unknown shape");
        assert!(
            err.to_string()
                .starts_with("message_retrieve: unexpected shape"),
            "{err}"
        );
    }

    #[test]
    fn a_path_argument_whose_pattern_cannot_be_found_is_refused_by_operation() {
        // The operation is not in the spec's path parameters at all.
        let mut file = sample("&message_id.to_string()");
        let err = rewrite(&mut file, &PathPatterns::new()).expect_err("not documented");
        assert_eq!(err.place, "message_retrieve");
        assert!(err.problem.contains("pattern cannot be found"), "{err}");
        // The operation is, but with another parameter.
        let mut patterns = PathPatterns::new();
        patterns
            .entry("message_retrieve".into())
            .or_default()
            .insert("messageid".into(), None);
        let mut file = sample("&message_id.to_string()");
        let err = rewrite(&mut file, &patterns).expect_err("another name");
        assert_eq!(err.place, "message_retrieve");
        assert!(
            err.problem
                .starts_with("`message_id` is not a path parameter"),
            "{err}"
        );
    }

    #[test]
    fn every_path_parameter_is_listed_with_or_without_a_pattern() {
        let spec = serde_json::json!({ "paths": { "/messages/{messageId}/{part}": {
            "parameters": [{ "name": "part", "in": "path", "schema": { "type": "string" } }],
            "get": { "operationId": "messagePart", "parameters": [
                { "name": "messageId", "in": "path", "schema": { "pattern": "^[A-C]+$" } },
                { "name": "limit", "in": "query" }
            ] }
        } } });
        let patterns = path_patterns(&spec).expect("patterns");
        let part = patterns.get("message_part").expect("the operation");
        assert_eq!(part.get("message_id"), Some(&Some("ABC".to_string())));
        assert_eq!(
            part.get("part"),
            Some(&None),
            "documented, without a pattern"
        );
        assert_eq!(part.get("limit"), None, "not a path parameter");
    }

    #[test]
    fn a_path_parameter_the_pass_cannot_read_is_refused_by_operation() {
        let spec = serde_json::json!({ "paths": { "/messages/{messageId}": {
            "get": { "operationId": "messageRetrieve", "parameters": [
                { "name": "messageId", "in": "path", "schema": { "pattern": 7 } }
            ] }
        } } });
        let err = path_patterns(&spec).expect_err("not a string");
        assert_eq!(err.place, "messageRetrieve.messageId");
        let spec = serde_json::json!({ "paths": { "/messages/{messageId}": {
            "get": { "operationId": "messageRetrieve", "parameters": [{ "in": "path" }] }
        } } });
        let err = path_patterns(&spec).expect_err("no name");
        assert_eq!(err.place, "messageRetrieve");
    }

    #[test]
    fn the_patterns_of_the_spec_are_read() {
        let bundled: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(crate::project_root().join("openapi/bundled.json"))
                .expect("bundled spec"),
        )
        .expect("json");
        let patterns = path_patterns(&bundled).expect("patterns");
        assert_eq!(
            patterns
                .get("message_retrieve")
                .and_then(|p| p.get("message_id"))
                .cloned(),
            Some(Some("ABCDEF0123456789".to_string()))
        );
        assert_eq!(
            patterns
                .get("contact_retrieve")
                .and_then(|p| p.get("contact_id"))
                .cloned(),
            Some(None),
            "documented without a pattern"
        );
    }
}
