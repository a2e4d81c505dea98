//! The one rewrite of progenitor's output: how every generated `send()`
//! handles its response.
//!
//! progenitor builds each request well (URL, query, headers, body) but has
//! a fixed error type and answers with its own `ResponseValue`. This pass
//! keeps the request building of every `send()` as generated and replaces
//! what follows it with one call into the handwritten crate:
//!
//! ```text
//! pub async fn send(self) -> Result<ResponseValue<T>, Error<ByteStream>> {
//!     let Self { client, a, b } = self;
//!     let a = a.map_err(Error::InvalidRequest)?;      // request building,
//!     …                                              // kept as generated
//!     let mut request = client.client.get(url)…build()?;
//!     let info = OperationInfo { operation_id: "x" }; // response handling,
//!     client.pre(&mut request, &info).await?;         // replaced
//!     …
//!     match response.status().as_u16() { … }
//! }
//! ```
//!
//! becomes
//!
//! ```text
//! pub async fn send(self) -> Result<crate::Response<T>, crate::Error> {
//!     let Self { client, a, b } = self;
//!     let request = (|| -> Result<reqwest::Request, Error<ByteStream>> {
//!         let a = a.map_err(Error::InvalidRequest)?;
//!         …
//!         let mut request = client.client.get(url)…build()?;
//!         Ok(request)
//!     })();
//!     crate::runtime::call::json::<T>(&client.client, &client.inner, &crate::generated::specs::X, request).await
//! }
//! ```
//!
//! (`request_building` then touches the moved request building: no
//! `api-version` header, the workspace formatted into the path.)
//!
//! The decoding function follows from the success arms of the generated
//! `match`: typed JSON bodies go to `call::json` (the type is the one
//! `send` returned), bodiless answers to
//! `call::empty`, and the raw streams progenitor gives to operations with
//! several success shapes go to a handwritten outcome listed in
//! [`OUTCOMES`]. The runtime's functions get the client's reqwest client
//! and context (`client.client`, `client.inner`), never the generated
//! `Client`: the runtime is a layer under the generated code and names
//! none of its types (CONTRIBUTING.md, "Layers"). Anything else in progenitor's output — another statement
//! order, another arm, a stream without a listed outcome, an operation the
//! operation table does not list — is an error that names the operation, so
//! a new progenitor cannot slip through unnoticed.
//!
//! The generated `Client::new` is removed and `Client::new_with_client`
//! becomes crate-private: `Client::builder()` is the one way to build a
//! client, and it never lets reqwest follow redirects.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::{Block, Expr, ImplItem, Item, Stmt, Type, parse_quote};

use super::syntax::{ShapeError, shape, spec_static, text};
use crate::adapt::OperationSpec;
use crate::rewrite_counts::Tally;

/// Operations whose successful answers have several shapes, with the
/// handwritten outcome type and the function that decodes it.
pub const OUTCOMES: &[(&str, &str, &str)] = &[(
    "message_create",
    "crate::runtime::sent::Sent<crate::generated::types::Message>",
    "crate::runtime::call::message_sent",
)];

/// How the successful answers of an operation are decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Decoding {
    /// A typed JSON body.
    Json,
    /// No body.
    Empty,
    /// A raw stream: one of the [`OUTCOMES`].
    Stream,
}

/// What the pass rewrote, by operation.
#[derive(Debug, Default)]
pub struct Rewritten {
    /// `send()` methods whose response handling was replaced.
    pub sends: Tally,
    /// Workspaces moved from the query into the path (`request_building`).
    pub workspaces: Tally,
}

