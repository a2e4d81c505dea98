//! Models that keep the fields they do not know: what Whispir added to a
//! resource after the spec was written survives a read-modify-write.
//!
//! Whispir grows fields under the same `-v1` media types, and a `PUT`
//! replaces the resource, so a field dropped on decoding would be erased by
//! the next update. Every model the API both returns and accepts back gets
//! a public `extra_fields: crate::ExtraFields`:
//!
//! - which models: the component schemas reachable (through `$ref`s in
//!   properties, items, …) both from a 2xx response body and from a request
//!   body of the spec ([`returned_and_accepted`]), and every generated type
//!   their fields name (inline objects and list items, which typify names
//!   after their parent) ([`carried_models`]). Models only sent are left
//!   as they are.
//! - decoding: the derived `Deserialize` is replaced by a generated one, a
//!   map visitor that matches the declared keys (honouring `rename` and
//!   `default`, the only field attributes typify writes on them; any other
//!   is refused) and collects the rest. `#[serde(flatten)]` would buffer
//!   every field through serde's `Content` first; BENCHMARKS.md ("What do
//!   decoding, encoding and keeping unknown fields cost?") shows what the
//!   generated visitor costs instead.
//! - encoding: `#[serde(flatten)]` on the derived `Serialize`, which only
//!   turns the struct into a map, as JSON writes it anyway, with a
//!   generated `serialize_with` (`Model::__serialize_extra_fields`) that
//!   refuses a key the model declares, so that no name goes out twice.
//! - the builder: `extra_fields` is carried through `From<Model>`,
//!   `Default` and `TryFrom<builder::Model>`, so a model changed through its
//!   builder (`.body_map(…)`, `Model::builder()`) keeps them.
//! - `Debug` shows the names of the fields, never their values
//!   (`ExtraFields`'s own `Debug`).
//!
//! Runs after the other model passes, on their output. `generate` checks
//! that each carried model was rewritten in all its [`PLACES`].

use std::collections::{BTreeMap, BTreeSet};

use heck::ToUpperCamelCase as _;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
use serde_json::Value;
use syn::ext::IdentExt as _;
use syn::parse::Parser as _;
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, Fields, Item, parse_quote};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::Tally;

/// What the pass rewrites for each carried model: the model (its field and
/// its `Deserialize`), the builder's field, and the builder's `Default`,
/// `From<Model>` and `TryFrom<builder>`.
pub const PLACES: usize = 5;

/// The field every carried model and its builder get.
const FIELD: &str = "extra_fields";

/// The component schemas that some operation answers with (2xx) and some
/// operation accepts as its request body, each closed over the schemas it
/// references.
pub fn returned_and_accepted(adapted_spec: &Value) -> BTreeSet<String> {
    let components = adapted_spec
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut returned = BTreeSet::new();
    let mut accepted = BTreeSet::new();
    for op in crate::spec::operations(adapted_spec) {
        if let Some(content) = op.operation.get("requestBody") {
            referenced(content, components, &mut accepted);
        }
        for (status, response) in &op.responses {
            if status.starts_with('2') {
                referenced(response, components, &mut returned);
            }
        }
    }
    returned.intersection(&accepted).cloned().collect()
}

/// Adds every component schema `value` references, transitively, to `found`.
fn referenced(
    value: &Value,
    components: Option<&serde_json::Map<String, Value>>,
    found: &mut BTreeSet<String>,
) {
    match value {
        Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                && found.insert(name.to_string())
                && let Some(schema) = components.and_then(|c| c.get(name))
            {
                referenced(schema, components, found);
            }
            for child in map.values() {
                referenced(child, components, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                referenced(item, components, found);
            }
        }
        _ => {}
    }
}

