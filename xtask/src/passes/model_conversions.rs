//! Less code to compile for building a model from its builder, and an
//! error that names every field wrong at once.
//!
//! progenitor (typify) writes each `TryFrom<builder::X> for X` as
//! `Ok(Self { a: value.a?, b: value.b?, … })`. Every `?` is an exit that
//! must drop the fields already converted and those not yet moved, so the
//! drop code grows with the square of the field count: `Contact`'s and
//! `User`'s conversions were 21k LLVM IR lines each, 8 % of the crate. This
//! pass rewrites the body into one `match` on all fields at once, which has
//! two exits: the model, or an error naming every field at once
//! (`crate::models::unbuilt`): "missing required fields: first_name,
//! last_name", then each refused value. Fields are named by their Rust name,
//! the name of their setter. A required field never set is told from one
//! whose value was refused by the text typify's `Default` leaves in it,
//! `"no value supplied for <field>"`; the pass checks that every `Default`
//! writes exactly that, and refuses a builder whose `Default` does not.
//!
//! It also marks every function of the builders' conversion and `Default`
//! impls `#[inline]`. They are not generic, so rustc would otherwise
//! generate machine code for all of them in `whispir`'s own unit, used or
//! not; inline ones are generated only in the crates that call them, so a
//! program pays for the builders it uses.
//!
//! `generate` checks that every builder with fields had its conversion
//! rewritten ([`builders_with_fields`]): a conversion written under another
//! trait path would otherwise keep its quadratic drop code unnoticed.

use proc_macro2::Ident;
use syn::{Expr, ImplItem, Item, Member, Stmt, parse_quote};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::Tally;

/// The model builders of `types::builder` that have fields, by model: one
/// conversion each for [`rewrite`] to rewrite.
pub fn builders_with_fields(file: &syn::File) -> Result<Tally, ShapeError> {
    let builder = file
        .items
        .iter()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
            _ => None,
        })
        .and_then(|types| {
            types.1.iter().find_map(|item| match item {
                Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
                _ => None,
            })
        })
        .ok_or_else(|| shape("generated client", "no `mod types::builder`"))?;
    Ok(builder
        .1
        .iter()
        .filter_map(|item| match item {
            Item::Struct(model) if !model.fields.is_empty() => Some((model.ident.to_string(), 1)),
            _ => None,
        })
        .collect())
}

