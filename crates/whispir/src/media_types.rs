//! Whispir's versioned vendor media types, applied per operation.
//!
//! Without them the API answers XML or 415. The generated code only knows
//! `application/json`; the table `cargo xtask regen` writes from the spec
//! says which vendor type each operation sends and accepts.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};

use crate::generated::OPERATION_MEDIA_TYPES;

/// The media types of one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationMediaTypes {
    /// The operation id from the spec, e.g. `messageCreate`.
    pub operation_id: &'static str,
    /// The generated method's name, which the hooks receive, e.g. `message_create`.
    pub method_name: &'static str,
    /// The `Accept` header the operation sends.
    pub accept: &'static str,
    /// The `Content-Type` header, for operations that send one.
    pub content_type: Option<&'static str>,
}

impl OperationMediaTypes {
    /// The media types of an operation, by its generated method name.
    pub fn for_method(method_name: &str) -> Option<&'static OperationMediaTypes> {
        OPERATION_MEDIA_TYPES
            .binary_search_by(|row| row.method_name.cmp(method_name))
            .ok()
            .and_then(|index| OPERATION_MEDIA_TYPES.get(index))
    }

    /// Every operation's media types, sorted by method name.
    pub fn all() -> &'static [OperationMediaTypes] {
        OPERATION_MEDIA_TYPES
    }

    /// Replaces the generic JSON headers of a request with the vendor ones.
    pub(crate) fn apply(&self, request: &mut reqwest::Request) {
        let headers = request.headers_mut();
        headers.insert(ACCEPT, HeaderValue::from_static(self.accept));
        match self.content_type {
            Some(content_type) => {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
            }
            None => {
                headers.remove(CONTENT_TYPE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_so_lookup_can_bisect() {
        let all = OperationMediaTypes::all();
        assert!(
            all.windows(2)
                .all(|pair| pair[0].method_name < pair[1].method_name)
        );
    }

    #[test]
    fn message_create_sends_and_accepts_the_message_type() {
        let media = OperationMediaTypes::for_method("message_create").expect("listed");
        assert_eq!(media.operation_id, "messageCreate");
        assert_eq!(media.accept, "application/vnd.whispir.message-v1+json");
        assert_eq!(
            media.content_type,
            Some("application/vnd.whispir.message-v1+json")
        );
    }

    #[test]
    fn every_operation_accepts_a_vendor_json_type() {
        for media in OperationMediaTypes::all() {
            assert!(
                media.accept.starts_with("application/vnd.whispir.")
                    || media.accept == "application/json",
                "{}: {}",
                media.operation_id,
                media.accept
            );
            assert!(media.accept.ends_with("json"), "{}", media.operation_id);
        }
    }

    #[test]
    fn unknown_operations_have_no_entry() {
        assert!(OperationMediaTypes::for_method("no_such_operation").is_none());
    }
}
