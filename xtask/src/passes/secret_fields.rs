//! Fields that carry a secret, and the syn pass that keeps their values out
//! of `Debug`.
//!
//! typify derives `Debug` on every model and builder, so `{:?}` of a
//! `types::User` printed its password. Which fields carry a secret is
//! decided from the spec and one table ([`TABLE_PATH`]): a property with
//! `format: password` or `writeOnly: true`, or one a row lists as a secret
//! (each row with its reason); a row can also say that a `writeOnly`
//! property holds nothing secret. The table sits under `openapi/`, beside
//! the spec and the code table, because it is a fact about the API that
//! reviewers and the tests (`tests/tests/no_secrets.rs`) read without
//! building the xtask.
//!
//! The pass takes `Debug` out of the derive of each model with a secret
//! field, and of its builder, and writes the impl the derive would have
//! written, with each secret field shown through
//! `crate::runtime::redacted::Redacted` (`Some(<redacted>)`, `None`). The field
//! stays a `String`, so serde sends it as before. Only text fields can be
//! secrets; another type, or a field the spec names but the generated code
//! does not have, is refused by name. `generate` checks that each model
//! with a secret was rewritten in both its [`PLACES`].

use std::collections::BTreeMap;

use heck::ToUpperCamelCase as _;
use quote::quote;
use serde_json::Value;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::{Fields, Item, parse_quote};

use super::syntax::{ShapeError, shape, text};
use crate::rewrite_counts::Tally;

/// The table of credential-bearing fields, relative to the root.
pub const TABLE_PATH: &str = "openapi/secret-fields.md";

/// What the pass rewrites for each model with a secret field: the model's
/// `Debug` and its builder's.
pub const PLACES: usize = 2;

/// One row of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line in the table.
    pub line: usize,
    /// `Callback.auth.key`: a component schema (or an operation id, for an
    /// inline request body) and JSON property names.
    pub field: String,
    /// Whether the field is a secret.
    pub secret: bool,
    /// Why, in words.
    pub why: String,
}

/// Problems with the table, by line (0: the file as a whole).
#[derive(Debug, thiserror::Error)]
pub struct TableError {
    /// `(line, problem)`, in line order.
    pub problems: Vec<(usize, String)>,
}

/// `openapi/secret-fields.md: line 3: …; line 5: …`.
impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let problems: Vec<String> = self
            .problems
            .iter()
            .map(|(line, problem)| match line {
                0 => problem.clone(),
                line => format!("line {line}: {problem}"),
            })
            .collect();
        write!(f, "{TABLE_PATH}: {}", problems.join("; "))
    }
}

/// Why a field is a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The spec says `format: password`.
    Password,
    /// The spec says `writeOnly: true`.
    WriteOnly,
    /// A row of the table says so, for this reason.
    Listed(String),
}

impl Reason {
    /// The reason as the field's doc gives it.
    fn words(&self) -> String {
        match self {
            Reason::Password => "the spec marks it `format: password`".into(),
            Reason::WriteOnly => "the spec marks it `writeOnly`".into(),
            Reason::Listed(why) => why.clone(),
        }
    }
}

/// A field that carries a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretField {
    /// Where, as the table names it: `Callback.auth.key`.
    pub field: String,
    /// Why it is a secret.
    pub reason: Reason,
}

