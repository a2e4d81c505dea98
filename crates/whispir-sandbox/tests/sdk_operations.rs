//! The SDK against the sandbox: every one of the 73 operations of the spec,
//! called through `whispir::Client`, answers with a 2xx.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use serde_json::{Value, json};
use whispir::types;
use whispir_sandbox::{DEMO_WORKSPACE_ID, Sandbox};

/// A typed request body from JSON.
fn body<T: serde::de::DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("the body fits its type")
}

const WS: &str = DEMO_WORKSPACE_ID;

fn contact() -> types::Contact {
    body(json!({
        "firstName": "Ivy", "lastName": "Stone", "workMobilePhone1": "61400000050",
        "workEmailAddress1": "ivy.stone@example.com", "workCountry": "Australia",
        "timezone": "Australia/Melbourne"
    }))
}

fn callback() -> types::Callback {
    body(json!({
        "name": "sdk-callback", "url": "http://127.0.0.1:9/callback",
        "auth": {"type": "httpheader", "key": "k"}, "contentType": "json",
        "removeHTML": "disabled", "retriesEnabled": false, "email": "ops@example.com",
        "callbacks": {"reply": "enabled", "undeliverable": "enabled"}
    }))
}

fn template() -> types::Template {
    body(json!({"messageTemplateName": "sdk-template", "subject": "Hi", "body": "Hello"}))
}

fn scenario() -> types::Scenario {
    body(json!({
        "name": "sdk-scenario", "description": "From the SDK test",
        "message": {"to": "61400000001", "subject": "Drill", "body": "This is a drill."}
    }))
}

fn response_rule() -> types::ResponseRule {
    body(json!({
        "name": "sdk-rule",
        "responseTemplatePatterns": {"name": "yes", "pattern": "startswith", "textPrompt": "YES",
            "voicePrompt": "1", "spokenVoicePrompt": "Press 1", "colour": "#00947d"}
    }))
}

fn user() -> types::User {
    body(json!({
        "userName": "sdk.user", "password": "Secret-123", "firstName": "Sid", "lastName": "User",
        "workCountry": "Australia", "timezone": "Australia/Sydney"
    }))
}

