//! The operations: the ones with their own behaviour go to their
//! resource modules, every other one is list, create, retrieve, update or
//! delete on its collection ([`crud`]).

use axum::http::StatusCode;

use crate::answers::{Answer, Call};
use crate::errors::ApiFailure;
use crate::lock::lock;
use crate::paging::list;
use crate::resources::{auth_endpoint, callbacks, crud, imports, messages, otp};

/// Runs the operation of a call.
pub(crate) fn dispatch(call: &Call<'_>) -> Result<Answer, ApiFailure> {
    let operation = call.bound.operation;
    match operation.id.as_str() {
        "authCreate" => Ok(auth_endpoint::create_token(call)),
        "authVerificationRetrieve" => Ok(Answer::empty(StatusCode::OK)),
        "messageCreate" => messages::create(call),
        "messageList" => messages::list(call),
        "messageStatusList" => messages::status_list(call),
        "messageResponseList" => messages::response_list(call),
        "scenarioRunCreate" => messages::run_scenario(call),
        "callbackCallList" => callbacks::call_list(call),
        "callbackCallUpdate" => callbacks::call_update(call),
        "sendCodeCreate" => otp::send_code(call),
        "verifyCodeCreate" => otp::verify_code(call),
        "importCreate" => imports::create(call),
        "usersDelete" => {
            lock(&call.state.store).clear(&None, "users");
            Ok(Answer::empty(StatusCode::NO_CONTENT))
        }
        "userWorkspaceList" => list(call, &None, "users"),
        "activityList" => list(call, &None, "activities"),
        _ => crud::generic(call),
    }
}
