//! Setters of the generated model builders that read well: an optional
//! field takes its value as it is (`.body("Your order shipped.")`, a
//! nested builder, `None`), not only an `Option` of the exact type.
//!
//! progenitor writes every setter as `fn f<T>(self, value: T) where T:
//! TryInto<Option<X>>`. This pass replaces that bound of optional fields
//! with the SDK's `IntoField<Option<X>>` (see `crates/whispir/src/models.rs`),
//! and adds, for every builder, the `IntoField` conversions that let a
//! builder stand for its model (alone or in a list). Required fields keep
//! progenitor's `TryInto`, which already takes `&str` and builders.
//! The added impls are `#[inline]`: their code is compiled only in crates
//! that use them (see `model_conversions`). `generate` checks that every
//! optional field's setter was rewritten ([`optional_fields`]): one whose
//! bound progenitor writes another way would keep taking only an `Option`.

use proc_macro2::Ident;
use syn::visit_mut::VisitMut;
use syn::{ImplItem, Item, TypeParamBound, WherePredicate, parse_quote};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::Tally;

const TRY_INTO: &str = "::std::convert::TryInto";
const OPTION: &str = "::std::option::Option<";

/// Renames `value.try_into()` to `value.into_field()` in a setter body.
struct RenameTryInto {
    renamed: usize,
}

impl VisitMut for RenameTryInto {
    fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
        if call.method == "try_into" && text(&call.receiver) == "value" {
            call.method = Ident::new("into_field", call.method.span());
            self.renamed += 1;
        }
        syn::visit_mut::visit_expr_method_call_mut(self, call);
    }
}

/// Replaces a setter's `value.try_into().map_err(|e| format!(…))` (or
/// `into_field()`) with `crate::models::field(value.…(), "name")`: the same
/// error text, written once in the SDK instead of a closure and a `format!`
/// in each of the 500-odd setters, which the compiler otherwise checks one
/// by one.
struct SharedErrorText {
    name: String,
    replaced: usize,
}

