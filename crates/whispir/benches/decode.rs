//! Decoding and encoding response bodies: a `Message` carrying every
//! property its schema names, and a `ContactCollection` of 20 such
//! contacts, from JSON text into the SDK's types and back.
//!
//! The bodies (`benches/decode/*.json`) were built once from the schemas in
//! `openapi/bundled.json` (every property, nested ones included) and are
//! kept fixed, so that figures from different commits compare the same work.
//!
//! `cargo bench -p whispir --bench decode [-- FILTER]`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use whispir::types::{ContactCollection, Message};

const MESSAGE: &str = include_str!("decode/message.json");
const CONTACTS: &str = include_str!("decode/contact_collection.json");

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(MESSAGE.len() as u64));
    group.bench_function("message", |b| {
        b.iter(|| serde_json::from_str::<Message>(black_box(MESSAGE)).unwrap());
    });
    group.throughput(Throughput::Bytes(CONTACTS.len() as u64));
    group.bench_function("contact_collection_20", |b| {
        b.iter(|| serde_json::from_str::<ContactCollection>(black_box(CONTACTS)).unwrap());
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    let message: Message = serde_json::from_str(MESSAGE).unwrap();
    let contacts: ContactCollection = serde_json::from_str(CONTACTS).unwrap();
    let mut group = c.benchmark_group("encode");
    group.bench_function("message", |b| {
        b.iter(|| serde_json::to_vec(black_box(&message)).unwrap());
    });
    group.bench_function("contact_collection_20", |b| {
        b.iter(|| serde_json::to_vec(black_box(&contacts)).unwrap());
    });
    group.finish();
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);