/// Reads the table's rows: `| `Schema.property` | yes/no | why |`.
pub fn parse_table(text: &str) -> Result<Vec<Row>, TableError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut header_seen = false;
    for (index, line) in text.lines().enumerate() {
        let line_number = index + 1;
        let trimmed = line.trim();
        if !trimmed.starts_with('|') {
            continue;
        }
        let cells: Vec<&str> = trimmed
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        if !header_seen {
            header_seen = true;
            if cells != ["field", "secret", "why"] {
                problems.push((
                    line_number,
                    "the table's header must be `| field | secret | why |`".to_string(),
                ));
            }
            continue;
        }
        if cells
            .iter()
            .all(|cell| cell.chars().all(|c| "-: ".contains(c)))
        {
            continue;
        }
        let [field, secret, why] = cells[..] else {
            problems.push((line_number, format!("{} cells, expected 3", cells.len())));
            continue;
        };
        let Some(field) = field
            .strip_prefix('`')
            .and_then(|f| f.strip_suffix('`'))
            .filter(|f| f.contains('.') && !f.contains(['`', ' ']))
        else {
            problems.push((
                line_number,
                format!("the field must be written as `Schema.property`, found {field}"),
            ));
            continue;
        };
        let secret = match secret {
            "yes" => true,
            "no" => false,
            other => {
                problems.push((
                    line_number,
                    format!("the secret column says `yes` or `no`, found `{other}`"),
                ));
                continue;
            }
        };
        if why.is_empty() {
            problems.push((line_number, format!("`{field}` gives no reason")));
            continue;
        }
        rows.push(Row {
            line: line_number,
            field: field.to_string(),
            secret,
            why: why.to_string(),
        });
    }
    if !header_seen {
        problems.push((0, "no table".to_string()));
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(TableError { problems })
    }
}

/// Every property of the spec's models, by the name the table uses: the
/// component schemas and the request bodies written inline, their inline
/// objects and list items included (a `$ref` is its own schema's).
fn properties(spec: &Value) -> BTreeMap<String, &Value> {
    let mut found = BTreeMap::new();
    if let Some(schemas) = spec
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        for (name, schema) in schemas {
            collect_properties(schema, name, &mut found);
        }
    }
    for op in crate::spec::operations(spec) {
        let bodies = op
            .operation
            .get("requestBody")
            .and_then(|body| body.get("content"))
            .and_then(Value::as_object);
        for media in bodies.into_iter().flat_map(|content| content.values()) {
            if let Some(schema) = media.get("schema").filter(|s| s.get("$ref").is_none()) {
                collect_properties(schema, op.operation_id, &mut found);
            }
        }
    }
    found
}

fn collect_properties<'a>(schema: &'a Value, at: &str, found: &mut BTreeMap<String, &'a Value>) {
    if let Some(items) = schema.get("items") {
        collect_properties(items, at, found);
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    for (name, property) in properties.into_iter().flatten() {
        let field = format!("{at}.{name}");
        if property.get("$ref").is_none() {
            collect_properties(property, &field, found);
        }
        found.insert(field, property);
    }
}

