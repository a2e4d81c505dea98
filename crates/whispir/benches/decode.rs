//! Decoding and encoding response bodies: a `Message` carrying every
//! property its schema names, and a `ContactCollection` of 20 such
//! contacts, from JSON text into the SDK's types and back.
//!
//! The bodies (`benches/decode/*.json`) were built once from the schemas in
//! `openapi/bundled.json` (every property, nested ones included) and are
//! kept fixed, so that figures from different commits compare the same work.
//!
//! `cargo bench -p whispir --bench decode [-- FILTER]`.
//!
//! On a shared machine the times move by more than the differences worth
//! measuring; instruction counts do not. With `DECODE_REPEAT=N` the binary
//! skips criterion and runs one step (`DECODE_STEP`: `decode_message`,
//! `decode_contacts`, `decode_message_unknown`, `encode_message`,
//! `encode_contacts` or `none`) N
//! times, for `valgrind --tool=callgrind`: the difference between N and 0
//! repetitions, divided by N, is the instructions per step.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group};
use whispir::types::{ContactCollection, Message};

const MESSAGE: &str = include_str!("decode/message.json");
const CONTACTS: &str = include_str!("decode/contact_collection.json");

/// The message with two fields the SDK does not declare in each of its
/// objects that has declared ones (the top level, `email`, `link[0]`, …):
/// what a newer API would answer.
fn message_with_unknown_fields() -> String {
    fn add(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                // `callbackParameters` is a free-form map: no field is unknown there.
                for (_, child) in map
                    .iter_mut()
                    .filter(|(key, _)| *key != "callbackParameters")
                {
                    add(child);
                }
                map.insert(
                    "addedLater".into(),
                    serde_json::json!({ "nested": [1, "two"] }),
                );
                map.insert("addedFlag".into(), serde_json::json!(true));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(add),
            _ => {}
        }
    }
    let mut message: serde_json::Value = serde_json::from_str(MESSAGE).unwrap();
    add(&mut message);
    message.to_string()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(MESSAGE.len() as u64));
    group.bench_function("message", |b| {
        b.iter(|| serde_json::from_str::<Message>(black_box(MESSAGE)).unwrap());
    });
    let unknown = message_with_unknown_fields();
    group.throughput(Throughput::Bytes(unknown.len() as u64));
    group.bench_function("message_unknown_fields", |b| {
        b.iter(|| serde_json::from_str::<Message>(black_box(&unknown)).unwrap());
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

/// Runs one step `DECODE_REPEAT` times, without criterion.
fn repeat(times: usize) {
    let message: Message = serde_json::from_str(MESSAGE).unwrap();
    let contacts: ContactCollection = serde_json::from_str(CONTACTS).unwrap();
    let unknown = message_with_unknown_fields();
    let step = std::env::var("DECODE_STEP").unwrap_or_default();
    for _ in 0..times {
        match step.as_str() {
            "decode_message" => drop(black_box(
                serde_json::from_str::<Message>(black_box(MESSAGE)).unwrap(),
            )),
            "decode_contacts" => drop(black_box(
                serde_json::from_str::<ContactCollection>(black_box(CONTACTS)).unwrap(),
            )),
            "decode_message_unknown" => drop(black_box(
                serde_json::from_str::<Message>(black_box(&unknown)).unwrap(),
            )),
            "encode_message" => drop(black_box(serde_json::to_vec(black_box(&message)).unwrap())),
            "encode_contacts" => drop(black_box(serde_json::to_vec(black_box(&contacts)).unwrap())),
            _ => {}
        }
    }
}

criterion_group!(benches, decode, encode);

fn main() {
    if let Ok(times) = std::env::var("DECODE_REPEAT") {
        repeat(times.parse().expect("DECODE_REPEAT is a number"));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
