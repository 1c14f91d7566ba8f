//! Chapter 18: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, mistakes};

pub async fn time_lag(env: &Env, group: &str, topic: &str) -> Result<Vec<Duration>> {
    match mistakes::chosen().as_deref() {
        None => solution::time_lag(env, group, topic).await,
        Some("ages_the_first_stored_record") => {
            by_choice(env, group, topic, Pick::FirstStored, false).await
        }
        Some("ages_the_last_processed_record") => {
            by_choice(env, group, topic, Pick::LastProcessed, false).await
        }
        Some("ages_the_newest_record") => by_choice(env, group, topic, Pick::Newest, false).await,
        Some("no_commit_means_no_lag") => {
            by_choice(env, group, topic, Pick::ZeroWithoutCommit, false).await
        }
        Some("auto_commit_left_on") => by_choice(env, group, topic, Pick::Committed, true).await,
        Some("joins_the_group") => joins_the_group(env, group, topic).await,
        Some(other) => mistakes::unknown("time_lag", other),
    }
}

/// Which record a variant of the solution measures.
#[derive(Clone, Copy, PartialEq)]
enum Pick {
    /// The record at the committed offset (right).
    Committed,
    /// Mistake: the first record still stored (the low watermark), committed or not: the age of
    /// the partition's data, not of what the group still has to do.
    FirstStored,
    /// Mistake: the record before the committed offset, taking a committed offset for "the last
    /// record processed" when it is the next one to process.
    LastProcessed,
    /// Mistake: the newest record (high watermark - 1): "how old is the latest write", which says
    /// nothing about how long the oldest waiting record has waited.
    Newest,
    /// Mistake: a partition without a committed offset counts as caught up, though the group
    /// would read all of it.
    ZeroWithoutCommit,
}

fn age_of(message: &BorrowedMessage<'_>) -> Result<Duration> {
    let written = message.timestamp().to_millis().context("a record without a timestamp")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
    Ok(Duration::from_millis((now - written).max(0) as u64))
}

/// The reference solution with one choice made differently (`pick`), or with auto-commit left
/// on (`auto_commit`: the consumer commits the position of what it read, moving the group).
async fn by_choice(
    env: &Env,
    group: &str,
    topic: &str,
    pick: Pick,
    auto_commit: bool,
) -> Result<Vec<Duration>> {
    let partitions = kafka::topic_partitions(env, topic).await? as i32;
    let mut config = kafka::client_config(env);
    config.set("group.id", group);
    if !auto_commit {
        config.set("enable.auto.commit", "false");
    }
    let consumer: StreamConsumer = config.create()?;
    let mut wanted = TopicPartitionList::new();
    for p in 0..partitions {
        wanted.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(wanted, Duration::from_secs(10))?;
    let mut ages = Vec::new();
    for element in committed.elements() {
        let partition = element.partition();
        let (low, end) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        let committed = match element.offset() {
            Offset::Offset(o) => Some(o),
            _ => None,
        };
        let next = match (pick, committed) {
            (Pick::FirstStored, _) => low,
            (Pick::LastProcessed, Some(c)) if c < end => (c - 1).max(low),
            (Pick::Newest, _) if committed.unwrap_or(low) < end => end - 1,
            (Pick::ZeroWithoutCommit, None) => end,
            (_, Some(c)) => c.max(low),
            (_, None) => low,
        };
        if next >= end || (pick == Pick::FirstStored && committed.is_some_and(|c| c >= end)) {
            ages.push(Duration::ZERO);
            continue;
        }
        let mut at = TopicPartitionList::new();
        at.add_partition_offset(topic, partition, Offset::Offset(next))?;
        consumer.assign(&at)?;
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .with_context(|| format!("no record at {topic}-{partition}@{next} within 15 s"))??;
        ages.push(age_of(&message)?);
    }
    Ok(ages)
}

/// Mistake: subscribes with the service's group id and measures the first record each partition
/// delivers (the group starts there, so the ages are even right). But subscribing makes it a
/// member: the running service is rebalanced twice, once when it joins and once when it leaves.
async fn joins_the_group(env: &Env, group: &str, topic: &str) -> Result<Vec<Duration>> {
    let partitions = kafka::topic_partitions(env, topic).await?;
    let consumer: StreamConsumer = kafka::group_config(env, group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut first = BTreeMap::new();
    // Partitions with nothing waiting never deliver: stop after 5 s without a new partition.
    while first.len() < partitions {
        match tokio::time::timeout(Duration::from_secs(5), consumer.recv()).await {
            Ok(message) => {
                let message = message?;
                if let Entry::Vacant(slot) = first.entry(message.partition()) {
                    slot.insert(age_of(&message)?);
                }
            }
            Err(_) => break,
        }
    }
    Ok((0..partitions as i32).map(|p| first.get(&p).copied().unwrap_or(Duration::ZERO)).collect())
}

pub async fn set_retention(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    match mistakes::chosen().as_deref() {
        None => solution::set_retention(admin, topic, retention).await,
        Some("sends_only_retention") => sends_only_retention(admin, topic, retention).await,
        Some("copies_every_non_default") => copies_every_non_default(admin, topic, retention).await,
        Some("retention_in_seconds") => retention_in_seconds(admin, topic, retention).await,
        Some(other) => mistakes::unknown("set_retention", other),
    }
}

async fn alter(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    settings: &[(String, String)],
) -> Result<()> {
    let mut change = AlterConfig::new(ResourceSpecifier::Topic(topic));
    for (name, value) in settings {
        change = change.set(name, value);
    }
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    for result in admin.alter_configs(&[change], &options).await? {
        result.map_err(|(_, code)| anyhow!("altering {topic}: {code}"))?;
    }
    Ok(())
}

/// Mistake: sends retention.ms alone, as `kafka-configs --add-config` would. That tool uses
/// IncrementalAlterConfigs; rust-rdkafka's `alter_configs` is the older AlterConfigs, which
/// makes the list sent the topic's whole configuration: every other setting is reset.
async fn sends_only_retention(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    alter(admin, topic, &[("retention.ms".to_string(), retention.as_millis().to_string())]).await
}

/// Mistake: keeps every entry that is not at Kafka's default (`!is_default`), which includes the
/// values the topic inherits from the broker (its server.properties, the cluster-wide dynamic
/// defaults). Sent back, they become settings of the topic and stop following the broker.
async fn copies_every_non_default(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &options).await?;
    let resource =
        described.into_iter().next().context("no answer")?.map_err(|code| anyhow!("{code}"))?;
    let mut settings: Vec<(String, String)> = resource
        .entries
        .into_iter()
        .filter(|e| !e.is_default && e.name != "retention.ms")
        .filter_map(|e| Some((e.name, e.value?)))
        .collect();
    settings.push(("retention.ms".to_string(), retention.as_millis().to_string()));
    alter(admin, topic, &settings).await
}

/// Mistake: the reference solution, but with the retention in seconds: retention.ms is in
/// milliseconds, so two days become under three minutes and the topic is emptied soon after.
async fn retention_in_seconds(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &options).await?;
    let resource =
        described.into_iter().next().context("no answer")?.map_err(|code| anyhow!("{code}"))?;
    let mut settings: Vec<(String, String)> = resource
        .entries
        .into_iter()
        .filter(|e| e.source == ConfigSource::DynamicTopic && e.name != "retention.ms")
        .filter_map(|e| Some((e.name, e.value?)))
        .collect();
    settings.push(("retention.ms".to_string(), retention.as_secs().to_string()));
    alter(admin, topic, &settings).await
}
