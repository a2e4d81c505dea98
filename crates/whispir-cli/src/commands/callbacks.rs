//! `whispir callbacks listen`: receives Whispir's callbacks, checks their
//! key with `whispir::callbacks::Receiver` and prints each verified one as
//! a JSON line on stdout (rejections go to stderr). With `--dedup URL`,
//! replicas sharing that Redis print each event once (`RedisDedup`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{IntoResponse as _, Response};
use whispir::callbacks::{
    AuthMode, Callback, CallbackKey, Outcome, Receiver, RedisDedup, WhenStoreUnavailable,
};

use crate::cli::{CallbackMode, CallbacksCommand, DedupUnavailable};
use crate::exit::{CliError, ExitClass};
use crate::output::{Output, print_lines};

/// Runs `callbacks`.
pub async fn run(_out: Output, command: CallbacksCommand) -> Result<ExitClass, CliError> {
    let CallbacksCommand::Listen {
        port,
        host,
        mode,
        key,
        dedup,
        dedup_namespace,
        dedup_lease,
        when_dedup_unavailable,
    } = command;
    let key = key
        .or_else(|| std::env::var("WHISPIR_CALLBACK_KEY").ok())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| {
            CliError::usage("no callback key: give --key or set WHISPIR_CALLBACK_KEY")
        })?;
    let mode = match mode {
        CallbackMode::Header => AuthMode::HttpHeader,
        CallbackMode::Query => AuthMode::QueryParam,
        CallbackMode::Basic => AuthMode::BasicAuth,
        CallbackMode::Bearer => AuthMode::BearerToken,
    };
    let key = CallbackKey::new(key).map_err(|err| CliError::usage(format!("--key: {err}")))?;
    let mut receiver =
        Receiver::new(mode, key).map_err(|err| CliError::usage(format!("--key: {err}")))?;
    if let Some(url) = dedup {
        if url.trim().is_empty() {
            // Likely `--dedup "$UNSET"`: listening without de-duplication
            // would act again on every retry that reaches another replica.
            return Err(CliError::usage(
                "--dedup: the Redis URL (--dedup or WHISPIR_CALLBACK_DEDUP) is empty: give redis://host[:port][/db], or leave both out",
            ));
        }
        let lease = Duration::try_from_secs_f64(dedup_lease)
            .ok()
            .filter(|lease| !lease.is_zero())
            .ok_or_else(|| {
                CliError::usage(format!(
                    "--dedup-lease: {dedup_lease} is not a positive number of seconds"
                ))
            })?;
        let store = RedisDedup::new(&url, &dedup_namespace)
            .map_err(|err| CliError::usage(format!("--dedup: {err}")))?
            .lease(lease)
            .when_unavailable(match when_dedup_unavailable {
                DedupUnavailable::Refuse => WhenStoreUnavailable::Refuse,
                DedupUnavailable::Act => WhenStoreUnavailable::ActWithoutDedup,
            });
        receiver = receiver.with_dedup(store);
    }
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(Arc::new(receiver));
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(host, port))
        .await
        .map_err(|err| CliError::io(format!("cannot listen on {host}:{port}"), err))?;
    let address = listener
        .local_addr()
        .map_err(|err| CliError::io("cannot read the listening address", err))?;
    eprintln!("listening for callbacks on http://{address} ({mode}); Ctrl-C stops");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|err| CliError::io("the callback server failed", err))?;
    Ok(ExitClass::Success)
}

async fn receive(State(receiver): State<Arc<Receiver>>, request: Request) -> Response {
    let callback = match receiver.receive(request).await {
        Ok(callback) => callback,
        Err(err) => {
            eprintln!("whispir: callback refused: {err}");
            return err.to_response().map(axum::body::Body::new);
        }
    };
    let Some(store) = receiver.dedup() else {
        return match print_callback(&callback) {
            Ok(()) => axum::http::StatusCode::OK.into_response(),
            Err(err) => {
                eprintln!("whispir: {err}");
                axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        };
    };
    let message_id = callback.message_id.clone();
    let outcome = store
        .act_once(
            callback,
            |callback| async move { print_callback(&callback) },
        )
        .await;
    match &outcome {
        Outcome::Failed(err) => eprintln!("whispir: {err}"),
        Outcome::Refused(err) => {
            eprintln!("whispir: callback for {message_id} refused (503) until Redis answers: {err}")
        }
        Outcome::ActedWithoutDedup => eprintln!(
            "whispir: warning: printed the callback for {message_id} without de-duplication: Redis cannot be reached"
        ),
        Outcome::InProgress { .. } => eprintln!(
            "whispir: callback for {message_id} is being handled by another replica: answered 503"
        ),
        Outcome::Acted | Outcome::AlreadyDone => {}
    }
    outcome.into_response()
}

/// The handler: one JSON line on stdout.
fn print_callback(callback: &Callback) -> Result<(), String> {
    let line =
        serde_json::to_string(callback).map_err(|err| format!("cannot print a callback: {err}"))?;
    print_lines([line]).map_err(|err| err.to_string())
}
