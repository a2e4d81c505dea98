//! Finds the list operations of the adapted spec and generates the
//! `ListRequest` implementations that let the client stream their items.
//!
//! An operation that looks like a list (a `limit` or `offset` parameter, a
//! `…Collection` answer) but has not a list's shape is an error naming it,
//! not an operation quietly left without streaming; the few that only look
//! like lists are listed in [`NOT_LISTS`] with the reason.
//!
//! The implementations go into progenitor's `mod builder`, next to the
//! builders they implement: only there can they read the `limit` and
//! `offset` a caller set, where a stream starts.

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use super::syntax::{ShapeError, shape};
use crate::spec::{OperationRef, operations, resolve};

/// Operations that look like lists but are not, with the reason.
pub const NOT_LISTS: &[(&str, &str)] = &[(
    "eventRetrieve",
    "reads one event; the `limit` and `offset` upstream documents for it page nothing",
)];

/// A list-like operation the pass cannot give a `ListRequest`.
#[derive(Debug, thiserror::Error)]
pub enum ListShapeError {
    /// It looks like a list, but its shape is not one the pass knows.
    #[error(
        "{operation_id}: looks like a list ({signal}), but {problem}, so it would get no \
         `ListRequest`; give it a list's shape (a GET with `limit` and `offset` whose 200 \
         body holds one array of component schemas) or add it to `NOT_LISTS` in \
         xtask/src/passes/pagination.rs with the reason"
    )]
    UnknownShape {
        /// The operation.
        operation_id: String,
        /// What makes it look like a list.
        signal: String,
        /// What its shape lacks.
        problem: String,
    },
    /// It is in `NOT_LISTS`, but that no longer holds.
    #[error(
        "{operation_id}: listed in `NOT_LISTS` (xtask/src/passes/pagination.rs), but {problem}; \
         remove it from the list"
    )]
    StaleException {
        /// The operation.
        operation_id: String,
        /// Why the entry no longer holds.
        problem: &'static str,
    },
}

/// A list operation: its builder, the page's item field and item type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOperation {
    /// The operation id, e.g. `messageList`.
    pub operation_id: String,
    /// The item array property of the page, e.g. `messages`.
    pub items_property: String,
    /// The component schema of the items, e.g. `Message`.
    pub item_schema: String,
    /// Whether the page has a `link` property.
    pub has_links: bool,
    /// Whether the page has a `status` text, the paging summary such as
    /// "1 to 20 of 45" that states the list's total.
    pub has_status: bool,
}

/// Every GET operation with `limit` and `offset` whose 200 body is a
/// component schema holding an array of component schemas. An operation
/// that looks like a list without that shape is an error, unless it is in
/// [`NOT_LISTS`].
pub fn list_operations(spec: &Value) -> Result<Vec<ListOperation>, ListShapeError> {
    let mut found = Vec::new();
    let mut excused = Vec::new();
    for op in operations(spec) {
        let mut not_a_list = |problem: &str| refuse_if_list_like(spec, &op, problem, &mut excused);
        if op.method != "get" {
            not_a_list("it is not a GET")?;
            continue;
        }
        let params = parameter_names(spec, &op);
        if !params.contains(&"limit") || !params.contains(&"offset") {
            not_a_list("it lacks `limit` or `offset`")?;
            continue;
        }
        let Some(page) = op
            .responses
            .get("200")
            .and_then(|r| r.get("content"))
            .and_then(Value::as_object)
            .and_then(|content| content.values().next())
            .and_then(|media| media.get("schema"))
        else {
            not_a_list("it has no 200 body")?;
            continue;
        };
        let Some(page) = resolve(spec, page) else {
            not_a_list("its 200 body does not resolve")?;
            continue;
        };
        let Some(properties) = page.get("properties").and_then(Value::as_object) else {
            not_a_list("its 200 body has no properties")?;
            continue;
        };
        let mut arrays = properties.iter().filter_map(|(name, prop)| {
            let item_ref = prop.get("items")?.get("$ref")?.as_str()?;
            (name != "link" && prop.get("type").and_then(Value::as_str) == Some("array")).then(
                || {
                    (
                        name.clone(),
                        item_ref.rsplit('/').next().unwrap_or_default().to_string(),
                    )
                },
            )
        });
        let items = arrays.next();
        if arrays.next().is_some() {
            not_a_list("its 200 body has several arrays of component schemas")?;
            continue;
        }
        let Some((items_property, item_schema)) = items else {
            not_a_list("its 200 body has no array of component schemas")?;
            continue;
        };
        let has_links = properties
            .get("link")
            .and_then(|l| l.get("$ref"))
            .and_then(Value::as_str)
            == Some("#/components/schemas/Links");
        let has_status = properties
            .get("status")
            .and_then(|status| status.get("type"))
            .and_then(Value::as_str)
            == Some("string");
        found.push(ListOperation {
            operation_id: op.operation_id.to_string(),
            items_property,
            item_schema,
            has_links,
            has_status,
        });
    }
    for (operation_id, _) in NOT_LISTS {
        if !excused.contains(operation_id) {
            return Err(ListShapeError::StaleException {
                operation_id: (*operation_id).to_string(),
                problem: "it does not look like a list, or it has a list's shape",
            });
        }
    }
    found.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    Ok(found)
}