/// Rewrites the response handling of every `send()` in `file`, and makes
/// the generated constructors crate-private. `operations` is the operation
/// table: a `send()` of an operation it does not list is an error.
pub fn rewrite(
    file: &mut syn::File,
    operations: &[OperationSpec],
) -> Result<Rewritten, ShapeError> {
    let mut rewritten = Rewritten::default();
    let mut found_builder = false;
    for item in &mut file.items {
        match item {
            Item::Mod(module) if module.ident == "builder" => {
                found_builder = true;
                let Some((_, items)) = &mut module.content else {
                    return Err(shape("mod builder", "the module has no body"));
                };
                for item in items.iter_mut() {
                    let Item::Impl(block) = item else { continue };
                    for member in &mut block.items {
                        if let ImplItem::Fn(method) = member
                            && method.sig.ident == "send"
                        {
                            let place = text(&block.self_ty);
                            let (operation, moved) = rewrite_send(&place, method, operations)?;
                            rewritten.workspaces.add(&operation, usize::from(moved));
                            rewritten.sends.add(operation, 1);
                        }
                    }
                }
            }
            Item::Impl(block) if block.trait_.is_none() && text(&block.self_ty) == "Client" => {
                // `new` builds its own reqwest client (and unwraps doing so):
                // gone. `new_with_client` is what `ClientBuilder::build` calls.
                block.items.retain(
                    |member| !matches!(member, ImplItem::Fn(method) if method.sig.ident == "new"),
                );
                for member in &mut block.items {
                    if let ImplItem::Fn(method) = member
                        && method.sig.ident == "new_with_client"
                    {
                        method.vis = parse_quote!(pub(crate));
                    }
                }
            }
            _ => {}
        }
    }
    if !found_builder {
        return Err(shape("generated client", "no `mod builder`"));
    }
    if rewritten.sends.total() == 0 {
        return Err(shape("mod builder", "no `send` method"));
    }
    Ok(rewritten)
}

/// The success type `T` of `Result<ResponseValue<T>, Error<ByteStream>>`.
fn success_type(place: &str, output: &syn::ReturnType) -> Result<Type, ShapeError> {
    let syn::ReturnType::Type(_, ty) = output else {
        return Err(shape(place, "`send` returns nothing"));
    };
    // prettyplease may break long generics with a trailing comma.
    let written = text(ty).replace(",>", ">");
    let inner = written
        .strip_prefix("Result<ResponseValue<")
        .and_then(|rest| rest.strip_suffix(">,Error<ByteStream>>"))
        .ok_or_else(|| shape(place, format!("`send` returns `{written}`")))?;
    syn::parse_str(inner).map_err(|err| shape(place, format!("success type `{inner}`: {err}")))
}

/// The statements that must follow the request building, in order.
const HANDLING: [&str; 4] = [
    "client.pre(&mutrequest,&info).await?;",
    "letresult=client.exec(request,&info).await;",
    "client.post(&result,&info).await?;",
    "letresponse=result?;",
];

