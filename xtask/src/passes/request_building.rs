//! Two touches to progenitor's request building, so that every call builds
//! its request once, in its final form, instead of building it and fixing
//! it up afterwards:
//!
//! - progenitor sends its own `api-version` header (the spec's `info.version`),
//!   which the Whispir API does not know. Its statements go; the header map
//!   goes too when nothing else is in it.
//! - Workspace-scoped operations are generated on their unscoped path with
//!   an optional `workspaceId` query parameter (see `adapt`). That query
//!   parameter goes, and the workspace becomes part of the path as the URL
//!   is formatted: `format!("{}/messages", client.baseurl)` becomes
//!   `format!("{}{}/messages", client.baseurl, workspace_prefix(…)?)`, where
//!   the prefix is empty without a workspace and `/workspaces/{id}` with
//!   one (the id checked and encoded as one path segment).
//!
//! - Every URL is formatted into one buffer of its own size class:
//!   `format!(…)` becomes `crate::runtime::segments::url(format_args!(…))`. `format!`
//!   starts from an empty string when its template begins with `{}` (every
//!   URL's does: the base URL), so a URL grew through three or four
//!   reallocations.
//!
//! The pass works on the statements `response_handling` moves into each
//! `send()`'s request-building closure. Statements of another shape than
//! expected are an error naming the operation, and so is a workspace that
//! does not match the operation table: a scoped operation with no
//! `workspaceId` to move (it would silently lose its workspace) or an
//! unscoped one with one.

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::{Expr, ExprMethodCall, Stmt, Token, parse_quote};

use super::syntax::{ShapeError, shape, text};

/// The statement that adds progenitor's version header, as compact text.
const VERSION_HEADER: &str =
    "header_map.append(::reqwest::header::HeaderName::from_static(\"api-version\"),";

/// The workspace query parameter of scoped operations, as compact text.
const WORKSPACE_QUERY: &str = "&progenitor_client::QueryParam::new(\"workspaceId\",&workspace_id)";

/// Rewrites the request-building statements of the operation `place`,
/// which the operation table says is `workspace_scoped` or not. Returns
/// whether a workspace was moved into the path.
pub fn rewrite(
    place: &str,
    workspace_scoped: bool,
    building: &mut Vec<Stmt>,
) -> Result<bool, ShapeError> {
    remove_version_header(place, building)?;
    let moved = move_workspace_into_path(place, workspace_scoped, building)?;
    format_url_once(place, building)?;
    Ok(moved)
}

fn remove_version_header(place: &str, building: &mut Vec<Stmt>) -> Result<(), ShapeError> {
    let before = building.len();
    building.retain(|stmt| !text(stmt).starts_with(VERSION_HEADER));
    if before - building.len() != 1 {
        return Err(shape(
            place,
            format!(
                "{} `api-version` header statements, expected 1",
                before - building.len()
            ),
        ));
    }
    if building
        .iter()
        .any(|stmt| text(stmt).starts_with("header_map.append("))
    {
        // Header parameters of the operation remain: the map stays.
        return Ok(());
    }
    let before = building.len();
    building.retain(|stmt| {
        !text(stmt).starts_with("letmutheader_map=::reqwest::header::HeaderMap::with_capacity(")
    });
    if before - building.len() != 1 {
        return Err(shape(
            place,
            "no `let mut header_map = HeaderMap::with_capacity(…)`",
        ));
    }
    let removed = remove_calls(request_chain(place, building)?, &|call| {
        call.method == "headers" && text(&call.args) == "header_map"
    });
    if removed != 1 {
        return Err(shape(
            place,
            format!("{removed} `.headers(header_map)` calls, expected 1"),
        ));
    }
    Ok(())
}