/// Every field that carries a secret, sorted, from the spec and the
/// table's rows. A row naming no property, a row given twice, and a `no`
/// for a property the spec does not mark are refused.
pub fn secret_fields(spec: &Value, rows: &[Row]) -> Result<Vec<SecretField>, TableError> {
    let properties = properties(spec);
    let mut problems = Vec::new();
    let mut listed: BTreeMap<&str, &Row> = BTreeMap::new();
    for row in rows {
        let Some(property) = properties.get(&row.field) else {
            problems.push((
                row.line,
                format!("`{}` names no property of the spec", row.field),
            ));
            continue;
        };
        if let Some(first) = listed.insert(&row.field, row) {
            problems.push((
                row.line,
                format!(
                    "`{}` is listed twice (first on line {})",
                    row.field, first.line
                ),
            ));
        }
        if !row.secret && marked(property).is_none() {
            problems.push((
                row.line,
                format!(
                    "`{}` is listed as no secret, but the spec does not mark it \
                     `writeOnly` or `format: password`: remove the row",
                    row.field
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return Err(TableError { problems });
    }
    Ok(properties
        .iter()
        .filter_map(|(field, property)| {
            let reason = match listed.get(field.as_str()) {
                Some(row) if row.secret => Reason::Listed(row.why.clone()),
                Some(_) => return None,
                None => marked(property)?,
            };
            Some(SecretField {
                field: field.clone(),
                reason,
            })
        })
        .collect())
}

/// Why the spec itself marks a property as a secret, if it does.
fn marked(property: &Value) -> Option<Reason> {
    if property.get("format").and_then(Value::as_str) == Some("password") {
        Some(Reason::Password)
    } else if property.get("writeOnly").and_then(Value::as_bool) == Some(true) {
        Some(Reason::WriteOnly)
    } else {
        None
    }
}

/// The secret fields of each generated model: Rust field name and the
/// reason, by model.
pub type ModelSecrets = BTreeMap<String, BTreeMap<String, Reason>>;

/// Finds each secret's model and field in the generated code: the root is
/// the component schema's type (an operation id's is `…Body`), and each
/// property after it is the field whose `serde` name it is, whose type
/// leads to the next model.
pub fn models(file: &syn::File, secrets: &[SecretField]) -> Result<ModelSecrets, ShapeError> {
    let structs: BTreeMap<String, &syn::ItemStruct> = types(file)?
        .iter()
        .filter_map(|item| match item {
            Item::Struct(model) => Some((model.ident.to_string(), model)),
            _ => None,
        })
        .collect();
    let mut found = ModelSecrets::new();
    for secret in secrets {
        let mut names = secret.field.split('.');
        let root = names.next().unwrap_or_default();
        let mut model = if root.starts_with(|c: char| c.is_ascii_lowercase()) {
            format!("{}Body", root.to_upper_camel_case())
        } else {
            root.to_upper_camel_case()
        };
        let names: Vec<&str> = names.collect();
        for (index, name) in names.iter().enumerate() {
            let item = structs.get(&model).ok_or_else(|| {
                shape(
                    &secret.field,
                    format!("no generated model `{model}` for this secret field"),
                )
            })?;
            let field = field_named(item, name)?
                .ok_or_else(|| shape(&secret.field, format!("`{model}` has no field `{name}`")))?;
            let ident = field
                .ident
                .as_ref()
                .ok_or_else(|| shape(&model, "a field without a name"))?;
            if index + 1 == names.len() {
                found
                    .entry(model.clone())
                    .or_default()
                    .insert(ident.unraw().to_string(), secret.reason.clone());
            } else {
                model = type_idents(&field.ty)
                    .into_iter()
                    .find(|ident| structs.contains_key(ident))
                    .ok_or_else(|| {
                        shape(
                            &secret.field,
                            format!("`{model}.{ident}` names no generated model"),
                        )
                    })?;
            }
        }
    }
    Ok(found)
}

/// How many places the pass must rewrite: [`PLACES`] per model with a secret.
pub fn expected(models: &ModelSecrets) -> Tally {
    models.keys().map(|name| (name.as_str(), PLACES)).collect()
}

/// The field of `model` whose JSON name (its `serde` rename, or its own
/// name) is `json`.
fn field_named<'a>(
    model: &'a syn::ItemStruct,
    json: &str,
) -> Result<Option<&'a syn::Field>, ShapeError> {
    let place = model.ident.to_string();
    for field in &model.fields {
        let Some(ident) = &field.ident else { continue };
        let mut name = ident.unraw().to_string();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    name = meta.value()?.parse::<syn::LitStr>()?.value();
                } else if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<syn::Lit>()?;
                }
                Ok(())
            })
            .map_err(|err| shape(&place, format!("field `{ident}`: {err}")))?;
        }
        if name == json {
            return Ok(Some(field));
        }
    }
    Ok(None)
}

