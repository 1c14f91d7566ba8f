//! Chapter 5: consumers.
//!
//! A consumer asks partition leaders for records from an offset on. In a group, the members
//! split the topic's partitions between them, and the group remembers (commits) how far it got,
//! so the next member to own a partition continues where the last one stopped.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaResult;
use rdkafka::{Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

// ANCHOR: context
/// A consumer context that says on stderr what the group coordinator decided: which partitions
/// this member got or lost, and which offsets it committed.
pub struct Logged {
    pub member: String,
}

impl ClientContext for Logged {}

impl ConsumerContext for Logged {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(partitions) = rebalance {
            eprintln!("[{}] rebalance: giving up {}", self.member, describe(partitions));
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(partitions) => {
                eprintln!("[{}] rebalance: assigned {}", self.member, describe(partitions))
            }
            Rebalance::Error(e) => eprintln!("[{}] rebalance failed: {e}", self.member),
            Rebalance::Revoke(_) => {}
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        match result {
            Ok(()) => eprintln!("[{}] committed {}", self.member, describe(offsets)),
            // "No offset to commit": nothing was consumed since the last commit.
            Err(e)
                if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::NoOffset) => {}
            Err(e) => eprintln!("[{}] commit failed: {e}", self.member),
        }
    }
}
// ANCHOR_END: context

/// `topic[0, 1]`, or `topic[0@5, 1@7]` when the list carries offsets.
pub fn describe(partitions: &TopicPartitionList) -> String {
    let mut parts: Vec<String> = partitions
        .elements()
        .iter()
        .map(|e| match e.offset() {
            Offset::Offset(o) => format!("{}-{}@{o}", e.topic(), e.partition()),
            _ => format!("{}-{}", e.topic(), e.partition()),
        })
        .collect();
    parts.sort();
    if parts.is_empty() { "nothing".to_string() } else { parts.join(", ") }
}

pub type LoggedConsumer = StreamConsumer<Logged>;

// ANCHOR: config
/// How the console consumer reads: as a group member that commits, or anonymously.
pub fn consumer_config(env: &Env, group: &str, from_beginning: bool, commit: bool) -> ClientConfig {
    let mut config = kafka::client_config(env);
    config
        .set("group.id", group)
        // Only used when the group has no committed offset for a partition: start at the
        // first record still stored (earliest) or only read what arrives from now on (latest).
        .set("auto.offset.reset", if from_beginning { "earliest" } else { "latest" })
        // Commit in the background every 5 s (auto.commit.interval.ms) ...
        .set("enable.auto.commit", commit.to_string())
        // ... but only offsets we stored ourselves, after processing: at-least-once.
        .set("enable.auto.offset.store", "false")
        // A member silent for this long is declared dead and its partitions move on.
        .set("session.timeout.ms", "10000");
    config
}
// ANCHOR_END: config

// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::topic_partitions;

// ANCHOR: seek
/// Assigns every partition of `topic` to `consumer` (no group rebalance: we choose), each
/// starting at the first record whose timestamp is at or after `timestamp_ms`.
pub fn assign_from_timestamp(
    consumer: &LoggedConsumer,
    topic: &str,
    partitions: usize,
    timestamp_ms: i64,
) -> Result<()> {
    let mut wanted = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        // offsets_for_times takes the timestamp in the offset field.
        wanted.add_partition_offset(topic, p, Offset::Offset(timestamp_ms))?;
    }
    // The broker answers with each partition's first offset at or after that time, or "end"
    // (-1) when every record is older.
    let found = consumer
        .offsets_for_times(wanted, Duration::from_secs(10))
        .context("looking up offsets by time")?;
    let mut start = TopicPartitionList::new();
    for element in found.elements() {
        let offset = match element.offset() {
            Offset::Offset(o) => Offset::Offset(o),
            _ => Offset::End,
        };
        start.add_partition_offset(topic, element.partition(), offset)?;
    }
    eprintln!(
        "[{}] records from timestamp {timestamp_ms} on start at {}",
        consumer.context().member,
        describe(&start)
    );
    consumer.assign(&start).context("assigning partitions")?;
    Ok(())
}

/// Assigns one partition of `topic`, starting at `offset`.
pub fn assign_at(
    consumer: &LoggedConsumer,
    topic: &str,
    partition: i32,
    offset: Offset,
) -> Result<()> {
    let mut start = TopicPartitionList::new();
    start.add_partition_offset(topic, partition, offset)?;
    consumer.assign(&start).context("assigning the partition")?;
    Ok(())
}
// ANCHOR_END: seek

/// How far a group is behind on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub partition: i32,
    /// The group's committed offset: the next record it will read (None: nothing committed yet).
    pub committed: Option<i64>,
    /// The log-end offset (high watermark): the offset the next produced record will get.
    pub end: i64,
    pub lag: i64,
}

// ANCHOR: lag
/// The group's lag on each partition of `topic`: end offset minus committed offset. `consumer` is
/// any client with the group's `group.id`; asking does not make it a member.
pub fn lag<C: ConsumerContext>(
    consumer: &impl Consumer<C>,
    topic: &str,
    partitions: usize,
) -> Result<Vec<Lag>> {
    let mut list = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        list.add_partition(topic, p);
    }
    // Ask the group coordinator what the group committed ...
    let committed = consumer
        .committed_offsets(list, Duration::from_secs(10))
        .context("reading committed offsets")?;
    let mut lags = Vec::new();
    for element in committed.elements() {
        // ... and the partition leader where the log ends.
        let (low, end) = consumer
            .fetch_watermarks(topic, element.partition(), Duration::from_secs(10))
            .context("reading the end offset")?;
        let committed = match element.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        };
        lags.push(Lag {
            partition: element.partition(),
            committed,
            end,
            lag: end - committed.unwrap_or(low),
        });
    }
    Ok(lags)
}
// ANCHOR_END: lag

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_sorts_and_shows_offsets() {
        let mut list = TopicPartitionList::new();
        list.add_partition_offset("t", 1, Offset::Offset(7)).unwrap();
        list.add_partition("t", 0);
        assert_eq!(describe(&list), "t-0, t-1@7");
        assert_eq!(describe(&TopicPartitionList::new()), "nothing");
    }

    #[test]
    fn console_config_commits_only_stored_offsets() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let config = consumer_config(&env, "g", true, true);
        assert_eq!(config.get("auto.offset.reset"), Some("earliest"));
        assert_eq!(config.get("enable.auto.offset.store"), Some("false"));
        assert_eq!(
            consumer_config(&env, "g", false, false).get("auto.offset.reset"),
            Some("latest")
        );
    }
}
