//! The newcomer's tests: each task of the first hour against the sandbox,
//! with the lines the README's testing section gives.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use whispir::callbacks::CallbackKind;
use whispir_newcomer::*;
use whispir_sandbox::{FAILING_NUMBER, Sandbox};

#[tokio::test]
async fn one_sms_reaches_two_people_and_the_sandbox_saw_it() -> anyhow::Result<()> {
    let sandbox = Sandbox::start().await?;
    let id = tell_the_team(
        sandbox.client(),
        &["61400000001", "61400000002"],
        "Doors open at 9",
    )
    .await?;
    assert!(!id.is_empty());
    let sent = sandbox.sent_messages();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, ["61400000001", "61400000002"]);
    assert_eq!(sent[0].text(), "Doors open at 9");
    Ok(())
}

#[tokio::test]
async fn an_email_is_sent_with_its_subject() -> anyhow::Result<()> {
    let sandbox = Sandbox::start().await?;
    email(
        sandbox.client(),
        "jane@example.com",
        "Invoice 42",
        "Attached.",
    )
    .await?;
    let sent = sandbox.sent_messages();
    assert_eq!(sent[0].to, ["jane@example.com"]);
    assert_eq!(sent[0].subject, "Invoice 42");
    Ok(())
}

#[tokio::test]
async fn waiting_ends_when_everyone_is_delivered_with_the_counts() -> anyhow::Result<()> {
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(50))
        .start()
        .await?;
    let counts = send_and_wait(
        sandbox.client(),
        "61400000001,61400000002",
        "Your code is 1234",
    )
    .await?;
    assert_eq!(
        (
            counts.received + counts.acknowledged,
            counts.pending,
            counts.sent
        ),
        (2, 0, 0)
    );
    Ok(())
}

#[tokio::test]
async fn the_last_fifty_come_in_pages_of_the_apis_size() -> anyhow::Result<()> {
    let sandbox = Sandbox::start().await?;
    for n in 0..60 {
        tell_the_team(sandbox.client(), &["61400000001"], &format!("Update {n}")).await?;
    }
    let subjects = last_messages(sandbox.client(), 50).await?;
    assert_eq!(subjects.len(), 50);
    // Three pages of 20 were asked for, the third cut short by max_items.
    let pages = sandbox
        .requests()
        .iter()
        .filter(|r| r.operation_id.as_deref() == Some("messageList"))
        .count();
    assert_eq!(pages, 3);
    Ok(())
}

#[tokio::test]
async fn a_contact_is_created_changed_read_and_deleted() -> anyhow::Result<()> {
    let sandbox = Sandbox::start().await?;
    let workspace = sandbox.default_workspace_id().expect("the demo workspace");
    assert_eq!(
        contact_round_trip(sandbox.client(), &workspace).await?,
        "Ivy-May Stone"
    );
    Ok(())
}

#[tokio::test]
async fn errors_shown_with_braces_carry_the_reason() -> anyhow::Result<()> {
    let sandbox = Sandbox::start().await?;
    let shown = try_to_read(sandbox.client(), "00000000000000000000").await;
    assert!(
        shown.starts_with("no such message: messageRetrieve: 404"),
        "{shown}"
    );

    // A mistake the SDK catches before sending, shown the same way.
    let err = tell_the_team(sandbox.client(), &["61400000001;61400000002"], "Hi")
        .await
        .expect_err("`;` is not Whispir's separator");
    assert!(
        err.to_string().contains("separate recipients with `,`"),
        "{err}"
    );
    assert!(
        err.downcast_ref::<whispir::Error>().is_some(),
        "still the SDK's error: {err:?}"
    );
    assert!(sandbox.sent_messages().is_empty(), "nothing was sent");

    // A limit over the API's maximum, refused with the range.
    let err = sandbox
        .client()
        .message_list()
        .limit(50)
        .send()
        .await
        .expect_err("the API's pages hold 20 at most");
    assert!(err.to_string().contains("20"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_callback_reaches_the_axum_app() -> anyhow::Result<()> {
    let sandbox = Sandbox::builder()
        .message_step(Duration::from_millis(50))
        .start()
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/whispir", listener.local_addr()?);
    let (app, mut callbacks) = callback_app(sandbox.client(), &url, "newcomer-key-1").await?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let sent = sandbox
        .client()
        .message_create()
        .body(
            whispir::types::Message::sms(["61400000002", FAILING_NUMBER], "Reply YES")
                .callback_id("newcomer"),
        )
        .send()
        .await?;
    let callback = tokio::time::timeout(Duration::from_secs(10), callbacks.recv())
        .await?
        .expect("a callback");
    assert_eq!(callback.kind(), CallbackKind::Undeliverable);
    assert_eq!(Some(callback.message_id.as_str()), sent.message_id());
    Ok(())
}
