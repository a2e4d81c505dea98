//! Request bodies held by the operation builders as a
//! `crate::models::Body`: nothing, a boxed model, or a boxed model builder.
//!
//! progenitor keeps an operation's body in its builder as the model's
//! builder (`body: Result<types::builder::Message, String>`): `.body(model)`
//! turns the model into its builder and `send()` turns it back. Model
//! builders are large (a message's is over 2 KB) and every builder method
//! takes and returns the operation builder by value, as does `send()`'s
//! future, so each step moved the whole body, and the round trip converted
//! every field twice. This pass keeps a given model as it is, boxed, and
//! makes a builder only for `body_map`:
//!
//! ```text
//! body: Result<types::builder::X, String>        → Result<crate::models::Body<types::builder::X, types::X>, String>
//! .body(v):     value.try_into().map(From::from) → .map(crate::models::Body::model)
//! .body_map(f): self.body.map(f)                 → self.body.map(|body| body.map(f))
//! send():       types::X::try_from(v)            → v.build()
//! ```
//!
//! Each operation builder with such a body must have all four; anything
//! else is an error naming the builder. `generate` checks that every
//! operation with a request body was boxed: a body held another way would
//! be left as it is, unnoticed.

use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, Item, parse_quote};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::{Tally, builder_operation};

/// Puts the body of every operation builder in `mod builder` in a
/// `crate::models::Body`. Returns the operations whose builders changed.
pub fn rewrite(file: &mut syn::File) -> Result<Tally, ShapeError> {
    let Some((_, items)) = file.items.iter_mut().find_map(|item| match item {
        Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
        _ => None,
    }) else {
        return Err(shape("generated client", "no `mod builder`"));
    };
    let mut boxed = Vec::new();
    for item in items.iter_mut() {
        let Item::Struct(builder) = item else {
            continue;
        };
        for field in &mut builder.fields {
            let is_body = field.ident.as_ref().is_some_and(|name| name == "body");
            let ty = text(&field.ty);
            if let Some(model) = ty
                .strip_prefix("Result<types::builder::")
                .and_then(|rest| rest.strip_suffix(",String>"))
                && is_body
            {
                let model: syn::Ident = syn::parse_str(model)
                    .map_err(|err| shape(&builder.ident.to_string(), err.to_string()))?;
                field.ty = parse_quote!(
                    Result<crate::models::Body<types::builder::#model, types::#model>, String>
                );
                boxed.push(builder.ident.clone());
            }
        }
    }
    for item in items.iter_mut() {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        let place = text(&block.self_ty);
        let Some(name) = boxed
            .iter()
            .map(ToString::to_string)
            .find(|name| place == *name || place.starts_with(&format!("{name}<")))
        else {
            continue;
        };
        let name = name.as_str();
        let mut found = [false; 3];
        for member in &mut block.items {
            let ImplItem::Fn(method) = member else {
                continue;
            };
            let slot = match method.sig.ident.to_string().as_str() {
                "body" => 0,
                "body_map" => 1,
                "send" => 2,
                _ => continue,
            };
            let mut boxing = Boxing {
                method: slot,
                rewritten: 0,
            };
            boxing.visit_block_mut(&mut method.block);
            if boxing.rewritten != 1 {
                return Err(shape(
                    name,
                    format!(
                        "`{}`: {} places to box the body, expected 1",
                        method.sig.ident, boxing.rewritten
                    ),
                ));
            }
            found[slot] = true;
        }
        if found != [true; 3] {
            return Err(shape(
                name,
                "no `body`, `body_map` and `send` to box the body in",
            ));
        }
    }
    Ok(boxed
        .iter()
        .map(|builder| (builder_operation(builder), 1))
        .collect())
}

/// Rewrites the one expression of a method that handles the body.
struct Boxing {
    /// 0: `body`, 1: `body_map`, 2: `send`.
    method: usize,
    rewritten: usize,
}

