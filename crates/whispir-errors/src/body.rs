//! Error bodies, parsed leniently: whatever the server or a proxy sent,
//! the result is a value, never a panic.

use std::fmt;

use bytes::Bytes;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde::Deserialize;

/// How many bytes of an error body are kept by default.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The first bytes of a response body, and whether more was cut off.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct RawBody {
    bytes: Bytes,
    truncated: bool,
}

impl RawBody {
    /// A body of `bytes`; `truncated` says the server sent more.
    pub fn new(bytes: Bytes, truncated: bool) -> Self {
        Self { bytes, truncated }
    }

    /// The kept bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Whether the server sent more than was kept.
    pub fn is_truncated(&self) -> bool {
        self.truncated
    }

    /// The kept bytes as text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }
}

impl fmt::Debug for RawBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawBody")
            .field("len", &self.bytes.len())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// What an error body said, in whichever form it came.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorBody {
    /// The classic JSON body: `errorSummary`, `errorText`, `errorDetail`.
    Classic {
        /// One sentence on what went wrong.
        summary: Option<String>,
        /// Short name of the error.
        text: Option<String>,
        /// Technical detail.
        detail: Option<String>,
    },
    /// The newer JSON body: `status`, `message`, `detail`.
    NextGen {
        /// The status repeated in the body.
        status: Option<u16>,
        /// What went wrong.
        message: Option<String>,
        /// Technical detail.
        detail: Option<String>,
    },
    /// The XML body the API sends when no JSON media type was negotiated.
    Xml {
        /// `errorSummary`.
        summary: Option<String>,
        /// `errorText`.
        text: Option<String>,
        /// `errorDetail`.
        detail: Option<String>,
    },
    /// Plain text (413 sends one).
    Text(String),
    /// An HTML page, typically from a gateway or proxy; its visible text.
    Html(String),
    /// No body at all.
    Empty,
    /// Something else: truncated or invalid JSON, binary data. The raw body
    /// is still available on the error.
    Unrecognized,
}

impl ApiErrorBody {
    /// The server's own message, the most useful sentence of the body.
    pub fn message(&self) -> Option<&str> {
        match self {
            ApiErrorBody::Classic {
                summary,
                text,
                detail,
            }
            | ApiErrorBody::Xml {
                summary,
                text,
                detail,
            } => summary.as_deref().or(text.as_deref()).or(detail.as_deref()),
            ApiErrorBody::NextGen {
                message, detail, ..
            } => message.as_deref().or(detail.as_deref()),
            ApiErrorBody::Text(text) | ApiErrorBody::Html(text) => {
                Some(text.as_str()).filter(|t| !t.is_empty())
            }
            ApiErrorBody::Empty | ApiErrorBody::Unrecognized => None,
        }
    }

    /// The API's own words on one line, for `Display`: the summary and the
    /// error text of a classic body (`errorSummary: errorText`, whichever
    /// are present and different), the NextGen `message`, or the text of a
    /// text or HTML body; each part trimmed.
    pub fn text_line(&self) -> Option<String> {
        let present = |part: &Option<String>| {
            part.as_deref()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(str::to_string)
        };
        match self {
            ApiErrorBody::Classic {
                summary,
                text,
                detail,
            }
            | ApiErrorBody::Xml {
                summary,
                text,
                detail,
            } => match (present(summary), present(text)) {
                (Some(summary), Some(text)) if summary != text => Some(joined(&summary, &text)),
                (Some(summary), _) => Some(summary),
                (None, Some(text)) => Some(text),
                (None, None) => present(detail),
            },
            ApiErrorBody::NextGen {
                message, detail, ..
            } => present(message).or_else(|| present(detail)),
            ApiErrorBody::Text(text) | ApiErrorBody::Html(text) => present(&Some(text.clone())),
            ApiErrorBody::Empty | ApiErrorBody::Unrecognized => None,
        }
    }

    /// The most specific of the API's words on one line, for `Display`:
    /// like [`ApiErrorBody::text_line`], but a part that only repeats what
    /// the status says (one of `generic`: the code table's summary, the
    /// reason phrase) gives way to the next, down to the detail, so that
    /// "A request parameter is missing or invalid. Bad Request" becomes the
    /// API's reason ("limit … greater than the maximum of 20"). Falls back
    /// to the generic words when there are no others.
    pub fn specific_line(&self, generic: &[&str]) -> Option<String> {
        let normal = |text: &str| {
            text.trim()
                .trim_end_matches(['.', '!'])
                .trim()
                .to_ascii_lowercase()
        };
        let specific = |part: &Option<String>| {
            part.as_deref()
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .filter(|part| !generic.iter().any(|g| normal(g) == normal(part)))
                .map(str::to_string)
        };
        let line = match self {
            ApiErrorBody::Classic {
                summary,
                text,
                detail,
            }
            | ApiErrorBody::Xml {
                summary,
                text,
                detail,
            } => match (specific(summary), specific(text)) {
                (Some(summary), Some(text)) if summary != text => Some(joined(&summary, &text)),
                (Some(one), _) | (None, Some(one)) => Some(one),
                (None, None) => specific(detail),
            },
            ApiErrorBody::NextGen {
                message, detail, ..
            } => specific(message).or_else(|| specific(detail)),
            ApiErrorBody::Text(_)
            | ApiErrorBody::Html(_)
            | ApiErrorBody::Empty
            | ApiErrorBody::Unrecognized => None,
        };
        line.or_else(|| self.text_line())
    }

