//! Chapter 16: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};
use workbook_support::{Env, mistakes};

pub async fn latest_state(
    consumer: &StreamConsumer,
    topic: &str,
) -> Result<BTreeMap<String, String>> {
    match mistakes::chosen().as_deref() {
        None => solution::latest_state(consumer, topic).await,
        Some("ignores_tombstones") => read_to_end(consumer, topic, ignores_tombstones).await,
        Some("empty_value_is_tombstone") => {
            read_to_end(consumer, topic, empty_value_is_tombstone).await
        }
        Some("keeps_first_value") => read_to_end(consumer, topic, keeps_first_value).await,
        Some("stops_at_first_empty_poll") => stops_at_first_empty_poll(consumer, topic).await,
        Some("counts_records") => counts_records(consumer, topic).await,
        Some(other) => mistakes::unknown("latest_state", other),
    }
}

type State = BTreeMap<String, String>;

fn key_of(message: &BorrowedMessage<'_>) -> String {
    String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The reference solution's reading (every partition up to its high watermark), applying each
/// record with `apply`: the mistakes below differ only in how they apply a record.
async fn read_to_end(
    consumer: &StreamConsumer,
    topic: &str,
    apply: fn(&mut State, String, Option<&[u8]>),
) -> Result<State> {
    let (ends, assignment) = ends_and_assignment(consumer, topic)?;
    let mut ends = ends;
    let mut state = State::new();
    if ends.is_empty() {
        return Ok(state);
    }
    consumer.assign(&assignment)?;
    while !ends.is_empty() {
        let message = next(consumer).await?;
        let Some(&end) = ends.get(&message.partition()) else { continue };
        if message.offset() >= end {
            continue;
        }
        apply(&mut state, key_of(&message), message.payload());
        if message.offset() + 1 >= end {
            ends.remove(&message.partition());
        }
    }
    Ok(state)
}

fn ends_and_assignment(
    consumer: &StreamConsumer,
    topic: &str,
) -> Result<(HashMap<i32, i64>, TopicPartitionList)> {
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len()) as i32;
    let (mut ends, mut assignment) = (HashMap::new(), TopicPartitionList::new());
    for partition in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, timeout)?;
        if high > low {
            ends.insert(partition, high);
            assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
        }
    }
    Ok((ends, assignment))
}

async fn next(consumer: &StreamConsumer) -> Result<BorrowedMessage<'_>> {
    Ok(tokio::time::timeout(Duration::from_secs(15), consumer.recv())
        .await
        .context("no record within 15 s")??)
}

/// Mistake: only records with a value are applied; a tombstone is skipped as "nothing to do",
/// so a deleted key keeps its last value forever.
fn ignores_tombstones(state: &mut State, key: String, value: Option<&[u8]>) {
    if let Some(value) = value {
        state.insert(key, text(value));
    }
}

/// Mistake: takes an empty value for a tombstone (`payload().unwrap_or_default()` and then "empty
/// means deleted"): a key whose value is the empty string disappears.
fn empty_value_is_tombstone(state: &mut State, key: String, value: Option<&[u8]>) {
    match value.filter(|v| !v.is_empty()) {
        Some(value) => state.insert(key, text(value)),
        None => state.remove(&key),
    };
}

/// Mistake: `entry(key).or_insert(value)`: the first value of a key is kept, later updates are
/// ignored (tombstones still delete).
fn keeps_first_value(state: &mut State, key: String, value: Option<&[u8]>) {
    match value {
        Some(value) => {
            state.entry(key).or_insert_with(|| text(value));
        }
        None => {
            state.remove(&key);
        }
    }
}

/// Mistake: reads from the beginning until a poll brings nothing for half a second, and takes
/// that for the end of the topic. A slow fetch (a busy broker, a far-away cluster) ends it early.
async fn stops_at_first_empty_poll(consumer: &StreamConsumer, topic: &str) -> Result<State> {
    let (_ends, assignment) = ends_and_assignment(consumer, topic)?;
    let mut state = State::new();
    consumer.assign(&assignment)?;
    while let Ok(message) = tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await
    {
        let message = message?;
        match message.payload() {
            Some(value) => state.insert(key_of(&message), text(value)),
            None => state.remove(&key_of(&message)),
        };
    }
    Ok(state)
}

