//! Path arguments stay in their segment: every id a user passes becomes
//! exactly one path segment under its documented prefix, or the request is
//! refused before anything is sent.
//!
//! The generated code calls [`encode`] for every path parameter (see
//! `xtask/src/passes/path_segments.rs`) and [`workspace_prefix`] for the workspace
//! of scoped operations. Both borrow the argument when it needs no
//! encoding, so building a path allocates nothing beyond the URL itself.

use std::borrow::Cow;
use std::fmt;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// is percent-encoded, `/ \ ? # %` included.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The characters of a workspace id: the spec documents `^[A-F0-9]+$`.
pub(crate) const WORKSPACE_ID_CHARACTERS: Allowed = Allowed::new("ABCDEF0123456789");

/// The characters a path parameter's documented pattern allows. Made at
/// compile time (the generated calls write `const { Allowed::new("…") }`):
/// patterns are ASCII classes, checked against a bit set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Allowed {
    chars: &'static str,
    /// The characters as a bit set, when all are ASCII.
    ascii: Option<u128>,
}

impl Allowed {
    /// The characters of `chars`.
    pub(crate) const fn new(chars: &'static str) -> Self {
        let bytes = chars.as_bytes();
        let mut set = 0u128;
        let mut all_ascii = true;
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if byte < 128 {
                set |= 1 << byte;
            } else {
                all_ascii = false;
            }
            index += 1;
        }
        Self {
            chars,
            ascii: if all_ascii { Some(set) } else { None },
        }
    }

    /// The first character of `value` not allowed.
    fn first_not_allowed(&self, value: &str) -> Option<char> {
        match self.ascii {
            Some(set) => value
                .chars()
                .find(|&c| !(c.is_ascii() && set & (1 << u32::from(c)) != 0)),
            None => value.chars().find(|&c| !self.chars.contains(c)),
        }
    }
}

/// The longest argument quoted back in an error.
const QUOTED: usize = 40;

fn quoted(value: &str) -> String {
    let mut shown: String = value.chars().take(QUOTED).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}

/// Bytes reserved for a request URL: a regional base URL and the longest
/// Whispir path with its ids fit.
const URL_CAPACITY: usize = 128;

/// A request URL formatted into one buffer. Every generated call formats
/// its URL with this instead of `format!`, which starts from an empty string
/// when the template begins with an argument (the base URL) and grows it
/// several times.
#[inline]
pub(crate) fn url(parts: std::fmt::Arguments<'_>) -> String {
    use std::fmt::Write as _;
    let mut url = String::with_capacity(URL_CAPACITY);
    if url.write_fmt(parts).is_err() {
        // Only a failing `Display` could get here, and the parts (the base
        // URL, encoded segments, the workspace prefix) never fail. An empty
        // URL is refused when the request is built, instead of a partial
        // URL being sent.
        url.clear();
    }
    url
}

/// `value` as one path segment for the parameter `name`, or why it cannot
/// be one: empty, `.` or `..`, or outside the characters `allowed` by the
/// parameter's documented pattern.
pub(crate) fn encode<'a>(
    name: &str,
    value: &'a str,
    allowed: Option<&Allowed>,
) -> Result<Cow<'a, str>, String> {
    if value.is_empty() {
        return Err(format!("{name} is empty"));
    }
    if value == "." || value == ".." {
        return Err(format!(
            "{name} {} would leave its place in the URL",
            quoted(value)
        ));
    }
    if let Some(allowed) = allowed
        && let Some(bad) = allowed.first_not_allowed(value)
    {
        return Err(format!(
            "{name} {} has {bad:?}, which its documented form does not allow (only {})",
            quoted(value),
            allowed.chars
        ));
    }
    Ok(utf8_percent_encode(value, NOT_UNRESERVED).into())
}

/// A workspace id as one path segment, or why it cannot be one.
pub(crate) fn encode_workspace(value: &str) -> Result<Cow<'_, str>, String> {
    encode("workspace_id", value, Some(&WORKSPACE_ID_CHARACTERS))
}

/// The path prefix of a workspace-scoped operation: empty without a
/// workspace (the unscoped path, the company's default workspace),
/// `/workspaces/{id}` with one. The generated calls put it between the base
/// URL and the operation's path.
pub(crate) fn workspace_prefix(workspace: Option<&str>) -> Result<WorkspacePrefix<'_>, String> {
    workspace
        .map(encode_workspace)
        .transpose()
        .map(WorkspacePrefix)
}

/// The path prefix of a workspace-scoped operation, written by `Display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WorkspacePrefix<'a>(Option<Cow<'a, str>>);