fn move_workspace_into_path(
    place: &str,
    workspace_scoped: bool,
    building: &mut [Stmt],
) -> Result<bool, ShapeError> {
    let removed = remove_calls(request_chain(place, building)?, &|call| {
        call.method == "query" && text(&call.args) == WORKSPACE_QUERY
    });
    match (removed, workspace_scoped) {
        (0, false) => return Ok(false),
        (1, true) => {}
        (0, true) => {
            return Err(shape(
                place,
                "the operation table says it is workspace-scoped, but its request has no \
                 `workspaceId` query parameter to move into the path",
            ));
        }
        (1, false) => {
            return Err(shape(
                place,
                "a `workspaceId` query parameter, but the operation table says it is not \
                 workspace-scoped",
            ));
        }
        (n, _) => return Err(shape(place, format!("{n} `workspaceId` query parameters"))),
    }
    let format = url_format(place, building)?;
    let mut args = format
        .mac
        .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
        .map_err(|err| shape(place, format!("`format!` arguments: {err}")))?;
    let template = match args.first() {
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(template),
            ..
        })) => template.value(),
        _ => return Err(shape(place, "`format!` has no literal template")),
    };
    let Some(path) = template.strip_prefix("{}") else {
        return Err(shape(
            place,
            format!("URL template `{template}` does not start with the base URL"),
        ));
    };
    if args.get(1).map(text).as_deref() != Some("client.baseurl") {
        return Err(shape(place, "the URL does not start with `client.baseurl`"));
    }
    let scoped = format!("{{}}{{}}{path}");
    let mut scoped_args: Punctuated<Expr, Token![,]> = Punctuated::new();
    scoped_args.push(parse_quote!(#scoped));
    scoped_args.push(parse_quote!(client.baseurl));
    scoped_args.push(parse_quote!(
        crate::runtime::segments::workspace_prefix(workspace_id.as_deref())
            .map_err(Error::InvalidRequest)?
    ));
    scoped_args.extend(args.iter_mut().skip(2).map(|arg| arg.clone()));
    let tokens: TokenStream = parse_quote!(#scoped_args);
    format.mac.tokens = tokens;
    Ok(true)
}

/// The value of `let url = …;`.
fn url_init<'a>(place: &str, building: &'a mut [Stmt]) -> Result<&'a mut Expr, ShapeError> {
    building
        .iter_mut()
        .find_map(|stmt| match stmt {
            Stmt::Local(local) if text(&local.pat) == "url" => {
                local.init.as_mut().map(|init| init.expr.as_mut())
            }
            _ => None,
        })
        .ok_or_else(|| shape(place, "no `let url = format!(…)`"))
}

/// The `format!` of `let url = format!(…);`.
fn url_format<'a>(
    place: &str,
    building: &'a mut [Stmt],
) -> Result<&'a mut syn::ExprMacro, ShapeError> {
    match url_init(place, building)? {
        Expr::Macro(format) if text(&format.mac.path) == "format" => Ok(format),
        _ => Err(shape(place, "`let url` is not a `format!`")),
    }
}

