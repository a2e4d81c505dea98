//! Whispir's XML twins of JSON bodies: reading a request body into JSON,
//! and writing a JSON value as XML (callback payloads).

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// How deep XML elements may nest.
const MAX_DEPTH: usize = 64;

/// Reads an XML document into JSON: an element with children becomes an
/// object, one with only text a string, a repeated element an array.
pub(crate) fn to_json(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<(String, Map<String, Value>, String)> = Vec::new();
    let mut buffer = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buffer)
            .map_err(|err| err.to_string())?;
        match event {
            Event::Start(start) => {
                if stack.len() >= MAX_DEPTH {
                    return Err("elements nest too deep".into());
                }
                let name = local_name(start.name().as_ref());
                stack.push((name, Map::new(), String::new()));
            }
            Event::Empty(empty) => {
                let name = local_name(empty.name().as_ref());
                match stack.last_mut() {
                    Some((_, children, _)) => {
                        add_child(children, name, Value::String(String::new()))
                    }
                    None => return Ok(Value::Object(Map::new())),
                }
            }
            Event::Text(text) => {
                let text = text.decode().map_err(|err| err.to_string())?;
                if let Some((_, _, own)) = stack.last_mut() {
                    own.push_str(&text);
                }
            }
            Event::GeneralRef(reference) => {
                let character = match reference
                    .resolve_char_ref()
                    .map_err(|err| err.to_string())?
                {
                    Some(character) => character,
                    None => match reference.decode().map_err(|err| err.to_string())?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(format!("unknown entity &{other};")),
                    },
                };
                if let Some((_, _, own)) = stack.last_mut() {
                    own.push(character);
                }
            }
            Event::CData(data) => {
                if let Some((_, _, own)) = stack.last_mut() {
                    own.push_str(&String::from_utf8_lossy(&data));
                }
            }
            Event::End(_) => {
                let Some((name, children, text)) = stack.pop() else {
                    return Err("an end tag without a start".into());
                };
                let value = if children.is_empty() {
                    Value::String(text.trim().to_string())
                } else {
                    Value::Object(children)
                };
                match stack.last_mut() {
                    Some((_, parent, _)) => add_child(parent, name, value),
                    None => {
                        return Ok(match value {
                            Value::String(text) if text.is_empty() => Value::Object(Map::new()),
                            other => other,
                        });
                    }
                }
            }
            Event::Eof => return Err("the document ends early".into()),
            _ => {}
        }
        buffer.clear();
    }
}

fn local_name(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    match name.rsplit_once(':') {
        Some((_, local)) => local.to_string(),
        None => name.into_owned(),
    }
}

fn add_child(children: &mut Map<String, Value>, name: String, value: Value) {
    match children.get_mut(&name) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None => {
            children.insert(name, value);
        }
    }
}

/// Writes a JSON object as an XML document with this root element.
pub(crate) fn from_json(root: &str, value: &Value) -> String {
    let mut out = String::from(r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#);
    write_element(
        &mut out,
        root,
        value,
        Some(r#" xmlns:ns2="http://schemas.api.whispir.com""#),
    );
    out
}

fn write_element(out: &mut String, name: &str, value: &Value, attributes: Option<&str>) {
    match value {
        Value::Array(items) => {
            for item in items {
                write_element(out, name, item, None);
            }
        }
        Value::Null => {}
        _ => {
            out.push('<');
            out.push_str(name);
            out.push_str(attributes.unwrap_or(""));
            out.push('>');
            match value {
                Value::Object(map) => {
                    for (key, child) in map {
                        write_element(out, key, child, None);
                    }
                }
                Value::String(text) => out.push_str(&quick_xml::escape::escape(text.as_str())),
                other => out.push_str(&other.to_string()),
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use serde_json::json;

    use super::*;

    #[test]
    fn an_xml_contact_reads_as_json() {
        let xml = br#"<?xml version="1.0"?><ns2:contact xmlns:ns2="http://schemas.api.whispir.com">
            <firstName>Ann &amp; Co</firstName><lastName>Lee</lastName>
            <messagingoptions><channel>sms</channel></messagingoptions>
            <messagingoptions><channel>email</channel></messagingoptions></ns2:contact>"#;
        let value = to_json(xml).unwrap();
        assert_eq!(value["firstName"], "Ann & Co");
        assert_eq!(value["messagingoptions"][1]["channel"], "email");
    }

    #[test]
    fn broken_xml_is_an_error_not_a_panic() {
        assert!(to_json(b"<a><b></a>").is_err());
        assert!(to_json(b"<a>").is_err());
        let deep = "<a>".repeat(100);
        assert!(to_json(deep.as_bytes()).is_err());
    }

    #[test]
    fn json_writes_as_escaped_xml() {
        let xml = from_json(
            "ns2:deliveryResponse",
            &json!({"messageid": "A1", "from": {"name": "<Fred>"}}),
        );
        assert!(xml.contains("<messageid>A1</messageid>"));
        assert!(xml.contains("<name>&lt;Fred&gt;</name>"));
        assert_eq!(to_json(xml.as_bytes()).unwrap()["from"]["name"], "<Fred>");
    }
}
