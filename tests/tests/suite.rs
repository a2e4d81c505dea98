//! The cross-crate tests, as one binary: one link instead of one per file
//! (each is a module below). Two stay binaries of their own because they
//! need the machine's cores to themselves: `limiter_stress` and
//! `shared_quota` (see `Cargo.toml`).

mod adversarial_19;
mod answers;
mod arguments;
mod as_a_user;
mod cache;
mod campaigns;
mod coverage;
mod cut_short;
mod downgrade;
mod effects;
mod error_snapshots;
mod fault_injection;
mod forward_compat;
mod locations;
mod metrics;
mod no_secrets;
mod one_way_fields;
mod operations;
mod packaging;
mod paging_ends;
mod paths;
mod read_modify_write;
mod redirects;
mod retries;
mod round_trip;
mod schemas;
mod sent_again;
mod server_time;
mod streams;
mod tracing_spans;
mod unknown_fields;
mod waiting;
mod wire;
