//! The SDK through the sandbox's faults: retries, redirects, dropped
//! connections and bodies it cannot read.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use whispir_sandbox::{Fault, FaultRule, RedirectTarget, Sandbox};

#[tokio::test]
async fn the_sdk_retries_through_two_injected_503s() -> whispir::Result<()> {
    let sandbox = Sandbox::builder()
        .fault(
            FaultRule::always(Fault::Status { status: 503 })
                .on("workspaceList")
                .times(2),
        )
        .start()
        .await
        .expect("the sandbox starts");
    let workspaces = sandbox.client().workspace_list().send().await?.into_inner();
    assert!(!workspaces.workspaces.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_sdk_follows_a_redirect_within_the_origin() -> whispir::Result<()> {
    let sandbox = Sandbox::builder()
        .fault(
            FaultRule::always(Fault::Redirect {
                status: 302,
                to: RedirectTarget::SameOrigin,
            })
            .times(1),
        )
        .start()
        .await
        .expect("the sandbox starts");
    let workspaces = sandbox.client().workspace_list().send().await?.into_inner();
    assert!(!workspaces.workspaces.is_empty());
    Ok(())
}

#[tokio::test]
async fn credentials_do_not_follow_a_redirect_to_another_port() {
    let sandbox = Sandbox::builder()
        .fault(FaultRule::always(Fault::Redirect {
            status: 302,
            to: RedirectTarget::OtherPort,
        }))
        .start()
        .await
        .expect("the sandbox starts");
    let error = sandbox.client().workspace_list().send().await.map(drop);
    let error = error.expect_err("the second listener refuses a request without credentials");
    let status = error.status().map(|s| s.as_u16());
    assert!(matches!(status, Some(401 | 403)), "{error:?}");
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error() {
    let sandbox = Sandbox::builder()
        .fault(FaultRule::always(Fault::ResetBeforeActing).on("workspaceList"))
        .start()
        .await
        .expect("the sandbox starts");
    let error = sandbox.client().workspace_list().send().await.map(drop);
    let error = error.expect_err("every attempt is reset");
    assert!(error.is_transport(), "{error:?}");
}

#[tokio::test]
async fn a_garbage_body_is_an_error_after_a_success() {
    let sandbox = Sandbox::builder()
        .fault(FaultRule::always(Fault::Garbage).on("workspaceList"))
        .start()
        .await
        .expect("the sandbox starts");
    let error = sandbox.client().workspace_list().send().await.map(drop);
    let error = error.expect_err("the body is not JSON");
    assert_eq!(error.class(), whispir::ErrorClass::Success, "{error:?}");
}

#[tokio::test]
async fn a_client_with_its_own_options_still_reaches_the_sandbox() -> whispir::Result<()> {
    let sandbox = Sandbox::builder()
        .fault(
            FaultRule::always(Fault::Status { status: 503 })
                .on("workspaceList")
                .times(1),
        )
        .start()
        .await
        .expect("the sandbox starts");
    let client = sandbox
        .client_builder()
        .retry(whispir::RetryConfig::disabled())
        .build()?;
    let error = client.workspace_list().send().await.map(drop);
    assert_eq!(
        error.expect_err("no retry").status().map(|s| s.as_u16()),
        Some(503)
    );
    client.workspace_list().send().await?;
    Ok(())
}
