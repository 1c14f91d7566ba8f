//! Retention deletes old records whatever their keys. A group whose committed offset was deleted
//! restarts where `auto.offset.reset` says, or fails if you ask it to.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::admin::AdminOptions;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

use crate::log::TIMEOUT;

// ANCHOR: delete_records
/// Deletes the records of partition 0 of `topic` before `offset`, as retention deletes old
/// segments (`kafka-delete-records` does the same); returns the new low watermark.
pub async fn delete_records_before(env: &Env, topic: &str, offset: i64) -> Result<i64> {
    let mut before = TopicPartitionList::new();
    before.add_partition_offset(topic, 0, Offset::Offset(offset))?;
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let result = kafka::admin(env)?
        .delete_records(&before, &options)
        .await
        .with_context(|| format!("deleting the records of {topic} before offset {offset}"))?;
    for partition in result.elements() {
        partition.error().with_context(|| format!("deleting records of {topic}-0"))?;
        if let Offset::Offset(low) = partition.offset() {
            return Ok(low);
        }
    }
    bail!("the broker did not say where {topic}-0 starts now")
}
// ANCHOR_END: delete_records

/// A member of `group` on `topic` that commits by hand, with this `auto.offset.reset`.
pub fn member(
    env: &Env,
    topic: &str,
    group: &str,
    auto_offset_reset: &str,
) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", auto_offset_reset)
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

/// Reads `count` records as a member of `group` (from the first record), commits after the last
/// one and leaves: the group's committed offset is then the offset of the next record to read.
pub async fn read_and_commit(
    env: &Env,
    topic: &str,
    group: &str,
    count: usize,
) -> Result<Vec<(i64, String)>> {
    let consumer = member(env, topic, group, "earliest")?;
    let mut read = Vec::new();
    while read.len() < count {
        let message = tokio::time::timeout(TIMEOUT, consumer.recv())
            .await
            .context("no record within 10 s")??;
        read.push((
            message.offset(),
            String::from_utf8_lossy(message.payload().unwrap_or_default()).into(),
        ));
        if read.len() == count {
            consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
        }
    }
    Ok(read)
}

// ANCHOR: resume
/// What a member of the group gets on its first poll after coming back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resumed {
    /// A record, at this offset.
    Read { offset: i64, value: String },
    /// An error instead of a record.
    Failed(String),
}

/// Joins `group` on `topic` with this `auto.offset.reset` and returns what the first poll gives.
pub async fn resume(
    env: &Env,
    topic: &str,
    group: &str,
    auto_offset_reset: &str,
) -> Result<Resumed> {
    // auto.offset.reset applies when the group has no committed offset, and also when the
    // committed offset is out of range: no longer in the log (deleted), or past its end.
    let consumer = member(env, topic, group, auto_offset_reset)?;
    let first = tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await;
    Ok(match first.context("neither a record nor an error within 30 s")? {
        Ok(message) => Resumed::Read {
            offset: message.offset(),
            value: String::from_utf8_lossy(message.payload().unwrap_or_default()).into(),
        },
        Err(e) => Resumed::Failed(e.to_string()),
    })
}
// ANCHOR_END: resume
