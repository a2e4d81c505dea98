//! Open enums: the string enums of the spec, generated so that a value the
//! API adds later deserializes into `Unknown(String)` instead of failing.
//!
//! Inline enums of component schemas are hoisted (in the generator's copy)
//! into named schemas such as `MessageType`; progenitor is told to use the
//! types emitted here in their place.

use std::collections::BTreeSet;

use heck::ToUpperCamelCase as _;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Map, Value, json};

use crate::spec::SpecError;

/// One open enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenEnum {
    /// The type name, e.g. `MessageType`.
    pub name: String,
    /// Where it comes from, e.g. `Message.type`.
    pub origin: String,
    /// The documented values, in spec order.
    pub values: Vec<String>,
}

impl OpenEnum {
    /// Variant identifiers, one per value.
    fn variants(&self) -> Vec<String> {
        self.values
            .iter()
            .map(|value| variant_name(value))
            .collect()
    }
}

/// `text/plain` → `TextPlain`, `N/A` → `NA`, `404` → `V404`.
fn variant_name(value: &str) -> String {
    let camel = value.to_upper_camel_case();
    if camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{camel}")
    } else {
        camel
    }
}

/// Whether a schema is a string enum that can be opened.
fn string_enum_values(schema: &Map<String, Value>) -> Option<Vec<String>> {
    let values = schema.get("enum")?.as_array()?;
    if schema.get("type").is_some_and(|t| t != "string") {
        return None;
    }
    let values: Vec<String> = values
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect::<Option<_>>()?;
    let variants: BTreeSet<String> = values.iter().map(|v| variant_name(v)).collect();
    let usable = !values.is_empty()
        && variants.len() == values.len()
        && variants.iter().all(|v| !v.is_empty() && v != "Unknown");
    usable.then_some(values)
}

