//! Chapter 5 exercises. Check them with `cargo xtask check ch05`.
#![allow(unused_variables)]

use anyhow::Result;
use workbook_support::Env;

// ANCHOR: read_partition_from
/// Returns the values of exactly `count` records of `topic`: those of partition `partition`,
/// starting at offset `offset`, in offset order.
///
/// Records of the topic's other partitions must not appear, and nothing before `offset` either.
/// Give up with an error if the records do not arrive within 15 seconds.
pub async fn read_partition_from(
    env: &Env,
    topic: &str,
    partition: i32,
    offset: i64,
    count: usize,
) -> Result<Vec<String>> {
    todo!("choose the partition and the starting offset yourself, instead of letting a group decide")
}
// ANCHOR_END: read_partition_from

// ANCHOR: process_then_commit
/// Consumes `topic` as a member of `group`, calling `process` with each record's value, until
/// `max` records have been processed (then returns `Ok(max)`).
///
/// If `process` fails, return its error at once (as if the service crashed there).
///
/// The group must remember exactly what was processed: the next call with the same group starts
/// with the record whose processing failed, never after it (that would lose it) and never at
/// the beginning (that would repeat everything). A group with no committed offset starts at the
/// topic's first record.
pub async fn process_then_commit(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    todo!("subscribe, and commit a record's offset only once `process` has succeeded for it")
}
// ANCHOR_END: process_then_commit