/// The generated models (structs with named fields in `mod types`) that
/// carry unknown fields: those named for `schemas`, and every type their
/// fields name, transitively. One place per [`PLACES`] each.
pub fn carried_models(file: &syn::File, schemas: &BTreeSet<String>) -> Result<Tally, ShapeError> {
    let types = types(file)?;
    let mut structs: BTreeMap<String, &syn::ItemStruct> = BTreeMap::new();
    for item in types {
        if let Item::Struct(model) = item {
            structs.insert(model.ident.to_string(), model);
        }
    }
    let mut todo: Vec<String> = schemas
        .iter()
        .map(|name| name.to_upper_camel_case())
        .filter(|name| structs.contains_key(name))
        .collect();
    let mut seen: BTreeSet<String> = todo.iter().cloned().collect();
    while let Some(name) = todo.pop() {
        let Some(model) = structs.get(&name) else {
            continue;
        };
        for field in &model.fields {
            for ident in type_idents(&field.ty) {
                if structs.contains_key(&ident) && seen.insert(ident.clone()) {
                    todo.push(ident);
                }
            }
        }
    }
    Ok(seen
        .into_iter()
        .filter(|name| {
            structs
                .get(name)
                .is_some_and(|m| matches!(m.fields, Fields::Named(_)))
        })
        .map(|name| (name, PLACES))
        .collect())
}

/// Every identifier in a type's path segments, generic arguments included.
fn type_idents(ty: &syn::Type) -> Vec<String> {
    let mut found = Vec::new();
    let tokens = quote!(#ty);
    collect_idents(tokens, &mut found);
    found
}

fn collect_idents(tokens: TokenStream, found: &mut Vec<String>) {
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Ident(ident) => found.push(ident.to_string()),
            proc_macro2::TokenTree::Group(group) => collect_idents(group.stream(), found),
            _ => {}
        }
    }
}

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

fn types_mut(file: &mut syn::File) -> Result<&mut Vec<Item>, ShapeError> {
    file.items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("generated client", "no `mod types`"))
}

/// Gives each model of `carried` its `extra_fields`, a `Deserialize` that
/// keeps unknown fields, and a builder that carries them. Returns the
/// places rewritten, by model.
pub fn rewrite(file: &mut syn::File, carried: &Tally) -> Result<Tally, ShapeError> {
    let mut rewritten = Tally::default();
    let names: BTreeSet<String> = carried.places().map(str::to_string).collect();
    let types = types_mut(file)?;
    let mut index = 0;
    while index < types.len() {
        if let Item::Struct(model) = &mut types[index]
            && names.contains(&model.ident.to_string())
        {
            let (deserialize, checked) = rewrite_model(model)?;
            rewritten.add(model.ident.to_string(), 1);
            types.insert(index + 1, deserialize);
            types.insert(index + 2, checked);
            index += 2;
        }
        index += 1;
    }
    let builder = types
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("mod types", "no `mod builder`"))?;
    for item in builder.iter_mut() {
        match item {
            Item::Struct(model) if names.contains(&model.ident.to_string()) => {
                let Fields::Named(fields) = &mut model.fields else {
                    return Err(shape(
                        &model.ident.to_string(),
                        "a builder without named fields",
                    ));
                };
                fields.named.push(
                    syn::Field::parse_named
                        .parse2(quote! {
                            extra_fields: crate::ExtraFields
                        })
                        .map_err(|err| shape(&model.ident.to_string(), err.to_string()))?,
                );
                rewritten.add(model.ident.to_string(), 1);
            }
            Item::Impl(block) => {
                let Some((trait_path, _)) = &block.trait_ else {
                    continue;
                };
                let trait_name = text(trait_path);
                let self_ty = text(&block.self_ty);
                let (model, init) = if trait_name == "::std::default::Default" {
                    (self_ty, quote!(::std::default::Default::default()))
                } else if let Some(model) = trait_name
                    .strip_prefix("::std::convert::From<super::")
                    .and_then(|rest| rest.strip_suffix('>'))
                {
                    (model.to_string(), quote!(value.extra_fields))
                } else if trait_name.starts_with("::std::convert::TryFrom<")
                    && let Some(model) = self_ty.strip_prefix("super::")
                {
                    (model.to_string(), quote!(__extra_fields))
                } else {
                    continue;
                };
                if !names.contains(&model) {
                    continue;
                }
                if trait_name.starts_with("::std::convert::TryFrom<") {
                    // Taken before the fields' `match`, whose bindings may
                    // shadow `value` (a field named `value`).
                    hoist_extra_fields(block, &model)?;
                }
                let mut adder = AddToSelf {
                    field: parse_quote!(extra_fields: #init),
                    added: 0,
                };
                adder.visit_item_impl_mut(block);
                if adder.added != 1 {
                    return Err(shape(
                        &model,
                        format!(
                            "`{trait_name}` builds `Self {{ … }}` {} times, not once",
                            adder.added
                        ),
                    ));
                }
                rewritten.add(model, 1);
            }
            _ => {}
        }
    }
    Ok(rewritten)
}

