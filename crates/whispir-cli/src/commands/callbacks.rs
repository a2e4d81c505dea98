//! `whispir callbacks listen`: receives Whispir's callbacks, checks their
//! key with `whispir::callbacks::Receiver` and prints each verified one as
//! a JSON line on stdout (rejections go to stderr).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::{IntoResponse as _, Response};
use whispir::callbacks::{AuthMode, CallbackKey, Receiver};

use crate::cli::{CallbackMode, CallbacksCommand};
use crate::exit::{CliError, ExitClass};
use crate::output::{Output, print_lines};

/// Runs `callbacks`.
pub async fn run(_out: Output, command: CallbacksCommand) -> Result<ExitClass, CliError> {
    let CallbacksCommand::Listen {
        port,
        host,
        mode,
        key,
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
    let receiver =
        Receiver::new(mode, key).map_err(|err| CliError::usage(format!("--key: {err}")))?;
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
    match receiver.receive(request).await {
        Ok(callback) => {
            match serde_json::to_string(&callback) {
                Ok(line) => {
                    if let Err(err) = print_lines([line]) {
                        eprintln!("whispir: {err}");
                    }
                }
                Err(err) => eprintln!("whispir: cannot print a callback: {err}"),
            }
            axum::http::StatusCode::OK.into_response()
        }
        Err(err) => {
            eprintln!("whispir: callback refused: {err}");
            err.to_response().map(axum::body::Body::new)
        }
    }
}
