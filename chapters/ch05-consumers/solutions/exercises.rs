//! Chapter 5 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

// ANCHOR: read_partition_from
pub async fn read_partition_from(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    // The partition leader knows where the log ends: the offset the next record will get.
    let (_low, end) = consumer
        .fetch_watermarks(topic, partition, Duration::from_secs(10))
        .context("reading the partition's end offset")?;
    let mut values = Vec::new();
    if offset >= end {
        return Ok(values);
    }
    // assign(), not subscribe(): no group join, no rebalance, no committed offset to resume
    // from. The offset in the assignment is where fetching starts: that is the seek.
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    consumer.assign(&assignment).context("assigning the partition")?;
    loop {
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .context("no record within 15 s")??;
        values.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
        // The record at end - 1 is the last one that was there when we started.
        if message.offset() + 1 >= end {
            return Ok(values);
        }
    }
}
// ANCHOR_END: read_partition_from

// ANCHOR: process_then_commit
pub async fn process_then_commit(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let consumer: StreamConsumer = kafka::group_config(env, group)
        // A group with no committed offset yet starts at the topic's first record.
        .set("auto.offset.reset", "earliest")
        // We commit ourselves, record by record, once processing succeeded.
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let mut processed = 0;
    while processed < max {
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .context("no record within 15 s")??;
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        // A failure returns here, before the commit: this record will be read again.
        process(&value)?;
        // Commits offset + 1 (the next record to read) and waits for the coordinator's answer.
        consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
        processed += 1;
    }
    Ok(processed)
}
// ANCHOR_END: process_then_commit
