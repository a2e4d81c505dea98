use http::HeaderValue;

use super::*;
use crate::receiver::Receiver;

fn key(text: &str) -> CallbackKey {
    CallbackKey::new(text).expect("a valid key")
}

fn accepted(mode: AuthMode, text: &str) -> Vec<AcceptedKey> {
    vec![AcceptedKey {
        mode,
        key: key(text),
    }]
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

#[test]
fn each_mode_accepts_its_key_where_whispir_puts_it() {
    let none = HeaderMap::new();
    assert!(is_authorised(
        Some("auth=k3y"),
        &none,
        &accepted(AuthMode::QueryParam, "k3y")
    ));
    assert!(is_authorised(
        None,
        &headers(&[("x-whispir-callback-key", "k3y")]),
        &accepted(AuthMode::HttpHeader, "k3y")
    ));
    assert!(is_authorised(
        None,
        &headers(&[("authorization", "Basic dXNlcjpwYXNz")]),
        &accepted(AuthMode::BasicAuth, "dXNlcjpwYXNz")
    ));
    assert!(is_authorised(
        None,
        &headers(&[("authorization", "Bearer k3y")]),
        &accepted(AuthMode::BearerToken, "k3y")
    ));
}

#[test]
fn a_key_in_the_wrong_place_is_refused() {
    let keys = accepted(AuthMode::HttpHeader, "k3y");
    assert!(!is_authorised(Some("auth=k3y"), &HeaderMap::new(), &keys));
    assert!(!is_authorised(
        None,
        &headers(&[("authorization", "Bearer k3y")]),
        &keys
    ));
    let bearer = accepted(AuthMode::BearerToken, "k3y");
    assert!(!is_authorised(
        None,
        &headers(&[("authorization", "Basic k3y")]),
        &bearer
    ));
    assert!(!is_authorised(
        None,
        &headers(&[("x-whispir-callback-key", "k3y")]),
        &bearer
    ));
}

#[test]
fn wrong_missing_or_partial_keys_are_refused() {
    let keys = accepted(AuthMode::QueryParam, "k3y");
    for query in [
        None,
        Some(""),
        Some("auth="),
        Some("auth=k3"),
        Some("auth=k3yy"),
        Some("auth=K3Y"),
        Some("key=k3y"),
    ] {
        assert!(!is_authorised(query, &HeaderMap::new(), &keys), "{query:?}");
    }
}

#[test]
fn the_query_parameter_is_percent_decoded_and_its_name_matched_without_case() {
    let keys = accepted(AuthMode::QueryParam, "a/b=c");
    assert!(is_authorised(
        Some("x=1&Auth=a%2Fb%3Dc"),
        &HeaderMap::new(),
        &keys
    ));
}

/// Every character a query-mode key may have.
const QUERY_SAFE_KEY: &str = "Az09-._~!$'()*,=:@/?k3y==";

#[test]
fn a_query_key_is_accepted_as_whispir_appends_it_and_percent_encoded() {
    let keys = accepted(AuthMode::QueryParam, QUERY_SAFE_KEY);
    let none = HeaderMap::new();
    let appended = format!("auth={QUERY_SAFE_KEY}");
    assert!(is_authorised(Some(&appended), &none, &keys));
    let among_others = format!("x=1&auth={QUERY_SAFE_KEY}&y=2");
    assert!(is_authorised(Some(&among_others), &none, &keys));
    let every_byte_escaped: String = QUERY_SAFE_KEY
        .bytes()
        .map(|byte| format!("%{byte:02X}"))
        .collect();
    let escaped = format!("auth={every_byte_escaped}");
    assert!(is_authorised(Some(&escaped), &none, &keys));
    assert!(!is_authorised(Some("auth=Az09"), &none, &keys));
}

#[test]
fn the_query_value_is_percent_decoded_only_so_a_plus_stays_a_plus() {
    let read = |query: &str| credential(AuthMode::QueryParam, Some(query), &HeaderMap::new());
    assert_eq!(read("auth=a+b"), Some(b"a+b".to_vec()));
    assert_eq!(read("auth=a%2Bb%20c"), Some(b"a+b c".to_vec()));
    assert_eq!(read("auth=a=b="), Some(b"a=b=".to_vec()));
    assert_eq!(read("auth"), Some(Vec::new()));
    // A `%` that starts no escape is kept as it came.
    assert_eq!(read("auth=%zz%4"), Some(b"%zz%4".to_vec()));
}

#[test]
fn a_query_key_that_cannot_travel_unchanged_in_a_url_is_refused_when_configured() {
    for refused in [
        "a+b", "a&b", "a;b", "a#b", "a%b", "a\"b", "a<b", "a>b", "a[b", "a\\b", "a]b", "a^b",
        "a`b", "a{b", "a|b", "a}b",
    ] {
        let error = Receiver::new(AuthMode::QueryParam, key(refused)).expect_err(refused);
        assert!(
            matches!(error, KeyError::NotQuerySafe { position: 1, .. }),
            "{refused}: {error:?}"
        );
        let accepting = Receiver::new(AuthMode::QueryParam, key("fine"))
            .expect("a query-safe key")
            .accept(AuthMode::QueryParam, key(refused));
        assert!(accepting.is_err(), "accept() checks too: {refused}");
        for mode in [
            AuthMode::HttpHeader,
            AuthMode::BasicAuth,
            AuthMode::BearerToken,
        ] {
            assert!(
                Receiver::new(mode, key(refused)).is_ok(),
                "{refused} travels unchanged in a header"
            );
        }
    }
    assert!(Receiver::new(AuthMode::QueryParam, key(QUERY_SAFE_KEY)).is_ok());
}

#[test]
fn a_refused_query_key_is_told_where_and_why_without_showing_the_key() {
    let refused = |text: &str| {
        Receiver::new(AuthMode::QueryParam, key(text))
            .expect_err("refused")
            .to_string()
    };
    let plus = refused("secret+key");
    assert!(
        plus.starts_with("byte 6 of the callback key is a `+`"),
        "{plus}"
    );
    assert!(plus.contains("space"), "{plus}");
    assert!(plus.contains("queryparam"), "{plus}");
    assert!(!plus.contains("secret"), "{plus}");
    assert!(refused("a&b").contains("separates query parameters"));
    assert!(refused("a#b").contains("a `#`, which ends the query"));
    assert!(refused("a%41").contains("percent-escape"));
    assert!(refused("a{b").contains("a URL may not carry unescaped"));
}

#[test]
fn a_credential_given_twice_counts_as_absent() {
    let query = accepted(AuthMode::QueryParam, "k3y");
    assert!(!is_authorised(
        Some("auth=k3y&auth=other"),
        &HeaderMap::new(),
        &query
    ));
    assert!(!is_authorised(
        Some("auth=k3y&AUTH=k3y"),
        &HeaderMap::new(),
        &query
    ));
    let header = accepted(AuthMode::HttpHeader, "k3y");
    let twice = headers(&[
        ("x-whispir-callback-key", "k3y"),
        ("x-whispir-callback-key", "k3y"),
    ]);
    assert!(!is_authorised(None, &twice, &header));
}

#[test]
fn the_authorization_scheme_is_matched_without_case_and_spaces_are_trimmed() {
    let keys = accepted(AuthMode::BearerToken, "k3y");
    assert!(is_authorised(
        None,
        &headers(&[("authorization", "bearer   k3y ")]),
        &keys
    ));
    assert!(is_authorised(
        None,
        &headers(&[("authorization", "BEARER k3y")]),
        &keys
    ));
    assert!(!is_authorised(
        None,
        &headers(&[("authorization", "Bearerk3y")]),
        &keys
    ));
    assert!(!is_authorised(
        None,
        &headers(&[("authorization", "Bearer")]),
        &keys
    ));
}

#[test]
fn every_accepted_key_is_tried_for_rotation() {
    let keys = vec![
        AcceptedKey {
            mode: AuthMode::HttpHeader,
            key: key("old"),
        },
        AcceptedKey {
            mode: AuthMode::HttpHeader,
            key: key("new"),
        },
        AcceptedKey {
            mode: AuthMode::QueryParam,
            key: key("q"),
        },
    ];
    assert!(is_authorised(
        None,
        &headers(&[("x-whispir-callback-key", "old")]),
        &keys
    ));
    assert!(is_authorised(
        None,
        &headers(&[("x-whispir-callback-key", "new")]),
        &keys
    ));
    assert!(is_authorised(Some("auth=q"), &HeaderMap::new(), &keys));
    assert!(!is_authorised(
        None,
        &headers(&[("x-whispir-callback-key", "q")]),
        &keys
    ));
}

#[test]
fn keys_are_checked_when_configured() {
    assert_eq!(CallbackKey::new("").expect_err("empty"), KeyError::Empty);
    assert_eq!(
        CallbackKey::new("x".repeat(MAX_KEY_BYTES + 1)).expect_err("long"),
        KeyError::TooLong { max: MAX_KEY_BYTES }
    );
    assert!(CallbackKey::new("x".repeat(MAX_KEY_BYTES)).is_ok());
    assert_eq!(
        CallbackKey::new("ab cd").expect_err("space"),
        KeyError::InvalidCharacter { position: 2 }
    );
    assert!(CallbackKey::new("é").is_err());
}

#[test]
fn a_key_is_never_shown() {
    let shown = format!("{:?}", accepted(AuthMode::BasicAuth, "top-secret-value"));
    assert!(!shown.contains("top-secret-value"), "{shown}");
    assert!(shown.contains("REDACTED"), "{shown}");
}

#[test]
fn matching_compares_content_and_length() {
    let matches = |key: &str, presented: &[u8]| {
        bool::from(CallbackKey::new(key).expect("key").matches(presented))
    };
    assert!(matches("abc", b"abc"));
    assert!(!matches("abc", b"abd"));
    assert!(!matches("abc", b"abc\0"));
    assert!(!matches("abc", b"ab"));
    assert!(!matches("abc", b""));
    let max = "a".repeat(MAX_KEY_BYTES);
    assert!(matches(&max, max.as_bytes()));
    assert!(!matches(&max, &vec![b'a'; MAX_KEY_BYTES + 1]));
    assert!(!matches(&max, &vec![b'a'; MAX_KEY_BYTES - 1]));
}

#[test]
fn modes_read_whispirs_names() {
    for mode in AuthMode::ALL {
        assert_eq!(mode.as_str().parse::<AuthMode>(), Ok(mode));
    }
    assert_eq!("querystring".parse::<AuthMode>(), Ok(AuthMode::QueryParam));
    assert_eq!(" HttpHeader ".parse::<AuthMode>(), Ok(AuthMode::HttpHeader));
    assert!("oauth".parse::<AuthMode>().is_err());
}