impl VisitMut for SharedErrorText {
    fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
        if let syn::Expr::MethodCall(call) = expr
            && call.method == "map_err"
            && matches!(call.args.first(), Some(syn::Expr::Closure(_)))
            && let syn::Expr::MethodCall(conversion) = call.receiver.as_ref()
            && text(&conversion.receiver) == "value"
        {
            let conversion = conversion.clone();
            let name = &self.name;
            *expr = syn::parse_quote!(crate::models::field(#conversion, #name));
            self.replaced += 1;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// The items of `mod types { mod builder { … } }`.
fn model_builders(file: &syn::File) -> Result<&[Item], ShapeError> {
    let Some((_, types)) = file.items.iter().find_map(|item| match item {
        Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
        _ => None,
    }) else {
        return Err(shape("generated client", "no `mod types`"));
    };
    types
        .iter()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| items.as_slice())
        .ok_or_else(|| shape("mod types", "no `mod builder`"))
}

/// The optional fields of each model builder (`Result<Option<X>, String>`),
/// by model: one setter each for [`rewrite`] to rewrite.
pub fn optional_fields(file: &syn::File) -> Result<Tally, ShapeError> {
    let mut optional = Tally::default();
    for item in model_builders(file)? {
        let Item::Struct(model) = item else { continue };
        let count = model
            .fields
            .iter()
            .filter(|field| text(&field.ty).starts_with(&format!("::std::result::Result<{OPTION}")))
            .count();
        optional.add(model.ident.to_string(), count);
    }
    Ok(optional)
}

/// The items of the generated `mod types::builder` (the model builders),
/// which the model passes rewrite.
pub(crate) fn model_builders_mut(file: &mut syn::File) -> Result<&mut Vec<Item>, ShapeError> {
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| shape("generated client", "no `mod types`"))?;
    types
        .1
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("mod types", "no `mod builder`"))
}

/// Rewrites the optional-field setters in `types::builder` and adds the
/// builder conversions. Returns how many setters were rewritten, by model.
pub fn rewrite(file: &mut syn::File) -> Result<Tally, ShapeError> {
    let builder = model_builders_mut(file)?;
    let mut rewritten = Tally::default();
    let mut builders = Vec::new();
    for item in builder.iter_mut() {
        match item {
            Item::Struct(model) => builders.push(model.ident.clone()),
            Item::Impl(block) if block.trait_.is_none() => {
                let place = text(&block.self_ty);
                for member in &mut block.items {
                    if let ImplItem::Fn(setter) = member {
                        rewritten.add(&place, rewrite_setter(&place, setter)?);
                        share_error_text(&place, setter)?;
                    }
                }
            }
            _ => {}
        }
    }
    if builders.is_empty() {
        return Err(shape("mod types::builder", "no builder structs"));
    }
    for model in &builders {
        builder.push(parse_quote! {
            impl crate::models::IntoField<::std::option::Option<super::#model>> for #model {
                type Error = super::error::ConversionError;
                #[inline]
                fn into_field(self) -> ::std::result::Result<::std::option::Option<super::#model>, Self::Error> {
                    super::#model::try_from(self).map(::std::option::Option::Some)
                }
            }
        });
        builder.push(parse_quote! {
            impl crate::models::BuildsModel<super::#model> for #model {
                #[inline]
                fn build_model(self) -> ::std::result::Result<super::#model, super::error::ConversionError> {
                    super::#model::try_from(self)
                }
            }
        });
        // Generic, so that its code is only compiled where a list of
        // builders is actually passed, not 90-odd times in the SDK.
        builder.push(parse_quote! {
            impl<B> crate::models::IntoField<::std::option::Option<::std::vec::Vec<super::#model>>>
                for ::std::vec::Vec<B>
            where
                B: crate::models::BuildsModel<super::#model>,
            {
                type Error = super::error::ConversionError;
                fn into_field(self) -> ::std::result::Result<::std::option::Option<::std::vec::Vec<super::#model>>, Self::Error> {
                    let mut models = ::std::vec::Vec::with_capacity(self.len());
                    for item in self {
                        models.push(item.build_model()?);
                    }
                    ::std::result::Result::Ok(::std::option::Option::Some(models))
                }
            }
        });
    }
    Ok(rewritten)
}

/// Gives a setter that converts its `value` the shared error text.
fn share_error_text(place: &str, setter: &mut syn::ImplItemFn) -> Result<(), ShapeError> {
    if setter.sig.generics.where_clause.is_none() {
        return Ok(());
    }
    let mut shared = SharedErrorText {
        name: setter.sig.ident.to_string(),
        replaced: 0,
    };
    shared.visit_block_mut(&mut setter.block);
    if shared.replaced != 1 {
        return Err(shape(
            &format!("{place}::{}", setter.sig.ident),
            format!(
                "expected one `value.….map_err(|e| …)`, found {}",
                shared.replaced
            ),
        ));
    }
    Ok(())
}