/// The names of an operation's parameters, its path item's included.
fn parameter_names<'a>(spec: &'a Value, op: &OperationRef<'a>) -> Vec<&'a str> {
    op.path_parameters
        .iter()
        .chain(
            op.operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .filter_map(|p| resolve(spec, p))
        .filter_map(|p| p.get("name").and_then(Value::as_str))
        .collect()
}

/// What makes `op` look like a list, if anything: a `limit` or `offset`
/// parameter, or a 200 body that is a `…Collection`.
fn list_signal(spec: &Value, op: &OperationRef<'_>) -> Option<String> {
    let paging: Vec<&str> = parameter_names(spec, op)
        .into_iter()
        .filter(|name| matches!(*name, "limit" | "offset"))
        .collect();
    if !paging.is_empty() {
        return Some(format!("it has `{}`", paging.join("` and `")));
    }
    op.responses
        .get("200")
        .and_then(|r| r.get("content"))
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|content| content.values())
        .filter_map(|media| media.pointer("/schema/$ref").and_then(Value::as_str))
        .filter_map(|reference| reference.rsplit('/').next())
        .find(|schema| schema.ends_with("Collection"))
        .map(|schema| format!("it answers a `{schema}`"))
}

/// Where `op` turns out not to have a list's shape: fine when nothing
/// makes it look like a list, or when [`NOT_LISTS`] excuses it (noted in
/// `excused`); otherwise an error naming it, with `problem`.
fn refuse_if_list_like(
    spec: &Value,
    op: &OperationRef<'_>,
    problem: &str,
    excused: &mut Vec<&'static str>,
) -> Result<(), ListShapeError> {
    let Some(signal) = list_signal(spec, op) else {
        return Ok(());
    };
    if let Some((operation_id, _)) = NOT_LISTS.iter().find(|(id, _)| *id == op.operation_id) {
        excused.push(*operation_id);
        return Ok(());
    }
    Err(ListShapeError::UnknownShape {
        operation_id: op.operation_id.to_string(),
        signal,
        problem: problem.to_string(),
    })
}

/// Adds the `ListRequest` implementations of `lists` to `mod builder`,
/// after checking that every list builder is there with `limit` and
/// `offset` fields. Returns how many were added.
pub fn rewrite(file: &mut syn::File, lists: &[ListOperation]) -> Result<usize, ShapeError> {
    let builder = file
        .items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(module) if module.ident == "builder" => module.content.as_mut(),
            _ => None,
        })
        .ok_or_else(|| shape("generated client", "no `mod builder`"))?;
    for list in lists {
        let name = list.operation_id.to_upper_camel_case();
        let fields = builder
            .1
            .iter()
            .find_map(|item| match item {
                syn::Item::Struct(found) if found.ident == name => Some(&found.fields),
                _ => None,
            })
            .ok_or_else(|| shape(&name, "no builder struct in `mod builder`"))?;
        for wanted in ["limit", "offset"] {
            if !fields
                .iter()
                .any(|field| field.ident.as_ref().is_some_and(|ident| ident == wanted))
            {
                return Err(shape(
                    &name,
                    format!("the list builder has no `{wanted}` field"),
                ));
            }
        }
    }
    let impls: syn::File = syn::parse2(list_request_impls(lists))
        .map_err(|err| shape("ListRequest implementations", err.to_string()))?;
    let added = impls.items.len();
    builder.1.extend(impls.items);
    Ok(added)
}

