//! Whispir's XML callback body, read into the same JSON tree its JSON body
//! gives, so that one set of serde types reads both.
//!
//! The rules: the root element (`ns2:deliveryResponse`) is the object;
//! an element with children is an object, a repeated child name becomes a
//! list, an element with only text is that text, an empty one is `null`.
//! Namespace prefixes and attributes are dropped. No DTD is read and no
//! entity but the five predefined ones and character references is
//! expanded, so a body cannot make the reader fetch or grow anything.
//!
//! This is a small event loop over `quick_xml::Reader` rather than
//! quick-xml's serde support, because that support cannot collect unknown
//! elements into a `#[serde(flatten)]` map the way the payload types need.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use serde_json::{Map, Value};

/// How deep elements may nest; Whispir's bodies are four levels deep.
pub(crate) const MAX_DEPTH: usize = 32;

/// One open element while reading.
struct Frame {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

impl Frame {
    fn open(start: &BytesStart<'_>) -> Result<Self, String> {
        Ok(Self {
            name: local_name(start)?,
            children: Vec::new(),
            text: String::new(),
        })
    }

    fn close(self) -> (String, Value) {
        let value = if !self.children.is_empty() {
            object(self.children)
        } else if self.text.trim().is_empty() {
            Value::Null
        } else {
            Value::String(self.text)
        };
        (self.name, value)
    }
}

/// Reads an XML document into a JSON object: the root element's content.
pub(crate) fn to_json(text: &str) -> Result<Value, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Value> = None;
    loop {
        let event = reader.read_event().map_err(|e| {
            format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position()
            )
        })?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err("more than one root element".to_owned());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nest deeper than {MAX_DEPTH} levels"));
                }
                stack.push(Frame::open(&start)?);
            }
            Event::Empty(start) => {
                let name = local_name(&start)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, Value::Null)),
                    None if root.is_none() => root = Some(Value::Object(Map::new())),
                    None => return Err("more than one root element".to_owned()),
                }
            }
            Event::End(_) => {
                let Some(frame) = stack.pop() else {
                    return Err("closing tag without an opening one".to_owned());
                };
                let (name, value) = frame.close();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, value)),
                    None => {
                        root = Some(match value {
                            Value::Object(_) => value,
                            _ => Value::Object(Map::new()),
                        })
                    }
                }
            }
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| e.to_string())?;
                push_text(&mut stack, &text)?;
            }
            Event::CData(data) => {
                let text = data.decode().map_err(|e| e.to_string())?;
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(ch) => ch.to_string(),
                    None => {
                        let name = reference.decode().map_err(|e| e.to_string())?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity &{name};"))?
                            .to_owned()
                    }
                };
                push_text(&mut stack, &resolved)?;
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".to_owned());
    }
    root.ok_or_else(|| "no root element".to_owned())
}

/// Adds text to the open element; text outside the root must be blank.
fn push_text(stack: &mut [Frame], text: &str) -> Result<(), String> {
    match stack.last_mut() {
        Some(frame) => {
            frame.text.push_str(text);
            Ok(())
        }
        None if text.trim().is_empty() => Ok(()),
        None => Err("text outside the root element".to_owned()),
    }
}

/// An element's name without its namespace prefix.
fn local_name(start: &BytesStart<'_>) -> Result<String, String> {
    let name = start.local_name();
    std::str::from_utf8(name.as_ref())
        .map(str::to_owned)
        .map_err(|_| "an element name is not UTF-8".to_owned())
}

/// Children as an object; a name seen more than once becomes a list (an
/// element never yields a list by itself, so any list here is one of these).
fn object(children: Vec<(String, Value)>) -> Value {
    let mut map = Map::new();
    for (name, value) in children {
        match map.get_mut(&name) {
            None => {
                map.insert(name, value);
            }
            Some(Value::Array(list)) => list.push(value),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        }
    }
    Value::Object(map)
}

#[cfg(test)]
mod tests;
