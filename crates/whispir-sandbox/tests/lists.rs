//! Every list the sandbox serves, as Whispir documents lists: `limit` and
//! `offset` page through every item once, `sortOrder=desc` reverses `asc`
//! for the same `sortFields`, and a second sort field orders the ties of
//! the first. The lists are the spec's (each GET of a collection that
//! takes `limit` and answers with an array), so a list added to the spec must be seeded here or this fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use whispir_sandbox::Sandbox;

const SPEC: &str = include_str!("../openapi/bundled.json");
const WORKSPACE: &str = "0A1B2C3D4E5F60718291";
const MESSAGE: &str = "application/vnd.whispir.message-v1+json";
const CALLBACK: &str = "application/vnd.whispir.api-callback-v1+json";
const RECIPIENTS: [&str; 3] = ["61400000031", "61400000032", "61400000033"];

/// Follows `$ref`s within the spec.
fn resolve<'a>(spec: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            resolve(spec, spec.pointer(pointer).expect("a $ref the spec holds"))
        }
        None => schema,
    }
}

/// Whether a schema is an object with an array among its properties
/// (besides `link`, which every resource has).
fn holds_array(spec: &Value, schema: &Value) -> bool {
    let schema = resolve(spec, schema);
    let own = schema
        .get("properties")
        .and_then(Value::as_object)
        .is_some_and(|properties| {
            properties
                .iter()
                .filter(|(name, _)| *name != "link")
                .any(|(_, property)| {
                    resolve(spec, property).get("type").and_then(Value::as_str) == Some("array")
                })
        });
    let composed = ["allOf", "oneOf", "anyOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|parts| parts.iter().any(|part| holds_array(spec, part)))
    });
    own || composed
}

/// A list operation of the spec.
#[derive(Debug)]
struct List {
    operation: String,
    path: String,
    /// The query parameters it requires, as a query string.
    query: String,
    /// The headers it requires.
    headers: Vec<(String, String)>,
}

/// The list operations of the spec (a GET of a collection's path that
/// pages with `limit` and answers with an array): operation id, path template, and the query
/// parameters and headers it requires besides `Accept` (each with its
/// first allowed value, or `any`).
fn list_operations(spec: &Value) -> Vec<List> {
    let mut lists = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let answers = get["responses"].as_object().unwrap();
        let is_list = answers
            .iter()
            .filter(|(code, _)| code.starts_with('2'))
            .filter_map(|(_, answer)| resolve(spec, answer).get("content"))
            .filter_map(Value::as_object)
            .flat_map(|content| content.values())
            .filter_map(|media| media.get("schema"))
            .any(|schema| holds_array(spec, schema));
        let parameters: Vec<&Value> = item
            .get("parameters")
            .into_iter()
            .chain(get.get("parameters"))
            .filter_map(Value::as_array)
            .flatten()
            .map(|parameter| resolve(spec, parameter))
            .collect();
        let pages = parameters
            .iter()
            .any(|parameter| parameter["name"] == "limit");
        let value = |parameter: &Value| {
            let schema = &parameter["schema"];
            schema["enum"][0]
                .as_str()
                .or(schema["default"].as_str())
                .unwrap_or("any")
                .to_string()
        };
        let required = |place: &str| {
            parameters
                .iter()
                .filter(|parameter| parameter["in"] == place && parameter["required"] == true)
                .filter(|parameter| parameter["name"] != "Accept")
                .map(|parameter| {
                    (
                        parameter["name"].as_str().unwrap().to_string(),
                        value(parameter),
                    )
                })
                .collect::<Vec<_>>()
        };
        let query: Vec<String> = required("query")
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        // A GET of one item (eventRetrieve) may take paging parameters too.
        let collection = !path.ends_with('}');
        if is_list && pages && collection {
            lists.push(List {
                operation: get["operationId"].as_str().unwrap().to_string(),
                path: path.clone(),
                query: query.join("&"),
                headers: required("header"),
            });
        }
    }
    lists
}

/// Three items a generic list holds: the first two tie on `group`.
fn three(prefix: &str) -> Value {
    json!([
        {"name": format!("{prefix}-c"), "group": "b", "rank": 10},
        {"name": format!("{prefix}-a"), "group": "A", "rank": 9},
        {"name": format!("{prefix}-b"), "group": "a", "rank": 2},
    ])
}

