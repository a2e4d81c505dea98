//! Classify and parse a typical JSON error body: the work done for every
//! error response.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use whispir_errors::{Error, RawBody};

fn classify_and_parse(c: &mut Criterion) {
    let body = bytes::Bytes::from_static(
        br#"{"errorSummary":"Your request was malformed and could not be processed by the server","errorText":"Bad Request","errorDetail":"java.io.EOFException: No content to map to Object due to end of input"}"#,
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/vnd.whispir.message-v1+json"),
    );
    headers.insert("x-request-id", HeaderValue::from_static("req-0001"));
    c.bench_function("classify_and_parse_json_400", |b| {
        b.iter(|| {
            let err = Error::from_response(
                Some("messageCreate"),
                Some(Method::POST),
                black_box(StatusCode::BAD_REQUEST),
                black_box(&headers),
                RawBody::new(body.clone(), false),
            );
            black_box(err.is_retryable())
        })
    });
}

criterion_group!(benches, classify_and_parse);
criterion_main!(benches);
