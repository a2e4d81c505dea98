//! Redirects are followed by the SDK: reads anywhere (credentials only within
//! their origin), writes only for 307 and 308 within the origin; at most five
//! hops, no loops, 301s remembered.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir::types::Message;
use whispir::{RedirectRefusal, Refusal};
use whispir_tests::{TEST_API_KEY, TEST_AUTHORIZATION, expect_error, mock_client};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn redirect(status: u16, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", to)
}

fn message_json() -> serde_json::Value {
    serde_json::json!({ "to": "61400000001", "subject": "Hello" })
}

#[tokio::test]
async fn a_same_origin_redirect_resends_method_body_and_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/messages"))
        .respond_with(redirect(307, "/v2/messages"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v2/messages"))
        .and(header("authorization", TEST_AUTHORIZATION))
        .and(header("x-api-key", TEST_API_KEY))
        .and(body_json(message_json()))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/v2/messages/AB"))
        .expect(1)
        .mount(&server)
        .await;
    let body: Message = serde_json::from_value(message_json()).unwrap();
    let response = mock_client(&server.uri())
        .message_create()
        .body(body)
        .send()
        .await
        .expect("followed");
    assert_eq!(response.status(), 202);
}

#[tokio::test]
async fn a_cross_origin_redirect_drops_both_credentials() {
    let first = MockServer::start().await;
    let second = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/messages/AB"))
        .respond_with(redirect(301, &format!("{}/moved/AB", second.uri())))
        .mount(&first)
        .await;
    Mock::given(method("GET"))
        .and(path("/moved/AB"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .expect(1)
        .mount(&second)
        .await;
    mock_client(&first.uri())
        .message_retrieve()
        .message_id("AB")
        .send()
        .await
        .expect("followed");
    let requests: Vec<Request> = second.received_requests().await.expect("recorded");
    let headers = &requests[0].headers;
    assert!(
        !headers.contains_key("authorization"),
        "Authorization leaked to another origin"
    );
    assert!(
        !headers.contains_key("x-api-key"),
        "x-api-key leaked to another origin"
    );
    assert_eq!(headers["accept"], "application/vnd.whispir.message-v1+json");
}

#[tokio::test]
async fn a_redirect_loop_is_stopped() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/A"))
        .respond_with(redirect(302, "/messages/B"))
        .mount(&server)
        .await;
    Mock::given(path("/messages/B"))
        .respond_with(redirect(302, "/messages/A"))
        .mount(&server)
        .await;
    let err = expect_error(
        mock_client(&server.uri())
            .message_retrieve()
            .message_id("A")
            .send()
            .await,
    );
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(
        matches!(
            err.refusal(),
            Some(Refusal::Redirect {
                reason: RedirectRefusal::Loop,
                ..
            })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("redirect loop"), "{err}");
    assert!(!err.is_retryable(), "a loop stays a loop");
    assert_eq!(server.received_requests().await.expect("recorded").len(), 2);
}

#[tokio::test]
async fn more_than_five_hops_are_refused() {
    let server = MockServer::start().await;
    for hop in 0..10 {
        Mock::given(path(format!("/messages/B{hop}")))
            .respond_with(redirect(302, &format!("/messages/B{}", hop + 1)))
            .mount(&server)
            .await;
    }
    let err = expect_error(
        mock_client(&server.uri())
            .message_retrieve()
            .message_id("B0")
            .send()
            .await,
    );
    assert!(
        err.to_string()
            .contains("redirect not followed: more than 5 redirects"),
        "{err}"
    );
    assert_eq!(
        server.received_requests().await.expect("recorded").len(),
        6,
        "the first request and five hops"
    );
}

#[tokio::test]
async fn a_permanent_redirect_is_remembered_and_a_temporary_one_is_not() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/01D"))
        .respond_with(redirect(301, "/messages/0EE"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/messages/0E"))
        .respond_with(redirect(302, "/messages/0EE"))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(path("/messages/0EE"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message_json()))
        .expect(4)
        .mount(&server)
        .await;
    let client = mock_client(&server.uri());
    for id in ["01D", "01D", "0E", "0E"] {
        client
            .message_retrieve()
            .message_id(id)
            .send()
            .await
            .expect("followed");
    }
    // Clones share what the client learnt.
    let clone = client.clone();
    let err = expect_error(clone.message_retrieve().message_id("0BAD").send().await);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
}

#[tokio::test]
async fn a_redirect_without_location_is_reported() {
    let server = MockServer::start().await;
    Mock::given(path("/messages/A"))
        .respond_with(ResponseTemplate::new(301))
        .mount(&server)
        .await;
    let err = expect_error(
        mock_client(&server.uri())
            .message_retrieve()
            .message_id("A")
            .send()
            .await,
    );
    assert!(
        err.to_string()
            .contains("redirect not followed: bad Location: the response has no Location header"),
        "{err}"
    );
    assert!(!err.is_retryable());
    assert_eq!(err.class(), whispir::ErrorClass::Redirect);
}

#[tokio::test]
async fn a_send_redirected_to_another_origin_is_not_sent_there() {
    let api = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/messages/AB"))
        .mount(&elsewhere)
        .await;
    for status in [301, 302, 307, 308] {
        api.reset().await;
        Mock::given(method("POST"))
            .respond_with(redirect(status, &format!("{}/messages", elsewhere.uri())))
            .mount(&api)
            .await;
        let body: Message = serde_json::from_value(message_json()).unwrap();
        let err = expect_error(
            mock_client(&api.uri())
                .message_create()
                .body(body)
                .send()
                .await,
        );
        assert!(!err.is_retryable(), "the user decides");
        if status == 307 || status == 308 {
            assert!(
                matches!(
                    err.refusal(),
                    Some(Refusal::Redirect {
                        reason: RedirectRefusal::OtherOrigin { .. },
                        ..
                    })
                ),
                "{status}: {err:#}"
            );
            assert!(!err.may_have_been_processed());
            assert!(err.to_string().contains("it was not sent there"), "{err}");
            assert!(
                format!("{err:#}").contains("remedy: the request was not sent to the other origin"),
                "{err:#}"
            );
        } else {
            // 301 and 302 do not promise the send was not carried out.
            assert!(
                matches!(
                    err.refusal(),
                    Some(Refusal::Redirect {
                        reason: RedirectRefusal::SendNotRepeated,
                        ..
                    })
                ),
                "{status}: {err:#}"
            );
        }
    }
    assert!(
        elsewhere.received_requests().await.unwrap().is_empty(),
        "no recipient or text left the API's origin"
    );
}

#[tokio::test]
async fn a_send_is_repeated_for_307_and_308_only() {
    let server = MockServer::start().await;
    for (from, status) in [
        ("A1", 301),
        ("A2", 302),
        ("A3", 303),
        ("A4", 307),
        ("A5", 308),
    ] {
        Mock::given(method("POST"))
            .and(path(format!("/workspaces/{from}/messages")))
            .respond_with(redirect(status, "/workspaces/AB/messages"))
            .mount(&server)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/workspaces/AB/messages"))
        .and(body_json(message_json()))
        .respond_with(ResponseTemplate::new(202).insert_header("location", "/messages/CD"))
        .expect(2)
        .mount(&server)
        .await;
    let client = whispir_tests::mock_client_with(&server.uri(), whispir_tests::fast_retries(3));
    for workspace in ["A4", "A5"] {
        let body: Message = serde_json::from_value(message_json()).unwrap();
        let sent = client
            .message_create()
            .workspace_id(workspace)
            .body(body)
            .send()
            .await
            .expect("307 and 308 promise the send was not carried out");
        assert_eq!(sent.message_id(), Some("CD"));
    }
    for workspace in ["A1", "A2", "A3"] {
        let carried_out = workspace == "A3";
        let body: Message = serde_json::from_value(message_json()).unwrap();
        let err = expect_error(
            client
                .message_create()
                .workspace_id(workspace)
                .body(body)
                .send()
                .await,
        );
        match err.refusal() {
            // 303 See Other: the API says it acted, and where the result is.
            Some(Refusal::Redirect {
                reason: RedirectRefusal::CarriedOut { location },
                ..
            }) if carried_out => assert_eq!(
                location.as_deref(),
                Some(format!("{}/workspaces/AB/messages", server.uri()).as_str())
            ),
            Some(Refusal::Redirect {
                reason: RedirectRefusal::SendNotRepeated,
                ..
            }) if !carried_out => {}
            _ => panic!("{workspace}: {err:#}"),
        }
        assert!(!err.is_retryable());
        assert!(err.may_have_been_processed(), "{err}");
        assert_eq!(err.refusal().unwrap().was_carried_out(), carried_out);
        assert_eq!(
            err.attempts(),
            1,
            "never sent again, retries allowed or not"
        );
    }
}

#[tokio::test]
async fn the_same_path_with_another_query_is_not_a_loop() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::query_param("offset", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"messages": []})))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/messages"))
        .respond_with(redirect(302, "/messages?limit=5&offset=0"))
        .with_priority(2)
        .mount(&server)
        .await;
    mock_client(&server.uri())
        .message_list()
        .limit(std::num::NonZeroU32::new(5).unwrap())
        .send()
        .await
        .expect("followed: a new query is a new place");
}

#[tokio::test]
async fn refused_redirects_are_final_and_say_why() {
    let server = MockServer::start().await;
    for hop in 0..8 {
        Mock::given(path(format!("/messages/C{hop}")))
            .respond_with(redirect(302, &format!("/messages/C{}", hop + 1)))
            .mount(&server)
            .await;
    }
    let err = expect_error(
        mock_client(&server.uri())
            .message_retrieve()
            .message_id("C0")
            .send()
            .await,
    );
    assert!(matches!(
        err.refusal(),
        Some(Refusal::Redirect {
            reason: RedirectRefusal::TooManyHops { limit: 5 },
            ..
        })
    ));
    assert!(!err.is_retryable());
    let shown = format!("{err:#}");
    assert!(!shown.contains("send this request again"), "{shown}");
    assert!(
        shown.contains("remedy: the redirects do not lead anywhere"),
        "{shown}"
    );
}
