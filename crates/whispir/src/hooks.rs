//! The `ClientHooks` implementation the generated client calls around every
//! request. It must live in this crate: the orphan rule forbids implementing
//! progenitor's trait for the generated `Client` anywhere else.

use progenitor_client::{ClientHooks, ClientInfo as _, OperationInfo};
use whispir_errors::progenitor::transport_report;

use crate::context::ClientContext;
use crate::execute::execute;
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
        let operation = OperationSpec::for_method(info.operation_id)
            .map_or(info.operation_id, |spec| spec.operation_id);
        execute(self.client(), &self.inner, request, operation).await
    }
}
