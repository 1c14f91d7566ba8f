//! Chapter 18 exercises: the reference solutions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ConfigSource, ResourceSpecifier};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

// ANCHOR: time_lag
pub async fn time_lag(env: &Env, group: &str, topic: &str) -> Result<Vec<Duration>> {
    let partitions = kafka::topic_partitions(env, topic).await? as i32;
    // The group's id, to look up its committed offsets; no subscribe (no membership, no
    // rebalance) and no auto-commit (which would commit what this client reads).
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()?;
    let mut wanted = TopicPartitionList::new();
    for p in 0..partitions {
        wanted.add_partition(topic, p);
    }
    let committed = consumer.committed_offsets(wanted, Duration::from_secs(10))?;
    let mut ages = Vec::new();
    for element in committed.elements() {
        let partition = element.partition();
        let (low, end) = consumer.fetch_watermarks(topic, partition, Duration::from_secs(10))?;
        // The next record the group will process: its committed offset, or the first stored
        // record when it has none (or when retention already deleted what it committed).
        let next = match element.offset() {
            Offset::Offset(committed) => committed.max(low),
            _ => low,
        };
        if next >= end {
            ages.push(Duration::ZERO);
            continue;
        }
        // Read that one record: assign with an offset is a seek, outside the group.
        let mut at = TopicPartitionList::new();
        at.add_partition_offset(topic, partition, Offset::Offset(next))?;
        consumer.assign(&at)?;
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .with_context(|| format!("no record at {topic}-{partition}@{next} within 15 s"))??;
        let written = message.timestamp().to_millis().context("a record without a timestamp")?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as i64;
        ages.push(Duration::from_millis((now - written).max(0) as u64));
    }
    Ok(ages)
}
// ANCHOR_END: time_lag

// ANCHOR: set_retention
pub async fn set_retention(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    let described = admin.describe_configs(&[ResourceSpecifier::Topic(topic)], &options).await?;
    let resource = described
        .into_iter()
        .next()
        .context("no answer for the topic")?
        .map_err(|code| anyhow!("describing {topic}: {code}"))?;
    // AlterConfigs replaces the topic's whole set of settings: send back the ones made on this
    // topic (DynamicTopic), and only those; the others come from the broker or the defaults.
    let kept: Vec<(String, String)> = resource
        .entries
        .into_iter()
        .filter(|e| e.source == ConfigSource::DynamicTopic && e.name != "retention.ms")
        .filter_map(|e| Some((e.name, e.value?)))
        .collect();
    let millis = retention.as_millis().to_string();
    let mut change = AlterConfig::new(ResourceSpecifier::Topic(topic)).set("retention.ms", &millis);
    for (name, value) in &kept {
        change = change.set(name, value);
    }
    for result in admin.alter_configs(&[change], &options).await? {
        result.map_err(|(_, code)| anyhow!("altering {topic}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: set_retention