impl fmt::Display for WorkspacePrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(id) => write!(f, "/workspaces/{id}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowed_characters_are_checked_as_listed() {
        let first = |value, allowed| Allowed::new(allowed).first_not_allowed(value);
        assert_eq!(first("CD34", "ABCDEF0123456789"), None);
        assert_eq!(first("CD3x", "ABCDEF0123456789"), Some('x'));
        assert_eq!(first("CDé", "ABCDEF"), Some('é'));
        // DEL and NUL are ASCII but never listed.
        assert_eq!(first("A\u{7f}", "A"), Some('\u{7f}'));
        assert_eq!(first("\0", "A"), Some('\0'));
        // A list with other characters is searched as it is.
        assert_eq!(first("aé", "aé"), None);
        assert_eq!(first("aéb", "aé"), Some('b'));
    }

    #[test]
    fn a_url_is_formatted_whole_into_one_buffer() {
        let base = "https://api.au.whispir.com";
        let url = url(format_args!(
            "{}{}/messages/{}",
            base,
            workspace_prefix(Some("AB12")).expect("valid"),
            encode("message_id", "CD34", None).expect("valid")
        ));
        assert_eq!(
            url,
            "https://api.au.whispir.com/workspaces/AB12/messages/CD34"
        );
        assert_eq!(url.capacity(), URL_CAPACITY);
    }

    #[test]
    fn a_failing_part_gives_an_empty_url_not_a_partial_one() {
        struct Broken;
        impl std::fmt::Display for Broken {
            fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                Err(std::fmt::Error)
            }
        }
        assert_eq!(
            url(format_args!("https://api.au.whispir.com/{}", Broken)),
            ""
        );
    }

    #[test]
    fn a_workspace_is_a_checked_path_prefix() {
        let shown = |id| workspace_prefix(id).map(|prefix| prefix.to_string());
        assert_eq!(shown(None).as_deref(), Ok(""));
        assert_eq!(shown(Some("AB12")).as_deref(), Ok("/workspaces/AB12"));
        assert!(matches!(
            encode_workspace("AB12"),
            Ok(Cow::Borrowed("AB12"))
        ));
        for odd in ["a/b", "..", "", "%2E%2E", "ab12"] {
            assert!(workspace_prefix(Some(odd)).is_err(), "{odd}");
        }
    }

    #[test]
    fn dot_segments_and_empty_ids_are_refused() {
        for value in ["", ".", ".."] {
            assert!(encode("contact_id", value, None).is_err(), "{value:?}");
        }
        let err = encode("contact_id", "..", None).expect_err("dot-dot");
        assert_eq!(err, "contact_id \"..\" would leave its place in the URL");
    }

    #[test]
    fn separators_and_escapes_are_encoded() {
        assert_eq!(
            encode("contact_id", "..\\users\\U1", None).as_deref(),
            Ok("..%5Cusers%5CU1")
        );
        assert_eq!(
            encode("contact_id", "a/b?c#d%e", None).as_deref(),
            Ok("a%2Fb%3Fc%23d%25e")
        );
        assert_eq!(
            encode("contact_id", "%2e%2e", None).as_deref(),
            Ok("%252e%252e")
        );
        assert_eq!(
            encode("contact_id", "Ab-1._~", None).as_deref(),
            Ok("Ab-1._~")
        );
        assert_eq!(encode("contact_id", "é", None).as_deref(), Ok("%C3%A9"));
    }

    #[test]
    fn a_documented_pattern_is_enforced() {
        assert_eq!(encode_workspace("AB12").as_deref(), Ok("AB12"));
        let err = encode_workspace("ab12").expect_err("lowercase");
        assert!(err.starts_with("workspace_id \"ab12\" has 'a'"), "{err}");
        assert!(encode_workspace("..").is_err());
    }

    #[test]
    fn the_workspace_characters_are_the_spec_s() {
        let bundled: serde_json::Value =
            serde_json::from_str(include_str!("../../../../openapi/bundled.json")).expect("json");
        let mut seen = 0;
        let mut check = |param: &serde_json::Value| {
            if param.get("name").and_then(|n| n.as_str()) == Some("workspaceId")
                && let Some(pattern) = param.pointer("/schema/pattern").and_then(|p| p.as_str())
            {
                assert!(pattern.starts_with("^[A-F0-9]+"), "{pattern}");
                seen += 1;
            }
        };
        for item in bundled["paths"].as_object().expect("paths").values() {
            for param in item["parameters"].as_array().into_iter().flatten() {
                check(param);
            }
        }
        assert!(seen > 0, "the spec documents the workspace id's form");
    }
}
