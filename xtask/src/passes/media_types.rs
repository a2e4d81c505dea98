//! Whispir's vendor media types, written into each request as it is built.
//!
//! progenitor sends `Accept: application/json` (for operations with a JSON
//! answer) and reqwest's `.json(&body)` adds `Content-Type:
//! application/json`. Whispir wants its versioned vendor types on both
//! (without them it answers XML or 415). This pass puts the operation's own
//! types on the request builder first, as header values made at compile
//! time, and drops progenitor's `Accept`:
//!
//! ```text
//! client.client.post(url).header(ACCEPT, from_static("application/json")).json(&body)
//! → client.client.post(url)
//!       .header(ACCEPT, const { from_static("application/vnd.whispir.message-v1+json") })
//!       .header(CONTENT_TYPE, const { from_static("application/vnd.whispir.message-v1+json") })
//!       .json(&body)
//! ```
//!
//! `.json` keeps a `Content-Type` that is already set. A documented
//! content type is sent with or without a body (the spec lists it for
//! `POST /auth`, which has none). An operation whose request has a body but
//! no documented content type, or that sets either header another way, is
//! an error naming it.

use std::collections::BTreeMap;

use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, Item, parse_quote};

use super::syntax::{ShapeError, shape, spec_static, spec_static_in, text};
use crate::adapt::OperationSpec;
use crate::rewrite_counts::Tally;

/// The header progenitor adds to operations with a JSON answer, as
/// compact text.
const GENERIC_ACCEPT: &str =
    "::reqwest::header::ACCEPT,::reqwest::header::HeaderValue::from_static(\"application/json\")";

/// Writes each operation's media types into the request building of its
/// `send()` in `mod builder`. Returns the operations changed.
pub fn rewrite(file: &mut syn::File, operations: &[OperationSpec]) -> Result<Tally, ShapeError> {
    let by_static: BTreeMap<String, &OperationSpec> = operations
        .iter()
        .map(|op| (spec_static(&op.method_name).to_string(), op))
        .collect();
    let Some((_, items)) = file.items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return Err(shape("generated client", "no `mod builder`"));
    };
    let mut rewritten = Tally::default();
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        for member in &mut block.items {
            let ImplItem::Fn(method) = member else {
                continue;
            };
            if method.sig.ident != "send" {
                continue;
            }
            let Some(name) = spec_static_in(&method.block) else {
                return Err(shape(
                    &text(&block.self_ty),
                    "run the response-handling pass first: no operation spec found",
                ));
            };
            let Some(operation) = by_static.get(&name) else {
                return Err(shape(&name, "no operation in the spec has this name"));
            };
            let mut chain = RequestChain {
                operation,
                found: 0,
                problem: None,
            };
            chain.visit_block_mut(&mut method.block);
            if let Some(problem) = chain.problem {
                return Err(problem);
            }
            if chain.found != 1 {
                return Err(shape(
                    &operation.method_name,
                    format!(
                        "{} `client.client.…(url)` request chains, expected 1",
                        chain.found
                    ),
                ));
            }
            rewritten.add(&operation.method_name, 1);
        }
    }
    Ok(rewritten)
}

/// Finds the one request chain of a `send()` and rewrites it.
struct RequestChain<'a> {
    operation: &'a OperationSpec,
    found: usize,
    problem: Option<ShapeError>,
}

