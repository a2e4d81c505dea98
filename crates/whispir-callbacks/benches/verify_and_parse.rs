//! Verify and parse one callback request: the work done for every callback
//! Whispir sends.
#![allow(missing_docs, clippy::expect_used)]

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use whispir_callbacks::{AuthMode, CallbackKey, Receiver};

const JSON: &str = r#"{"messageid":"ABC4857BCCF484575FCA","messagelocation":"https://api.au.whispir.com/messages/ABC4857BCCF484575FCA","from":{"name":"Fred Waters","mri":"Fred_Waters.528798.Sandbox@Contact.whispir.com","mobile":"+61400000000","email":"fred@example.com","voice":"+61400000000"},"responseMessage":{"channel":"SMS","acknowledged":"09/01/16 13:22","content":"Yes, I accept. Will I need to bring steel cap boots?"},"customParameters":{"CustomerId":"890h0ef0fe09efw90e0jsdj0","TransactionId":"9ef0fe09efw90e0jsdjsd43fw"}}"#;

const XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:deliveryResponse xmlns:ns2="http://schemas.api.whispir.com"><messageid>ABC4857BCCF484575FCA</messageid><messagelocation>https://api.au.whispir.com/messages/ABC4857BCCF484575FCA</messagelocation><from><name>Fred Waters</name><mri>Fred_Waters.528798.Sandbox@Contact.whispir.com</mri><mobile>+61400000000</mobile><email>fred@example.com</email><voice>+61400000000</voice></from><responseMessage><channel>SMS</channel><acknowledged>09/01/16 13:22</acknowledged><content>Yes, I accept. Will I need to bring steel cap boots?</content></responseMessage><customParameters><entry><key>CustomerId</key><value>890h0ef0fe09efw90e0jsdj0</value></entry><entry><key>TransactionId</key><value>9ef0fe09efw90e0jsdjsd43fw</value></entry></customParameters></ns2:deliveryResponse>"#;

fn request(content_type: &str, body: &'static str) -> Request<Bytes> {
    Request::post("/whispir/callbacks?auth=ignored")
        .header("content-type", content_type)
        .header("x-whispir-callback-key", "current-key-0123456789")
        .body(Bytes::from_static(body.as_bytes()))
        .expect("a valid request")
}

fn verify_and_parse(c: &mut Criterion) {
    let key = |text: &str| CallbackKey::new(text).expect("a valid key");
    // Two keys, as during a rotation: both are compared every time.
    let receiver = Receiver::new(AuthMode::HttpHeader, key("previous-key-0123456789"))
        .and_then(|receiver| receiver.accept(AuthMode::HttpHeader, key("current-key-0123456789")))
        .expect("header keys");
    let json = request("application/json", JSON);
    let xml = request("application/xml", XML);
    c.bench_function("verify_and_parse_json_reply", |b| {
        b.iter(|| black_box(receiver.verify_and_parse(black_box(&json)).is_ok()))
    });
    c.bench_function("verify_and_parse_xml_reply", |b| {
        b.iter(|| black_box(receiver.verify_and_parse(black_box(&xml)).is_ok()))
    });
    let wrong = Request::post("/whispir/callbacks")
        .header("content-type", "application/json")
        .header("x-whispir-callback-key", "wrong-key-0123456789")
        .body(Bytes::from_static(JSON.as_bytes()))
        .expect("a valid request");
    c.bench_function("refuse_wrong_key", |b| {
        b.iter(|| black_box(receiver.verify_and_parse(black_box(&wrong)).is_err()))
    });
}

criterion_group!(benches, verify_and_parse);
criterion_main!(benches);
