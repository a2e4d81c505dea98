//! No credential ever appears in an error's Display, alternate Display or Debug.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::{Client, Credentials, types};
use whispir_tests::expect_error;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRETS: [&str; 4] = ["urlsecret", "pwdsecret", "keysecret", "bodysecret"];

fn client(base_url: &str) -> Client {
    Client::builder()
        .base_url(base_url)
        .credentials(Credentials::basic("ops", "pwdsecret"))
        .api_key("keysecret")
        .build()
        .expect("a loopback client")
}

fn assert_clean(err: &whispir::Error) {
    let shown = format!("{err}\n{err:#}\n{err:?}\n{err:#?}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
}

async fn send(client: &Client) -> whispir::Error {
    let message = types::Message::builder()
        .to("61400000001")
        .subject("bodysecret")
        .body(Some("bodysecret".to_string()));
    expect_error(
        client
            .message_create()
            .workspace_id("AB12")
            .body(message)
            .send()
            .await,
    )
}

#[tokio::test]
async fn error_responses_show_no_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(401).set_body_string("{\"errorSummary\":\"Unauthorized\"}"),
        )
        .mount(&server)
        .await;
    let err = send(&client(&server.uri())).await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_clean(&err);
}

#[tokio::test]
async fn transport_errors_show_no_credentials() {
    // A port nothing listens on: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let err = send(&client(&format!("http://127.0.0.1:{port}"))).await;
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.send_state(), Some(whispir::SendState::NotSent));
    assert_eq!(err.operation(), Some("messageCreate"));
    assert_eq!(err.method(), Some(&reqwest::Method::POST));
    assert!(
        err.is_retryable(),
        "a send that never left may be sent again"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "messageCreate: could not connect to 127.0.0.1:{port}; the request was not sent"
        )),
        "{err}"
    );
    assert_clean(&err);
}

#[test]
fn a_base_url_with_credentials_is_refused_without_showing_them() {
    let err = Client::builder()
        .base_url("http://ops:urlsecret@127.0.0.1:9")
        .credentials(Credentials::basic("ops", "pwdsecret"))
        .api_key("keysecret")
        .build()
        .expect_err("credentials belong in the builder");
    let shown = format!("{err}\n{err:?}");
    assert!(shown.contains("must not contain credentials"), "{shown}");
    for secret in SECRETS {
        assert!(!shown.contains(secret), "{secret} leaked:\n{shown}");
    }
}

/// Every generated model (and builder) with a field that carries a secret,
/// as `openapi/secret-fields.md` and the bundled spec decide it, filled
/// with a sentinel: no `Debug` and no error text shows it, and the encoded
/// model still carries it.
mod secret_fields {
    use std::collections::{BTreeMap, BTreeSet};
    use std::fmt::{Debug, Display};

    use serde::Serialize;
    use serde::de::DeserializeOwned;
    use serde_json::{Map, Value, json};
    use whispir::types::{self, builder};

    const SENTINEL: &str = "S3NTINEL-only-the-wire-may-see-this";

    fn bundled() -> Value {
        serde_json::from_str(include_str!("../../openapi/bundled.json")).expect("bundled.json")
    }

