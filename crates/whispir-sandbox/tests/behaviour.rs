//! The sandbox seen over plain HTTP: state, workspace scoping, the API's
//! manners, paging, quotas, message lifecycles, callbacks and faults.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use whispir_sandbox::{
    DEMO_WORKSPACE_ID, FAILING_NUMBER, Fault, FaultRule, OverQuota, Quota, RedirectTarget, Sandbox,
    SandboxBuilder,
};

const CONTACT: &str = "application/vnd.whispir.contact-v1+json";
const MESSAGE: &str = "application/vnd.whispir.message-v1+json";
const CALLBACK: &str = "application/vnd.whispir.api-callback-v1+json";
const OTHER_WORKSPACE: &str = "B2C3D4E5F60718293A4B";

/// A sandbox and a plain HTTP client with its credentials.
struct Api {
    sandbox: Sandbox,
    http: reqwest::Client,
}

impl Api {
    async fn start(builder: SandboxBuilder) -> Api {
        let sandbox = builder.start().await.expect("the sandbox starts");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Api { sandbox, http }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let credentials = self.sandbox.credentials();
        self.http
            .request(method, format!("{}{path}", self.sandbox.base_url()))
            .basic_auth(&credentials.user, Some(&credentials.password))
            .header("x-api-key", &credentials.api_key)
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, path)
    }

    fn post(&self, path: &str, media: &str, body: &Value) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, path)
            .header("content-type", media)
            .body(body.to_string())
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }
}

fn contact(first_name: &str) -> Value {
    json!({
        "firstName": first_name, "lastName": "Test", "workMobilePhone1": "61400000077",
        "workEmailAddress1": "test@example.com", "workCountry": "Australia",
        "timezone": "Australia/Melbourne"
    })
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a Location header")
        .to_str()
        .unwrap()
        .to_string()
}

