//! Chapter 16 exercises: the reference solutions.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use workbook_support::Env;

// ANCHOR: latest_state
pub async fn latest_state(
    consumer: &StreamConsumer,
    topic: &str,
) -> Result<BTreeMap<String, String>> {
    let timeout = Duration::from_secs(10);
    let metadata =
        consumer.fetch_metadata(Some(topic), timeout).context("reading the topic's metadata")?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len()) as i32;
    // Where each partition ends now: the high watermark, the offset the next record will get.
    // Compaction leaves gaps between the low and the high watermark, so count nothing: read
    // until the next offset reaches the end.
    let mut ends = HashMap::new();
    let mut assignment = TopicPartitionList::new();
    for partition in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, timeout)?;
        if high > low {
            ends.insert(partition, high);
            // assign, with a starting offset: no group join, no committed offset involved.
            assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
        }
    }
    let mut state = BTreeMap::new();
    if ends.is_empty() {
        return Ok(state); // every partition is empty: nothing to wait for
    }
    consumer.assign(&assignment).context("assigning the partitions")?;
    while !ends.is_empty() {
        // A slow fetch is not the end: only the high watermark read above is.
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .context("no record within 15 s")??;
        let Some(&end) = ends.get(&message.partition()) else { continue };
        if message.offset() >= end {
            continue; // written after we started: not part of this snapshot
        }
        let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
        match message.payload() {
            // The latest record of a key wins: later records overwrite earlier ones.
            Some(value) => state.insert(key, String::from_utf8_lossy(value).into_owned()),
            // No value at all: a tombstone. The key is deleted (an empty value is a value).
            None => state.remove(&key),
        };
        if message.offset() + 1 >= end {
            ends.remove(&message.partition());
        }
    }
    Ok(state)
}
// ANCHOR_END: latest_state

// ANCHOR: changelog_config
pub fn changelog_config(max_downtime: Duration) -> Vec<(String, String)> {
    let pairs = [
        // compact, and only compact: no time or size retention, so no key ever expires.
        ("cleanup.policy", "compact".to_string()),
        // A tombstone stays at least this long after its first cleaning (which comes after it
        // was written): a service down for max_downtime still finds it. In milliseconds.
        ("delete.retention.ms", max_downtime.as_millis().to_string()),
        // What makes the broker compact within seconds, for the test.
        ("segment.ms", "1000".to_string()),
        ("min.cleanable.dirty.ratio", "0.01".to_string()),
        ("min.compaction.lag.ms", "0".to_string()),
    ];
    pairs.into_iter().map(|(name, value)| (name.to_string(), value)).collect()
}
// ANCHOR_END: changelog_config

// ANCHOR: flat_changelog_source
pub fn flat_changelog_source(env: &Env, prefix: &str, table: &str) -> Result<Value> {
    let mut config = ch09_source::source_config(env, prefix, &[table])?;
    let settings = json!({
        // A tombstone after each delete event (Debezium's default, said out loud).
        "tombstones.on.delete": "true",
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        // The delete event becomes the old row with __deleted=true, and Debezium's tombstone
        // goes on. The default, `tombstone`, drops that tombstone and turns the delete into a
        // null value with a schema, which the JsonConverter writes as
        // {"schema": …, "payload": null}: bytes, not a tombstone.
        "transforms.unwrap.delete.tombstone.handling.mode": "rewrite-with-tombstone",
        "topic.creation.default.cleanup.policy": "compact",
    });
    if let (Some(config), Some(settings)) = (config.as_object_mut(), settings.as_object()) {
        config.extend(settings.clone());
    }
    Ok(config)
}
// ANCHOR_END: flat_changelog_source
