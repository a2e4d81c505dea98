//! Finds the list operations of the adapted spec and generates the
//! `ListRequest` implementations that let the client stream their items.

use heck::{ToSnakeCase as _, ToUpperCamelCase as _};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::Value;

use crate::spec::{operations, resolve};

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
/// component schema holding an array of component schemas.
pub fn list_operations(spec: &Value) -> Vec<ListOperation> {
    let mut found = Vec::new();
    for op in operations(spec) {
        if op.method != "get" {
            continue;
        }
        let params: Vec<&str> = op
            .path_parameters
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
            .collect();
        if !params.contains(&"limit") || !params.contains(&"offset") {
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
            continue;
        };
        let Some(page) = resolve(spec, page) else {
            continue;
        };
        let Some(properties) = page.get("properties").and_then(Value::as_object) else {
            continue;
        };
        let items = properties.iter().find_map(|(name, prop)| {
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
        let Some((items_property, item_schema)) = items else {
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
    found.sort_by(|a, b| a.operation_id.cmp(&b.operation_id));
    found
}

/// The `ListRequest` implementations for the generated builders.
pub fn list_request_impls(lists: &[ListOperation]) -> TokenStream {
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
            impl<'a> crate::pagination::ListRequest<'a> for builder::#builder<'a> {
                type Item = types::#item;
                const OPERATION_ID: &'static str = #operation_id;

                #[inline]
                fn window(self, limit: u32, offset: u32) -> Self {
                    self.limit(limit).offset(offset)
                }

                #[inline]
                fn fetch_page(
                    self,
                ) -> ::futures::future::BoxFuture<'a, Result<crate::pagination::Page<Self::Item>, crate::Error>> {
                    Box::pin(async move {
                        let page = self.send().await?.into_inner();
                        let rels = #rels;
                        Ok(crate::pagination::Page::new(page.#field, rels).with_status(#status))
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
        list_operations(&crate::adapt::adapt(&bundled).expect("adapt").spec)
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
