//! Whispir's versioned vendor media types: which `Accept` and
//! `Content-Type` an operation takes, and the answers to the others.

use axum::http::{HeaderMap, StatusCode, header};

use crate::errors::ApiFailure;
use crate::spec::Operation;

/// A vendor media type split into resource, version and format:
/// `application/vnd.whispir.message-v1+json` → (`message`, `1`, `json`).
#[derive(Debug, PartialEq, Eq)]
struct VendorType<'a> {
    resource: &'a str,
    version: &'a str,
    format: &'a str,
}

fn vendor_type(media: &str) -> Option<VendorType<'_>> {
    let rest = media.strip_prefix("application/vnd.whispir.")?;
    let (name, format) = rest.split_once('+')?;
    let (resource, version) = name.rsplit_once("-v")?;
    Some(VendorType {
        resource,
        version,
        format,
    })
}

/// The bare media type of a header value: no parameters, lower case.
fn essence(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The answer to a vendor type the operation does not take: 415 for
/// another version of its own resource (a retired one), 404 for another
/// resource's type, as Whispir does.
fn refuse(operation: &Operation, offered: &[String], given: &str, which: &str) -> ApiFailure {
    let Some(given_type) = vendor_type(given) else {
        return ApiFailure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!("{which} {given} is not one of {}", offered.join(", ")),
        );
    };
    let same_resource = offered
        .iter()
        .filter_map(|media| vendor_type(media))
        .any(|own| own.resource == given_type.resource);
    if same_resource || offered.iter().all(|media| vendor_type(media).is_none()) {
        ApiFailure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Unsupported Media Type",
            format!(
                "{which} {given} names a version this API does not serve; use {}",
                offered.join(" or ")
            ),
        )
    } else {
        ApiFailure::not_found(format!(
            "{which} {given} does not match the resource of {}; use {}",
            operation.id,
            offered.join(" or ")
        ))
    }
}

/// Checks the `Accept` header against what the operation answers with:
/// one of its media types, or `*/*`; without one, the first is meant.
pub(crate) fn check_accept(operation: &Operation, headers: &HeaderMap) -> Result<(), ApiFailure> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if operation.accept_types.is_empty() {
        return Ok(());
    }
    let ranges: Vec<String> = accept
        .split(',')
        .map(essence)
        .filter(|m| !m.is_empty())
        .collect();
    let fits = |media: &String| {
        media == "*/*"
            || operation
                .accept_types
                .iter()
                .any(|own| own.eq_ignore_ascii_case(media))
    };
    if ranges.iter().any(fits) {
        return Ok(());
    }
    let first = ranges.first().map_or(accept, String::as_str);
    Err(refuse(operation, &operation.accept_types, first, "Accept"))
}

fn unsupported(detail: String) -> ApiFailure {
    ApiFailure::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "Unsupported Media Type",
        detail,
    )
}

/// Checks the `Content-Type` of a body against what the operation takes:
/// one of its own media types, as Whispir requires. Plain
/// `application/json` where the operation takes a vendor type is refused
/// with 415 ("Cannot consume content type"), as Whispir refuses it.
pub(crate) fn check_content_type(
    operation: &Operation,
    headers: &HeaderMap,
) -> Result<(), ApiFailure> {
    let given = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(essence)
        .unwrap_or_default();
    if given.is_empty() {
        return Err(unsupported(format!(
            "the body needs a Content-Type: {}",
            operation.request_types.join(" or ")
        )));
    }
    let declared = operation.content_types_declared.iter();
    if operation
        .request_types
        .iter()
        .chain(declared)
        .any(|own| own.eq_ignore_ascii_case(&given))
    {
        return Ok(());
    }
    Err(refuse(
        operation,
        &operation.request_types,
        &given,
        "Content-Type",
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use axum::http::HeaderValue;

    use super::*;
    use crate::spec::Spec;

    fn with(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(name, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_retired_version_is_unsupported_and_another_resource_is_not_found() {
        let spec = Spec::load().unwrap();
        let list = spec.operation("contactList").unwrap();
        assert!(
            check_accept(
                list,
                &with(header::ACCEPT, "application/vnd.whispir.contact-v1+json")
            )
            .is_ok()
        );
        assert!(check_accept(list, &with(header::ACCEPT, "*/*")).is_ok());
        let retired = check_accept(
            list,
            &with(header::ACCEPT, "application/vnd.whispir.contact-v0+json"),
        )
        .unwrap_err();
        assert_eq!(retired.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let other = check_accept(
            list,
            &with(header::ACCEPT, "application/vnd.whispir.message-v1+json"),
        )
        .unwrap_err();
        assert_eq!(other.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_body_needs_a_content_type_the_operation_takes() {
        let spec = Spec::load().unwrap();
        let create = spec.operation("contactCreate").unwrap();
        let xml = with(
            header::CONTENT_TYPE,
            "application/vnd.whispir.contact-v1+xml",
        );
        assert!(check_content_type(create, &xml).is_ok());
        let retired = with(
            header::CONTENT_TYPE,
            "application/vnd.whispir.contact-v0+json",
        );
        assert_eq!(
            check_content_type(create, &retired).unwrap_err().status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
        assert!(check_content_type(create, &HeaderMap::new()).is_err());
    }

    #[test]
    fn plain_json_is_unsupported_where_an_operation_takes_a_vendor_type() {
        let spec = Spec::load().unwrap();
        let plain = with(header::CONTENT_TYPE, "application/json; charset=utf-8");
        let mut vendor_typed = 0;
        for operation in &spec.operations {
            if operation.request_types.is_empty()
                || operation
                    .request_types
                    .iter()
                    .any(|own| own == "application/json")
            {
                continue;
            }
            vendor_typed += 1;
            let refused = check_content_type(operation, &plain).unwrap_err();
            assert_eq!(
                refused.status(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{}",
                operation.id
            );
            let own = with(header::CONTENT_TYPE, &operation.request_types[0]);
            assert!(
                check_content_type(operation, &own).is_ok(),
                "{}",
                operation.id
            );
        }
        assert!(vendor_typed >= 20, "only {vendor_typed} operations checked");
    }
}
