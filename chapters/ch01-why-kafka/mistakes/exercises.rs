//! Chapter 1: known-wrong answers, the mistakes this chapter's exercises must catch.
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
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, mistakes};

pub async fn produce_and_locate(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    match mistakes::chosen().as_deref() {
        None => solution::produce_and_locate(env, topic, value).await,
        Some("does_not_wait_for_delivery") => does_not_wait_for_delivery(env, topic, value).await,
        Some("assumes_partition_zero") => assumes_partition_zero(env, topic, value).await,
        Some("sends_with_a_key") => sends_with_a_key(env, topic, value).await,
        Some(other) => mistakes::unknown("produce_and_locate", other),
    }
}

/// Mistake: hands the record to the producer and returns at once with a "prediction": the end of
/// partition 0, where the next record should go. Nothing is stored yet when it returns (dropping
/// the producer even purges the queued record), and without a key the client may pick any partition.
async fn does_not_wait_for_delivery(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer =
        kafka::producer_config(env).create().context("creating a producer")?;
    let (_low, end) = producer.client().fetch_watermarks(topic, 0, Duration::from_secs(5))?;
    let record: FutureRecord<'_, (), str> = FutureRecord::to(topic).payload(value);
    let _not_awaited = producer.send_result(record).map_err(|(error, _unsent)| error)?;
    Ok((0, end))
}

/// Mistake: waits for the delivery report but takes only the offset from it, assuming the record
/// went to partition 0 (the only partition of the chapter's demo topic).
async fn assumes_partition_zero(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer =
        kafka::producer_config(env).create().context("creating a producer")?;
    let record: FutureRecord<'_, (), str> = FutureRecord::to(topic).payload(value);
    let delivery =
        producer.send(record, Duration::from_secs(10)).await.map_err(|(error, _unsent)| error)?;
    Ok((0, delivery.offset))
}

/// Mistake: reuses the chapter's `produce`, which takes a key, with the demo's key "ch01". The
/// record is keyed: every such record lands in the one partition the key hashes to, and readers
/// see a key nobody asked for.
async fn sends_with_a_key(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer = ch01_why_kafka::producer(env)?;
    let landed = ch01_why_kafka::produce(&producer, topic, "ch01", value).await?;
    Ok((landed.partition, landed.offset))
}

pub async fn next_record(env: &Env, topic: &str, group: &str) -> Result<String> {
    match mistakes::chosen().as_deref() {
        None => solution::next_record(env, topic, group).await,
        Some("starts_at_latest") => starts_at_latest(env, topic, group).await,
        Some("never_commits") => never_commits(env, topic, group).await,
        Some("commits_the_records_offset") => commits_the_records_offset(env, topic, group).await,
        Some("ignores_the_group") => ignores_the_group(env, topic).await,
        Some(other) => mistakes::unknown("next_record", other),
    }
}

/// The solution's consumer, with `auto.offset.reset` left out when `from_beginning` is false.
fn consumer(env: &Env, group: &str, from_beginning: bool) -> Result<StreamConsumer> {
    let mut config = kafka::client_config(env);
    config.set("group.id", group).set("enable.auto.commit", "false");
    if from_beginning {
        config.set("auto.offset.reset", "earliest");
    }
    config.create().context("creating a consumer")
}

async fn first_message(consumer: &StreamConsumer) -> Result<BorrowedMessage<'_>> {
    Ok(tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .context("no record within 10 s")??)
}

fn text(message: &BorrowedMessage<'_>) -> String {
    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned()
}

/// Mistake: leaves `auto.offset.reset` at its default, "latest". A brand-new group starts at the
/// end of the log, after the records already there, and waits for one that never comes.
async fn starts_at_latest(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer = consumer(env, group, false)?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = first_message(&consumer).await?;
    consumer.commit_message(&message, CommitMode::Sync)?;
    Ok(text(&message))
}

/// Mistake: turns auto-commit off and never commits. The group never remembers anything, so
/// every call starts over at the first record.
async fn never_commits(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer = consumer(env, group, true)?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = first_message(&consumer).await?;
    Ok(text(&message))
}

/// Mistake: commits the record's own offset. A committed offset is the next record to read, so
/// the group's next consumer reads the same record again.
async fn commits_the_records_offset(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer = consumer(env, group, true)?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = first_message(&consumer).await?;
    let mut position = TopicPartitionList::new();
    position.add_partition_offset(topic, message.partition(), Offset::Offset(message.offset()))?;
    consumer.commit(&position, CommitMode::Sync)?;
    Ok(text(&message))
}

/// Mistake: reads with one fixed group name instead of `group`. Every caller then shares one
/// position, so a second group continues where the first stopped instead of at the beginning.
async fn ignores_the_group(env: &Env, topic: &str) -> Result<String> {
    solution::next_record(env, topic, "ch01-reader").await
}