/// The `ListRequest` implementations for the generated builders, as items
/// of `mod builder`.
fn list_request_impls(lists: &[ListOperation]) -> TokenStream {
    let impls = lists.iter().map(|list| {
        let builder = format_ident!("{}", list.operation_id.to_upper_camel_case());
        let item = format_ident!("{}", list.item_schema.to_upper_camel_case());
        let field = format_ident!("{}", list.items_property.to_snake_case());
        let operation_id = &list.operation_id;
        let rels = if list.has_links {
            quote! { page.link.as_ref().map(|links| links.iter().map(|link| link.rel.as_deref())) }
        } else {
            quote! { None::<::std::vec::Vec<Option<&str>>> }
        };
        let status = if list.has_status {
            quote! { page.status.as_deref() }
        } else {
            quote! { None }
        };
        quote! {
            impl<'a> crate::runtime::pagination::ListRequest<'a> for #builder<'a> {
                type Item = types::#item;
                const OPERATION_ID: &'static str = #operation_id;

                #[inline]
                fn requested_window(&self) -> Result<crate::runtime::pagination::RequestedWindow, String> {
                    match (&self.limit, &self.offset) {
                        (Ok(limit), Ok(offset)) => Ok(crate::runtime::pagination::RequestedWindow {
                            limit: limit.map(u32::from),
                            offset: *offset,
                        }),
                        (Err(err), _) | (_, Err(err)) => Err(err.clone()),
                    }
                }

                #[inline]
                fn window(self, limit: u32, offset: u32) -> Self {
                    self.limit(limit).offset(offset)
                }

                #[inline]
                fn fetch_page(
                    self,
                ) -> ::futures::future::BoxFuture<'a, Result<crate::runtime::pagination::Page<Self::Item>, crate::Error>> {
                    Box::pin(async move {
                        let page = self.send().await?.into_inner();
                        let rels = #rels;
                        Ok(crate::runtime::pagination::Page::new(page.#field, rels).with_status(#status))
                    })
                }
            }
        }
    });
    quote! { #(#impls)* }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project_lists() -> Vec<ListOperation> {
        let root = crate::project_root();
        let table = crate::codes::read_table(&root.join(crate::TABLE_PATH)).expect("table");
        let spec = crate::spec::read_spec(&root.join(crate::SPEC_PATH)).expect("spec");
        let bundled = crate::bundle::bundle(&spec, &table).expect("bundle");
        list_operations(&crate::adapt::adapt(&bundled).expect("adapt").spec).expect("lists")
    }

    /// A spec with one operation at `GET /messages`: `parameters` and the
    /// 200 body's schema.
    fn one_operation(id: &str, parameters: Value, page: Value) -> Value {
        serde_json::json!({
            "paths": { "/messages": { "get": {
                "operationId": id,
                "parameters": parameters,
                "responses": { "200": { "content": { "application/json": { "schema": page } } } }
            } } },
            "components": { "schemas": {
                "Message": { "type": "object" },
                "MessageCollection": { "type": "object", "properties": {
                    "messages": { "type": "array", "items": { "$ref": "#/components/schemas/Message" } }
                } }
            } }
        })
    }

    fn paging() -> Value {
        serde_json::json!([{ "name": "limit", "in": "query" }, { "name": "offset", "in": "query" }])
    }

    #[test]
    fn a_list_like_operation_of_an_unknown_shape_is_refused_by_name() {
        // Pages, but its answer holds no array of items.
        let spec = one_operation(
            "messageDigest",
            paging(),
            serde_json::json!({ "$ref": "#/components/schemas/Message" }),
        );
        let err = list_operations(&spec).expect_err("not a list's shape");
        assert!(
            err.to_string().starts_with(
                "messageDigest: looks like a list (it has `limit` and `offset`), but its 200 body has no properties"
            ),
            "{err}"
        );
        // Answers a collection, but cannot be paged.
        let spec = one_operation(
            "messageList",
            serde_json::json!([]),
            serde_json::json!({ "$ref": "#/components/schemas/MessageCollection" }),
        );
        let err = list_operations(&spec).expect_err("no paging");
        assert!(
            err.to_string().starts_with(
                "messageList: looks like a list (it answers a `MessageCollection`), but it lacks `limit` or `offset`"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_list_with_a_known_shape_is_found_and_a_read_is_not_a_list() {
        let spec = one_operation(
            "messageList",
            paging(),
            serde_json::json!({ "$ref": "#/components/schemas/MessageCollection" }),
        );
        let mut spec_with_read = spec.clone();
        spec_with_read["paths"]["/messages/{id}"] = serde_json::json!({ "get": {
            "operationId": "messageRetrieve",
            "responses": { "200": { "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Message" }
            } } } }
        } });
        // `eventRetrieve` of NOT_LISTS is not in this spec.
        let err = list_operations(&spec_with_read).expect_err("stale exception");
        assert!(
            err.to_string()
                .starts_with("eventRetrieve: listed in `NOT_LISTS`"),
            "{err}"
        );
        spec_with_read["paths"]["/events/{id}"] = serde_json::json!({ "get": {
            "operationId": "eventRetrieve",
            "parameters": paging(),
            "responses": { "200": { "content": { "application/json": {
                "schema": { "$ref": "#/components/schemas/Message" }
            } } } }
        } });
        let lists = list_operations(&spec_with_read).expect("one list");
        let ids: Vec<&str> = lists.iter().map(|l| l.operation_id.as_str()).collect();
        assert_eq!(ids, ["messageList"]);
    }

    fn message_list() -> ListOperation {
        ListOperation {
            operation_id: "messageList".to_string(),
            items_property: "messages".to_string(),
            item_schema: "Message".to_string(),
            has_links: true,
            has_status: true,
        }
    }

    fn client_with_builder(fields: proc_macro2::TokenStream) -> syn::File {
        syn::parse2(quote! {
            pub mod builder {
                use super::types;
                pub struct MessageList<'a> { client: &'a super::Client, #fields }
            }
        })
        .expect("a file")
    }

    #[test]
    fn list_implementations_go_next_to_their_builders() {
        let fields = quote! {
            limit: Result<Option<::std::num::NonZeroU32>, String>,
            offset: Result<Option<u32>, String>,
        };
        let mut file = client_with_builder(fields);
        let added = rewrite(&mut file, &[message_list()]).expect("rewritten");
        assert_eq!(added, 1);
        let syn::Item::Mod(builder) = &file.items[0] else {
            panic!("mod builder expected")
        };
        let text = crate::passes::syntax::text(builder);
        assert!(
            text.contains("impl<'a>crate::runtime::pagination::ListRequest<'a>forMessageList<'a>"),
            "{text}"
        );
        assert!(text.contains("match(&self.limit,&self.offset)"), "{text}");
    }

    #[test]
    fn a_list_builder_without_offset_is_refused_by_name() {
        let fields = quote! { limit: Result<Option<::std::num::NonZeroU32>, String>, };
        let mut file = client_with_builder(fields);
        let err = rewrite(&mut file, &[message_list()]).expect_err("no offset");
        assert_eq!(err.place, "MessageList");
        assert!(err.problem.contains("`offset`"), "{err}");
    }

    #[test]
    fn message_list_pages_through_messages_with_links() {
        let lists = project_lists();
        let messages = lists
            .iter()
            .find(|l| l.operation_id == "messageList")
            .expect("messageList");
        assert_eq!(messages.items_property, "messages");
        assert_eq!(messages.item_schema, "Message");
        assert!(messages.has_links);
        assert!(messages.has_status, "its status states the total");
    }

    #[test]
    fn every_collection_list_is_streamable() {
        let ids: Vec<String> = project_lists()
            .into_iter()
            .map(|l| l.operation_id)
            .collect();
        for id in [
            "contactList",
            "templateList",
            "distributionListList",
            "activityList",
            "userList",
            "workspaceList",
        ] {
            assert!(
                ids.iter().any(|found| found == id),
                "{id} missing from {ids:?}"
            );
        }
        assert!(
            !ids.iter().any(|found| found == "eventRetrieve"),
            "a read is not a list"
        );
    }
}
