//! What Whispir posts to a callback URL: a reply to a message, or word that
//! a message could not be delivered.
//!
//! Field names follow Whispir's JSON (`messageid`, `messagelocation`,
//! `from`, `responseMessage`, `customParameters`); the spellings seen in
//! Whispir's other examples (`messageId`, `location`, `responsemessage`)
//! are read too. When a body carries two spellings of one field, the one
//! Whispir documents for callbacks is read and the other is kept in `extra`,
//! whatever their order. Every field Whispir may add later is kept in
//! `extra`, and a channel name this crate does not know is kept as text: a
//! newer Whispir never makes a callback fail to parse.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// The spellings read for each field of a [`Callback`], the one read first
/// when a body carries several: Whispir's documented spelling, then the
/// others seen in its examples.
const MESSAGE_ID: &[&str] = &["messageid", "messageId", "messageID"];
const MESSAGE_LOCATION: &[&str] = &["messagelocation", "messageLocation", "location"];
const FROM: &[&str] = &["from"];
const RESPONSE_MESSAGE: &[&str] = &["responseMessage", "responsemessage"];
const CUSTOM_PARAMETERS: &[&str] = &["customParameters", "customparameters"];

/// One callback: which message it is about, who answered, what they said.
///
/// A field may come under any of the spellings Whispir uses; when a body
/// carries more than one (`messageid` and `messageId`, say), Whispir's
/// documented spelling is read, wherever it comes in the body, and the
/// others are kept in [`extra`](Self::extra) as they came. The preference,
/// first to last: `messageid`, `messageId`, `messageID`; `messagelocation`,
/// `messageLocation`, `location`; `responseMessage`, `responsemessage`;
/// `customParameters`, `customparameters`. One spelling given twice is
/// malformed: nothing says which of its values to read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Callback {
    /// The id Whispir gave the message when it was sent.
    #[serde(rename = "messageid")]
    pub message_id: String,
    /// The URL of that message in the Whispir API.
    #[serde(rename = "messagelocation", skip_serializing_if = "Option::is_none")]
    pub message_location: Option<String>,
    /// The recipient who answered, or whom the message failed to reach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<Responder>,
    /// The reply itself, or the failure notice, with its channel and time.
    #[serde(rename = "responseMessage", skip_serializing_if = "Option::is_none")]
    pub response_message: Option<ResponseMessage>,
    /// The `callbackParameters` given when the message was sent, and the
    /// values Whispir adds (sender and recipient names, send date and time,
    /// the matched response rule), all as text.
    #[serde(
        rename = "customParameters",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub custom_parameters: BTreeMap<String, String>,
    /// Fields this crate does not read, kept as they came: those Whispir
    /// may add later, and a second spelling of a field already read.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The person (or contact) on the other end of the message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responder {
    /// Their name.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// Their unique reference within Whispir (the MRI).
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub mri: Option<String>,
    /// Their mobile number.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub mobile: Option<String>,
    /// Their email address.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// Their number on the voice channel.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub voice: Option<String>,
    /// Fields this crate does not know yet, kept as they came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The reply, or the failure notice, as Whispir recorded it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseMessage {
    /// The channel it came on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// When the reply came, as Whispir writes it (`dd/mm/yy HH:MM`); set on
    /// replies.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub acknowledged: Option<String>,
    /// When the message was marked undeliverable, as Whispir writes it; set
    /// on delivery failures.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub undeliverable: Option<String>,
    /// The text of the reply, or Whispir's description of the failure.
    #[serde(
        default,
        deserialize_with = "non_empty",
        skip_serializing_if = "Option::is_none"
    )]
    pub content: Option<String>,
    /// Fields this crate does not know yet, kept as they came.
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// The channel a reply or failure came on. Whispir writes these in upper
/// or lower case; any other name is kept in [`Channel::Unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    /// A text message.
    Sms,
    /// An email.
    Email,
    /// A voice call.
    Voice,
    /// Whispir's `N/A`: no channel applies.
    NotApplicable,
    /// A channel this crate does not know, as Whispir wrote it.
    Unknown(String),
}

impl Channel {
    /// Reads a channel name, ignoring case.
    pub fn from_name(name: &str) -> Self {
        if name.eq_ignore_ascii_case("sms") {
            Self::Sms
        } else if name.eq_ignore_ascii_case("email") {
            Self::Email
        } else if name.eq_ignore_ascii_case("voice") {
            Self::Voice
        } else if name.eq_ignore_ascii_case("n/a") {
            Self::NotApplicable
        } else {
            Self::Unknown(name.to_owned())
        }
    }

    /// The name Whispir uses for this channel.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sms => "SMS",
            Self::Email => "EMAIL",
            Self::Voice => "VOICE",
            Self::NotApplicable => "N/A",
            Self::Unknown(name) => name,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Channel {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Channel {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
    }
}

/// What a callback reports, judged by which timestamp Whispir set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum CallbackKind {
    /// The recipient replied (`acknowledged` is set).
    Reply,
    /// The message could not be delivered (`undeliverable` is set).
    Undeliverable,
    /// Neither timestamp is set: a kind of callback this crate does not know.
    Unknown,
}

impl Callback {
    /// Whether this is a reply, a delivery failure, or neither.
    pub fn kind(&self) -> CallbackKind {
        match &self.response_message {
            Some(message) if message.undeliverable.is_some() => CallbackKind::Undeliverable,
            Some(message) if message.acknowledged.is_some() => CallbackKind::Reply,
            _ => CallbackKind::Unknown,
        }
    }

    /// The channel the reply or failure came on, if Whispir said.
    pub fn channel(&self) -> Option<&Channel> {
        self.response_message.as_ref()?.channel.as_ref()
    }

