//! Model-builder setters documented with their field's doc.
//!
//! typify documents each model field with its property's description but
//! leaves the builder's setters bare, so `Contact::builder().first_name(…)`
//! says nothing in an editor. This pass gives every setter of a model
//! builder the first paragraph of its field's doc; a field without one
//! gives its setter none. `generate` checks that every documented field of
//! a model with a builder had its setter documented.

use std::collections::BTreeMap;

use syn::{ImplItem, Item};

use super::syntax::{ShapeError, shape};
use crate::passes::operation_setters::{doc_attrs, first_paragraph};
use crate::rewrite_counts::Tally;

/// The first paragraph of every documented field, by model then field.
type FieldDocs = BTreeMap<String, BTreeMap<String, String>>;

/// The `mod types` of the generated client.
fn types(file: &syn::File) -> Result<&Vec<Item>, ShapeError> {
    file.items
        .iter()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("generated client", "no `mod types`"))
}

/// The documented fields of every model of `mod types`.
fn field_docs(types: &[Item]) -> FieldDocs {
    let mut docs = FieldDocs::new();
    for item in types {
        let Item::Struct(model) = item else { continue };
        for field in &model.fields {
            let Some(name) = &field.ident else { continue };
            let lines: Vec<String> = field
                .attrs
                .iter()
                .filter(|attr| attr.path().is_ident("doc"))
                .filter_map(|attr| match &attr.meta {
                    syn::Meta::NameValue(syn::MetaNameValue {
                        value:
                            syn::Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(line),
                                ..
                            }),
                        ..
                    }) => Some(line.value()),
                    _ => None,
                })
                .collect();
            if let Some(doc) = first_paragraph(&lines.join("\n")) {
                docs.entry(model.ident.to_string())
                    .or_default()
                    .insert(name.to_string(), doc);
            }
        }
    }
    docs
}

/// The builders of `types::builder` by name.
fn builder_names(types: &[Item]) -> Vec<String> {
    types
        .iter()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_ref(),
            _ => None,
        })
        .map(|(_, items)| {
            items
                .iter()
                .filter_map(|item| match item {
                    Item::Struct(builder) => Some(builder.ident.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many setters must be documented, by model: one per documented field
/// of a model with a builder.
pub fn documented_fields(file: &syn::File) -> Result<Tally, ShapeError> {
    let types = types(file)?;
    let docs = field_docs(types);
    Ok(builder_names(types)
        .into_iter()
        .filter_map(|name| docs.get(&name).map(|fields| (name, fields.len())))
        .collect())
}

/// Documents every model-builder setter whose field has a doc. Returns how
/// many were documented, by model.
pub fn rewrite(file: &mut syn::File) -> Result<Tally, ShapeError> {
    let docs = field_docs(types(file)?);
    let builder = crate::passes::model_setters::model_builders_mut(file)?;
    let mut documented = Tally::default();
    for item in builder.iter_mut() {
        let Item::Impl(block) = item else { continue };
        if block.trait_.is_some() {
            continue;
        }
        let syn::Type::Path(path) = block.self_ty.as_ref() else {
            continue;
        };
        let Some(model) = path.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        let Some(fields) = docs.get(&model) else {
            continue;
        };
        for member in &mut block.items {
            let ImplItem::Fn(setter) = member else {
                continue;
            };
            let Some(doc) = fields.get(&setter.sig.ident.to_string()) else {
                continue;
            };
            let mut attrs = doc_attrs(std::slice::from_ref(doc));
            attrs.append(&mut setter.attrs);
            setter.attrs = attrs;
            documented.add(model.clone(), 1);
        }
    }
    Ok(documented)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    fn file() -> syn::File {
        syn::parse_str(
            r#"pub mod types {
                pub struct Contact {
                    #[doc = "Given name.\n\nShown in the address book."]
                    pub first_name: String,
                    pub mri: Option<String>,
                }
                pub mod builder {
                    pub struct Contact { first_name: Result<String, String>, mri: Result<Option<String>, String> }
                    impl Contact {
                        pub fn first_name<T>(mut self, value: T) -> Self { self }
                        pub fn mri<T>(mut self, value: T) -> Self { self }
                    }
                }
            }"#,
        )
        .unwrap()
    }

    #[test]
    fn a_setter_takes_the_first_paragraph_of_its_fields_doc() {
        let mut file = file();
        assert_eq!(
            documented_fields(&file).unwrap(),
            [("Contact", 1)].into_iter().collect()
        );
        assert_eq!(
            rewrite(&mut file).unwrap(),
            [("Contact", 1)].into_iter().collect()
        );
        let out = prettyplease::unparse(&file);
        assert!(
            out.contains("/// Given name.\n            pub fn first_name"),
            "{out}"
        );
        let setters = out.split("impl Contact").nth(1).unwrap();
        assert!(!setters.contains("Shown in the address book."), "{out}");
        // No doc on the field: none on the setter.
        assert!(out.contains("}\n            pub fn mri"), "{out}");
    }

    #[test]
    fn the_generated_message_builder_documents_its_setters() {
        let source =
            std::fs::read_to_string(crate::project_root().join("crates/whispir/src/generated.rs"))
                .unwrap();
        let builder = source.split("        impl Message {\n").nth(1).unwrap();
        assert!(
            builder.starts_with("            /// SMS text.\n            pub fn body<T>"),
            "{}",
            builder.lines().take(3).collect::<Vec<_>>().join("\n")
        );
    }
}
