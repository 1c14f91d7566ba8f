//! Chapter 1 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::{Env, kafka};

// ANCHOR: produce_and_locate
pub async fn produce_and_locate(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer =
        kafka::producer_config(env).create().context("creating a producer")?;
    // No key at all (the key type `()` is never sent): the client picks the partition, and
    // only the delivery report knows which one it picked.
    let record: FutureRecord<'_, (), str> = FutureRecord::to(topic).payload(value);
    // Awaiting the future waits for the broker's acknowledgement (acks=all by default).
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _unsent)| error)
        .with_context(|| format!("producing to {topic}"))?;
    Ok((delivery.partition, delivery.offset))
}
// ANCHOR_END: produce_and_locate

// ANCHOR: next_record
pub async fn next_record(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", group)
        // A group with no committed offset starts where `auto.offset.reset` says. The default,
        // "latest", is the end of the log: after every record already there.
        .set("auto.offset.reset", "earliest")
        // We commit ourselves, exactly the record we return. With auto-commit on, closing the
        // consumer would also commit records it had fetched in advance and never returned.
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .context("no record within 10 s")?
        .context("reading a record")?;
    // The offset a group commits is the next one it will read: `commit_message` commits this
    // record's offset + 1, and `Sync` waits until the group coordinator has stored it.
    consumer
        .commit_message(&message, CommitMode::Sync)
        .context("committing the group's position")?;
    Ok(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned())
}
// ANCHOR_END: next_record