#[tokio::test]
async fn every_operation_answers_the_sdk_with_success() -> whispir::Result<()> {
    let sandbox = Sandbox::builder()
        .message_step(std::time::Duration::from_millis(10))
        .start()
        .await
        .expect("the sandbox starts");
    let client = sandbox.client();

    // Company-wide.
    client.activity_list().send().await?;
    client
        .activity_create()
        .body(body::<types::Activity>(
            json!({"action": "Create", "module": "Contact"}),
        ))
        .send()
        .await?;
    client.auth_create().send().await?;
    client.auth_verification_retrieve().send().await?;
    client.custom_list_list().send().await?;
    client
        .custom_list_retrieve()
        .customlist_id("CL000000000000000001")
        .send()
        .await?;

    client.callback_list().send().await?;
    client.callback_create().body(callback()).send().await?;
    client
        .callback_retrieve()
        .callback_id("CB000000000000000001")
        .send()
        .await?;
    client
        .callback_update()
        .callback_id("CB000000000000000001")
        .body(callback())
        .send()
        .await?;
    client
        .callback_call_list()
        .callback_id("CB000000000000000001")
        .send()
        .await?;
    client
        .callback_call_update()
        .callback_id("CB000000000000000001")
        .id("none")
        .body(body::<types::CallbackCall>(json!({"status": "SUCCESS"})))
        .send()
        .await?;

    let key_id = "0f6b1c2e-3d4a-4b5c-a6d7-e8f901234567";
    client.key_list().send().await?;
    client
        .key_create()
        .body(body::<types::Key>(json!({"type": "basic"})))
        .send()
        .await?;
    client.key_retrieve().key_id(key_id).send().await?;
    client
        .key_update()
        .key_id(key_id)
        .body(body::<types::Key>(json!({"type": "basic"})))
        .send()
        .await?;

    let otp = client
        .send_code_create()
        .body(body::<types::SendCodeCreateBody>(json!({"to": "61400000001", "channel": "sms", "codeLength": 6, "expiresIn": 600, "workspaceId": WS})))
        .send()
        .await?
        .into_inner();
    let code = sandbox
        .otp_code(&otp.id)
        .expect("the sandbox knows the code");
    let verified = client
        .verify_code_create()
        .otp_id(&otp.id)
        .body(body::<types::VerifyCodeCreateBody>(
            json!({"to": "61400000001", "code": code}),
        ))
        .send()
        .await?
        .into_inner();
    assert_eq!(verified.status, "verified");

    // Users come back without their write-only login name and password.
    let users = client.user_list().send().await?.into_inner();
    assert!(users.users.iter().all(|user| user.password.is_none()));
    let created = client.user_create().body(user()).send().await?;
    assert_eq!(created.user_name, None);
    assert_eq!(created.password, None);
    let read = client
        .user_retrieve()
        .user_id("U0000000000000000001")
        .send()
        .await?;
    assert_eq!(read.password, None);
    client
        .user_update()
        .user_id("U0000000000000000001")
        .body(user())
        .send()
        .await?;

    client.workspace_list().send().await?;
    client
        .workspace_create()
        .body(body::<types::Workspace>(
            json!({"projectName": "SDK", "status": "A"}),
        ))
        .send()
        .await?;
    client.workspace_retrieve().workspace_id(WS).send().await?;
    client
        .workspace_update()
        .workspace_id(WS)
        .body(body::<types::Workspace>(
            json!({"projectName": "Sandbox demo", "status": "A"}),
        ))
        .send()
        .await?;
    client
        .activity_workspace_list()
        .workspace_id(WS)
        .send()
        .await?;
    client.user_workspace_list().workspace_id(WS).send().await?;

    // Inside the demo workspace.
    let contact_id = "C0000000000000000001";
    client.contact_list().workspace_id(WS).send().await?;
    client
        .contact_create()
        .workspace_id(WS)
        .body(contact())
        .send()
        .await?;
    client
        .contact_retrieve()
        .workspace_id(WS)
        .contact_id(contact_id)
        .send()
        .await?;
    client
        .contact_update()
        .workspace_id(WS)
        .contact_id(contact_id)
        .body(contact())
        .send()
        .await?;

    let list_id = "D0000000000000000001";
    let list = || body::<types::DistributionList>(json!({"name": "SDK list"}));
    client
        .distribution_list_list()
        .workspace_id(WS)
        .send()
        .await?;
    client
        .distribution_list_create()
        .workspace_id(WS)
        .body(list())
        .send()
        .await?;
    client
        .distribution_list_retrieve()
        .workspace_id(WS)
        .distributionlist_id(list_id)
        .send()
        .await?;
    client
        .distribution_list_update()
        .workspace_id(WS)
        .distributionlist_id(list_id)
        .body(list())
        .send()
        .await?;

    let event_id = "EE000000000000000001";
    let event = || body::<types::Event>(json!({"eventLabel": "SDK event", "status": "Open"}));
    client
        .event_list()
        .workspace_id(WS)
        .event_type("Open")
        .send()
        .await?;
    client
        .event_create()
        .workspace_id(WS)
        .body(event())
        .send()
        .await?;
    client
        .event_retrieve()
        .workspace_id(WS)
        .event_id(event_id)
        .send()
        .await?;
    client
        .event_update()
        .workspace_id(WS)
        .event_id(event_id)
        .body(event())
        .send()
        .await?;

    let resource_id = "AE000000000000000001";
    let resource = || {
        body::<types::Resource>(
            json!({"name": "sdk.txt", "scope": "private", "mimeType": "text/plain",
            "derefUri": "aGVsbG8="}),
        )
    };
    client.resource_list().workspace_id(WS).send().await?;
    client
        .resource_create()
        .workspace_id(WS)
        .body(resource())
        .send()
        .await?;
    client
        .resource_retrieve()
        .workspace_id(WS)
        .resource_id(resource_id)
        .send()
        .await?;
    client
        .import_create()
        .workspace_id(WS)
        .body(body::<types::Import>(json!({
            "resourceId": resource_id, "importType": "contact", "importMode": "duplicate",
            "importOptions": {"fieldMapping": {"firstName": "First", "lastName": "Last",
                "workMobilePhone1": "Mobile", "workCountry": "Country", "timezone": "Timezone"}}
        })))
        .send()
        .await?;
    client
        .resource_update()
        .workspace_id(WS)
        .resource_id(resource_id)
        .body(resource())
        .send()
        .await?;

    let message_id = "E0000000000000000001";
    client.message_list().workspace_id(WS).send().await?;
    client
        .message_create()
        .workspace_id(WS)
        .body(body::<types::Message>(
            json!({"to": "61400000001", "subject": "SDK", "body": "Hello"}),
        ))
        .send()
        .await?;
    client
        .message_retrieve()
        .workspace_id(WS)
        .message_id(message_id)
        .send()
        .await?;
    client
        .message_response_list()
        .workspace_id(WS)
        .message_id(message_id)
        .send()
        .await?;
    client
        .message_status_list()
        .workspace_id(WS)
        .message_id(message_id)
        .send()
        .await?;

    let rule_id = "90000000000000000001";
    client.response_rule_list().workspace_id(WS).send().await?;
    client
        .response_rule_create()
        .workspace_id(WS)
        .body(response_rule())
        .send()
        .await?;
    client
        .response_rule_retrieve()
        .workspace_id(WS)
        .response_rule_id(rule_id)
        .send()
        .await?;
    client
        .response_rule_update()
        .workspace_id(WS)
        .response_rule_id(rule_id)
        .body(response_rule())
        .send()
        .await?;

    let scenario_id = "50000000000000000001";
    client.scenario_list().workspace_id(WS).send().await?;
    client
        .scenario_create()
        .workspace_id(WS)
        .body(scenario())
        .send()
        .await?;
    client
        .scenario_retrieve()
        .workspace_id(WS)
        .scenario_id(scenario_id)
        .send()
        .await?;
    client
        .scenario_update()
        .workspace_id(WS)
        .scenario_id(scenario_id)
        .body(scenario())
        .send()
        .await?;
    client
        .scenario_run_create()
        .workspace_id(WS)
        .scenario_id(scenario_id)
        .send()
        .await?;

    let template_id = "70000000000000000001";
    client.template_list().workspace_id(WS).send().await?;
    client
        .template_create()
        .workspace_id(WS)
        .body(template())
        .send()
        .await?;
    client
        .template_retrieve()
        .workspace_id(WS)
        .template_id(template_id)
        .send()
        .await?;
    client
        .template_update()
        .workspace_id(WS)
        .template_id(template_id)
        .body(template())
        .send()
        .await?;

    // Deletes last, so the reads above found what they read.
    client
        .template_delete()
        .workspace_id(WS)
        .template_id(template_id)
        .send()
        .await?;
    client
        .scenario_delete()
        .workspace_id(WS)
        .scenario_id(scenario_id)
        .send()
        .await?;
    client
        .response_rule_delete()
        .workspace_id(WS)
        .response_rule_id(rule_id)
        .send()
        .await?;
    client
        .resource_delete()
        .workspace_id(WS)
        .resource_id(resource_id)
        .send()
        .await?;
    client
        .distribution_list_delete()
        .workspace_id(WS)
        .distributionlist_id(list_id)
        .send()
        .await?;
    client
        .contact_delete()
        .workspace_id(WS)
        .contact_id(contact_id)
        .send()
        .await?;
    client.key_delete().key_id(key_id).send().await?;
    client
        .callback_delete()
        .callback_id("CB000000000000000001")
        .send()
        .await?;
    client
        .user_delete()
        .user_id("U0000000000000000001")
        .send()
        .await?;
    client.users_delete().send().await?;
    Ok(())
}