fn data(now_millis: i64) -> Value {
    let mut messages = three("message");
    for (at, message) in messages.as_array_mut().unwrap().iter_mut().enumerate() {
        let message = message.as_object_mut().unwrap();
        message.insert("to".into(), json!("61400000001"));
        message.insert("subject".into(), json!("s"));
        message.insert(
            "createdTime".into(),
            json!(now_millis - 60_000 * (at as i64 + 1)),
        );
    }
    let workspace = |id: &str, name: &str, group: &str, rank: i64| json!({"id": id, "projectName": name, "status": "A", "group": group, "rank": rank});
    let mut first = workspace(WORKSPACE, "one", "x", 3);
    for collection in [
        "contacts",
        "distributionlists",
        "events",
        "resources",
        "responserules",
        "scenarios",
        "templates",
        "activities",
    ] {
        first[collection] = three(collection);
    }
    first["messages"] = messages;
    json!({
        "workspaces": [
            first,
            workspace("0A1B2C3D4E5F60718292", "two", "x", 1),
            workspace("0A1B2C3D4E5F60718293", "three", "w", 2),
        ],
        "callbacks": three("callback"),
        "users": three("user"),
        "keys": three("key"),
        "customlists": three("customlist"),
        "activities": three("activity"),
    })
}

/// Fields to sort by (the first with ties among the items), and query
/// parameters a list needs to show one entry per item.
fn sorting(operation: &str) -> (&'static str, &'static str, &'static str) {
    match operation {
        "messageStatusList" => ("info", "name", "view=detailed"),
        "messageResponseList" => ("responseCategory", "from", "view=detailed"),
        "callbackCallList" => ("status", "from", ""),
        _ => ("group", "rank", ""),
    }
}

/// The order the sandbox sorts a field's values in.
fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let text = |value: &Value| match value {
        Value::String(text) => text.to_lowercase(),
        other => other.to_string(),
    };
    match (a.filter(|v| !v.is_null()), b.filter(|v| !v.is_null())) {
        (None, None) => Ordering::Equal,
        (None, _) => Ordering::Less,
        (_, None) => Ordering::Greater,
        (Some(Value::Number(a)), Some(Value::Number(b))) => a
            .as_f64()
            .unwrap()
            .partial_cmp(&b.as_f64().unwrap())
            .unwrap(),
        (Some(a), Some(b)) => text(a).cmp(&text(b)),
    }
}

struct Api {
    sandbox: Sandbox,
    http: reqwest::Client,
}

impl Api {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let credentials = self.sandbox.credentials();
        self.http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .basic_auth(&credentials.user, Some(&credentials.password))
            .header("x-api-key", &credentials.api_key)
    }

    async fn post(&self, path: &str, media: &str, body: Value) -> String {
        let response = self
            .request(reqwest::Method::POST, path)
            .header("content-type", media)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "POST {path}: {}",
            response.status()
        );
        let location = response.headers()["location"].to_str().unwrap();
        location.rsplit('/').next().unwrap().to_string()
    }

    /// The items of one page, or none past the end.
    async fn items(&self, path: &str, query: &str, headers: &[(String, String)]) -> Vec<Value> {
        let url = format!("{path}?{query}");
        let mut request = self.request(reqwest::Method::GET, &url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {url}");
        let body: Value = response.json().await.unwrap();
        if body["status"] == "No records found" {
            return Vec::new();
        }
        let lists: Vec<&Vec<Value>> = body
            .as_object()
            .unwrap()
            .iter()
            .filter(|(name, _)| *name != "link")
            .filter_map(|(_, value)| value.as_array())
            .collect();
        assert_eq!(lists.len(), 1, "GET {url}: one list in {body}");
        lists[0].clone()
    }
}

/// A callback receiver that answers 200 to every POST.
async fn receiver() -> String {
    let app = axum::Router::new().fallback(|| async { "ok" });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test]