/// Every identifier in a type, generic arguments included.
fn type_idents(ty: &syn::Type) -> Vec<String> {
    fn collect(tokens: proc_macro2::TokenStream, found: &mut Vec<String>) {
        for token in tokens {
            match token {
                proc_macro2::TokenTree::Ident(ident) => found.push(ident.to_string()),
                proc_macro2::TokenTree::Group(group) => collect(group.stream(), found),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    collect(quote!(#ty), &mut found);
    found
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

/// The types of text a secret may have: in the model, and in its builder.
const MODEL_TYPES: [&str; 2] = [
    "::std::string::String",
    "::std::option::Option<::std::string::String>",
];

/// Gives every model of `models`, and its builder, a `Debug` that shows
/// each secret field as set or not, never its value, and documents the
/// model's secret fields. Returns the places rewritten, by model.
pub fn rewrite(file: &mut syn::File, models: &ModelSecrets) -> Result<Tally, ShapeError> {
    let mut rewritten = Tally::default();
    let types = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "types" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("generated client", "no `mod types`"))?;
    rewrite_items(types, models, false, &mut rewritten)?;
    let builders = types
        .iter_mut()
        .find_map(|item| match item {
            Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .map(|(_, items)| items)
        .ok_or_else(|| shape("mod types", "no `mod builder`"))?;
    rewrite_items(builders, models, true, &mut rewritten)?;
    Ok(rewritten)
}

fn rewrite_items(
    items: &mut Vec<Item>,
    models: &ModelSecrets,
    builders: bool,
    rewritten: &mut Tally,
) -> Result<(), ShapeError> {
    let mut index = 0;
    while index < items.len() {
        let Item::Struct(model) = &mut items[index] else {
            index += 1;
            continue;
        };
        let Some(secrets) = models.get(&model.ident.to_string()) else {
            index += 1;
            continue;
        };
        let debug = redacting_debug(model, secrets, builders)?;
        rewritten.add(model.ident.to_string(), 1);
        items.insert(index + 1, debug);
        index += 2;
    }
    Ok(())
}

/// Takes `Debug` out of `model`'s derive and returns the impl that
/// replaces it; documents the secret fields of a model (not a builder).
fn redacting_debug(
    model: &mut syn::ItemStruct,
    secrets: &BTreeMap<String, Reason>,
    builder: bool,
) -> Result<Item, ShapeError> {
    let place = if builder {
        format!("builder::{}", model.ident)
    } else {
        model.ident.to_string()
    };
    let refused = |problem: String| shape(&place, problem);
    let mut derived = false;
    for attr in &mut model.attrs {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let paths = attr
            .parse_args_with(Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
            .map_err(|err| refused(err.to_string()))?;
        let before = paths.len();
        let kept: Vec<syn::Path> = paths
            .into_iter()
            .filter(|path| text(path) != "Debug")
            .collect();
        derived |= kept.len() < before;
        *attr = parse_quote!(#[derive(#(#kept),*)]);
    }
    if !derived {
        return Err(refused("no derived `Debug`".to_string()));
    }
    let Fields::Named(fields) = &mut model.fields else {
        return Err(refused("not a struct with named fields".to_string()));
    };
    let mut shown = Vec::new();
    let mut seen = 0;
    for field in &mut fields.named {
        let ident = field
            .ident
            .clone()
            .ok_or_else(|| refused("a field without a name".to_string()))?;
        let name = ident.unraw().to_string();
        let Some(reason) = secrets.get(&name) else {
            shown.push(quote! { .field(#name, &self.#ident) });
            continue;
        };
        seen += 1;
        let ty = text(&field.ty);
        let text_type = if builder {
            MODEL_TYPES
                .iter()
                .any(|t| ty == format!("::std::result::Result<{t},::std::string::String>"))
        } else {
            MODEL_TYPES.contains(&ty.as_str())
        };
        if !text_type {
            return Err(refused(format!(
                "the secret field `{name}` is `{ty}`, not text: only text can be \
                 redacted (or list it as no secret in {TABLE_PATH})"
            )));
        }
        if !builder {
            let doc = format!(
                " A secret: `Debug` shows whether it is set, never its value ({}).",
                reason.words()
            );
            // After the field's own doc, so that the doc stays one block.
            let at = field
                .attrs
                .iter()
                .rposition(|a| a.path().is_ident("doc"))
                .map_or(0, |last| last + 1);
            let mut lines: Vec<syn::Attribute> = vec![parse_quote!(#[doc = #doc])];
            if at > 0 {
                lines.insert(0, parse_quote!(#[doc = ""]));
            }
            field.attrs.splice(at..at, lines);
        }
        shown.push(quote! { .field(#name, &crate::runtime::redacted::Redacted(&self.#ident)) });
    }
    if seen != secrets.len() {
        let missing: Vec<&str> = secrets
            .keys()
            .filter(|name| {
                !fields
                    .named
                    .iter()
                    .any(|f| f.ident.as_ref().is_some_and(|i| i.unraw() == name.as_str()))
            })
            .map(String::as_str)
            .collect();
        return Err(refused(format!("no field {}", missing.join(", "))));
    }
    let ident = &model.ident;
    let name = ident.unraw().to_string();
    Ok(parse_quote! {
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.debug_struct(#name)
                    #(#shown)*
                    .finish()
            }
        }
    })
}

#[cfg(test)]
mod tests;
