//! The auth endpoint: issues Bearer tokens the sandbox then accepts.

use serde_json::json;

use crate::answers::{Answer, Call};

/// `POST /auth`: a new token.
pub(crate) fn create_token(call: &Call<'_>) -> Answer {
    let token = format!(
        "sandbox-token-{:016x}{:016x}",
        fastrand::u64(..),
        fastrand::u64(..)
    );
    call.state.gate.issue(token.clone());
    Answer::ok(json!({
        "token": token,
        "link": [{"uri": format!("{}/auth/verify", call.base), "rel": "verify", "method": "GET"}],
    }))
}
