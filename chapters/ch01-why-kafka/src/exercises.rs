//! Chapter 1 exercises. Check them with `cargo xtask check ch01`.
#![allow(unused_variables, unused_imports)]

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::{Env, kafka};

// ANCHOR: produce_and_locate
/// Sends one record with payload `value` and **no key** to `topic`, and returns where the broker
/// stored it: `(partition, offset)`.
///
/// `topic` has several partitions. Without a key the client picks the partition, so do not guess:
/// only the broker's acknowledgement (the delivery report) says where the record went. When you
/// return, the broker must already hold your record at that place. No key means none at all: an
/// empty key `""` is still a key (the chapter's `produce` always sends one, so it will not do).
/// Return an error if the broker does not acknowledge the record.
pub async fn produce_and_locate(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    todo!(
        "produce `value` without a key and return the partition and offset from the delivery report"
    )
}
// ANCHOR_END: produce_and_locate

// ANCHOR: next_record
/// Reads, as a member of the consumer group `group`, the next record of the one-partition topic
/// `topic` that this group has not read yet, and returns its payload as text.
///
/// A group that has never read `topic` starts with the topic's very first record. Before you
/// return, make the group remember that it has read this record, and no more: the next call with
/// the same `group` (a brand-new consumer) must return the record after it, while a different
/// group still starts at the beginning. Fail (return an error) if no record arrives within 10 s.
pub async fn next_record(env: &Env, topic: &str, group: &str) -> Result<String> {
    todo!("read one record as a member of `group`, and have the group remember it before returning")
}
// ANCHOR_END: next_record
