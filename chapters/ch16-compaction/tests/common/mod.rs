//! Helpers the chapter 16 tests share: a partition read record by record, a topic's configs as
//! the broker applies them.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Duration;

use ch16_compaction::Entry;
use rdkafka::admin::{AdminOptions, AlterConfig, ResourceSpecifier};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, names};

const TIMEOUT: Duration = Duration::from_secs(10);

/// Partition `partition` of `topic`, from its first record to its high watermark now.
pub async fn read_partition(env: &Env, topic: &str, partition: i32) -> anyhow::Result<Vec<Entry>> {
    let consumer: StreamConsumer = kafka::group_config(env, &names::unique("ch16-test-reader"))
        .set("enable.auto.commit", "false")
        .create()?;
    let (low, high) = consumer.fetch_watermarks(topic, partition, TIMEOUT)?;
    let mut entries = Vec::new();
    if high <= low {
        return Ok(entries);
    }
    let mut start = TopicPartitionList::new();
    start.add_partition_offset(topic, partition, Offset::Beginning)?;
    consumer.assign(&start)?;
    loop {
        let message = tokio::time::timeout(TIMEOUT, consumer.recv()).await??;
        entries.push(Entry {
            offset: message.offset(),
            key: String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned(),
            value: message.payload().map(|v| String::from_utf8_lossy(v).into_owned()),
        });
        if message.offset() + 1 >= high {
            return Ok(entries);
        }
    }
}

/// Whether no key appears twice in `entries`.
pub fn one_per_key(entries: &[Entry]) -> bool {
    let mut seen = std::collections::HashSet::new();
    entries.iter().all(|e| seen.insert(e.key.as_str()))
}

/// The configs the broker applies to `topic` (set ones and defaults), by name.
pub async fn topic_configs(env: &Env, topic: &str) -> HashMap<String, String> {
    let admin = kafka::admin(env).unwrap();
    let options = AdminOptions::new().request_timeout(Some(TIMEOUT));
    let results =
        admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &options).await.unwrap();
    let resource = results.into_iter().next().unwrap().unwrap();
    resource.entries.into_iter().filter_map(|e| Some((e.name, e.value?))).collect()
}

/// Replaces the dynamic configs of `topic` with `configs`.
pub async fn alter_topic(env: &Env, topic: &str, configs: &[(&str, &str)]) {
    let mut alter = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (name, value) in configs {
        alter = alter.set(name, value);
    }
    let options = AdminOptions::new().request_timeout(Some(TIMEOUT));
    let results = kafka::admin(env).unwrap().alter_configs(&[alter], &options).await.unwrap();
    for result in results {
        result.unwrap();
    }
}