    /// The text of the reply (or of the failure notice), if any.
    pub fn content(&self) -> Option<&str> {
        self.response_message.as_ref()?.content.as_deref()
    }

    /// One custom parameter, by its exact name.
    pub fn custom_parameter(&self, name: &str) -> Option<&str> {
        self.custom_parameters.get(name).map(String::as_str)
    }
}

impl<'de> Deserialize<'de> for Callback {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CallbackVisitor)
    }
}

/// Reads a callback object field by field, so that two spellings of one
/// field are two entries rather than serde's "duplicate field" error.
struct CallbackVisitor;

impl<'de> Visitor<'de> for CallbackVisitor {
    type Value = Callback;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Whispir callback object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Callback, A::Error> {
        let mut fields = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            // The same spelling twice has no rule to pick one value by.
            if fields.contains_key(&name) {
                return Err(de::Error::custom(format_args!("duplicate field `{name}`")));
            }
            let value = access.next_value::<Value>()?;
            fields.insert(name, value);
        }
        Callback::from_fields(fields)
    }
}

impl Callback {
    /// Reads each field from its preferred spelling; what is left over,
    /// other spellings included, becomes `extra`.
    fn from_fields<E: de::Error>(mut fields: Map<String, Value>) -> Result<Self, E> {
        let Some((name, id)) = take_field(&mut fields, MESSAGE_ID) else {
            return Err(E::missing_field("messageid"));
        };
        let message_id = String::deserialize(id).map_err(|error| invalid(name, error))?;
        if message_id.is_empty() {
            return Err(E::custom(format_args!(
                "`{name}` is empty: a callback needs the id of its message"
            )));
        }
        let message_location = match take_field(&mut fields, MESSAGE_LOCATION) {
            Some((name, value)) => non_empty(value).map_err(|error| invalid(name, error))?,
            None => None,
        };
        let from = match take_field(&mut fields, FROM) {
            Some((name, value)) => {
                Option::<Responder>::deserialize(value).map_err(|error| invalid(name, error))?
            }
            None => None,
        };
        let response_message = match take_field(&mut fields, RESPONSE_MESSAGE) {
            Some((name, value)) => Option::<ResponseMessage>::deserialize(value)
                .map_err(|error| invalid(name, error))?,
            None => None,
        };
        let custom_parameters = match take_field(&mut fields, CUSTOM_PARAMETERS) {
            Some((name, value)) => {
                custom_parameters(value).map_err(|error| invalid(name, error))?
            }
            None => BTreeMap::new(),
        };
        Ok(Self {
            message_id,
            message_location,
            from,
            response_message,
            custom_parameters,
            extra: fields.into_iter().collect(),
        })
    }
}

/// Removes and returns the first of `spellings` present in `fields`, with
/// the spelling it came under; the others stay.
fn take_field(
    fields: &mut Map<String, Value>,
    spellings: &[&'static str],
) -> Option<(&'static str, Value)> {
    spellings
        .iter()
        .find_map(|name| fields.remove(*name).map(|value| (*name, value)))
}

/// A field's value did not read: says which field, under the spelling the
/// body used.
fn invalid<E: de::Error>(name: &str, error: serde_json::Error) -> E {
    E::custom(format_args!("`{name}`: {error}"))
}

/// A text field where an empty string (or an empty XML element) means
/// "not given".
fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|text| !text.is_empty()))
}

/// `customParameters` in any of the shapes Whispir uses: a JSON object of
/// names to values, or the XML form `<entry><key/><value/></entry>...`
/// (which arrives here as `{"entry": [{"key": .., "value": ..}]}`).
/// Values that are not text are kept as their JSON text.
fn custom_parameters<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    let mut out = BTreeMap::new();
    match value {
        Value::Null => {}
        // An empty XML element arrives as an empty string.
        Value::String(text) if text.trim().is_empty() => {}
        Value::Object(map) if map.len() == 1 && map.get("entry").is_some_and(is_entry_list) => {
            if let Some(entries) = map.get("entry") {
                collect_entries(entries, &mut out).map_err(de::Error::custom)?;
            }
        }
        Value::Object(map) => {
            for (name, value) in map {
                if let Some(text) = as_text(value) {
                    out.insert(name, text);
                }
            }
        }
        Value::Array(_) => collect_entries(&value, &mut out).map_err(de::Error::custom)?,
        _ => {
            return Err(de::Error::custom(
                "customParameters is neither an object nor a list of entries",
            ));
        }
    }
    Ok(out)
}

/// Whether `value` is one `{"key": ..}` entry or a list of them, rather than
/// a parameter that happens to be named `entry`.
fn is_entry_list(value: &Value) -> bool {
    let is_entry = |item: &Value| {
        item.as_object()
            .is_some_and(|fields| fields.contains_key("key"))
    };
    match value {
        Value::Array(items) => !items.is_empty() && items.iter().all(is_entry),
        single => is_entry(single),
    }
}

/// Reads `{"key": K, "value": V}` entries, one or a list of them.
fn collect_entries(entries: &Value, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let list = match entries {
        Value::Array(list) => list.as_slice(),
        single => std::slice::from_ref(single),
    };
    for entry in list {
        let Value::Object(fields) = entry else {
            return Err("a customParameters entry is not an object".to_owned());
        };
        let Some(key) = fields.get("key").cloned().and_then(as_text) else {
            return Err("a customParameters entry has no key".to_owned());
        };
        let value = fields
            .get("value")
            .cloned()
            .and_then(as_text)
            .unwrap_or_default();
        out.insert(key, value);
    }
    Ok(())
}

/// A parameter value as text; `null` means absent.
fn as_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests;
