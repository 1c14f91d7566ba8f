//! Chapter 5 exercises. Check them with `cargo xtask check ch05`.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::consumer::StreamConsumer;
use workbook_support::Env;

// ANCHOR: read_partition_from
/// Returns the values of partition `partition` of `topic`, from offset `offset` up to the end of
/// the partition as it is when you are called, in offset order. The end is the partition's end
/// offset (its high watermark): the offset the next record written to it will get.
///
/// - `consumer` is set up as a member of a service's consumer group (that `group.id`, auto-commit
///   off). Read with it without joining the group and without changing the group's committed
///   offsets: you choose the partition and where to start, not the group.
/// - Records of the topic's other partitions must not appear, and nothing before `offset`.
/// - If `offset` is already the end, return no values, at once.
/// - Give up with an error if a record you expect does not arrive within 15 seconds.
pub async fn read_partition_from(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    todo!(
        "find where the partition ends, then read it from `offset` without letting a group decide"
    )
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
/// a record already processed (that would repeat it). A group with no committed offset starts at
/// the topic's first record.
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
