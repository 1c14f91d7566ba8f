//! Chapter 2: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
pub use solution::*;
