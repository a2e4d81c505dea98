use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

fn builder() -> ClientBuilder {
    Client::builder()
        .credentials(Credentials::basic("u", "p"))
        .api_key("k")
}

#[test]
fn regions_have_their_hosts() {
    let hosts: Vec<String> = Region::ALL.iter().map(|r| r.base_url()).collect();
    assert_eq!(hosts[0], "https://api.au.whispir.com");
    assert_eq!(hosts[6], "https://api.education.whispir.com");
    assert_eq!("AP1".parse::<Region>().expect("known"), Region::Ap1);
    assert!(matches!(
        "mars".parse::<Region>(),
        Err(BuildError::UnknownRegion(_))
    ));
}

#[test]
fn the_default_region_is_australia() {
    let client = builder().build().expect("builds");
    assert_eq!(client.baseurl, "https://api.au.whispir.com");
}

#[test]
fn plain_http_is_refused_except_on_loopback() {
    let err = builder()
        .base_url("http://api.us.whispir.com")
        .build()
        .expect_err("http");
    assert_eq!(
        err.to_string(),
        "base URL \"http://api.us.whispir.com\" uses plain HTTP: Whispir refuses it (403); use https"
    );
    for local in [
        "http://127.0.0.1:8080",
        "http://localhost:3000/",
        "http://[::1]:9000",
    ] {
        let client = builder().base_url(local).build().expect("loopback is fine");
        assert!(!client.baseurl.ends_with('/'));
    }
}

#[test]
fn credentials_in_the_base_url_are_refused_without_echoing_them() {
    let err = builder()
        .base_url("https://u:secret@api.au.whispir.com")
        .build()
        .expect_err("userinfo");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(
        err.to_string().contains("must not contain credentials"),
        "{err}"
    );
}

#[test]
fn missing_credentials_or_key_are_named() {
    let err = Client::builder()
        .api_key("k")
        .build()
        .expect_err("no credentials");
    assert!(matches!(err, BuildError::MissingCredentials));
    let err = Client::builder()
        .credentials(Credentials::bearer("t"))
        .build()
        .expect_err("no key");
    assert!(matches!(err, BuildError::MissingApiKey));
}

#[test]
fn from_env_reads_basic_credentials_and_region() {
    let builder = Client::builder_from(env(&[
        ("WHISPIR_API_KEY", "k"),
        ("WHISPIR_USERNAME", "u"),
        ("WHISPIR_PASSWORD", "p"),
        ("WHISPIR_REGION", "nz"),
    ]))
    .expect("complete");
    assert_eq!(
        builder.build().expect("builds").baseurl,
        "https://api.nz.whispir.com"
    );
}

#[test]
fn from_env_prefers_the_base_url_and_accepts_a_token() {
    let builder = Client::builder_from(env(&[
        ("WHISPIR_API_KEY", "k"),
        ("WHISPIR_TOKEN", "t"),
        ("WHISPIR_REGION", "us"),
        ("WHISPIR_BASE_URL", "http://127.0.0.1:9"),
    ]))
    .expect("complete");
    assert_eq!(
        builder.build().expect("builds").baseurl,
        "http://127.0.0.1:9"
    );
}

#[test]
fn from_env_names_what_is_missing_or_ambiguous() {
    let err = Client::builder_from(env(&[])).expect_err("nothing set");
    assert_eq!(
        err.to_string(),
        "environment variables WHISPIR_API_KEY is not set; \
         WHISPIR_USERNAME and WHISPIR_PASSWORD are not set (nor WHISPIR_TOKEN)"
    );
    let err = Client::builder_from(env(&[("WHISPIR_TOKEN", "t")])).expect_err("no key");
    assert_eq!(
        err.to_string(),
        "environment variable WHISPIR_API_KEY is not set"
    );
    let err = Client::builder_from(env(&[("WHISPIR_API_KEY", "k"), ("WHISPIR_USERNAME", "u")]))
        .expect_err("no password");
    assert_eq!(
        err.to_string(),
        "environment variable WHISPIR_PASSWORD is not set"
    );
    let err = Client::builder_from(env(&[
        ("WHISPIR_API_KEY", "k"),
        ("WHISPIR_TOKEN", "t"),
        ("WHISPIR_USERNAME", "u"),
    ]))
    .expect_err("both");
    assert!(err.to_string().contains("set one or the other"), "{err}");
}

#[test]
fn debug_of_a_builder_and_client_shows_no_secret() {
    let builder = Client::builder()
        .credentials(Credentials::basic("u", "pw-secret"))
        .api_key("key-secret");
    let shown = format!("{builder:?}");
    let client = builder.build().expect("builds");
    let shown = format!("{shown} {client:?}");
    assert!(
        !shown.contains("pw-secret") && !shown.contains("key-secret"),
        "{shown}"
    );
}