/// Starts `try_from` with `let __extra_fields = value.extra_fields;`.
fn hoist_extra_fields(block: &mut syn::ItemImpl, model: &str) -> Result<(), ShapeError> {
    let function = block
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::ImplItem::Fn(function) if function.sig.ident == "try_from" => Some(function),
            _ => None,
        })
        .ok_or_else(|| shape(model, "a `TryFrom` without `try_from`"))?;
    function
        .block
        .stmts
        .insert(0, parse_quote!(let __extra_fields = value.extra_fields;));
    Ok(())
}

/// Adds a field to every `Self { … }` it visits.
struct AddToSelf {
    field: syn::FieldValue,
    added: usize,
}

impl VisitMut for AddToSelf {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Struct(init) = expr
            && init.path.is_ident("Self")
            && init.rest.is_none()
        {
            init.fields.push(self.field.clone());
            self.added += 1;
            return;
        }
        syn::visit_mut::visit_expr_mut(self, expr);
    }
}

/// How a declared field is read.
struct Declared {
    ident: Ident,
    json: String,
    ty: syn::Type,
    /// Missing means its default (`#[serde(default)]` or an `Option`).
    defaults: bool,
}

/// Adds `extra_fields` to the model, takes `Deserialize` out of its derive
/// and returns the `Deserialize` impl that replaces it, and the function
/// that encodes `extra_fields`, refusing a key the model declares.
fn rewrite_model(model: &mut syn::ItemStruct) -> Result<(Item, Item), ShapeError> {
    let name = model.ident.to_string();
    let refused = |problem: String| shape(&name, problem);
    let mut derived = false;
    for attr in &mut model.attrs {
        if attr.path().is_ident("serde") {
            return Err(refused(format!("a container attribute `{}`", text(attr))));
        }
        if !attr.path().is_ident("derive") {
            continue;
        }
        let paths = attr
            .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .map_err(|err| refused(err.to_string()))?;
        let before = paths.len();
        let kept: Vec<syn::Path> = paths
            .into_iter()
            .filter(|path| text(path) != "::serde::Deserialize")
            .collect();
        derived |= kept.len() < before;
        *attr = parse_quote!(#[derive(#(#kept),*)]);
    }
    if !derived {
        return Err(refused("no derived `::serde::Deserialize`".to_string()));
    }
    let Fields::Named(fields) = &mut model.fields else {
        return Err(refused("not a struct with named fields".to_string()));
    };
    let mut declared = Vec::new();
    for field in &fields.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| refused("a field without a name".to_string()))?;
        if ident == FIELD {
            return Err(refused(format!("a declared field is named `{FIELD}`")));
        }
        let mut json = ident.unraw().to_string();
        let mut defaults = text(&field.ty).starts_with("::std::option::Option<");
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    json = meta.value()?.parse::<syn::LitStr>()?.value();
                } else if meta.path.is_ident("default") && meta.input.is_empty()
                    || meta.path.is_ident("default") && meta.input.peek(syn::Token![,])
                {
                    defaults = true;
                } else if meta.path.is_ident("skip_serializing_if") {
                    meta.value()?.parse::<syn::LitStr>()?;
                } else {
                    return Err(
                        meta.error("an attribute the generated `Deserialize` does not honour")
                    );
                }
                Ok(())
            })
            .map_err(|err| refused(format!("field `{ident}`: {err}")))?;
        }
        declared.push(Declared {
            ident,
            json,
            ty: field.ty.clone(),
            defaults,
        });
    }
    let model_name = &model.ident;
    let serialize_with = format!("{model_name}::__serialize_extra_fields");
    let names = declared.iter().map(|d| d.json.as_str());
    let model_text = model_name.to_string();
    let checked: Item = parse_quote! {
        impl #model_name {
            /// Encodes `extra_fields`, refusing a key this model declares.
            fn __serialize_extra_fields<S: ::serde::Serializer>(
                extra: &crate::ExtraFields,
                serializer: S,
            ) -> ::std::result::Result<S::Ok, S::Error> {
                crate::extra_fields::serialize_undeclared(
                    extra,
                    #model_text,
                    &[#(#names),*],
                    serializer,
                )
            }
        }
    };
    fields.named.push(
        syn::Field::parse_named
            .parse2(quote! {
                /// Fields the API sent that this version of the SDK does not
                /// declare, sent back unchanged when the model is encoded.
                #[serde(flatten, serialize_with = #serialize_with)]
                #[cfg_attr(feature = "schemars", schemars(skip))]
                pub extra_fields: crate::ExtraFields
            })
            .map_err(|err| refused(err.to_string()))?,
    );
    Ok((deserialize_impl(&model.ident, &declared), checked))
}

