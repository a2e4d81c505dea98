//! Fields a response carried that the SDK's types do not know, kept on the
//! model so that a read-modify-write sends them back unchanged.
//!
//! Whispir adds fields under the same `-v1` media types, and a `PUT`
//! replaces the resource: a field dropped when a body is decoded would be
//! erased by the next update. Every model the API both returns and accepts
//! back (decided from the spec by `xtask/src/passes/unknown_fields.rs`) has a
//! public `extra_fields` field of this type, and a generated `Deserialize`
//! that matches its known keys and collects the rest here, through the
//! helpers below.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::LazyLock;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The fields of a JSON object that its model does not declare, by name,
/// with their values as received.
///
/// Read and change it like a [`serde_json::Map`] (it dereferences to one).
/// Encoding the model writes these fields back next to the known ones.
///
/// A key the model declares (its JSON name, e.g. `firstName` on a
/// `Contact`) has no place here: set the field instead. Encoding a model
/// whose `extra_fields` holds one fails, naming the key, so that a send
/// never carries the name twice or one of two values the caller did not
/// choose (the SDK's `send()` refuses it before anything is sent).
/// No generated model flattens another; a struct of your own that
/// `#[serde(flatten)]`s two models is checked per model only, so a name
/// one declares or keeps and the other keeps would be written twice.
/// `Debug` shows their names only: the values may hold people's data.
///
/// ```
/// use whispir::types::Contact;
///
/// let contact: Contact = serde_json::from_str(
///     r#"{"firstName":"Ada","lastName":"Lovelace","workEmailAddress1":"ada@example.com",
///         "workMobilePhone1":"61400000000","workCountry":"Australia",
///         "timezone":"Australia/Melbourne","pronouns":"she/her"}"#,
/// )?;
/// assert_eq!(contact.extra_fields["pronouns"], "she/her");
/// assert!(format!("{contact:?}").contains(r#"extra_fields: {"pronouns"}"#));
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// Most models carry none: an empty set costs one pointer and no allocation,
/// to build, move or drop.
#[derive(Clone, Default)]
pub struct ExtraFields(Option<Box<Map<String, Value>>>);

/// What an `ExtraFields` without fields dereferences to.
static NONE: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

impl ExtraFields {
    /// The fields as a map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0.map(|map| *map).unwrap_or_default()
    }
}

impl Deref for ExtraFields {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.0.as_deref().unwrap_or(&NONE)
    }
}

impl DerefMut for ExtraFields {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<Map<String, Value>> for ExtraFields {
    fn from(map: Map<String, Value>) -> Self {
        Self((!map.is_empty()).then(|| Box::new(map)))
    }
}

impl PartialEq for ExtraFields {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for ExtraFields {}

impl Serialize for ExtraFields {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExtraFields {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Self::from)
    }
}

impl fmt::Debug for ExtraFields {
    /// The names of the fields, never their values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.keys()).finish()
    }
}

/// Encodes a model's `extra_fields` next to its declared fields (the
/// generated `serialize_with` of the flattened field): an error naming
/// the first key that is one of `declared`, the model's JSON names.
pub(crate) fn serialize_undeclared<S: serde::Serializer>(
    extra: &ExtraFields,
    model: &str,
    declared: &[&str],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if let Some(key) = extra.keys().find(|key| declared.contains(&key.as_str())) {
        return Err(serde::ser::Error::custom(format_args!(
            "extra_fields holds `{key}`, a field {model} declares: set the field instead"
        )));
    }
    (**extra).serialize(serializer)
}

/// A key of a JSON object: the index of a field the model declares, or
/// the name of one it does not.
pub(crate) enum Key {
    /// The field at this index of the model's generated key table.
    Known(u16),
    /// A field the model does not declare.
    Unknown(String),
}

/// Reads one key of a model's object: the closure is the model's generated
/// key table (a `match` on the JSON names), so that a known key is matched
/// without allocating, as serde's derive does.
#[derive(Clone, Copy)]
pub(crate) struct KeySeed<F>(pub(crate) F);

impl<'de, F: Fn(&str) -> Option<u16>> DeserializeSeed<'de> for KeySeed<F> {
    type Value = Key;

    #[inline]
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<F: Fn(&str) -> Option<u16>> Visitor<'_> for KeySeed<F> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline]
    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(match (self.0)(name) {
            Some(index) => Key::Known(index),
            None => Key::Unknown(name.to_owned()),
        })
    }
}

/// Reads the value of a declared field into its slot; a field given twice
/// is an error, as with serde's derive.
#[inline]
pub(crate) fn once<'de, T, A>(
    slot: &mut Option<T>,
    map: &mut A,
    name: &'static str,
) -> Result<(), A::Error>
where
    T: Deserialize<'de>,
    A: MapAccess<'de>,
{
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// The value of a required field, or the error naming it.
#[inline]
pub(crate) fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| de::Error::missing_field(name))
}

/// Keeps an undeclared field; of a name given twice the last value is
/// kept, as `serde_json::Map` and serde's derive (which ignored such a
/// name) would, so that a repeated key the SDK does not know never fails
/// the decoding.
#[inline]
pub(crate) fn keep<'de, A: MapAccess<'de>>(
    extra: &mut ExtraFields,
    name: String,
    map: &mut A,
) -> Result<(), A::Error> {
    let value: Value = map.next_value()?;
    extra.insert(name, value);
    Ok(())
}