/// Rewrites one setter when it sets an optional field; 1 if it did.
fn rewrite_setter(place: &str, setter: &mut syn::ImplItemFn) -> Result<usize, ShapeError> {
    let Some(clause) = &mut setter.sig.generics.where_clause else {
        return Ok(0);
    };
    let mut optional = false;
    for predicate in &mut clause.predicates {
        let WherePredicate::Type(bound) = predicate else {
            continue;
        };
        if text(&bound.bounded_ty) != "T" {
            continue;
        }
        for each in &mut bound.bounds {
            let TypeParamBound::Trait(trait_bound) = each else {
                continue;
            };
            let written = text(&trait_bound.path);
            let Some(target) = written.strip_prefix(&format!("{TRY_INTO}<")) else {
                continue;
            };
            if target.starts_with(OPTION) {
                let Some(segment) = trait_bound.path.segments.last_mut() else {
                    continue;
                };
                let arguments = segment.arguments.clone();
                trait_bound.path = parse_quote!(crate::models::IntoField);
                if let Some(last) = trait_bound.path.segments.last_mut() {
                    last.arguments = arguments;
                }
                optional = true;
            }
        }
    }
    if !optional {
        return Ok(0);
    }
    let mut rename = RenameTryInto { renamed: 0 };
    rename.visit_block_mut(&mut setter.block);
    if rename.renamed != 1 {
        return Err(shape(
            &format!("{place}::{}", setter.sig.ident),
            format!("expected one `value.try_into()`, found {}", rename.renamed),
        ));
    }
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(source: &str) -> syn::File {
        syn::parse_str(source).expect("parses")
    }

    const BUILDER: &str = r#"
        pub mod types {
            pub mod builder {
                pub struct Email {
                    body: ::std::result::Result<::std::option::Option<::std::string::String>, ::std::string::String>,
                    to: ::std::result::Result<::std::string::String, ::std::string::String>,
                }
                impl Email {
                    pub fn body<T>(mut self, value: T) -> Self
                    where
                        T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,
                        T::Error: ::std::fmt::Display,
                    {
                        self.body = value.try_into().map_err(|e| format!("{e}"));
                        self
                    }
                    pub fn to<T>(mut self, value: T) -> Self
                    where
                        T: ::std::convert::TryInto<::std::string::String>,
                        T::Error: ::std::fmt::Display,
                    {
                        self.to = value.try_into().map_err(|e| format!("{e}"));
                        self
                    }
                }
            }
        }
    "#;

    #[test]
    fn optional_setters_take_into_field_and_required_ones_keep_try_into() {
        let mut parsed = file(BUILDER);
        assert_eq!(
            optional_fields(&parsed).expect("builders"),
            [("Email", 1)].into_iter().collect()
        );
        assert_eq!(
            rewrite(&mut parsed).expect("rewrites"),
            [("Email", 1)].into_iter().collect()
        );
        let out = text(&parsed);
        assert!(
            out.contains(
                "T:crate::models::IntoField<::std::option::Option<::std::string::String>>"
            ),
            "{out}"
        );
        assert!(
            out.contains("self.body=crate::models::field(value.into_field(),\"body\");"),
            "{out}"
        );
        assert!(
            out.contains("self.to=crate::models::field(value.try_into(),\"to\");"),
            "{out}"
        );
        assert!(!out.contains("format!"), "{out}");
        assert!(
            out.contains("T:::std::convert::TryInto<::std::string::String>"),
            "{out}"
        );
        assert!(
            out.contains(
                "implcrate::models::IntoField<::std::option::Option<super::Email>>forEmail"
            )
        );
    }

    #[test]
    fn a_setter_of_another_shape_is_refused_by_name() {
        let source = BUILDER.replace(
            "self.body = value.try_into()",
            "self.body = other.try_into()",
        );
        let err = rewrite(&mut file(&source)).expect_err("unknown shape");
        assert!(
            err.to_string().starts_with("Email::body: unexpected shape"),
            "{err}"
        );
    }

    #[test]
    fn an_optional_field_whose_setter_is_not_rewritten_is_missed_by_model() {
        let source = BUILDER.replace(
            "T: ::std::convert::TryInto<::std::option::Option<::std::string::String>>,",
            "T: ::std::convert::Into<::std::option::Option<::std::string::String>>,",
        );
        let mut parsed = file(&source);
        let expected = optional_fields(&parsed).expect("builders");
        let count = crate::rewrite_counts::PassCount {
            pass: "model_setters",
            what: "optional-field setters rewritten",
            of: "optional fields",
            expected,
            found: rewrite(&mut parsed).expect("rewrites"),
        };
        let err = count.checked().expect_err("the body setter was left");
        assert_eq!(err.differences, ["Email (expected 1, found 0)"]);
    }

    #[test]
    fn output_without_model_builders_is_refused() {
        let err = rewrite(&mut file("pub mod types {}")).expect_err("no builders");
        assert!(err.to_string().contains("no `mod builder`"), "{err}");
    }
}
