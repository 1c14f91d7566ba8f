//! Chapter 5: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, mistakes};

pub async fn read_partition_from(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    match mistakes::chosen().as_deref() {
        None => solution::read_partition_from(consumer, topic, partition, offset).await,
        Some("subscribes_and_filters") => {
            subscribes_and_filters(consumer, topic, partition, offset).await
        }
        Some("assigns_without_offset") => {
            assigns_without_offset(consumer, topic, partition, offset).await
        }
        Some("waits_for_the_end_offset") => {
            waits_for_the_end_offset(consumer, topic, partition, offset).await
        }
        Some(other) => mistakes::unknown("read_partition_from", other),
    }
}

fn value(message: &BorrowedMessage<'_>) -> String {
    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()
}

async fn next(consumer: &StreamConsumer) -> Result<BorrowedMessage<'_>> {
    Ok(tokio::time::timeout(Duration::from_secs(15), consumer.recv())
        .await
        .context("no record within 15 s")??)
}

/// Mistake: subscribes to the topic and throws away what it did not ask for. The group decides
/// which partitions this member gets and starts them at the group's committed offsets, and the
/// service's group rebalances because a new member joined.
async fn subscribes_and_filters(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    let (_low, end) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
    let mut values = Vec::new();
    if offset >= end {
        return Ok(values);
    }
    consumer.subscribe(&[topic]).context("subscribing")?;
    loop {
        let message = next(consumer).await?;
        if message.partition() != partition || message.offset() < offset {
            continue;
        }
        values.push(value(&message));
        if message.offset() + 1 >= end {
            return Ok(values);
        }
    }
}

/// Mistake: assigns the partition without an offset in the list (and never seeks), so the
/// consumer starts where the group's committed offset says, not at `offset`.
async fn assigns_without_offset(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    let (_low, end) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
    let mut values = Vec::new();
    if offset >= end {
        return Ok(values);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition(topic, partition);
    consumer.assign(&assignment).context("assigning the partition")?;
    loop {
        let message = next(consumer).await?;
        values.push(value(&message));
        if message.offset() + 1 >= end {
            return Ok(values);
        }
    }
}

/// Mistake: takes the end offset for the offset of the last record, so it waits for a record
/// at the end offset, which does not exist yet, until its 15 s are up.
async fn waits_for_the_end_offset(
    consumer: &StreamConsumer,
    topic: &str,
    partition: i32,
    offset: i64,
) -> Result<Vec<String>> {
    let (_low, end) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
    let mut values = Vec::new();
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, partition, Offset::Offset(offset))?;
    consumer.assign(&assignment).context("assigning the partition")?;
    loop {
        let message = next(consumer).await?;
        if message.offset() >= end {
            return Ok(values);
        }
        values.push(value(&message));
    }
}

pub async fn process_then_commit(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    match mistakes::chosen().as_deref() {
        None => solution::process_then_commit(env, topic, group, max, process).await,
        Some("commits_before_processing") => {
            commits_before_processing(env, topic, group, max, process).await
        }
        Some("commits_the_offset_read") => {
            commits_the_offset_read(env, topic, group, max, process).await
        }
        Some("commits_only_at_the_end") => {
            commits_only_at_the_end(env, topic, group, max, process).await
        }
        Some("auto_commit_left_on") => auto_commit_left_on(env, topic, group, max, process).await,
        Some(other) => mistakes::unknown("process_then_commit", other),
    }
}

fn manual_commit_consumer(env: &Env, topic: &str, group: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::group_config(env, group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    Ok(consumer)
}

/// Mistake: commits each record as soon as it arrives, then processes it: at-most-once. The
/// record whose processing failed is already marked done, and the restart skips it.
async fn commits_before_processing(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let consumer = manual_commit_consumer(env, topic, group)?;
    let mut processed = 0;
    while processed < max {
        let message = next(&consumer).await?;
        consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
        process(&value(&message))?;
        processed += 1;
    }
    Ok(processed)
}

/// Mistake: commits the processed record's own offset. A committed offset is the next record to
/// read, so the restart begins by processing the last finished record a second time.
async fn commits_the_offset_read(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let consumer = manual_commit_consumer(env, topic, group)?;
    let mut processed = 0;
    while processed < max {
        let message = next(&consumer).await?;
        process(&value(&message))?;
        let mut done = TopicPartitionList::new();
        done.add_partition_offset(
            message.topic(),
            message.partition(),
            Offset::Offset(message.offset()),
        )?;
        consumer.commit(&done, CommitMode::Sync).context("committing")?;
        processed += 1;
    }
    Ok(processed)
}

/// Mistake: commits once, after the loop. A failure returns before that commit, so the restart
/// repeats everything since the last run.
async fn commits_only_at_the_end(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let consumer = manual_commit_consumer(env, topic, group)?;
    let mut processed = 0;
    while processed < max {
        let message = next(&consumer).await?;
        process(&value(&message))?;
        processed += 1;
    }
    consumer.commit_consumer_state(CommitMode::Sync).context("committing")?;
    Ok(processed)
}

/// Mistake: commits after processing, but leaves auto-commit on. librdkafka stores every
/// record's offset as it hands it out and commits that in the background and when the consumer
/// closes, so the failed record counts as done anyway.
async fn auto_commit_left_on(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
) -> Result<usize> {
    let consumer: StreamConsumer =
        kafka::group_config(env, group).set("auto.offset.reset", "earliest").create()?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let mut processed = 0;
    while processed < max {
        let message = next(&consumer).await?;
        process(&value(&message))?;
        consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
        processed += 1;
    }
    Ok(processed)
}