    /// The table's rows: field, and whether it is a secret.
    fn table() -> Vec<(String, bool)> {
        include_str!("../../openapi/secret-fields.md")
            .lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
                (cells[0].trim_matches('`').to_string(), cells[1] == "yes")
            })
            .collect()
    }

    /// Every property of the spec's models by the table's name for it
    /// (`Callback.auth.key`), as the generator walks them.
    fn properties(spec: &Value) -> BTreeMap<String, Value> {
        fn walk(schema: &Value, at: &str, found: &mut BTreeMap<String, Value>) {
            if let Some(items) = schema.get("items") {
                walk(items, at, found);
            }
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let field = format!("{at}.{name}");
                if property.get("$ref").is_none() {
                    walk(property, &field, found);
                }
                found.insert(field, property.clone());
            }
        }
        let mut found = BTreeMap::new();
        for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
            walk(schema, name, &mut found);
        }
        for item in spec["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                    continue;
                };
                for media in operation["requestBody"]["content"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    let schema = &media.1["schema"];
                    if schema.get("$ref").is_none() {
                        walk(schema, id, &mut found);
                    }
                }
            }
        }
        found
    }

    /// The secret fields: `format: password` or `writeOnly`, unless the
    /// table says no; and every field the table says yes of.
    fn secret_fields(spec: &Value) -> BTreeSet<String> {
        let properties = properties(spec);
        let table = table();
        for (field, _) in &table {
            assert!(
                properties.contains_key(field),
                "the table's {field} is not in the spec"
            );
        }
        properties
            .iter()
            .filter(
                |(field, property)| match table.iter().find(|(listed, _)| listed == *field) {
                    Some((_, secret)) => *secret,
                    None => property["format"] == "password" || property["writeOnly"] == true,
                },
            )
            .map(|(field, _)| field.clone())
            .collect()
    }

    fn capitalized(name: &str) -> String {
        let mut chars = name.chars();
        chars
            .next()
            .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    }

    /// The schema a `$ref` names, or the schema itself.
    fn resolved<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(path) => spec
                .pointer(path.trim_start_matches('#'))
                .expect("a $ref to the spec"),
            None => schema,
        }
    }

    /// A value `schema` accepts: its required properties, and every
    /// property on the way to a secret, which holds the sentinel.
    fn instance(spec: &Value, schema: &Value, at: &str, secrets: &BTreeSet<String>) -> Value {
        let schema = resolved(spec, schema);
        if let Some(first) = schema["enum"].as_array().and_then(|values| values.first()) {
            return first.clone();
        }
        match schema["type"].as_str() {
            Some("object") | None if schema.get("properties").is_some() => {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let mut object = Map::new();
                for (name, property) in schema["properties"].as_object().unwrap() {
                    let field = format!("{at}.{name}");
                    let prefix = format!("{field}.");
                    if secrets.contains(&field) {
                        object.insert(name.clone(), json!(SENTINEL));
                    } else if required.contains(&name.as_str())
                        || secrets.iter().any(|s| s.starts_with(&prefix))
                    {
                        object.insert(name.clone(), instance(spec, property, &field, secrets));
                    }
                }
                Value::Object(object)
            }
            Some("object") | None => json!({}),
            Some("array") => json!([]),
            Some("integer") | Some("number") => {
                json!(schema["minimum"].as_i64().unwrap_or(1))
            }
            Some("boolean") => json!(false),
            _ => match schema["format"].as_str() {
                Some("date-time") => json!("2026-12-07T00:00:00Z"),
                Some("uuid") => json!("6a1f8f4e-2b1e-4c1a-9d7e-3f2b1c0d9e8a"),
                Some("uri") => json!("https://hooks.example.com/whispir"),
                Some("email") => json!("ops@example.com"),
                _ => json!("plain"),
            },
        }
    }

    /// What a model and its builder show, and what its encoding holds.
    struct Shown {
        /// Every `Debug` and error text.
        texts: Vec<String>,
        /// The model encoded again.
        encoded: String,
    }

    fn shown<M, B>(value: &Value) -> Shown
    where
        M: DeserializeOwned + Serialize + Debug + Clone + TryFrom<B>,
        <M as TryFrom<B>>::Error: Display + Debug,
        B: From<M> + Debug,
    {
        let model: M = serde_json::from_value(value.clone())
            .unwrap_or_else(|err| panic!("{value} does not decode: {err}"));
        let builder = B::from(model.clone());
        let mut texts = vec![
            format!("{model:?}"),
            format!("{model:#?}"),
            format!("{builder:?}"),
            format!("{builder:#?}"),
        ];
        let rebuilt = M::try_from(builder).expect("a decoded model builds again");
        texts.push(format!("{rebuilt:?}"));
        // A decoding error beside the secrets: every other field refused.
        if let Value::Object(fields) = value {
            let broken: Map<String, Value> = fields
                .iter()
                .map(|(name, field)| match field {
                    Value::String(text) if text == SENTINEL => (name.clone(), field.clone()),
                    _ => (name.clone(), json!([[SENTINEL]])),
                })
                .collect();
            if let Err(err) = serde_json::from_value::<M>(Value::Object(broken)) {
                texts.push(format!("{err}\n{err:?}"));
            }
        }
        Shown {
            texts,
            encoded: serde_json::to_string(&model).expect("encodes"),
        }
    }

    /// Every type probed, by its generated name: a model with a secret
    /// field, or one on the way to it.
    macro_rules! probes {
        ($($model:ident),* $(,)?) => {
            const PROBED: &[&str] = &[$(stringify!($model)),*];

            fn probe(model: &str, value: &Value) -> Option<Shown> {
                match model {
                    $(stringify!($model) => Some(shown::<types::$model, builder::$model>(value)),)*
                    _ => None,
                }
            }
        };
    }

    probes!(
        Auth,
        Callback,
        CallbackAuth,
        Key,
        Resource,
        User,
        VerifyCodeCreateBody,
        Voice,
    );

    #[test]
    fn no_debug_or_error_text_of_a_model_or_builder_shows_a_secret_field() {
        let spec = bundled();
        let secrets = secret_fields(&spec);
        for field in [
            "User.password",
            "Key.secret",
            "Callback.auth.key",
            "Auth.token",
        ] {
            assert!(secrets.contains(field), "{field} is not found as a secret");
        }
        // Each secret's root, and each inline object on the way, with the
        // value it is probed with.
        let mut models: BTreeMap<String, Value> = BTreeMap::new();
        for field in &secrets {
            let names: Vec<&str> = field.split('.').collect();
            let root = names[0];
            let (mut model, schema) = if root.starts_with(|c: char| c.is_ascii_lowercase()) {
                let body = spec["paths"]
                    .as_object()
                    .unwrap()
                    .values()
                    .flat_map(|item| item.as_object().unwrap().values())
                    .find(|op| op["operationId"] == root)
                    .and_then(|op| op["requestBody"]["content"].as_object()?.values().next())
                    .map(|media| media["schema"].clone())
                    .unwrap();
                (format!("{}Body", capitalized(root)), body)
            } else {
                (
                    root.to_string(),
                    spec["components"]["schemas"][root].clone(),
                )
            };
            let mut value = instance(&spec, &schema, root, &secrets);
            models.insert(model.clone(), value.clone());
            for name in &names[1..names.len() - 1] {
                model = format!("{model}{}", capitalized(name));
                value = value[*name].clone();
                models.insert(model.clone(), value.clone());
            }
        }
        let needed: BTreeSet<&str> = models.keys().map(String::as_str).collect();
        let probed: BTreeSet<&str> = PROBED.iter().copied().collect();
        assert_eq!(
            needed, probed,
            "probes!() must list every model with a secret field (and each inline object on the way)"
        );
        for (model, value) in &models {
            let shown = probe(model, value).expect("listed");
            assert!(
                shown.encoded.contains(SENTINEL),
                "{model} no longer sends its secret: {}",
                shown.encoded
            );
            for text in &shown.texts {
                assert!(!text.contains(SENTINEL), "{model} shows a secret:\n{text}");
            }
        }
    }

    fn user(user_name: Option<&str>) -> types::User {
        types::User::builder()
            .first_name("Ada")
            .last_name("Lovelace")
            .work_country("Australia")
            .timezone("Australia/Melbourne")
            .user_name(user_name.map(str::to_string))
            .password(SENTINEL)
            .try_into()
            .unwrap()
    }

    fn assert_clean(err: &whispir::Error) {
        let shown = format!("{err}\n{err:#}\n{err:?}\n{err:#?}");
        assert!(!shown.contains(SENTINEL), "{shown}");
    }

    #[tokio::test]
    async fn a_body_refused_before_sending_or_by_the_api_shows_no_secret_field() {
        use wiremock::matchers::method;
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(
                json!({ "errorSummary": "Bad Request", "errorText": "password too weak" }),
            ))
            .mount(&server)
            .await;
        let client = whispir_tests::mock_client(&server.uri());
        // No user name: refused by the client, naming the field only.
        let err = whispir_tests::expect_error(client.user_create().body(user(None)).send().await);
        assert!(err.to_string().contains("user_name"), "{err}");
        assert_clean(&err);
        assert!(
            server
                .received_requests()
                .await
                .unwrap_or_default()
                .is_empty()
        );
        // Sent (the password on the wire) and refused by the API.
        let err =
            whispir_tests::expect_error(client.user_create().body(user(Some("ada"))).send().await);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
        assert_clean(&err);
        let sent = server.received_requests().await.unwrap_or_default();
        assert!(
            sent.iter()
                .any(|request| String::from_utf8_lossy(&request.body).contains(SENTINEL)),
            "the password is sent"
        );
    }

    #[test]
    fn a_secret_shows_whether_it_is_set() {
        let user = types::User::builder()
            .first_name("Ada")
            .last_name("Lovelace")
            .work_country("Australia")
            .timezone("Australia/Melbourne")
            .user_name("ada")
            .password(SENTINEL);
        let shown = format!("{user:?}");
        assert!(shown.contains("password: Ok(Some(<redacted>))"), "{shown}");
        let user = types::User::try_from(user).unwrap();
        let shown = format!("{user:?}");
        assert!(shown.contains("password: Some(<redacted>)"), "{shown}");
        assert!(shown.contains("first_name: \"Ada\""), "{shown}");
        let key = types::Key::builder();
        assert!(format!("{key:?}").contains("secret: Ok(None)"), "{key:?}");
    }
}
