//! What every syn pass shares: the error for a shape of progenitor's
//! output a pass does not know, and small readers of generated syntax.

use quote::ToTokens;

/// A shape of progenitor's output the pass does not know.
#[derive(Debug, thiserror::Error)]
#[error("{place}: unexpected shape of progenitor's output: {problem}")]
pub struct ShapeError {
    /// Where: the operation (method name) or item.
    pub place: String,
    /// What was found instead of the expected shape.
    pub problem: String,
}

/// The error every syn pass gives for a shape of progenitor's output it
/// does not know, at `place`.
pub(crate) fn shape(place: &str, problem: impl Into<String>) -> ShapeError {
    ShapeError {
        place: place.to_string(),
        problem: problem.into(),
    }
}

/// Tokens as compact text, for comparing statements with their expected form.
pub(crate) fn text(tokens: &impl ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(' ', "")
}

/// The name of the `generated::specs` static a rewritten `send()` passes
/// to `crate::runtime::call` (`MESSAGE_RETRIEVE`), or `None` before the
/// response-handling pass.
pub(crate) fn spec_static_in(send: &syn::Block) -> Option<String> {
    text(send)
        .split("&crate::generated::specs::")
        .nth(1)
        .and_then(|rest| rest.split([',', ')']).next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
}

/// The name of the static in `generated::specs` that holds the facts of
/// the operation with the method name `method`: `message_retrieve` →
/// `MESSAGE_RETRIEVE`.
pub(crate) fn spec_static(method: &str) -> syn::Ident {
    quote::format_ident!("{}", method.to_uppercase())
}