/// Rewrites every builder-to-model conversion in `types::builder`.
/// Returns how many were rewritten, by model; a conversion of another
/// shape is an error naming the model.
pub fn rewrite(file: &mut syn::File) -> Result<Tally, ShapeError> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
            _ => None,
        })
        .and_then(|types| {
            types.1.iter_mut().find_map(|item| match item {
                Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
                _ => None,
            })
        })
        .ok_or_else(|| shape("generated client", "no `mod types::builder`"))?;
    let mut rewritten = Tally::default();
    for item in builder.1.iter_mut() {
        let Item::Impl(block) = item else { continue };
        let Some((trait_path, _)) = &block.trait_ else {
            continue;
        };
        let trait_name = text(trait_path);
        if CODEGEN_WHERE_USED
            .iter()
            .any(|prefix| trait_name.starts_with(prefix))
        {
            mark_inline(block);
        }
        if trait_name == "::std::default::Default" {
            check_never_set(block)?;
            continue;
        }
        if !trait_name.starts_with("::std::convert::TryFrom<") {
            continue;
        }
        let model = text(&block.self_ty);
        for member in &mut block.items {
            let ImplItem::Fn(function) = member else {
                continue;
            };
            if function.sig.ident != "try_from" {
                continue;
            }
            let fields = checked_fields(&function.block)
                .ok_or_else(|| shape(&model, "try_from is not `Ok(Self { f: value.f?, … })`"))?;
            if fields.is_empty() {
                continue;
            }
            let names = fields.iter().map(Ident::to_string);
            function.block = parse_quote!({
                match (#(value.#fields,)*) {
                    (#(::std::result::Result::Ok(#fields),)*) => {
                        ::std::result::Result::Ok(Self { #(#fields),* })
                    }
                    (#(#fields,)*) => ::std::result::Result::Err(::std::convert::From::from(
                        crate::models::unbuilt(&[#((#names, #fields.err())),*]),
                    )),
                }
            });
            rewritten.add(model.trim_start_matches("super::"), 1);
        }
    }
    if rewritten.total() == 0 {
        return Err(shape("mod types::builder", "no builder conversions"));
    }
    Ok(rewritten)
}

/// The text typify's `Default` gives a required field never set, before
/// its name; `crate::models::unbuilt` tells a missing field by it.
const NEVER_SET: &str = "no value supplied for ";

/// Checks that a builder's `Default` leaves every required field as
/// `Err("no value supplied for <field>".to_string())` and nothing else.
fn check_never_set(block: &syn::ItemImpl) -> Result<(), ShapeError> {
    let model = text(&block.self_ty);
    let refused = |problem: String| shape(&model, problem);
    for member in &block.items {
        let ImplItem::Fn(function) = member else {
            continue;
        };
        let [Stmt::Expr(Expr::Struct(init), None)] = function.block.stmts.as_slice() else {
            return Err(refused("Default::default is not `Self { … }`".to_string()));
        };
        for field in &init.fields {
            let Expr::Call(call) = &field.expr else {
                continue;
            };
            if text(&call.func) != "Err" {
                continue;
            }
            let name = text(&field.member);
            let expected = format!("\"{NEVER_SET}{name}\".to_string()");
            if call.args.len() != 1 || text(&call.args) != expected.replace(' ', "") {
                return Err(refused(format!(
                    "the default of `{name}` is not `Err({expected})`"
                )));
            }
        }
    }
    Ok(())
}

/// The traits of `types::builder` whose impls are compiled only where used.
const CODEGEN_WHERE_USED: [&str; 3] = [
    "::std::convert::TryFrom<",
    "::std::convert::From<",
    "::std::default::Default",
];

/// Adds `#[inline]` to every function of `block` that has no `inline` yet.
fn mark_inline(block: &mut syn::ItemImpl) {
    for member in &mut block.items {
        if let ImplItem::Fn(function) = member
            && !function
                .attrs
                .iter()
                .any(|attr| attr.path().is_ident("inline"))
        {
            function.attrs.push(parse_quote!(#[inline]));
        }
    }
}

/// The field names of a body `Ok(Self { f: value.f?, … })`, in order.
fn checked_fields(block: &syn::Block) -> Option<Vec<Ident>> {
    let [Stmt::Expr(Expr::Call(call), None)] = block.stmts.as_slice() else {
        return None;
    };
    if text(&call.func) != "Ok" || call.args.len() != 1 {
        return None;
    }
    let Expr::Struct(model) = call.args.first()? else {
        return None;
    };
    if text(&model.path) != "Self" || model.rest.is_some() {
        return None;
    }
    model
        .fields
        .iter()
        .map(|field| {
            let Member::Named(name) = &field.member else {
                return None;
            };
            let Expr::Try(checked) = &field.expr else {
                return None;
            };
            let Expr::Field(read) = checked.expr.as_ref() else {
                return None;
            };
            let same = matches!(&read.member, Member::Named(read_name) if read_name == name);
            (same && text(&read.base) == "value").then(|| name.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    fn builder_with(conversion: &str) -> syn::File {
        syn::parse_str(&format!(
            "pub mod types {{ pub mod builder {{
                pub struct Email {{ body: Result<Option<String>, String>, to: Result<String, String> }}
                {conversion}
            }} }}"
        ))
        .expect("parses")
    }

    #[test]
    fn a_conversion_becomes_one_match_over_all_fields_in_order() {
        let mut file = builder_with(
            "impl ::std::convert::TryFrom<Email> for super::Email {
                type Error = super::error::ConversionError;
                fn try_from(value: Email) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.body?, to: value.to?, })
                }
            }",
        );
        assert_eq!(
            builders_with_fields(&file).unwrap(),
            [("Email", 1)].into_iter().collect()
        );
        assert_eq!(
            rewrite(&mut file).unwrap(),
            [("Email", 1)].into_iter().collect()
        );
        let out = text(&file);
        assert!(out.contains("match(value.body,value.to,)"), "{out}");
        assert!(
            out.contains("(::std::result::Result::Ok(body),::std::result::Result::Ok(to),)"),
            "{out}"
        );
        assert!(
            out.contains("crate::models::unbuilt(&[(\"body\",body.err()),(\"to\",to.err())])"),
            "{out}"
        );
        assert!(!out.contains('?'), "{out}");
    }

    #[test]
    fn a_conversion_of_another_shape_is_refused_by_model() {
        let mut file = builder_with(
            "impl ::std::convert::TryFrom<Email> for super::Email {
                type Error = super::error::ConversionError;
                fn try_from(value: Email) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.to?, to: value.to?, })
                }
            }",
        );
        let err = rewrite(&mut file).unwrap_err();
        assert_eq!(err.place, "super::Email");
    }

    #[test]
    fn conversions_and_defaults_are_compiled_only_where_used() {
        let mut file = builder_with(
            "impl ::std::convert::TryFrom<Email> for super::Email {
                type Error = super::error::ConversionError;
                fn try_from(value: Email) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.body?, to: value.to?, })
                }
            }
            impl ::std::convert::From<super::Email> for Email {
                fn from(value: super::Email) -> Self { Self::blank() }
            }
            impl ::std::default::Default for Email {
                #[inline]
                fn default() -> Self {
                    Self { body: Ok(Default::default()), to: Err(\"no value supplied for to\".to_string()) }
                }
            }
            impl Email {
                fn to(self) -> Self { self }
            }",
        );
        rewrite(&mut file).unwrap();
        let out = text(&file);
        assert_eq!(out.matches("#[inline]").count(), 3, "{out}");
        assert!(out.contains("#[inline]fntry_from"), "{out}");
        assert!(out.contains("#[inline]fnfrom"), "{out}");
        assert!(out.contains("#[inline]fndefault"), "{out}");
        assert!(!out.contains("#[inline]fnto"), "{out}");
    }

    #[test]
    fn a_builder_whose_conversion_is_not_rewritten_is_missed_by_model() {
        let mut file = builder_with(
            "pub struct Sms { body: Result<String, String> }
            impl ::std::convert::TryFrom<Email> for super::Email {
                type Error = super::error::ConversionError;
                fn try_from(value: Email) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.body?, to: value.to?, })
                }
            }
            impl TryFrom<Sms> for super::Sms {
                type Error = super::error::ConversionError;
                fn try_from(value: Sms) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.body?, })
                }
            }",
        );
        let count = crate::rewrite_counts::PassCount {
            pass: "model_conversions",
            what: "builder conversions rewritten",
            of: "model builders with fields",
            expected: builders_with_fields(&file).unwrap(),
            found: rewrite(&mut file).unwrap(),
        };
        let err = count.checked().expect_err("Sms was left");
        assert_eq!(err.differences, ["Sms (expected 1, found 0)"]);
    }

    #[test]
    fn a_default_that_marks_a_missing_field_another_way_is_refused_by_model() {
        let conversion = "impl ::std::convert::TryFrom<Email> for super::Email {
                type Error = super::error::ConversionError;
                fn try_from(value: Email) -> ::std::result::Result<Self, super::error::ConversionError> {
                    Ok(Self { body: value.body?, to: value.to?, })
                }
            }";
        let default = |to: &str| {
            format!(
                "{conversion}
                impl ::std::default::Default for Email {{
                    fn default() -> Self {{ Self {{ body: Ok(Default::default()), to: {to}, }} }}
                }}"
            )
        };
        let mut file = builder_with(&default(r#"Err("no value supplied for to".to_string())"#));
        rewrite(&mut file).unwrap();
        let mut file = builder_with(&default(r#"Err("to is required".to_string())"#));
        let err = rewrite(&mut file).unwrap_err();
        assert_eq!(err.place, "Email");
        assert!(err.problem.contains("`to`"), "{err}");
    }

    #[test]
    fn output_without_conversions_is_refused() {
        let mut file = builder_with("");
        assert!(rewrite(&mut file).is_err());
    }
}