    /// The technical detail, when the body has one besides the message.
    pub fn detail(&self) -> Option<&str> {
        match self {
            ApiErrorBody::Classic { detail, .. }
            | ApiErrorBody::Xml { detail, .. }
            | ApiErrorBody::NextGen { detail, .. } => detail.as_deref(),
            _ => None,
        }
    }
}

/// A summary and the text after it; a summary that ends a sentence needs
/// no colon.
fn joined(summary: &str, text: &str) -> String {
    let joint = if summary.ends_with(['.', '!', '?', ':']) {
        " "
    } else {
        ": "
    };
    format!("{summary}{joint}{text}")
}

/// The longest message kept from a text or HTML body.
const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JsonError {
    error_summary: Option<serde_json::Value>,
    error_text: Option<serde_json::Value>,
    error_detail: Option<serde_json::Value>,
    status: Option<serde_json::Value>,
    message: Option<serde_json::Value>,
    detail: Option<serde_json::Value>,
}

/// Parses an error body. `content_type` helps, but the bytes decide.
pub fn parse_error_body(content_type: Option<&str>, body: &[u8]) -> ApiErrorBody {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() {
        return ApiErrorBody::Empty;
    }
    let content_type = content_type.unwrap_or_default().to_ascii_lowercase();
    let text = String::from_utf8_lossy(trimmed);
    if trimmed.starts_with(b"{") {
        return parse_json(trimmed);
    }
    let looks_like_html = content_type.contains("html")
        || text.get(..15).is_some_and(|start| {
            let start = start.to_ascii_lowercase();
            start.starts_with("<!doctype html") || start.starts_with("<html")
        });
    if trimmed.starts_with(b"<")
        && !looks_like_html
        && let Some(xml) = parse_xml(&text)
    {
        return xml;
    }
    if trimmed.starts_with(b"<") || looks_like_html {
        return ApiErrorBody::Html(shorten(&visible_text(&text)));
    }
    if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return ApiErrorBody::Unrecognized;
    }
    ApiErrorBody::Text(shorten(&text))
}

fn parse_json(body: &[u8]) -> ApiErrorBody {
    let Ok(json) = serde_json::from_slice::<JsonError>(body) else {
        return ApiErrorBody::Unrecognized;
    };
    // Every text is shortened: an error line stays readable, and a body
    // that echoes a whole request does not end up in logs whole.
    let text = |value: Option<serde_json::Value>| match value {
        Some(serde_json::Value::String(s)) => Some(shorten(&s)),
        Some(serde_json::Value::Null) | None => None,
        Some(other) => Some(shorten(&other.to_string())),
    };
    if json.error_summary.is_some() || json.error_text.is_some() || json.error_detail.is_some() {
        return ApiErrorBody::Classic {
            summary: text(json.error_summary),
            text: text(json.error_text),
            detail: text(json.error_detail),
        };
    }
    if json.message.is_some() || json.detail.is_some() || json.status.is_some() {
        let status = json.status.as_ref().and_then(|s| match s {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        });
        return ApiErrorBody::NextGen {
            status,
            message: text(json.message),
            detail: text(json.detail),
        };
    }
    ApiErrorBody::Unrecognized
}

/// Reads `errorSummary`, `errorText` and `errorDetail` elements, wherever
/// they are nested. `None` when the text is not XML or has none of them.
fn parse_xml(text: &str) -> Option<ApiErrorBody> {
    let mut reader = Reader::from_str(text);
    let mut current: Option<&'static str> = None;
    let (mut summary, mut error_text, mut detail) = (None, None, None);
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                let name = start.local_name();
                current = match name.as_ref() {
                    b"errorSummary" => Some("summary"),
                    b"errorText" => Some("text"),
                    b"errorDetail" => Some("detail"),
                    _ => None,
                };
            }
            Ok(Event::Text(content)) => {
                let value = content.decode().ok().map(|v| v.trim().to_string());
                let value = value.filter(|v| !v.is_empty());
                match current {
                    Some("summary") => summary = value,
                    Some("text") => error_text = value,
                    Some("detail") => detail = value,
                    _ => {}
                }
            }
            Ok(Event::End(_)) => current = None,
            Ok(Event::Eof) => break,
            Err(_) => return None,
            Ok(_) => {}
        }
    }
    if summary.is_none() && error_text.is_none() && detail.is_none() {
        return None;
    }
    Some(ApiErrorBody::Xml {
        summary,
        text: error_text,
        detail,
    })
}

/// The visible text of an HTML page: tags, scripts and styles removed,
/// white space folded.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(4096));
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        out.push(' ');
        let after = &rest[start..];
        let lower = after.get(..8).unwrap_or(after).to_ascii_lowercase();
        let skip_until = if lower.starts_with("<script") {
            Some("</script>")
        } else if lower.starts_with("<style") {
            Some("</style>")
        } else {
            None
        };
        rest = match skip_until {
            Some(end) => match after.to_ascii_lowercase().find(end) {
                Some(i) => &after[i + end.len()..],
                None => "",
            },
            None => match after.find('>') {
                Some(i) => &after[i + 1..],
                None => "",
            },
        };
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shorten(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= MAX_MESSAGE_CHARS {
        folded
    } else {
        let mut short: String = folded.chars().take(MAX_MESSAGE_CHARS).collect();
        short.push('…');
        short
    }
}

#[cfg(test)]
mod tests;
