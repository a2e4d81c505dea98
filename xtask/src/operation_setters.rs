//! Operation-builder setters share their error text.
//!
//! progenitor writes each parameter setter of an operation builder as
//! `self.p = value.try_into().map(Some).map_err(|_| "conversion … failed".to_string());`:
//! a closure per setter (about 250) for the compiler to check. This pass
//! replaces the `map_err` with `crate::models::param(…, "conversion … failed")`,
//! which gives the same text. A `map_err` closure of another shape (the
//! body's) is left as it is; `generate` checks that each operation had one
//! setter rewritten per parameter, so a parameter setter progenitor writes
//! another way is an error naming the operation.

use syn::visit_mut::VisitMut;
use syn::{Expr, ImplItem, Item};

use crate::response_handling::{ShapeError, shape, text};
use crate::rewrite_counts::{Tally, builder_operation};

/// Rewrites the setters of every operation builder. Returns how many
/// conversions now use the shared function, by operation.
pub fn rewrite(file: &mut syn::File) -> Result<Tally, ShapeError> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| shape("generated client", "no `mod builder`"))?;
    let mut replaced = Tally::default();
    for item in builder.1.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let mut shared = Shared { replaced: 0 };
        for member in &mut block.items {
            if let ImplItem::Fn(setter) = member
                && setter.sig.ident != "send"
            {
                shared.visit_block_mut(&mut setter.block);
            }
        }
        if shared.replaced == 0 {
            continue;
        }
        let syn::Type::Path(builder) = block.self_ty.as_ref() else {
            return Err(shape(&text(&block.self_ty), "not an operation builder"));
        };
        let Some(name) = builder.path.segments.last() else {
            return Err(shape(&text(&block.self_ty), "not an operation builder"));
        };
        replaced.add(builder_operation(&name.ident), shared.replaced);
    }
    if replaced.total() == 0 {
        return Err(shape("mod builder", "no setter converts its value"));
    }
    Ok(replaced)
}

struct Shared {
    replaced: usize,
}

impl VisitMut for Shared {
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
        let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(message),
            ..
        }) = to_string.receiver.as_ref()
        else {
            return;
        };
        if to_string.method != "to_string" {
            return;
        }
        let receiver = call.receiver.as_ref().clone();
        let message = message.clone();
        *expr = syn::parse_quote!(crate::models::param(#receiver, #message));
        self.replaced += 1;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    #[test]
    fn a_setter_conversion_uses_the_shared_text() {
        let mut file: syn::File = syn::parse_str(
            r#"pub mod builder {
                impl<'a> MessageList<'a> {
                    pub fn limit<V>(mut self, value: V) -> Self {
                        self.limit = value.try_into().map(Some).map_err(|_| {
                            "conversion to `u32` for limit failed".to_string()
                        });
                        self
                    }
                    pub fn body<V>(mut self, value: V) -> Self {
                        self.body = value.try_into().map_err(|s| format!("{}", s));
                        self
                    }
                }
            }"#,
        )
        .unwrap();
        assert_eq!(
            rewrite(&mut file).unwrap(),
            [("message_list", 1)].into_iter().collect()
        );
        let out = text(&file);
        assert!(
            out.contains(
                "self.limit=crate::models::param(value.try_into().map(Some),\"conversionto`u32`forlimitfailed\");"
            ),
            "{out}"
        );
        assert!(out.contains("map_err(|s|format!"), "{out}");
    }

    #[test]
    fn output_without_conversions_is_refused() {
        let mut file: syn::File = syn::parse_str("pub mod builder {}").unwrap();
        assert!(rewrite(&mut file).is_err());
    }

    #[test]
    fn a_parameter_setter_of_another_shape_is_missed_by_name() {
        let mut file: syn::File = syn::parse_str(
            r#"pub mod builder {
                impl<'a> MessageList<'a> {
                    pub fn limit<V>(mut self, value: V) -> Self {
                        self.limit = value.try_into().map(Some).map_err(|_| {
                            "conversion to `u32` for limit failed".to_string()
                        });
                        self
                    }
                    pub fn offset<V>(mut self, value: V) -> Self {
                        self.offset = value.try_into().map(Some).map_err(|e| e.to_string());
                        self
                    }
                }
            }"#,
        )
        .unwrap();
        let count = crate::rewrite_counts::PassCount {
            pass: "operation_setters",
            what: "setters share their error text",
            of: "parameters",
            expected: [("message_list", 2)].into_iter().collect(),
            found: rewrite(&mut file).unwrap(),
        };
        let err = count.checked().expect_err("offset was not rewritten");
        assert_eq!(err.differences, ["message_list (expected 2, found 1)"]);
    }
}
