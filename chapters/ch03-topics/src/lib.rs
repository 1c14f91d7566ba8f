//! Chapter 3: topics, partitions and replication, managed with the AdminClient.
//!
//! Every call here is one Admin API request to a broker, which forwards it to the active
//! controller; the controller writes the change to the metadata log, and every broker then
//! applies it. That is why a change is *accepted* before every broker *shows* it, and why the
//! functions below wait by polling the metadata instead of trusting the first answer.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::admin::{
    AdminClient, AdminOptions, ConfigSource, NewPartitions, NewTopic, ResourceSpecifier,
    TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use workbook_support::kafka::{self, Topic};
use workbook_support::{Env, wait};

/// The admin client every function here takes.
pub type Admin = AdminClient<DefaultClientContext>;

/// How long the controller may take to answer, and how long we wait for the brokers to agree.
pub const TIMEOUT: Duration = Duration::from_secs(15);

fn options() -> AdminOptions {
    // operation_timeout: how long the controller may take to carry the
    // change out before it answers.
    AdminOptions::new().request_timeout(Some(TIMEOUT)).operation_timeout(Some(TIMEOUT))
}

// ANCHOR: create
/// Creates `topic` with `partitions` partitions, each kept on `replication_factor` brokers, and
/// topic-level `configs` that override the broker's defaults. Fails if the topic exists.
pub async fn create_topic(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
    configs: &[(&str, &str)],
) -> Result<()> {
    let mut new_topic =
        NewTopic::new(topic, partitions, TopicReplication::Fixed(replication_factor));
    for (key, value) in configs {
        new_topic = new_topic.set(key, value);
    }
    let results =
        admin.create_topics([&new_topic], &options()).await.context("sending CreateTopics")?;
    // One result per topic inside a successful request: check it, or miss every real error.
    for result in results {
        if let Err((name, code)) = result {
            bail!("creating topic {name} failed: {code}");
        }
    }
    Ok(())
}
// ANCHOR_END: create

// ANCHOR: list
/// The names of the cluster's topics, without the internal ones (`__consumer_offsets`, ...).
pub async fn list_topics(env: &Env) -> Result<Vec<String>> {
    let cluster = metadata(env, None).await?;
    Ok(cluster.topics.into_iter().map(|t| t.name).filter(|name| !name.starts_with("__")).collect())
}
// ANCHOR_END: list

/// The metadata of one topic (or all, with `None`): what the brokers show, as opposed to what the
/// controller accepted.
pub async fn metadata(env: &Env, topic: Option<&str>) -> Result<kafka::Cluster> {
    kafka::fetch_metadata(&env.bootstrap_servers, topic, kafka::METADATA_TIMEOUT).await
}

/// What `describe` shows: the partitions from the metadata, the settings from DescribeConfigs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description {
    pub topic: Topic,
    /// Only the settings set on this topic (the rest are the broker's defaults).
    pub overrides: Vec<(String, String)>,
}

// ANCHOR: describe
/// Describes `topic`: its partitions (leader, replicas, ISR) and the configs set on it.
pub async fn describe_topic(admin: &Admin, env: &Env, topic: &str) -> Result<Description> {
    let cluster = metadata(env, Some(topic)).await?;
    let found = cluster.topics.into_iter().find(|t| t.name == topic && !t.partitions.is_empty());
    let Some(found) = found else { bail!("topic {topic} does not exist") };

    let resources = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &options())
        .await
        .context("sending DescribeConfigs")?;
    let mut overrides = Vec::new();
    for resource in resources {
        let resource = resource
            .map_err(|code| anyhow::anyhow!("describing the configs of {topic}: {code}"))?;
        for entry in resource.entries {
            // DynamicTopic = set on this topic; everything else is inherited from the broker.
            if entry.source == ConfigSource::DynamicTopic {
                overrides.push((entry.name, entry.value.unwrap_or_default()));
            }
        }
    }
    overrides.sort();
    Ok(Description { topic: found, overrides })
}
// ANCHOR_END: describe

// ANCHOR: alter
/// Grows `topic` to `total` partitions. Kafka can only add partitions, never remove them.
pub async fn add_partitions(admin: &Admin, topic: &str, total: usize) -> Result<()> {
    let request = NewPartitions::new(topic, total);
    let results = admin
        .create_partitions([&request], &options())
        .await
        .context("sending CreatePartitions")?;
    for result in results {
        if let Err((name, code)) = result {
            bail!("adding partitions to {name} failed: {code}");
        }
    }
    Ok(())
}
// ANCHOR_END: alter

// ANCHOR: delete
/// Deletes `topic` and all its records. The controller accepts the deletion at once; each
/// broker then removes the partitions from its disk in the background.
pub async fn delete_topic(admin: &Admin, topic: &str) -> Result<()> {
    let results =
        admin.delete_topics(&[topic], &options()).await.context("sending DeleteTopics")?;
    for result in results {
        if let Err((name, code)) = result {
            bail!("deleting topic {name} failed: {code}");
        }
    }
    Ok(())
}
// ANCHOR_END: delete

// ANCHOR: wait_for_topic
/// Polls the metadata until `ready` holds for `topic` (`None`: the cluster does not list it).
pub async fn wait_for_topic(
    env: &Env,
    topic: &str,
    what: &str,
    ready: impl Fn(Option<&Topic>) -> bool,
) -> Result<()> {
    wait::until(what, TIMEOUT, Duration::from_millis(100), || async {
        let cluster = metadata(env, None).await?;
        let found = cluster.topics.iter().find(|t| t.name == topic);
        Ok(ready(found).then_some(()))
    })
    .await
}
// ANCHOR_END: wait_for_topic

/// Every partition has a leader: the topic is ready to use.
pub fn has_leaders(topic: &Topic, partitions: usize) -> bool {
    topic.partitions.len() == partitions && topic.partitions.iter().all(|p| p.leader >= 0)
}