impl VisitMut for RequestChain<'_> {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Try(checked) = expr
            && let Expr::MethodCall(build) = checked.expr.as_mut()
            && build.method == "build"
        {
            self.found += 1;
            if let Err(problem) = rewrite_chain(self.operation, &mut build.receiver) {
                self.problem = Some(problem);
            }
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// Rewrites `client.client.<method>(url)….` (without the final `.build()`).
fn rewrite_chain(operation: &OperationSpec, chain: &mut Expr) -> Result<(), ShapeError> {
    let place = operation.method_name.as_str();
    let mut has_body = false;
    strip_accept(place, chain, &mut has_body)?;
    let Some(innermost) = innermost(chain) else {
        return Err(shape(
            place,
            "the request does not start with `client.client`",
        ));
    };
    let accept = &operation.accept;
    let start = innermost.clone();
    let with_accept: Expr = parse_quote! {
        #start.header(
            ::reqwest::header::ACCEPT,
            const { ::reqwest::header::HeaderValue::from_static(#accept) },
        )
    };
    *innermost = match (&operation.content_type, has_body) {
        // Also without a body: the spec documents the header on some
        // body-less requests (`POST /auth`), and the API may check it.
        (Some(content_type), _) => parse_quote! {
            #with_accept.header(
                ::reqwest::header::CONTENT_TYPE,
                const { ::reqwest::header::HeaderValue::from_static(#content_type) },
            )
        },
        (None, false) => with_accept,
        (None, true) => {
            return Err(shape(
                place,
                "the request has a body, but the spec gives no content type",
            ));
        }
    };
    Ok(())
}

/// Drops progenitor's `Accept` from the chain, notes whether it sends a
/// body, and refuses any other media type header.
fn strip_accept(place: &str, expr: &mut Expr, has_body: &mut bool) -> Result<(), ShapeError> {
    let Expr::MethodCall(call) = expr else {
        return Err(shape(place, "the request is not a method-call chain"));
    };
    if text(&call.receiver) == "client.client" {
        return Ok(());
    }
    strip_accept(place, &mut call.receiver, has_body)?;
    // Compact, without trailing commas.
    let args = text(&call.args).replace(",)", ")");
    let args = args.trim_end_matches(',');
    if call.method == "header" && args == GENERIC_ACCEPT {
        let receiver =
            std::mem::replace(call.receiver.as_mut(), Expr::Verbatim(Default::default()));
        *expr = receiver;
        return Ok(());
    }
    if call.method == "header"
        && (args.starts_with("::reqwest::header::ACCEPT,")
            || args.starts_with("::reqwest::header::CONTENT_TYPE,"))
    {
        return Err(shape(
            place,
            format!("an unexpected media type header: {args}"),
        ));
    }
    if matches!(
        call.method.to_string().as_str(),
        "json" | "body" | "form" | "multipart"
    ) {
        *has_body = true;
    }
    Ok(())
}

/// `client.client.<method>(url)`, the start of the chain.
fn innermost(expr: &mut Expr) -> Option<&mut Expr> {
    let at_start =
        matches!(&*expr, Expr::MethodCall(call) if text(&call.receiver) == "client.client");
    if at_start {
        return Some(expr);
    }
    match expr {
        Expr::MethodCall(call) => innermost(&mut call.receiver),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    fn operation(content_type: Option<&str>) -> OperationSpec {
        OperationSpec {
            operation_id: "messageCreate".into(),
            method_name: "message_create".into(),
            http_method: "POST".into(),
            path: "/messages".into(),
            accept: "application/vnd.whispir.message-v1+json".into(),
            content_type: content_type.map(str::to_string),
            workspace_scoped: true,
            effect: crate::adapt::Effect::Unrepeatable,
            header_params: Vec::new(),
            body_requires: Vec::new(),
            body_requires_any: Vec::new(),
        }
    }

    fn builder(chain: &str) -> syn::File {
        syn::parse_str(&format!(
            r#"pub mod builder {{
                impl<'a> MessageCreate<'a> {{
                    pub async fn send(self) -> R {{
                        let request = (|| {{
                            let mut request = {chain}.build()?;
                            Ok(request)
                        }})();
                        crate::runtime::call::json::<T>(&client.client, &client.inner, &crate::generated::specs::MESSAGE_CREATE, request).await
                    }}
                }}
            }}"#
        ))
        .expect("parses")
    }

    const MT: &str = "application/vnd.whispir.message-v1+json";

    #[test]
    fn a_body_gets_the_vendor_types_before_json() {
        let mut file = builder(
            "client.client.post(url).header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static(\"application/json\")).json(&body)",
        );
        let vendor = operation(Some(MT));
        assert_eq!(rewrite(&mut file, &[vendor]).unwrap().total(), 1);
        let out = text(&file);
        let expected = format!(
            "client.client.post(url).header(::reqwest::header::ACCEPT,const{{::reqwest::header::HeaderValue::from_static(\"{MT}\")}},).header(::reqwest::header::CONTENT_TYPE,const{{::reqwest::header::HeaderValue::from_static(\"{MT}\")}},).json(&body).build()?"
        );
        assert!(out.contains(&expected), "{out}");
        assert!(!out.contains("\"application/json\""), "{out}");
    }

    #[test]
    fn a_request_without_a_body_gets_accept_only() {
        let mut file = builder(
            "client.client.get(url).header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static(\"application/json\",),).query(&x)",
        );
        let mut get = operation(None);
        get.http_method = "GET".into();
        assert_eq!(rewrite(&mut file, &[get]).unwrap().total(), 1);
        let out = text(&file);
        assert!(
            out.contains(&format!("client.client.get(url).header(::reqwest::header::ACCEPT,const{{::reqwest::header::HeaderValue::from_static(\"{MT}\")}},).query(&x).build()?")),
            "{out}"
        );
        assert!(!out.contains("CONTENT_TYPE"), "{out}");
    }

    #[test]
    fn mismatches_with_the_spec_are_refused_by_operation() {
        let mut file = builder("client.client.post(url).json(&body)");
        let err = rewrite(&mut file, &[operation(None)]).unwrap_err();
        assert_eq!(err.place, "message_create");
        assert!(err.problem.contains("no content type"), "{err}");

        let mut file = builder("client.client.post(url)");
        assert_eq!(
            rewrite(&mut file, &[operation(Some(MT))]).unwrap().total(),
            1
        );
        let out = text(&file);
        assert!(
            out.contains("::reqwest::header::CONTENT_TYPE"),
            "documented: {out}"
        );

        let mut file = builder(
            "client.client.post(url).header(::reqwest::header::CONTENT_TYPE, x).json(&body)",
        );
        let err = rewrite(&mut file, &[operation(Some(MT))]).unwrap_err();
        assert!(err.problem.contains("unexpected media type"), "{err}");

        let mut file = builder("client.client.post(url).json(&body)");
        let mut other = operation(Some(MT));
        other.method_name = "message_list".into();
        let err = rewrite(&mut file, &[other]).unwrap_err();
        assert_eq!(err.place, "MESSAGE_CREATE");
    }
}