/// Mistake: counts the records to read as high − low watermark per partition. On a compacted
/// topic the offsets in between have gaps, so it waits for records that no longer exist.
async fn counts_records(consumer: &StreamConsumer, topic: &str) -> Result<State> {
    let timeout = Duration::from_secs(10);
    let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
    let partitions = metadata.topics().first().map_or(0, |t| t.partitions().len()) as i32;
    let (mut expected, mut assignment) = (0, TopicPartitionList::new());
    for partition in 0..partitions {
        let (low, high) = consumer.fetch_watermarks(topic, partition, timeout)?;
        expected += high - low;
        assignment.add_partition_offset(topic, partition, Offset::Beginning)?;
    }
    let mut state = State::new();
    consumer.assign(&assignment)?;
    for _ in 0..expected {
        let message = next(consumer).await?;
        match message.payload() {
            Some(value) => state.insert(key_of(&message), text(value)),
            None => state.remove(&key_of(&message)),
        };
    }
    Ok(state)
}

pub fn changelog_config(max_downtime: Duration) -> Vec<(String, String)> {
    let mistake = match mistakes::chosen().as_deref() {
        None => return solution::changelog_config(max_downtime),
        Some("delete_policy") => delete_policy(),
        Some("compact_delete_with_retention") => compact_delete_with_retention(max_downtime),
        Some("tombstones_kept_5_s") => tombstones_kept_5_s(),
        Some("retention_in_seconds") => retention_in_seconds(max_downtime),
        Some(other) => mistakes::unknown("changelog_config", other),
    };
    // Each mistake changes one setting of the reference solution.
    let mut pairs = solution::changelog_config(max_downtime);
    for (name, value) in mistake {
        pairs.retain(|(n, _)| n != name);
        pairs.push((name.to_string(), value));
    }
    pairs
}

/// Mistake: the default policy, `delete`: nothing is ever compacted, and after `retention.ms`
/// (7 days by default) whole segments go, the only record of a key with them.
fn delete_policy() -> Vec<(&'static str, String)> {
    vec![("cleanup.policy", "delete".to_string())]
}

/// Mistake: `compact,delete` with `retention.ms` = the longest downtime ("every reader has had old
/// records by then"): segments older than that are deleted whole, keys written once with them.
fn compact_delete_with_retention(max_downtime: Duration) -> Vec<(&'static str, String)> {
    vec![
        ("cleanup.policy", "compact,delete".to_string()),
        ("retention.ms", max_downtime.as_millis().to_string()),
    ]
}

/// Mistake: keeps the chapter demo's `delete.retention.ms=5000`: a tombstone goes at the first
/// cleaning 5 s after it was first cleaned, long before a service that was down comes back.
fn tombstones_kept_5_s() -> Vec<(&'static str, String)> {
    vec![("delete.retention.ms", "5000".to_string())]
}

/// Mistake: `delete.retention.ms` = `max_downtime.as_secs()`: the setting is in milliseconds, so
/// tombstones are kept 60 ms instead of 60 s.
fn retention_in_seconds(max_downtime: Duration) -> Vec<(&'static str, String)> {
    vec![("delete.retention.ms", max_downtime.as_secs().to_string())]
}

pub fn flat_changelog_source(env: &Env, prefix: &str, table: &str) -> Result<Value> {
    let mut config = solution::flat_changelog_source(env, prefix, table)?;
    match mistakes::chosen().as_deref() {
        None => {}
        Some("default_delete_handling") => default_delete_handling(&mut config),
        Some("rewrite_without_tombstone") => rewrite_without_tombstone(&mut config),
        Some("tombstones_off") => tombstones_off(&mut config),
        Some("topic_not_compacted") => topic_not_compacted(&mut config),
        Some(other) => mistakes::unknown("flat_changelog_source", other),
    }
    Ok(config)
}

/// Mistake: ExtractNewRecordState with its default delete handling (`tombstone`): Debezium's
/// tombstone is dropped and the delete becomes a null value with a schema, which the
/// JsonConverter writes as `{"schema": …, "payload": null}`: not a tombstone for compaction.
fn default_delete_handling(config: &mut Value) {
    if let Some(config) = config.as_object_mut() {
        config.remove("transforms.unwrap.delete.tombstone.handling.mode");
    }
}

/// Mistake: `rewrite` (what chapter 9's flatten exercise uses): the delete becomes a row with
/// `__deleted=true`, and Debezium's tombstone is dropped, so the key is never forgotten.
fn rewrite_without_tombstone(config: &mut Value) {
    config["transforms.unwrap.delete.tombstone.handling.mode"] = json!("rewrite");
}

/// Mistake: `tombstones.on.delete=false` ("the __deleted row says it all"): Debezium writes no
/// tombstone, so there is none for the transform to keep.
fn tombstones_off(config: &mut Value) {
    config["tombstones.on.delete"] = json!("false");
}

/// Mistake: forgets the topic's cleanup policy: Connect creates it with the broker's default,
/// `delete`, and the tombstones are there for nothing.
fn topic_not_compacted(config: &mut Value) {
    if let Some(config) = config.as_object_mut() {
        config.remove("topic.creation.default.cleanup.policy");
    }
}