/// Hoists every inline string enum below the component schemas into a named
/// schema and returns the enums, sorted by name.
pub fn hoist_enums(spec: &mut Value) -> Result<Vec<OpenEnum>, SpecError> {
    let Some(schemas) = spec
        .pointer_mut("/components/schemas")
        .and_then(Value::as_object_mut)
    else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in &names {
        let Some(schema) = schemas.get_mut(name) else {
            continue;
        };
        if let Some(values) = schema.as_object().and_then(string_enum_values) {
            found.push(OpenEnum {
                name: name.clone(),
                origin: name.clone(),
                values,
            });
            continue;
        }
        hoist_below(schema, &name.to_upper_camel_case(), name, &mut found);
    }
    let mut taken: BTreeSet<String> = names.iter().map(|n| n.to_upper_camel_case()).collect();
    for open in &found {
        if open.name != open.origin && !taken.insert(open.name.clone()) {
            return Err(SpecError::new(format!(
                "the enum of {} would be named {}, which another schema already uses",
                open.origin, open.name
            )));
        }
        if open.name != open.origin {
            schemas.insert(
                open.name.clone(),
                json!({ "type": "string", "enum": open.values }),
            );
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

fn hoist_below(schema: &mut Value, type_name: &str, origin: &str, found: &mut Vec<OpenEnum>) {
    let Some(map) = schema.as_object_mut() else {
        return;
    };
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for (property, value) in properties.iter_mut() {
            let name = format!("{type_name}{}", property.to_upper_camel_case());
            let origin = format!("{origin}.{property}");
            hoist_one(value, name, origin, found);
        }
    }
    if let Some(items) = map.get_mut("items") {
        hoist_one(
            items,
            format!("{type_name}Item"),
            format!("{origin}[]"),
            found,
        );
    }
}

fn hoist_one(value: &mut Value, name: String, origin: String, found: &mut Vec<OpenEnum>) {
    match value.as_object().and_then(string_enum_values) {
        Some(values) => {
            *value = json!({ "$ref": format!("#/components/schemas/{name}") });
            found.push(OpenEnum {
                name,
                origin,
                values,
            });
        }
        None => hoist_below(value, &name, &origin, found),
    }
}

/// The Rust path progenitor uses in place of an open enum's schema.
pub fn rust_path(open: &OpenEnum) -> String {
    format!("crate::generated::enums::{}", open.name)
}

/// The `enums` module with every open enum.
pub fn enum_module(enums: &[OpenEnum]) -> TokenStream {
    let items = enums.iter().map(enum_tokens);
    quote! {
        /// String enums of the API. Each keeps a value this SDK does not know
        /// yet in `Unknown`, so a new value from the server never breaks
        /// deserialization.
        pub mod enums {
            #(#items)*
        }
    }
}

fn enum_tokens(open: &OpenEnum) -> TokenStream {
    let name = format_ident!("{}", open.name);
    let name_str = &open.name;
    let doc = format!(
        "Values of `{}`; `Unknown` keeps any value not listed.",
        open.origin
    );
    let variants: Vec<_> = open
        .variants()
        .iter()
        .map(|v| format_ident!("{v}"))
        .collect();
    let values = &open.values;
    let variant_docs = values.iter().map(|v| format!("`{v}`"));
    quote! {
        #[doc = #doc]
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum #name {
            #( #[doc = #variant_docs] #variants, )*
            /// A value the API sent that this SDK does not know.
            Unknown(::std::string::String),
        }

        impl #name {
            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    #( Self::#variants => #values, )*
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value the SDK does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl ::std::convert::From<::std::string::String> for #name {
            fn from(value: ::std::string::String) -> Self {
                match value.as_str() {
                    #( #values => Self::#variants, )*
                    _ => Self::Unknown(value),
                }
            }
        }

        impl ::std::convert::From<&str> for #name {
            fn from(value: &str) -> Self {
                match value {
                    #( #values => Self::#variants, )*
                    other => Self::Unknown(other.to_string()),
                }
            }
        }

        impl ::std::str::FromStr for #name {
            type Err = ::std::convert::Infallible;
            fn from_str(value: &str) -> ::std::result::Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for #name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for #name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::std::result::Result<Self, D::Error> {
                let value = <::std::string::String as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value))
            }
        }

        #[cfg(feature = "schemars")]
        impl ::schemars::JsonSchema for #name {
            fn schema_name() -> ::std::string::String {
                #name_str.to_string()
            }
            fn json_schema(generator: &mut ::schemars::r#gen::SchemaGenerator) -> ::schemars::schema::Schema {
                <::std::string::String as ::schemars::JsonSchema>::json_schema(generator)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_enums_are_hoisted_and_named_after_their_place() {
        let mut spec = json!({ "components": { "schemas": {
            "Message": { "type": "object", "properties": {
                "type": { "type": "string", "enum": ["default", "noDlr"] },
                "options": { "type": "array", "items": { "type": "object", "properties": {
                    "channel": { "type": "string", "enum": ["sms", "email"] }
                } } },
                "port": { "type": "integer", "enum": [-1] },
                "blank": { "type": "string", "enum": [""] }
            } }
        } } });
        let enums = hoist_enums(&mut spec).expect("hoists");
        let names: Vec<&str> = enums.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, vec!["MessageOptionsItemChannel", "MessageType"]);
        let message = &spec["components"]["schemas"]["Message"]["properties"];
        assert_eq!(
            message["type"],
            json!({ "$ref": "#/components/schemas/MessageType" })
        );
        assert_eq!(
            message["port"]["enum"],
            json!([-1]),
            "non-string enums stay"
        );
        assert_eq!(
            message["blank"]["enum"],
            json!([""]),
            "an empty value cannot be a variant"
        );
        assert_eq!(
            spec["components"]["schemas"]["MessageType"],
            json!({ "type": "string", "enum": ["default", "noDlr"] })
        );
    }

    #[test]
    fn a_name_collision_is_an_error() {
        let mut spec = json!({ "components": { "schemas": {
            "Message": { "properties": { "type": { "type": "string", "enum": ["a"] } } },
            "MessageType": { "type": "object" }
        } } });
        let err = hoist_enums(&mut spec).expect_err("collides");
        assert!(
            err.to_string()
                .contains("Message.type would be named MessageType"),
            "{err}"
        );
    }

    #[test]
    fn variant_names_are_rust_identifiers() {
        assert_eq!(variant_name("text/plain"), "TextPlain");
        assert_eq!(variant_name("N/A"), "NA");
        assert_eq!(variant_name("Un-map"), "UnMap");
        assert_eq!(variant_name("404"), "V404");
    }
}
