//! Status codes of the Whispir API: what each one means and what to do about
//! it, derived from the project's code table (`openapi/response-codes.md`).
#![deny(missing_docs)]

pub mod code_table;
#[rustfmt::skip]
mod generated;

pub use code_table::{TableRow, TableSection};
