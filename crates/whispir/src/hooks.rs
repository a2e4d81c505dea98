//! The `ClientHooks` implementation the generated client calls around every
//! request. It must live in this crate: the orphan rule forbids implementing
//! progenitor's trait for the generated `Client` anywhere else.

use progenitor_client::{ClientHooks, OperationInfo};

use crate::context::ClientContext;
use crate::generated::Client;
use crate::media_types::OperationMediaTypes;

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
        match OperationMediaTypes::for_method(info.operation_id) {
            Some(media) => media.apply(request),
            None => {
                return Err(progenitor_client::Error::InvalidRequest(format!(
                    "no media types are known for operation {}; run `cargo xtask regen`",
                    info.operation_id
                )));
            }
        }
        self.inner.authenticate(request);
        Ok(())
    }
}