/// A `Deserialize` that reads the declared fields as serde's derive would
/// and keeps every other one in `extra_fields`.
fn deserialize_impl(model: &Ident, declared: &[Declared]) -> Item {
    let slots: Vec<Ident> = (0..declared.len())
        .map(|i| format_ident!("__f{i}"))
        .collect();
    let indexes: Vec<u16> = (0..declared.len())
        .map(|i| u16::try_from(i).unwrap_or(u16::MAX))
        .collect();
    let names: Vec<&str> = declared.iter().map(|d| d.json.as_str()).collect();
    let types = declared.iter().map(|d| &d.ty);
    let idents = declared.iter().map(|d| &d.ident);
    let finish = declared.iter().zip(&slots).map(|(d, slot)| {
        if d.defaults {
            quote!(#slot.unwrap_or_default())
        } else {
            let json = &d.json;
            quote!(crate::extra_fields::required(#slot, #json)?)
        }
    });
    let expecting = format!("struct {model}");
    let model_name = Ident::new(&model.to_string(), Span::call_site());
    parse_quote! {
        impl<'de> ::serde::Deserialize<'de> for #model_name {
            fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>
            where
                D: ::serde::Deserializer<'de>,
            {
                struct Fields;
                impl<'de> ::serde::de::Visitor<'de> for Fields {
                    type Value = #model_name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str(#expecting)
                    }
                    #[inline]
                    fn visit_map<A>(self, mut __map: A) -> ::std::result::Result<#model_name, A::Error>
                    where
                        A: ::serde::de::MapAccess<'de>,
                    {
                        #(let mut #slots: ::std::option::Option<#types> = ::std::option::Option::None;)*
                        let mut __extra = crate::ExtraFields::default();
                        let __known = crate::extra_fields::KeySeed(|name: &str| match name {
                            #(#names => ::std::option::Option::Some(#indexes),)*
                            _ => ::std::option::Option::None,
                        });
                        while let ::std::option::Option::Some(__key) = __map.next_key_seed(__known)? {
                            match __key {
                                #(crate::extra_fields::Key::Known(#indexes) => {
                                    crate::extra_fields::once(&mut #slots, &mut __map, #names)?
                                })*
                                crate::extra_fields::Key::Known(_) => {
                                    __map.next_value::<::serde::de::IgnoredAny>()?;
                                }
                                crate::extra_fields::Key::Unknown(__name) => {
                                    crate::extra_fields::keep(&mut __extra, __name, &mut __map)?
                                }
                            }
                        }
                        ::std::result::Result::Ok(#model_name {
                            #(#idents: #finish,)*
                            extra_fields: __extra,
                        })
                    }
                }
                deserializer.deserialize_map(Fields)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(source: &str) -> syn::File {
        syn::parse_str(source).expect("test source parses")
    }

    const MODELS: &str = r#"
        pub mod types {
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            pub struct Contact {
                #[serde(rename = "firstName")]
                pub first_name: ::std::string::String,
                #[serde(default, skip_serializing_if = "::std::vec::Vec::is_empty")]
                pub locations: ::std::vec::Vec<ContactLocationsItem>,
                #[serde(rename = "type", skip_serializing_if = "::std::option::Option::is_none")]
                pub type_: ::std::option::Option<::std::string::String>,
            }
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug, Default)]
            pub struct ContactLocationsItem {
                #[serde(skip_serializing_if = "::std::option::Option::is_none")]
                pub latitude: ::std::option::Option<f64>,
            }
            #[derive(::serde::Deserialize, ::serde::Serialize, Clone, Debug)]
            pub struct SendCodeCreateBody {
                pub channel: ::std::string::String,
            }
            pub mod builder {
                #[derive(Clone, Debug)]
                pub struct ContactLocationsItem {
                    latitude: ::std::result::Result<::std::option::Option<f64>, ::std::string::String>,
                }
                impl ::std::default::Default for ContactLocationsItem {
                    fn default() -> Self {
                        Self { latitude: Ok(Default::default()) }
                    }
                }
                impl ::std::convert::TryFrom<ContactLocationsItem> for super::ContactLocationsItem {
                    type Error = super::error::ConversionError;
                    fn try_from(value: ContactLocationsItem) -> ::std::result::Result<Self, super::error::ConversionError> {
                        match (value.latitude,) {
                            (::std::result::Result::Ok(latitude),) => ::std::result::Result::Ok(Self { latitude }),
                            (_,) => ::std::result::Result::Err("latitude".into()),
                        }
                    }
                }
                impl ::std::convert::From<super::ContactLocationsItem> for ContactLocationsItem {
                    fn from(value: super::ContactLocationsItem) -> Self {
                        Self { latitude: Ok(value.latitude) }
                    }
                }
            }
        }
    "#;

    fn spec() -> Value {
        json!({
            "paths": {
                "/contacts": {
                    "post": {
                        "operationId": "contactCreate",
                        "requestBody": { "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Contact" } } } },
                        "responses": { "201": { "description": "created" } }
                    },
                    "get": {
                        "operationId": "contactList",
                        "responses": { "200": { "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/ContactCollection" } } } } }
                    }
                },
                "/verify": {
                    "post": {
                        "operationId": "sendCodeCreate",
                        "requestBody": { "content": { "application/json": {
                            "schema": { "type": "object", "properties": { "channel": { "type": "string" } } } } } },
                        "responses": { "200": { "content": { "application/json": {
                            "schema": { "$ref": "#/components/schemas/Otp" } } } } }
                    }
                }
            },
            "components": { "schemas": {
                "ContactCollection": { "properties": { "contacts": {
                    "type": "array", "items": { "$ref": "#/components/schemas/Contact" } } } },
                "Contact": { "properties": { "firstName": { "type": "string" } } },
                "Otp": { "properties": { "code": { "type": "string" } } }
            } }
        })
    }

    #[test]
    fn models_both_returned_and_accepted_are_found_through_references() {
        let found = returned_and_accepted(&spec());
        assert_eq!(found, BTreeSet::from(["Contact".to_string()]));
    }

    #[test]
    fn inline_types_named_by_a_carried_model_are_carried_and_sent_only_ones_are_not() {
        let carried =
            carried_models(&file(MODELS), &returned_and_accepted(&spec())).expect("models");
        assert_eq!(
            carried,
            [("Contact", PLACES), ("ContactLocationsItem", PLACES)]
                .into_iter()
                .collect()
        );
    }

    #[test]
    fn a_carried_model_gets_the_field_a_deserialize_and_a_builder_that_carries_it() {
        let mut file = file(MODELS);
        let carried: Tally = [("ContactLocationsItem", PLACES)].into_iter().collect();
        let rewritten = rewrite(&mut file, &carried).expect("rewrites");
        assert_eq!(rewritten, carried);
        let out = squeezed(&prettyplease::unparse(&file));
        for expected in [
            "#[derive(::serde::Serialize,Clone,Debug,Default)]pubstructContactLocationsItem{",
            "#[serde(flatten,serialize_with=\"ContactLocationsItem::__serialize_extra_fields\")]#[cfg_attr(feature=\"schemars\",schemars(skip))]pubextra_fields:crate::ExtraFields,}",
            "crate::extra_fields::serialize_undeclared(extra,\"ContactLocationsItem\",&[\"latitude\"",
            "impl<'de>::serde::Deserialize<'de>forContactLocationsItem",
            "\"latitude\"=>::std::option::Option::Some(0u16)",
            "latitude:__f0.unwrap_or_default(),extra_fields:__extra,",
            // The builder: its field, `Default`, `TryFrom` and `From`.
            "extra_fields:crate::ExtraFields,}",
            "latitude:Ok(Default::default()),extra_fields:::std::default::Default::default(),",
            "let__extra_fields=value.extra_fields;match(value.latitude,)",
            "Ok(Self{latitude,extra_fields:__extra_fields,})",
            "latitude:Ok(value.latitude),extra_fields:value.extra_fields,",
            // The models not carried keep their derive.
            "#[derive(::serde::Deserialize,::serde::Serialize,Clone,Debug)]pubstructSendCodeCreateBody",
        ] {
            assert!(out.contains(&squeezed(expected)), "{expected} in {out}");
        }
    }

    fn squeezed(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect()
    }

    #[test]
    fn renamed_defaulted_and_required_fields_are_read_as_serde_would() {
        let mut file = file(MODELS);
        let carried: Tally = [("Contact", PLACES)].into_iter().collect();
        // Contact has no builder in the test source: only the model is rewritten.
        let rewritten = rewrite(&mut file, &carried).expect("rewrites");
        assert_eq!(rewritten.at("Contact"), 1);
        let out = squeezed(&prettyplease::unparse(&file));
        for expected in [
            "\"firstName\"=>::std::option::Option::Some(0u16)",
            "\"type\"=>::std::option::Option::Some(2u16)",
            "first_name:crate::extra_fields::required(__f0,\"firstName\")?",
            "locations:__f1.unwrap_or_default()",
            "type_:__f2.unwrap_or_default()",
        ] {
            assert!(out.contains(expected), "{expected} in {out}");
        }
    }

    #[test]
    fn a_field_attribute_the_deserialize_does_not_honour_is_refused_by_name() {
        let source = MODELS.replace(
            "#[serde(rename = \"firstName\")]",
            "#[serde(rename = \"firstName\", deserialize_with = \"lenient\")]",
        );
        let mut file = file(&source);
        let carried: Tally = [("Contact", PLACES)].into_iter().collect();
        let err = rewrite(&mut file, &carried).expect_err("refused");
        assert_eq!(err.place, "Contact");
        assert!(err.problem.contains("first_name"), "{err}");
    }

    #[test]
    fn a_declared_field_named_like_the_extra_one_is_refused() {
        let source = MODELS.replace("pub first_name:", "pub extra_fields:");
        let mut file = file(&source);
        let carried: Tally = [("Contact", PLACES)].into_iter().collect();
        let err = rewrite(&mut file, &carried).expect_err("refused");
        assert!(err.problem.contains("extra_fields"), "{err}");
    }
}