fn last_segment(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

#[tokio::test]
async fn a_created_contact_can_be_read_updated_listed_and_deleted() {
    let api = Api::start(Sandbox::builder()).await;
    let created = api
        .post("/contacts", CONTACT, &contact("Ann"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let url = location(&created);
    assert!(
        url.contains(&format!("/workspaces/{DEMO_WORKSPACE_ID}/contacts/")),
        "{url}"
    );
    let id = last_segment(&url);
    let path = format!("/workspaces/{DEMO_WORKSPACE_ID}/contacts/{id}");

    assert_eq!(api.json(&path).await["firstName"], "Ann");
    let updated = api
        .request(reqwest::Method::PUT, &path)
        .header("content-type", CONTACT)
        .body(contact("Anna").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::NO_CONTENT);
    assert_eq!(api.json(&path).await["firstName"], "Anna");
    let listed = api.json("/contacts").await;
    assert!(
        listed["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == id.as_str())
    );

    let deleted = api
        .request(reqwest::Method::DELETE, &path)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.get(&path).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_contact_in_one_workspace_is_not_in_another() {
    let api = Api::start(Sandbox::builder()).await;
    let created = api
        .post(
            &format!("/workspaces/{OTHER_WORKSPACE}/contacts"),
            CONTACT,
            &contact("Bo"),
        )
        .send()
        .await
        .unwrap();
    let id = last_segment(&location(&created));
    let there = api
        .get(&format!("/workspaces/{OTHER_WORKSPACE}/contacts/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(there.status(), StatusCode::OK);
    let here = api
        .get(&format!("/workspaces/{DEMO_WORKSPACE_ID}/contacts/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(here.status(), StatusCode::NOT_FOUND);
    let unknown = api.get("/workspaces/ABCDEF/contacts").send().await.unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn credentials_and_the_api_key_are_both_required() {
    let api = Api::start(Sandbox::builder()).await;
    let url = format!("{}/contacts", api.sandbox.base_url());
    let credentials = api.sandbox.credentials().clone();

    let no_key = api
        .http
        .get(&url)
        .basic_auth(&credentials.user, Some(&credentials.password))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::FORBIDDEN);
    assert!(no_key.headers().contains_key("x-error-code"));
    let body: Value = no_key.json().await.unwrap();
    assert!(
        body["errorSummary"].is_string()
            && body["errorText"].is_string()
            && body["errorDetail"].is_string()
    );

    let wrong = api
        .http
        .get(&url)
        .basic_auth(&credentials.user, Some("nope"))
        .header("x-api-key", &credentials.api_key);
    assert_eq!(
        wrong.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );

    let token: Value = api
        .request(reqwest::Method::POST, "/auth")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    let with_token = api
        .http
        .get(&url)
        .bearer_auth(token)
        .header("x-api-key", &credentials.api_key);
    assert_eq!(with_token.send().await.unwrap().status(), StatusCode::OK);
    let made_up = api
        .http
        .get(&url)
        .bearer_auth("made-up")
        .header("x-api-key", &credentials.api_key);
    assert_eq!(
        made_up.send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_api_answers_unknown_paths_methods_and_media_types_like_whispir() {
    let api = Api::start(Sandbox::builder()).await;
    let retired = api
        .get("/contacts")
        .header("accept", "application/vnd.whispir.contact-v0+json");
    assert_eq!(
        retired.send().await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let current = api
        .get("/contacts")
        .header("accept", "application/vnd.whispir.contact-v1+json");
    assert_eq!(current.send().await.unwrap().status(), StatusCode::OK);

    let patch = api
        .request(reqwest::Method::PATCH, "/contacts")
        .send()
        .await
        .unwrap();
    assert_eq!(patch.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(patch.headers()["allow"], "GET, POST");
    assert_eq!(
        api.get("/planets").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

const USER: &str = "application/vnd.whispir.user-v1+json";

#[tokio::test]
#[cfg(feature = "schema-checks")]
async fn a_user_without_login_name_and_password_is_refused_naming_them() {
    let api = Api::start(Sandbox::builder()).await;
    let user = json!({"firstName": "Sid", "lastName": "User",
        "workCountry": "Australia", "timezone": "Australia/Sydney"});
    let refused = api.post("/users", USER, &user).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = refused.json::<Value>().await.unwrap()["errorDetail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("userName") && detail.contains("password"),
        "{detail}"
    );
}

#[tokio::test]
async fn users_are_answered_without_their_write_only_fields() {
    let api = Api::start(Sandbox::builder()).await;
    let user = json!({"userName": "sid", "password": "Secret-123", "firstName": "Sid",
        "lastName": "User", "workCountry": "Australia", "timezone": "Australia/Sydney"});
    let created = api.post("/users", USER, &user).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let location = created.headers()["location"].to_str().unwrap().to_string();
    let echoed: Value = created.json().await.unwrap();
    let path = location.trim_start_matches(&api.sandbox.base_url().to_string());
    let read = api.json(path).await;
    let list = api.json("/users").await;
    for answer in [&echoed, &read, &list["users"][0]] {
        assert!(answer.get("userName").is_none(), "{answer}");
        assert!(answer.get("password").is_none(), "{answer}");
        assert!(answer.get("firstName").is_some(), "{answer}");
    }
}

#[tokio::test]
async fn a_key_is_created_without_its_read_only_type_and_answered_with_it() {
    let api = Api::start(Sandbox::builder()).await;
    let created = api
        .post("/keys", "application/json", &json!({"description": "ops"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let key: Value = created.json().await.unwrap();
    assert!(key["type"].is_string(), "{key}");
}

#[tokio::test]
#[cfg(feature = "schema-checks")]
async fn a_body_that_breaks_the_schema_is_refused_naming_the_fields() {
    let api = Api::start(Sandbox::builder()).await;
    let missing = api
        .post("/contacts", CONTACT, &json!({"firstName": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let detail = missing.json::<Value>().await.unwrap()["errorDetail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        detail.contains("lastName") && detail.contains("firstName"),
        "{detail}"
    );

    let broken = api
        .request(reqwest::Method::POST, "/contacts")
        .header("content-type", CONTACT)
        .body("{not json");
    assert_eq!(
        broken.send().await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    let too_big = api.post(
        "/contacts",
        CONTACT,
        &json!({"firstName": "x".repeat(11 * 1024 * 1024)}),
    );
    assert_eq!(
        too_big.send().await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let bad_limit = api.get("/contacts?limit=21").send().await.unwrap();
    assert_eq!(bad_limit.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_xml_contact_is_read_like_its_json_twin() {
    let api = Api::start(Sandbox::builder()).await;
    let xml = "<contact><firstName>Xu</firstName><lastName>Lin</lastName><workMobilePhone1>61400000088</workMobilePhone1>\
        <workEmailAddress1>xu@example.com</workEmailAddress1><workCountry>Australia</workCountry>\
        <timezone>Australia/Perth</timezone><messagingoptions><channel>sms</channel><enabled>true</enabled></messagingoptions></contact>";
    let created = api
        .request(reqwest::Method::POST, "/contacts")
        .header("content-type", "application/vnd.whispir.contact-v1+xml")
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    assert_eq!(
        body["messagingoptions"],
        json!([{"channel": "sms", "enabled": true}])
    );
}

#[tokio::test]
async fn lists_page_with_next_links_until_no_records_are_found() {
    let api = Api::start(Sandbox::builder().empty(true)).await;
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let workspace = api
        .post(
            "/workspaces",
            "application/vnd.whispir.workspace-v1+json",
            &json!({"projectName": "Paging", "status": "A"}),
        )
        .send()
        .await
        .unwrap();
    let workspace = last_segment(&location(&workspace));
    assert_eq!(
        api.json("/contacts").await,
        json!({"status": "No records found"})
    );
    for n in 0..25 {
        let created = api
            .post("/contacts", CONTACT, &contact(&format!("P{n:02}")))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let first = api.json(&format!("/workspaces/{workspace}/contacts")).await;
    assert_eq!(first["contacts"].as_array().unwrap().len(), 20);
    assert_eq!(first["status"], "1 to 20 of 25");
    let next = first["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .expect("a next link");
    let next = next["uri"]
        .as_str()
        .unwrap()
        .replace(api.sandbox.base_url(), "");
    let second = api.json(&next).await;
    assert_eq!(second["contacts"].as_array().unwrap().len(), 5);
    assert_eq!(second["contacts"][0]["firstName"], "P20");
    assert!(
        !second["link"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "next")
    );
    assert_eq!(
        api.json("/contacts?offset=25").await,
        json!({"status": "No records found"})
    );
}

#[tokio::test]
async fn over_the_quota_the_answer_is_403_over_qps_or_429_with_retry_after() {
    let quota = Quota {
        per_second: Some(2),
        ..Quota::default()
    };
    let api = Api::start(Sandbox::builder().quota(quota)).await;
    let mut statuses = Vec::new();
    let mut refused = None;
    for _ in 0..3 {
        let response = api.get("/contacts").send().await.unwrap();
        statuses.push(response.status());
        if response.status() == StatusCode::FORBIDDEN {
            refused = Some(response);
        }
    }
    // Two fit in one second; the window may roll over between calls, so
    // only a refusal, when there is one, is checked in full.
    assert!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count() >= 2,
        "{statuses:?}"
    );
    if let Some(refused) = refused {
        assert_eq!(
            refused.headers()["x-error-code"],
            "ERR_403_DEVELOPER_OVER_QPS"
        );
        assert!(refused.headers().contains_key("retry-after"));
    }

    let per_day = Quota {
        per_day: Some(1),
        ..Quota::default()
    };
    let api = Api::start(Sandbox::builder().quota(per_day)).await;
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::OK
    );
    let spent = api.get("/contacts").send().await.unwrap();
    assert_eq!(spent.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        spent.headers()["x-error-code"],
        "ERR_403_DEVELOPER_OVER_QPD"
    );

    let quota = Quota {
        per_second: Some(1),
        over_quota: OverQuota::TooManyRequests,
        ..Quota::default()
    };
    let api = Api::start(Sandbox::builder().quota(quota)).await;
    let mut saw_429 = false;
    for _ in 0..3 {
        let response = api.get("/contacts").send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            saw_429 = true;
        }
    }
    assert!(
        saw_429,
        "three calls within a second or two must cross a quota of one a second"
    );
}

#[tokio::test]
async fn an_unchanged_resource_answers_304_to_its_etag() {
    let api = Api::start(Sandbox::builder()).await;
    let first = api.get("/contacts").send().await.unwrap();
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let again = api
        .get("/contacts")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    api.post("/contacts", CONTACT, &contact("New"))
        .send()
        .await
        .unwrap();
    let changed = api
        .get("/contacts")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
}

async fn statuses(api: &Api, message: &str) -> Value {
    api.json(&format!("{message}/messagestatus?view=detailed"))
        .await["messageStatuses"]
        .clone()
}

#[tokio::test]
async fn a_message_moves_from_pending_to_sent_to_delivered_or_undeliverable() {
    let step = Duration::from_millis(500);
    let api = Api::start(Sandbox::builder().message_step(step)).await;
    let to = format!("61400000001,{FAILING_NUMBER}");
    let accepted = api
        .post(
            "/messages",
            MESSAGE,
            &json!({"to": to, "subject": "Hi", "body": "Hello"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let message = location(&accepted).replace(api.sandbox.base_url(), "");
    let codes = |statuses: &Value| -> Vec<String> {
        statuses
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"][0]["status"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        codes(&statuses(&api, &message).await),
        ["PENDING", "PENDING"]
    );
    tokio::time::sleep(step + step / 2).await;
    assert_eq!(codes(&statuses(&api, &message).await), ["SENT", "SENT"]);
    tokio::time::sleep(step).await;
    assert_eq!(
        codes(&statuses(&api, &message).await),
        ["DELIVRD", "FAILED"]
    );
    let summary = api.json(&format!("{message}/messagestatus")).await;
    let categories = &summary["messageStatuses"][0]["categories"];
    let count = |name: &str| {
        categories
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["recipientCount"]
            .clone()
    };
    assert_eq!(count("Received"), 1);
    assert_eq!(count("Undeliverable"), 1);

    let id = last_segment(&message);
    assert!(
        api.sandbox
            .simulate_reply(&id, "61400000001", "Thanks")
            .await
    );
    let replies = api
        .json(&format!("{message}/messageresponses?view=detailed"))
        .await;
    assert_eq!(
        replies["messageresponses"][0]["responseMessage"]["content"],
        "Thanks"
    );
    assert_eq!(codes(&statuses(&api, &message).await), ["READ", "FAILED"]);
}

#[tokio::test]
async fn running_a_scenario_sends_its_message() {
    let api = Api::start(Sandbox::builder()).await;
    let run = api
        .request(
            reqwest::Method::POST,
            &format!("/workspaces/{DEMO_WORKSPACE_ID}/scenarios/50000000000000000001"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), StatusCode::ACCEPTED);
    let message = api
        .json(&location(&run).replace(api.sandbox.base_url(), ""))
        .await;
    assert_eq!(message["subject"], "Evacuate");
}

/// What a callback receiver got: headers, query and body of each POST.
type Received = Arc<Mutex<Vec<(reqwest::header::HeaderMap, Option<String>, String)>>>;

async fn callback_receiver() -> (String, Received, tokio::task::JoinHandle<()>) {
    let received: Received = Arc::default();
    let store = Arc::clone(&received);
    let app = axum::Router::new().fallback(move |request: axum::extract::Request| {
        let store = Arc::clone(&store);
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
            let mut headers = reqwest::header::HeaderMap::new();
            for (name, value) in &parts.headers {
                headers.insert(name.clone(), value.clone());
            }
            let query = parts.uri.query().map(String::from);
            store.lock().unwrap().push((
                headers,
                query,
                String::from_utf8_lossy(&body).into_owned(),
            ));
            "ok"
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, received, server)
}

async fn wait_for(received: &Received, count: usize) {
    for _ in 0..100 {
        if received.lock().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "expected {count} callbacks, got {}",
        received.lock().unwrap().len()
    );
}

#[tokio::test]
async fn callbacks_get_undeliverable_and_reply_payloads_with_their_auth_mode() {
    let api = Api::start(Sandbox::builder().message_step(Duration::from_millis(20))).await;
    let (url, received, server) = callback_receiver().await;
    let modes = [
        ("queryparam", "json"),
        ("httpheader", "json"),
        ("basicauth", "xml"),
        ("bearertoken", "json"),
    ];
    for (index, (mode, content)) in modes.iter().enumerate() {
        let name = format!("hook-{mode}");
        let created = api
            .post(
                "/callbacks",
                CALLBACK,
                &json!({
                    "name": name, "url": url, "auth": {"type": mode, "key": "secret-key"},
                    "contentType": content, "removeHTML": "disabled", "retriesEnabled": false,
                    "email": "ops@example.com", "callbacks": {"reply": "enabled", "undeliverable": "enabled"}
                }),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        let callback_id = last_segment(&location(&created));
        let sent = api
            .post(
                "/messages",
                MESSAGE,
                &json!({"to": format!("61400000002,{FAILING_NUMBER}"), "subject": "Hi", "body": "Reply YES",
                    "callbackId": name, "callbackParameters": {"order": "42"}}),
            )
            .send()
            .await
            .unwrap();
        let message_id = last_segment(&location(&sent));
        wait_for(&received, index * 2 + 1).await;
        assert!(
            api.sandbox
                .simulate_reply(&message_id, "61400000002", "YES")
                .await
        );
        wait_for(&received, index * 2 + 2).await;

        let calls = received.lock().unwrap().clone();
        let (undeliverable, reply) = (&calls[index * 2], &calls[index * 2 + 1]);
        for (headers, query, _) in [undeliverable, reply] {
            match *mode {
                "queryparam" => assert_eq!(query.as_deref(), Some("auth=secret-key")),
                "httpheader" => assert_eq!(headers["x-whispir-callback-key"], "secret-key"),
                "basicauth" => assert_eq!(headers["authorization"], "Basic secret-key"),
                _ => assert_eq!(headers["authorization"], "Bearer secret-key"),
            }
        }
        if *content == "xml" {
            assert_eq!(reply.0["content-type"], "application/xml");
            assert!(
                reply
                    .2
                    .contains(&format!("<messageid>{message_id}</messageid>")),
                "{}",
                reply.2
            );
            assert!(reply.2.contains("<content>YES</content>"), "{}", reply.2);
        } else {
            let payload: Value = serde_json::from_str(&reply.2).unwrap();
            assert_eq!(payload["messageid"], message_id.as_str());
            assert_eq!(payload["responseMessage"]["content"], "YES");
            assert_eq!(payload["from"]["mobile"], "61400000002");
            assert_eq!(payload["customParameters"]["order"], "42");
            let failed: Value = serde_json::from_str(&undeliverable.2).unwrap();
            assert_eq!(failed["from"]["mobile"], FAILING_NUMBER);
        }
        let recorded = api.json(&format!("/callbacks/{callback_id}/calls")).await;
        let recorded = recorded["calls"].as_array().unwrap();
        assert_eq!(recorded.len(), 2);
        assert!(
            recorded
                .iter()
                .all(|call| call["status"] == "SUCCESS" && call["callback"]["statusCode"] == 200)
        );
    }
    server.abort();
}

#[tokio::test]
async fn an_injected_status_strikes_as_often_as_told() {
    let api = Api::start(
        Sandbox::builder().fault(
            FaultRule::always(Fault::Status { status: 503 })
                .on("contactList")
                .times(2),
        ),
    )
    .await;
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        api.get("/messages").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_reset_before_acting_changes_nothing_and_after_acting_it_has_acted() {
    let api = Api::start(Sandbox::builder()).await;
    let count = |body: Value| body["contacts"].as_array().map_or(0, Vec::len);
    let before = count(api.json("/contacts").await);

    api.sandbox.add_fault(
        FaultRule::always(Fault::ResetBeforeActing)
            .on("contactCreate")
            .times(1),
    );
    let error = api
        .post("/contacts", CONTACT, &contact("Reset"))
        .send()
        .await
        .unwrap_err();
    assert!(!error.is_status(), "{error:?}");
    assert_eq!(count(api.json("/contacts").await), before);

    api.sandbox.add_fault(
        FaultRule::always(Fault::ResetAfterActing)
            .on("contactCreate")
            .times(1),
    );
    assert!(
        api.post("/contacts", CONTACT, &contact("Reset"))
            .send()
            .await
            .is_err()
    );
    assert_eq!(count(api.json("/contacts").await), before + 1);
}

#[tokio::test]
async fn redirects_point_to_the_same_origin_or_the_second_listener() {
    let api = Api::start(Sandbox::builder()).await;
    api.sandbox.add_fault(
        FaultRule::always(Fault::Redirect {
            status: 302,
            to: RedirectTarget::SameOrigin,
        })
        .times(1),
    );
    let same = api.get("/contacts?limit=2").send().await.unwrap();
    assert_eq!(same.status(), StatusCode::FOUND);
    assert_eq!(
        location(&same),
        format!("{}/moved/contacts?limit=2", api.sandbox.base_url())
    );
    assert_eq!(
        api.get("/contacts?limit=2").send().await.unwrap().status(),
        StatusCode::OK
    );

    api.sandbox.add_fault(FaultRule::always(Fault::Redirect {
        status: 307,
        to: RedirectTarget::OtherPort,
    }));
    let moved = api.get("/contacts").send().await.unwrap();
    assert_eq!(moved.status(), StatusCode::TEMPORARY_REDIRECT);
    let target = location(&moved);
    assert!(
        target.starts_with(api.sandbox.second_base_url()),
        "{target}"
    );
    assert_ne!(api.sandbox.second_base_url(), api.sandbox.base_url());
    let credentials = api.sandbox.credentials();
    let followed = api
        .http
        .get(&target)
        .basic_auth(&credentials.user, Some(&credentials.password))
        .header("x-api-key", &credentials.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        followed.status(),
        StatusCode::OK,
        "the second listener serves the same data"
    );
}

#[tokio::test]
async fn garbage_and_huge_bodies_latency_come_on_request() {
    let api = Api::start(Sandbox::builder()).await;
    api.sandbox
        .add_fault(FaultRule::always(Fault::Garbage).times(1));
    let garbage = api.get("/contacts").send().await.unwrap();
    assert_eq!(garbage.status(), StatusCode::OK);
    assert!(serde_json::from_slice::<Value>(&garbage.bytes().await.unwrap()).is_err());

    api.sandbox
        .add_fault(FaultRule::always(Fault::HugeBody { bytes: 3_000_000 }).times(1));
    let huge = api
        .get("/contacts")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(huge.len(), 3_000_000);

    api.sandbox
        .add_fault(FaultRule::always(Fault::Latency { millis: 300 }).times(1));
    let started = std::time::Instant::now();
    assert_eq!(
        api.get("/contacts").send().await.unwrap().status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    api.sandbox.clear_faults();
}

#[tokio::test]
async fn a_one_time_code_verifies_with_the_code_sent() {
    let api = Api::start(Sandbox::builder()).await;
    let sent: Value = api
        .post("/otp/send-code", "application/json", &json!({"to": "61400000001", "codeLength": 8, "channel": "sms", "expiresIn": 600, "workspaceId": DEMO_WORKSPACE_ID}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = sent["id"].as_str().unwrap();
    let code = api.sandbox.otp_code(id).unwrap();
    assert_eq!(code, "12345678");
    let verify = |code: &str| {
        api.post(
            &format!("/otp/{id}/verify-code"),
            "application/json",
            &json!({"to": "61400000001", "code": code}),
        )
        .send()
    };
    let wrong: Value = verify("00000000").await.unwrap().json().await.unwrap();
    assert_eq!(wrong["status"], "invalid");
    let right: Value = verify(&code).await.unwrap().json().await.unwrap();
    assert_eq!(right["status"], "verified");
}

#[tokio::test]
async fn an_import_turns_the_rows_of_a_csv_resource_into_contacts() {
    let api = Api::start(Sandbox::builder()).await;
    let before = api.json("/contacts").await["contacts"]
        .as_array()
        .unwrap()
        .len();
    let accepted = api
        .post(
            "/imports",
            "application/vnd.whispir.importcontact-v1+json",
            &json!({"resourceId": "AE000000000000000001", "importType": "contact", "importMode": "duplicate",
                "importOptions": {"fieldMapping": {"firstName": "First", "lastName": "Last",
                    "workMobilePhone1": "Mobile", "workCountry": "Country", "timezone": "Timezone"}}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let after = api.json("/contacts").await;
    let contacts = after["contacts"].as_array().unwrap();
    assert_eq!(contacts.len(), before + 2);
    assert!(
        contacts
            .iter()
            .any(|c| c["firstName"] == "Nina" && c["workMobilePhone1"] == "61400000201")
    );
}

#[tokio::test]
async fn a_data_file_fills_an_empty_sandbox() {
    let dir = std::env::temp_dir().join(format!("sandbox-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("data.yaml");
    std::fs::write(
        &path,
        "workspaces:\n  - id: ABC123\n    projectName: Mine\n    status: A\n    contacts:\n      - firstName: Dee\n        lastName: Data\n        workMobilePhone1: '61400000099'\n        workEmailAddress1: dee@example.com\n        workCountry: Australia\n        timezone: Australia/Hobart\n",
    )
    .unwrap();
    let api = Api::start(Sandbox::builder().empty(true).data_file(&path)).await;
    let workspaces = api.json("/workspaces").await;
    assert_eq!(workspaces["workspaces"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.json("/workspaces/ABC123/contacts").await["contacts"][0]["firstName"],
        "Dee"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_scheduled_message_answers_200_with_the_message() {
    let api = Api::start(Sandbox::builder()).await;
    let scheduled = api
        .post(
            "/messages",
            MESSAGE,
            &json!({"to": "61400000001", "subject": "Later", "body": "Tomorrow", "messageType": "SCHEDULED"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(scheduled.status(), StatusCode::OK);
    let message: Value = scheduled.json().await.unwrap();
    assert_eq!(message["subject"], "Later");
    assert_eq!(message["direction"], "OUTGOING");
}

#[tokio::test]
async fn delivered_recipients_reply_on_their_own_when_told_to() {
    let step = Duration::from_millis(20);
    let api = Api::start(Sandbox::builder().message_step(step).auto_reply("Got it")).await;
    let accepted = api
        .post(
            "/messages",
            MESSAGE,
            &json!({"to": "61400000003", "subject": "Hi", "body": "Hello"}),
        )
        .send()
        .await
        .unwrap();
    let message = location(&accepted).replace(api.sandbox.base_url(), "");
    for _ in 0..100 {
        let replies = api
            .json(&format!("{message}/messageresponses?view=detailed"))
            .await;
        if let Some(reply) = replies["messageresponses"].get(0) {
            assert_eq!(reply["responseMessage"]["content"], "Got it");
            assert_eq!(reply["from"]["mobile"], "61400000003");
            return;
        }
        tokio::time::sleep(step).await;
    }
    panic!("no automatic reply arrived");
}

/// The status and `errorText` of a message send.
async fn refused_send(api: &Api, media: &str, message: &Value) -> (StatusCode, String) {
    let response = api.post("/messages", media, message).send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    (status, body["errorText"].as_str().unwrap_or("").to_string())
}

#[tokio::test]
async fn a_message_sent_as_plain_json_is_unsupported_like_on_whispir() {
    let api = Api::start(Sandbox::builder()).await;
    let message = json!({"to": "61400000001", "subject": "Hi"});
    let (status, _) = refused_send(&api, "application/json", &message).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let contact = api
        .post("/contacts", "application/json", &contact("Plain"))
        .send()
        .await
        .unwrap();
    assert_eq!(contact.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(api.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn a_message_without_recipients_or_subject_is_unprocessable_naming_the_field() {
    let api = Api::start(Sandbox::builder()).await;
    let (status, text) = refused_send(&api, MESSAGE, &json!({"to": "", "subject": ""})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("to is required"), "{text}");
    let (status, text) =
        refused_send(&api, MESSAGE, &json!({"to": "61400000001", "subject": " "})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("subject is required"), "{text}");
    assert!(api.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn a_message_with_neither_to_nor_resource_is_unprocessable_naming_both() {
    let api = Api::start(Sandbox::builder()).await;
    let response = api
        .post(
            "/messages",
            MESSAGE,
            &json!({"subject": "Hi", "body": "nobody"}),
        )
        .send()
        .await
        .unwrap();
    // Refused as any missing required field is: 422, the problem in
    // `errorDetail`.
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    let detail = body["errorDetail"].as_str().unwrap_or("");
    assert!(
        detail.contains(r#""to" is a required property, or "resource" is a required property"#),
        "{body}"
    );
    assert!(api.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn a_recipient_that_is_no_number_address_or_mri_is_unprocessable() {
    let api = Api::start(Sandbox::builder()).await;
    let (status, text) = refused_send(
        &api,
        MESSAGE,
        &json!({"to": "not a number!", "subject": "Hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("\"not a number!\""), "{text}");
    assert!(api.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn recipients_separated_by_semicolons_are_unprocessable() {
    let api = Api::start(Sandbox::builder()).await;
    let (status, text) = refused_send(
        &api,
        MESSAGE,
        &json!({"to": "61400000001;61400000002", "subject": "Hi"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.contains("`;`"), "{text}");
    assert!(api.sandbox.sent_messages().is_empty());
}

#[tokio::test]
async fn numbers_addresses_and_mris_are_accepted_and_recorded_as_sent() {
    let api = Api::start(Sandbox::builder()).await;
    let message = json!({
        "to": "+61400000001, test@test.com,John_Wick.1143139@Contact.whispir.au",
        "subject": "Test Message",
        "body": "The body",
        "email": {"body": "The email", "type": "text/plain", "footer": "Bye"},
    });
    let accepted = api
        .post("/messages", MESSAGE, &message)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let sent = api.sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    let sent = &sent[0];
    assert_eq!(
        sent.to,
        [
            "+61400000001",
            "test@test.com",
            "John_Wick.1143139@Contact.whispir.au"
        ]
    );
    assert_eq!(sent.text(), "Test Message\nThe body");
    assert_eq!(sent.workspace_id, DEMO_WORKSPACE_ID);
    assert_eq!(sent.location, location(&accepted));
    assert!(sent.location.ends_with(&sent.message_id));
    let email = sent.email.as_ref().unwrap();
    assert_eq!(
        (email.body.as_str(), email.footer.as_deref()),
        ("The email", Some("Bye"))
    );
}

#[tokio::test]
async fn every_request_is_recorded_with_its_answer_and_no_credentials() {
    let api = Api::start(Sandbox::builder()).await;
    api.get("/contacts?limit=2").send().await.unwrap();
    api.post(
        "/messages",
        "application/json",
        &json!({"to": "1", "subject": "x"}),
    )
    .send()
    .await
    .unwrap();
    api.get("/planets").send().await.unwrap();
    api.sandbox
        .add_fault(FaultRule::always(Fault::ResetBeforeActing).on("workspaceList"));
    assert!(api.get("/workspaces").send().await.is_err());

    let requests = api.sandbox.requests();
    let seen: Vec<(Option<&str>, &str, &str, Option<u16>)> = requests
        .iter()
        .map(|r| {
            (
                r.operation_id.as_deref(),
                r.method.as_str(),
                r.path.as_str(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (Some("contactList"), "GET", "/contacts", Some(200)),
            (Some("messageCreate"), "POST", "/messages", Some(415)),
            (None, "GET", "/planets", Some(404)),
            (Some("workspaceList"), "GET", "/workspaces", None),
        ]
    );
    assert_eq!(requests[0].query, [("limit".to_string(), "2".to_string())]);
    assert_eq!(requests[1].body, Some(json!({"to": "1", "subject": "x"})));
    let credentials = api.sandbox.credentials();
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(whispir_sandbox::REDACTED)
        );
        assert_eq!(request.header("x-api-key"), Some(whispir_sandbox::REDACTED));
        let printed = format!("{request:?}");
        assert!(!printed.contains(&credentials.api_key), "{printed}");
    }
    api.sandbox.clear_recorded();
    assert!(api.sandbox.requests().is_empty());
}

#[tokio::test]
async fn the_records_keep_only_the_newest_past_their_limits() {
    let limits = whispir_sandbox::Limits {
        max_recorded_requests: 2,
        max_sent_messages: 1,
        ..whispir_sandbox::Limits::default()
    };
    let api = Api::start(Sandbox::builder().limits(limits)).await;
    for subject in ["first", "second", "third"] {
        let message = json!({"to": "61400000001", "subject": subject});
        let sent = api
            .post("/messages", MESSAGE, &message)
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), StatusCode::ACCEPTED);
    }
    let sent = api.sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].subject, "third");
    let requests = api.sandbox.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].body.as_ref().unwrap()["subject"], "third");
}

/// The spec requires a callback's `email` and types it as an address:
/// `CallbackSetup::register` refuses a setup without one for this reason.
#[tokio::test]
async fn a_callback_without_an_address_for_failures_is_refused() {
    let api = Api::start(Sandbox::builder()).await;
    let created = api
        .post(
            "/callbacks",
            CALLBACK,
            &json!({
                "name": "no-email", "url": "https://example.com/cb",
                "auth": {"type": "httpheader", "key": "k"}, "contentType": "json",
                "removeHTML": "disabled", "retriesEnabled": true, "email": "",
                "callbacks": {"reply": "enabled", "undeliverable": "enabled"}
            }),
        )
        .send()
        .await
        .unwrap();
    assert!(created.status().is_client_error(), "{}", created.status());
}
