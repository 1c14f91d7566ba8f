//! Chapter 1 exercises. Check them with `cargo xtask check ch01`.
#![allow(unused_variables, unused_imports)]

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::{Env, kafka};

// ANCHOR: produce_and_locate
/// Sends one record with payload `value` (no key) to `topic`, waits until the broker has
/// acknowledged it, and returns where it landed: `(partition, offset)`.
///
/// Do not guess: the broker's acknowledgement (the delivery report) says where the record went.
/// `topic` may have several partitions. Fail (return an error) if the record cannot be delivered
/// within 10 seconds.
pub async fn produce_and_locate(env: &Env, topic: &str, value: &str) -> Result<(i32, i64)> {
    todo!("produce `value` to `topic` and return the partition and offset from the delivery report")
}
// ANCHOR_END: produce_and_locate

// ANCHOR: first_record
/// Returns the payload (as text) of the very first record of the one-partition topic `topic`,
/// reading as a member of the consumer group `group`, which has never read anything before.
///
/// This one is written for you, and it does not work: run the check, watch it time out, and
/// find the one missing setting. Keep the 10-second limit.
pub async fn first_record(env: &Env, topic: &str, group: &str) -> Result<String> {
    let consumer: StreamConsumer =
        kafka::client_config(env).set("group.id", group).create().context("creating a consumer")?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let message = tokio::time::timeout(Duration::from_secs(10), consumer.recv())
        .await
        .context("no record within 10 s")?
        .context("reading a record")?;
    Ok(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned())
}
// ANCHOR_END: first_record