#[tokio::test]
async fn calls_without_a_workspace_act_in_the_default_one() -> whispir::Result<()> {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let client = sandbox.client();
    client.contact_create().body(contact()).send().await?;
    let listed = client
        .contact_list()
        .workspace_id(DEMO_WORKSPACE_ID)
        .send()
        .await?
        .into_inner();
    assert!(
        listed
            .contacts
            .iter()
            .any(|contact| contact.first_name == "Ivy")
    );
    let elsewhere = client
        .contact_list()
        .workspace_id("B2C3D4E5F60718293A4B")
        .send()
        .await?
        .into_inner();
    assert!(
        !elsewhere
            .contacts
            .iter()
            .any(|contact| contact.first_name == "Ivy")
    );
    Ok(())
}

/// What `Message::sms` and `Message::email` build, the sandbox accepts:
/// the SDK's checks never let through a message Whispir refuses.
#[tokio::test]
async fn every_message_the_sdk_builds_is_accepted() {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let client = sandbox.client();
    let long_line = "a".repeat(1571);
    let many = vec!["61400000001"; 834];
    let cases = [
        types::Message::sms("61400000001", "\nHello"),
        types::Message::sms("61400000001", "  \r\nHello"),
        types::Message::sms("61400000001", long_line.as_str()),
        types::Message::sms("61400000001", format!("Hi\n{long_line}")),
        types::Message::sms(many, "Hi"),
        // A list name is a recipient where a list has it (the demo's "Customers").
        types::Message::sms("Customers, 61400000001", "Hi"),
        types::Message::email("ops@example.com", long_line.as_str(), "Disk full"),
        types::Message::email(
            "My_Distribution_List.company_name@list.company.whispir.sg",
            "Alert",
            "Disk full",
        ),
    ];
    for (index, case) in cases.into_iter().enumerate() {
        let Ok(message) = types::Message::try_from(case) else {
            continue;
        };
        let sent = client.message_create().body(message).send().await;
        assert!(sent.is_ok(), "case {index}: built, then refused: {sent:?}");
    }
}

#[tokio::test]
async fn a_user_put_back_without_its_password_is_accepted() -> whispir::Result<()> {
    let sandbox = Sandbox::start().await.expect("the sandbox starts");
    let client = sandbox.client();
    let read = client
        .user_retrieve()
        .user_id("U0000000000000000001")
        .send()
        .await?
        .into_inner();
    assert_eq!(read.password, None);
    client
        .user_update()
        .user_id("U0000000000000000001")
        .body(read)
        .body_map(|user| user.user_name("sdk.user").last_name("Changed"))
        .send()
        .await?;
    let again = client
        .user_retrieve()
        .user_id("U0000000000000000001")
        .send()
        .await?;
    assert_eq!(again.last_name, "Changed");
    Ok(())
}
