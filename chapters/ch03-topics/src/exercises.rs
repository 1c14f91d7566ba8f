//! Chapter 3 exercises. Check them with `cargo xtask check ch03`.
//!
//! You may use the chapter's own functions (`ch03_topics::create_topic`, `ch03_topics::metadata`,
//! `ch03_topics::wait_for_topic`, ...) or call the AdminClient directly.
#![allow(unused_variables, unused_imports)]

use anyhow::{Context, Result, bail};
use rdkafka::admin::{AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use workbook_support::Env;

use ch03_topics::Admin;

// ANCHOR: create_topic_idempotently
/// Makes sure `topic` exists: create it with `partitions` partitions and `replication_factor`
/// replicas, and succeed as well if it already exists (whatever its settings).
///
/// Every other failure is an error, for example a replication factor larger than the number
/// of brokers.
pub async fn create_topic_idempotently(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<()> {
    todo!("create the topic; an existing topic is not an error, anything else is")
}
// ANCHOR_END: create_topic_idempotently

// ANCHOR: ensure_partitions
/// Makes sure the existing topic `topic` has at least `wanted` partitions and returns how many it
/// has afterwards.
///
/// If it has fewer, grow it to `wanted` and return only once the cluster's metadata shows the new
/// partitions. If it already has `wanted` or more, change nothing and succeed. If the topic does
/// not exist, fail.
pub async fn ensure_partitions(admin: &Admin, env: &Env, topic: &str, wanted: i32) -> Result<i32> {
    todo!("read the current partition count, then grow the topic only if needed")
}
// ANCHOR_END: ensure_partitions

// ANCHOR: delete_topics_and_wait
/// Deletes every topic in `topics` that exists, and returns once the cluster's metadata lists none
/// of them. Returns the names of the topics that did not exist, in the order given: deleting those
/// is not an error here (they are gone, which is what the caller wanted), but any other failure is.
pub async fn delete_topics_and_wait(
    admin: &Admin,
    env: &Env,
    topics: &[&str],
) -> Result<Vec<String>> {
    todo!("delete, tell the per-topic results apart, then wait until the deleted topics are gone")
}
// ANCHOR_END: delete_topics_and_wait