async fn every_list_pages_and_sorts_as_whispir_documents() {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let file = std::env::temp_dir().join(format!("whispir-lists-{}.json", std::process::id()));
    let now = chrono::Utc::now().timestamp_millis();
    std::fs::write(&file, data(now).to_string()).unwrap();
    let sandbox = Sandbox::builder()
        .empty(true)
        .data_file(&file)
        .message_step(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    let api = Api {
        sandbox,
        http: reqwest::Client::new(),
    };

    // A message to three recipients, each of whom replies: three statuses,
    // three responses, three callback calls.
    let url = receiver().await;
    let callback = api
        .post(
            "/callbacks",
            CALLBACK,
            json!({
                "name": "lists", "url": url, "auth": {"type": "queryparam", "key": "k"},
                "contentType": "json", "removeHTML": "disabled", "retriesEnabled": false,
                "email": "ops@example.com", "callbacks": {"reply": "enabled", "undeliverable": "enabled"}
            }),
        )
        .await;
    let message = api
        .post(
            &format!("/workspaces/{WORKSPACE}/messages"),
            MESSAGE,
            json!({"to": RECIPIENTS.join(","), "subject": "Hi", "body": "Reply", "callbackId": "lists"}),
        )
        .await;
    for recipient in RECIPIENTS {
        assert!(api.sandbox.simulate_reply(&message, recipient, "YES").await);
    }
    let calls = format!("/callbacks/{callback}/calls");
    for _ in 0..100 {
        if api.items(&calls, "", &[]).await.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let lists = list_operations(&spec);
    assert!(lists.len() >= 15, "the spec's lists: {lists:?}");
    let mut checked = Vec::new();
    for List {
        operation,
        path: template,
        query: required,
        headers,
    } in &lists
    {
        let path = template
            .replace("{workspaceId}", WORKSPACE)
            .replace("{callbackId}", &callback)
            .replace("{messageId}", &message);
        assert!(
            !path.contains('{'),
            "{operation}: no value for a parameter of {template}"
        );
        let (first, second, extra) = sorting(operation);
        let extra = [required.clone(), extra.to_string()]
            .into_iter()
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("&");
        let with = |query: &str| match (extra.as_str(), query) {
            ("", query) => query.to_string(),
            (extra, "") => extra.to_string(),
            (extra, query) => format!("{extra}&{query}"),
        };
        let key = |item: &Value| item.to_string();

        // Every item once, in pages of two.
        let all: Vec<String> = api
            .items(&path, &with(""), headers)
            .await
            .iter()
            .map(key)
            .collect();
        assert!(
            all.len() >= 3,
            "{operation}: {} items, want 3 or more",
            all.len()
        );
        let mut walked = Vec::new();
        for offset in (0..all.len() + 2).step_by(2) {
            let page = api
                .items(&path, &with(&format!("limit=2&offset={offset}")), headers)
                .await;
            assert!(page.len() <= 2, "{operation}: a page of {}", page.len());
            walked.extend(page.iter().map(key));
        }
        assert_eq!(
            walked, all,
            "{operation}: pages of two walk the list in its order"
        );
        assert_eq!(
            walked.iter().collect::<BTreeSet<_>>().len(),
            all.len(),
            "{operation}: an item twice"
        );

        // desc reverses asc.
        let asc: Vec<String> = api
            .items(
                &path,
                &with(&format!("sortFields={first}&sortOrder=asc")),
                headers,
            )
            .await
            .iter()
            .map(key)
            .collect();
        let mut desc: Vec<String> = api
            .items(
                &path,
                &with(&format!("sortFields={first}&sortOrder=desc")),
                headers,
            )
            .await
            .iter()
            .map(key)
            .collect();
        desc.reverse();
        assert_eq!(asc, desc, "{operation}: desc is asc reversed");

        // Two fields: the second orders the ties of the first.
        let sorted = api
            .items(
                &path,
                &with(&format!("sortFields={first},{second}")),
                headers,
            )
            .await;
        assert!(
            sorted.windows(2).any(|pair| {
                compare(pair[0].get(first), pair[1].get(first)) == Ordering::Equal
                    && compare(pair[0].get(second), pair[1].get(second)) != Ordering::Equal
            }),
            "{operation}: the items hold no tie on {first} that {second} breaks: {sorted:?}"
        );
        for pair in sorted.windows(2) {
            let order = compare(pair[0].get(first), pair[1].get(first))
                .then_with(|| compare(pair[0].get(second), pair[1].get(second)));
            assert_ne!(
                order,
                Ordering::Greater,
                "{operation}: sorted by {first},{second}: {} before {}",
                pair[0],
                pair[1]
            );
        }
        checked.push(operation.clone());
    }
    assert_eq!(checked.len(), lists.len());
}
