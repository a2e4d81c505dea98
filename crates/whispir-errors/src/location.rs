//! Helpers for the `Location` header that 201, 202, 301 and 302 carry.

use http::HeaderMap;
use url::Url;

/// Why a `Location` header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LocationError {
    /// The response has no `Location` header.
    #[error("the response has no Location header")]
    Missing,
    /// The header is not a URL, absolute or relative.
    #[error("the Location header {value:?} is not a URL: {reason}")]
    Invalid {
        /// The header as received.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The `Location` of a response as an absolute URL: a relative one is
/// resolved against the URL of the request it answers.
pub fn resolve_location(request_url: &Url, headers: &HeaderMap) -> Result<Url, LocationError> {
    let value = headers
        .get(http::header::LOCATION)
        .ok_or(LocationError::Missing)?;
    // A valid header is visible ASCII; anything else is read leniently.
    let text = match value.to_str() {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(LocationError::Missing);
    }
    request_url
        .join(text)
        .map_err(|err| LocationError::Invalid {
            value: text.to_string(),
            reason: err.to_string(),
        })
}

/// The id a resource URL ends with: `…/messages/CD34` → `CD34`.
pub fn resource_id(location: &Url) -> Option<&str> {
    location
        .path_segments()?
        .rev()
        .find(|segment| !segment.is_empty())
}

/// Whether two URLs have the same scheme, host and port.
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether going from `from` to `to` would leave HTTPS for plain HTTP.
pub fn is_downgrade(from: &Url, to: &Url) -> bool {
    from.scheme() == "https" && to.scheme() != "https"
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(location: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::LOCATION,
            HeaderValue::from_str(location).expect("valid"),
        );
        headers
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect("url")
    }

    #[test]
    fn absolute_locations_are_kept() {
        let request = url("https://api.au.whispir.com/workspaces/AB/messages");
        let resolved = resolve_location(
            &request,
            &headers("https://api.au.whispir.com/workspaces/AB/messages/CD34"),
        );
        assert_eq!(
            resolved.expect("valid").as_str(),
            "https://api.au.whispir.com/workspaces/AB/messages/CD34"
        );
    }

    #[test]
    fn relative_locations_resolve_against_the_request() {
        let request = url("https://api.au.whispir.com/workspaces/AB/messages?x=1");
        let resolved =
            resolve_location(&request, &headers("/workspaces/AB/messages/CD34")).expect("valid");
        assert_eq!(
            resolved.as_str(),
            "https://api.au.whispir.com/workspaces/AB/messages/CD34"
        );
        let sibling = resolve_location(&request, &headers("messages/EF")).expect("valid");
        assert_eq!(
            sibling.as_str(),
            "https://api.au.whispir.com/workspaces/AB/messages/EF"
        );
    }

    #[test]
    fn missing_and_invalid_locations_are_reported() {
        let request = url("https://api.au.whispir.com/messages");
        assert_eq!(
            resolve_location(&request, &HeaderMap::new()),
            Err(LocationError::Missing)
        );
        assert_eq!(
            resolve_location(&request, &headers("  ")),
            Err(LocationError::Missing)
        );
        let err = resolve_location(&request, &headers("http://[::1")).expect_err("invalid");
        assert!(
            err.to_string()
                .starts_with("the Location header \"http://[::1\" is not a URL"),
            "{err}"
        );
    }

    #[test]
    fn the_resource_id_is_the_last_segment() {
        assert_eq!(
            resource_id(&url("https://h/workspaces/AB/messages/CD34")),
            Some("CD34")
        );
        assert_eq!(resource_id(&url("https://h/contacts/EF/")), Some("EF"));
        assert_eq!(resource_id(&url("https://h/")), None);
    }

    #[test]
    fn origins_and_downgrades() {
        let a = url("https://api.au.whispir.com/x");
        assert!(same_origin(&a, &url("https://api.au.whispir.com:443/y")));
        assert!(!same_origin(&a, &url("https://api.us.whispir.com/x")));
        assert!(!same_origin(&a, &url("http://api.au.whispir.com/x")));
        assert!(!same_origin(
            &url("http://127.0.0.1:1/"),
            &url("http://127.0.0.1:2/")
        ));
        assert!(is_downgrade(&a, &url("http://api.au.whispir.com/x")));
        assert!(!is_downgrade(&url("http://127.0.0.1/"), &url("https://x/")));
    }
}
