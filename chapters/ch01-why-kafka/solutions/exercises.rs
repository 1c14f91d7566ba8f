//! Chapter 1 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::{Env, kafka};

// ANCHOR: produce_and_locate
pub async fn produce_and_locate(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer = kafka::producer_config(env).create().context("creating a producer")?;
    // No key: the client picks the partition. Only the delivery report knows which one.
    let record: FutureRecord<'_, (), str> = FutureRecord::to(topic).payload(value);
    let delivery = producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(error, _unsent)| error)
        .with_context(|| format!("producing to {topic}"))?;
    Ok((delivery.partition, delivery.offset))
}
// ANCHOR_END: produce_and_locate

// ANCHOR: first_record
pub async fn first_record(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", group)
        // A group with no committed offset starts where `auto.offset.reset` says.
        // The default is "latest": the end of the log, after every record already there.
        .set("auto.offset.reset", "earliest")
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .context("no record within 10 s")?
        .context("reading a record")?;
    Ok(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned())
}
// ANCHOR_END: first_record
