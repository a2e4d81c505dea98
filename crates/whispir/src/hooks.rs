//! The `ClientHooks` implementation the generated client calls around every
//! request. It must live in this crate: the orphan rule forbids implementing
//! progenitor's trait for the generated `Client` anywhere else.

use futures::StreamExt as _;
use progenitor_client::{ClientHooks, ClientInfo as _, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use whispir_errors::progenitor::{
    METHOD_HEADER, OPERATION_HEADER, TRUNCATED_HEADER, transport_report,
};

use crate::context::ClientContext;
use crate::generated::Client;
use crate::operations::OperationSpec;

/// progenitor adds this header to every request. Whispir versions its API
/// through media types, so the header is noise on the wire and is removed.
const GENERATOR_VERSION_HEADER: &str = "api-version";

impl ClientHooks<ClientContext> for Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        request.headers_mut().remove(GENERATOR_VERSION_HEADER);
        match OperationSpec::for_method(info.operation_id) {
            Some(spec) => {
                spec.apply_media_types(request);
                spec.apply_workspace(request, self.baseurl());
            }
            None => {
                return Err(progenitor_client::Error::InvalidRequest(format!(
                    "no facts are known for operation {}; run `cargo xtask regen`",
                    info.operation_id
                )));
            }
        }
        self.inner.authenticate(request);
        Ok(())
    }

    async fn post<E>(
        &self,
        result: &reqwest::Result<reqwest::Response>,
        info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let Err(err) = result else {
            return Ok(());
        };
        // Carry the operation and method with a transport failure; the
        // generated code would pass the bare reqwest error on without them.
        let (operation, method) = OperationSpec::for_method(info.operation_id)
            .map_or((info.operation_id, ""), |spec| {
                (spec.operation_id, spec.http_method)
            });
        Err(progenitor_client::Error::Custom(transport_report(
            operation, method, err,
        )))
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let method = request.method().clone();
        let response = self.client().execute(request).await?;
        if response.status().is_success() {
            return Ok(response);
        }
        let operation = OperationSpec::for_method(info.operation_id)
            .map_or(info.operation_id, |spec| spec.operation_id);
        Ok(
            buffer_error_response(response, operation, &method, self.inner.error_body_limit())
                .await,
        )
    }
}

/// Replaces the body of an error response with at most `limit` bytes held
/// in memory (the rest is never read), and marks the response with the
/// operation and method so the error conversion can name them.
async fn buffer_error_response(
    response: reqwest::Response,
    operation: &str,
    method: &reqwest::Method,
    limit: usize,
) -> reqwest::Response {
    let status = response.status();
    let version = response.version();
    let mut headers = response.headers().clone();
    let mut body = Vec::new();
    let mut truncated = false;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            // The body broke off: keep what arrived, say it is incomplete.
            truncated = true;
            break;
        };
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() > room {
            truncated = true;
            break;
        }
    }
    // Dropping the stream here closes the connection instead of reading a
    // huge body to its end.
    drop(stream);
    headers.remove(reqwest::header::CONTENT_LENGTH);
    headers.remove(reqwest::header::TRANSFER_ENCODING);
    let mut mark = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    mark(OPERATION_HEADER, operation);
    mark(METHOD_HEADER, method.as_str());
    if truncated {
        mark(TRUNCATED_HEADER, "1");
    }
    let mut rebuilt = http::Response::new(reqwest::Body::from(body));
    *rebuilt.status_mut() = status;
    *rebuilt.version_mut() = version;
    *rebuilt.headers_mut() = headers;
    reqwest::Response::from(rebuilt)
}