/// `let url = format!(…);` → `let url = crate::runtime::segments::url(format_args!(…));`
fn format_url_once(place: &str, building: &mut [Stmt]) -> Result<(), ShapeError> {
    let tokens = url_format(place, building)?.mac.tokens.clone();
    *url_init(place, building)? =
        parse_quote!(crate::runtime::segments::url(format_args!(#tokens)));
    Ok(())
}

/// The method-call chain that builds the request: the value of the last
/// statement, `let mut request = client.client.get(url)….build()?;`.
fn request_chain<'a>(place: &str, building: &'a mut [Stmt]) -> Result<&'a mut Expr, ShapeError> {
    match building.last_mut() {
        Some(Stmt::Local(local)) if text(&local.pat) == "mutrequest" => local
            .init
            .as_mut()
            .map(|init| init.expr.as_mut())
            .ok_or_else(|| shape(place, "`let mut request` has no value")),
        _ => Err(shape(
            place,
            "the request building does not end with `let mut request = …`",
        )),
    }
}

/// Removes the calls of a method-call chain (`a.b(…).c(…)?`) that `remove`
/// picks, and returns how many it removed.
fn remove_calls(expr: &mut Expr, remove: &dyn Fn(&ExprMethodCall) -> bool) -> usize {
    match expr {
        Expr::Try(checked) => remove_calls(&mut checked.expr, remove),
        Expr::MethodCall(call) => {
            let removed = remove_calls(&mut call.receiver, remove);
            if remove(call) {
                let receiver =
                    std::mem::replace(call.receiver.as_mut(), Expr::Verbatim(TokenStream::new()));
                *expr = receiver;
                removed + 1
            } else {
                removed
            }
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // test code

    use super::*;

    fn statements(body: &str) -> Vec<Stmt> {
        syn::parse_str::<syn::Block>(&format!("{{ {body} }}"))
            .expect("parses")
            .stmts
    }

    const VERSION: &str = r#"
        let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
        header_map.append(
            ::reqwest::header::HeaderName::from_static("api-version"),
            ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
        );
    "#;

    fn joined(stmts: &[Stmt]) -> String {
        stmts.iter().map(text).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn a_scoped_operation_formats_its_workspace_into_the_path() {
        let mut stmts = statements(&format!(
            r#"
            let workspace_id = workspace_id.map_err(Error::InvalidRequest)?;
            let url = format!("{{}}/messages/{{}}", client.baseurl, id,);
            {VERSION}
            #[allow(unused_mut)]
            let mut request = client.client.get(url)
                .header(::reqwest::header::ACCEPT, ::reqwest::header::HeaderValue::from_static("application/json"))
                .query(&progenitor_client::QueryParam::new("workspaceId", &workspace_id))
                .headers(header_map)
                .build()?;
            "#
        ));
        assert!(rewrite("message_retrieve", true, &mut stmts).unwrap());
        let out = joined(&stmts);
        assert!(
            out.contains(
                "leturl=crate::runtime::segments::url(format_args!(\"{}{}/messages/{}\",client.baseurl,crate::runtime::segments::workspace_prefix(workspace_id.as_deref()).map_err(Error::InvalidRequest)?,id));"
            ),
            "{out}"
        );
        assert!(!out.contains("workspaceId"), "{out}");
        assert!(!out.contains("header_map"), "{out}");
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains(".header(::reqwest::header::ACCEPT"), "{out}");
        assert!(out.ends_with(".build()?;"), "{out}");
    }

    #[test]
    fn an_unscoped_operation_keeps_its_url_and_other_queries() {
        let mut stmts = statements(&format!(
            r#"
            let url = format!("{{}}/auth", client.baseurl,);
            {VERSION}
            let mut request = client.client.get(url)
                .query(&progenitor_client::QueryParam::new("limit", &limit))
                .headers(header_map)
                .build()?;
            "#
        ));
        assert!(!rewrite("auth", false, &mut stmts).unwrap());
        let out = joined(&stmts);
        assert!(
            out.contains(
                "leturl=crate::runtime::segments::url(format_args!(\"{}/auth\",client.baseurl,));"
            ),
            "{out}"
        );
        assert!(
            out.contains(".query(&progenitor_client::QueryParam::new(\"limit\",&limit))"),
            "{out}"
        );
        assert!(!out.contains("header_map"), "{out}");
    }

    #[test]
    fn header_parameters_keep_the_header_map() {
        let mut stmts = statements(&format!(
            r#"
            let url = format!("{{}}/events", client.baseurl,);
            {VERSION}
            header_map.append("eventType", event_type.to_string().try_into()?);
            let mut request = client.client.get(url).headers(header_map).build()?;
            "#
        ));
        rewrite("event_list", false, &mut stmts).unwrap();
        let out = joined(&stmts);
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("header_map.append(\"eventType\""), "{out}");
        assert!(out.contains(".headers(header_map)"), "{out}");
    }

    #[test]
    fn a_scoped_operation_without_a_workspace_to_move_is_refused_by_name() {
        let mut stmts = statements(&format!(
            r#"
            let url = format!("{{}}/messages", client.baseurl,);
            {VERSION}
            let mut request = client.client.get(url)
                .query(&progenitor_client::QueryParam::new("limit", &limit))
                .headers(header_map)
                .build()?;
            "#
        ));
        let err = rewrite("message_list", true, &mut stmts).unwrap_err();
        assert_eq!(err.place, "message_list");
        assert!(
            err.problem
                .contains("workspace-scoped, but its request has no `workspaceId`"),
            "{err}"
        );
    }

    #[test]
    fn an_unscoped_operation_with_a_workspace_query_is_refused_by_name() {
        let mut stmts = statements(&format!(
            r#"
            let url = format!("{{}}/users", client.baseurl,);
            {VERSION}
            let mut request = client.client.get(url)
                .query(&progenitor_client::QueryParam::new("workspaceId", &workspace_id))
                .headers(header_map)
                .build()?;
            "#
        ));
        let err = rewrite("user_list", false, &mut stmts).unwrap_err();
        assert_eq!(err.place, "user_list");
        assert!(err.problem.contains("not workspace-scoped"), "{err}");
    }

    #[test]
    fn unexpected_shapes_are_refused_by_operation() {
        // No version header.
        let mut stmts = statements(
            "let url = format!(\"{}/a\", client.baseurl,); let mut request = client.client.get(url).build()?;",
        );
        let err = rewrite("op_a", false, &mut stmts).unwrap_err();
        assert_eq!(err.place, "op_a");
        // A URL that does not start with the base URL.
        let mut stmts = statements(&format!(
            r#"
            let url = format!("/a/{{}}", client.baseurl,);
            {VERSION}
            let mut request = client.client.get(url)
                .query(&progenitor_client::QueryParam::new("workspaceId", &workspace_id))
                .headers(header_map).build()?;
            "#
        ));
        let err = rewrite("op_b", true, &mut stmts).unwrap_err();
        assert!(err.problem.contains("base URL"), "{err}");
        // The request is not the last statement.
        let mut stmts = statements(&format!(
            "let url = format!(\"{{}}/a\", client.baseurl,); {VERSION} let x = 1;"
        ));
        assert!(rewrite("op_c", false, &mut stmts).is_err());
    }
}