impl VisitMut for Boxing {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        syn::visit_mut::visit_expr_mut(self, expr);
        match (self.method, &mut *expr) {
            (0, Expr::MethodCall(call))
                if call.method == "map" && text(&call.args) == "From::from" =>
            {
                call.args = parse_quote!(crate::models::Body::model);
                self.rewritten += 1;
            }
            // progenitor's "conversion to `Type` for body failed: …" names
            // a Rust type; the reason alone says it, after the field.
            (0, Expr::MethodCall(call))
                if call.method == "map_err" && text(&call.args).contains("forbodyfailed") =>
            {
                call.args = parse_quote!(|reason| format!("body: {reason}"));
            }
            (1, Expr::MethodCall(call))
                if call.method == "map"
                    && text(&call.receiver) == "self.body"
                    && text(&call.args) == "f" =>
            {
                call.args = parse_quote!(|body| body.map(f));
                self.rewritten += 1;
            }
            (2, Expr::Call(call))
                if text(&call.func).starts_with("types::")
                    && text(&call.func).ends_with("::try_from")
                    && text(&call.args) == "v" =>
            {
                *expr = parse_quote!(v.build());
                self.rewritten += 1;
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    const BUILDER: &str = r#"
        pub mod builder {
            pub struct MessageCreate<'a> {
                client: &'a super::Client,
                body: Result<types::builder::Message, String>,
            }
            impl<'a> MessageCreate<'a> {
                pub fn body<V>(mut self, value: V) -> Self {
                    self.body = value
                        .try_into()
                        .map(From::from)
                        .map_err(|s| format!("conversion to `Message` for body failed: {}", s));
                    self
                }
                pub fn body_map<F>(mut self, f: F) -> Self {
                    self.body = self.body.map(f);
                    self
                }
                pub async fn send(self) -> R {
                    let Self { client, body } = self;
                    let request = (|| {
                        let body = body
                            .and_then(|v| types::Message::try_from(v).map_err(|e| e.to_string()))
                            .map_err(Error::InvalidRequest)?;
                        Ok(request)
                    })();
                    SEND_END
                }
            }
            pub struct MessageList<'a> { client: &'a super::Client }
        }
    "#;

    #[test]
    fn the_body_is_held_as_a_model_or_builder_in_field_setter_map_and_send() {
        let mut file: syn::File = syn::parse_str(&BUILDER.replace("SEND_END", "done")).unwrap();
        let boxed = rewrite(&mut file).unwrap();
        assert_eq!(boxed, [("message_create", 1)].into_iter().collect());
        let out = text(&file);
        assert!(
            out.contains(
                "body:Result<crate::models::Body<types::builder::Message,types::Message>,String>"
            ),
            "{out}"
        );
        assert!(out.contains(".map(crate::models::Body::model)"), "{out}");
        assert!(out.contains(r#"format!("body:{reason}")"#), "{out}");
        assert!(!out.contains("conversionto"), "{out}");
        assert!(out.contains("self.body.map(|body|body.map(f))"), "{out}");
        assert!(out.contains("and_then(|v|v.build().map_err("), "{out}");
        assert!(!out.contains("try_from"), "{out}");
    }

    #[test]
    fn a_builder_without_the_expected_methods_is_refused_by_name() {
        let source = BUILDER.replace("types::Message::try_from(v)", "types::Message::from(v)");
        let mut file: syn::File = syn::parse_str(&source.replace("SEND_END", "done")).unwrap();
        let err = rewrite(&mut file).unwrap_err();
        assert_eq!(err.place, "MessageCreate");
        assert!(err.problem.contains("send"), "{err}");
    }

    #[test]
    fn a_body_held_another_way_is_missed_by_name() {
        let source = BUILDER.replace(
            "body: Result<types::builder::Message, String>",
            "body: Result<types::Message, String>",
        );
        let mut file: syn::File = syn::parse_str(&source.replace("SEND_END", "done")).unwrap();
        let count = crate::rewrite_counts::PassCount {
            pass: "boxed_bodies",
            what: "request bodies boxed",
            of: "operations with a body",
            expected: [("message_create", 1)].into_iter().collect(),
            found: rewrite(&mut file).unwrap(),
        };
        let err = count.checked().expect_err("the body was not boxed");
        assert_eq!(err.differences, ["message_create (expected 1, found 0)"]);
    }
}