/// Rewrites one `send()`; returns its operation's method name and whether
/// its workspace was moved into the path.
fn rewrite_send(
    place: &str,
    method: &mut syn::ImplItemFn,
    operations: &[OperationSpec],
) -> Result<(String, bool), ShapeError> {
    let success = success_type(place, &method.sig.output)?;
    let stmts = &method.block.stmts;
    let info_at = stmts
        .iter()
        .position(|stmt| text(stmt).starts_with("letinfo=OperationInfo{"))
        .ok_or_else(|| shape(place, "no `let info = OperationInfo { … }`"))?;
    let operation = operation_id(place, &stmts[info_at])?;
    let place = operation.as_str();
    let Some(facts) = operations.iter().find(|op| op.method_name == operation) else {
        return Err(shape(
            place,
            "no operation in the operation table has this name",
        ));
    };
    let rest = &stmts[info_at + 1..];
    if rest.len() != HANDLING.len() + 1 {
        return Err(shape(
            place,
            format!(
                "{} statements after `let info`, expected {}",
                rest.len(),
                HANDLING.len() + 1
            ),
        ));
    }
    for (stmt, expected) in rest.iter().zip(HANDLING) {
        if text(stmt) != expected {
            return Err(shape(
                place,
                format!("`{}` instead of `{expected}`", text(stmt)),
            ));
        }
    }
    let decoding = decoding(place, &rest[HANDLING.len()])?;
    let Some((first, building)) = stmts[..info_at].split_first() else {
        return Err(shape(place, "no request building before `let info`"));
    };
    if !text(first).starts_with("letSelf{") {
        return Err(shape(
            place,
            "the first statement does not destructure `self`",
        ));
    }
    match building.last() {
        Some(last) if text(last).contains("letmutrequest=client.client.") => {}
        _ => {
            return Err(shape(
                place,
                "the request is not built right before `let info`",
            ));
        }
    }

    let (output, call): (Type, TokenStream) = match decoding {
        Decoding::Json => (
            parse_quote!(crate::runtime::response::Response<#success>),
            quote!(crate::runtime::call::json::<#success>),
        ),
        Decoding::Empty => (
            parse_quote!(crate::runtime::response::Response<()>),
            quote!(crate::runtime::call::empty),
        ),
        Decoding::Stream => {
            let (_, outcome, function) = OUTCOMES
                .iter()
                .find(|(name, _, _)| *name == operation)
                .ok_or_else(|| {
                    shape(
                        place,
                        "answers with a raw stream, but has no handwritten outcome",
                    )
                })?;
            let outcome: Type = syn::parse_str(outcome)
                .map_err(|err| shape(place, format!("outcome type: {err}")))?;
            let function: syn::Path = syn::parse_str(function)
                .map_err(|err| shape(place, format!("outcome function: {err}")))?;
            (outcome, function.to_token_stream())
        }
    };
    method.sig.output = parse_quote!(-> ::std::result::Result<#output, crate::Error>);
    let mut building = building.to_vec();
    let moved = super::request_building::rewrite(place, facts.workspace_scoped, &mut building)?;
    let first = first.clone();
    let spec = spec_static(&operation);
    let body: Block = parse_quote!({
        #first
        let request = (|| -> ::std::result::Result<::reqwest::Request, Error<ByteStream>> {
            #(#building)*
            Ok(request)
        })();
        #call(&client.client, &client.inner, &crate::generated::specs::#spec, request).await
    });
    method.block = body;
    Ok((operation, moved))
}

/// The operation id of `let info = OperationInfo { operation_id: "…" };`.
fn operation_id(place: &str, stmt: &Stmt) -> Result<String, ShapeError> {
    let Stmt::Local(local) = stmt else {
        return Err(shape(place, "`let info` is not a let statement"));
    };
    let Some(init) = &local.init else {
        return Err(shape(place, "`let info` has no value"));
    };
    let Expr::Struct(info) = &*init.expr else {
        return Err(shape(place, "`let info` is not a struct literal"));
    };
    info.fields
        .iter()
        .find(|field| text(&field.member) == "operation_id")
        .and_then(|field| match &field.expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(name),
                ..
            }) => Some(name.value()),
            _ => None,
        })
        .ok_or_else(|| shape(place, "`OperationInfo` has no literal `operation_id`"))
}

/// What the success arms of `match response.status().as_u16() { … }` do.
/// Every other arm must hand the response on as an error.
fn decoding(place: &str, stmt: &Stmt) -> Result<Decoding, ShapeError> {
    let expr = match stmt {
        Stmt::Expr(expr, None) => expr,
        _ => return Err(shape(place, "the last statement is not the status `match`")),
    };
    let Expr::Match(matched) = expr else {
        return Err(shape(place, "the last statement is not a `match`"));
    };
    if text(&matched.expr) != "response.status().as_u16()" {
        return Err(shape(place, format!("`match {}`", text(&matched.expr))));
    }
    let mut found: Option<Decoding> = None;
    for arm in &matched.arms {
        let mut body = text(&arm.body);
        // progenitor writes some arms as `{ expr }`.
        while let Some(inner) = body.strip_prefix('{').and_then(|b| b.strip_suffix('}')) {
            body = inner.to_string();
        }
        let this = match body.as_str() {
            "Ok(ResponseValue::empty(response))" => Decoding::Empty,
            "Ok(ResponseValue::stream(response))" => Decoding::Stream,
            "Err(Error::ErrorResponse(ResponseValue::stream(response)))"
            | "Err(Error::UnexpectedResponse(response))" => continue,
            "ResponseValue::from_response(response).await" => Decoding::Json,
            _ => return Err(shape(place, format!("unknown arm `{body}`"))),
        };
        found = match (found, this) {
            (None, this) => Some(this),
            (Some(a), b) if a == b => Some(a),
            (Some(a), b) => {
                return Err(shape(
                    place,
                    format!("success arms decode both {a:?} and {b:?}"),
                ));
            }
        };
    }
    found.ok_or_else(|| shape(place, "no success arm"))
}

#[cfg(test)]
mod tests;
