//! Kafka clients built from the environment contract, with timeouts that turn
//! "no broker there" into an error within seconds.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::BorrowedMessage;
use rdkafka::metadata::Metadata;
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

use crate::Env;

/// How long a metadata request may take before we call the broker unreachable.
pub const METADATA_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings every client shares: where the brokers are, and how fast to give up on them.
pub fn client_config(env: &Env) -> ClientConfig {
    client_config_for(&env.bootstrap_servers)
}

/// [`client_config`] for the brokers at `bootstrap_servers` (another cluster than the
/// environment's).
pub fn client_config_for(bootstrap_servers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap_servers)
        // A refused or silent TCP connection fails in seconds, not the default 30 s.
        .set("socket.connection.setup.timeout.ms", "5000")
        .set("socket.timeout.ms", "10000");
    config
}

/// A producer config: a record that cannot be delivered fails after 10 s instead of 5 minutes.
pub fn producer_config(env: &Env) -> ClientConfig {
    let mut config = client_config(env);
    config.set("message.timeout.ms", "10000");
    config
}

/// A consumer config for a member of consumer group `group`.
///
/// Where the member starts on a partition its group has no committed offset for is
/// `auto.offset.reset`, and it is left to the caller on purpose: librdkafka's default is `latest`
/// (only records written from now on), like the Java client's. A reader that wants what is already
/// in the topic says so: `.set("auto.offset.reset", "earliest")`.
pub fn group_config(env: &Env, group: &str) -> ClientConfig {
    let mut config = client_config(env);
    config
        .set("group.id", group)
        // A member silent for this long is declared dead and its partitions move on (default 45 s).
        .set("session.timeout.ms", "10000");
    config
}

/// An admin client (create, describe and delete topics).
pub fn admin(env: &Env) -> Result<AdminClient<DefaultClientContext>> {
    client_config(env).create().context("creating a Kafka admin client")
}

/// How long an admin request (create, delete) may take.
pub const ADMIN_TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: topic_partitions
/// The number of partitions of `topic`, or a clear error when the broker is unreachable (within
/// seconds) or the topic does not exist (the workbook's brokers never create topics on the fly).
pub async fn topic_partitions(env: &Env, topic: &str) -> Result<usize> {
    let cluster = fetch_metadata(&env.bootstrap_servers, Some(topic), METADATA_TIMEOUT).await?;
    match cluster.topics.iter().find(|t| t.name == topic) {
        Some(t) if !t.partitions.is_empty() => Ok(t.partitions.len()),
        _ => bail!(
            "topic `{topic}` does not exist, and this broker does not create topics on the fly \
             (auto.create.topics.enable=false). Create it first: \
             cargo xtask cli kafka-topics --create --topic {topic} --partitions 3"
        ),
    }
}
// ANCHOR_END: topic_partitions

/// Creates `topic` with `partitions` partitions and the broker's default replication factor;
/// an existing topic is an error (tests create uniquely named topics).
pub async fn create_topic(env: &Env, topic: &str, partitions: i32) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    let results = admin(env)?
        .create_topics(&[new_topic], &options)
        .await
        .with_context(|| format!("creating topic {topic}"))?;
    for result in results {
        result.map_err(|(name, code)| anyhow::anyhow!("creating topic {name}: {code}"))?;
    }
    Ok(())
}

/// Deletes `topics` (cleaning up after examples and tests).
pub async fn delete_topics(env: &Env, topics: &[&str]) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin(env)?.delete_topics(topics, &options).await.context("deleting topics")?;
    for result in results {
        result.map_err(|(name, code)| anyhow::anyhow!("deleting topic {name}: {code}"))?;
    }
    Ok(())
}

/// The offsets consumer group `group` has committed on partitions `0..partitions` of `topic`
/// (`None` where it committed nothing), asked by a client that never joins the group: asking
/// does not make it a member, so the group's members are not rebalanced.
pub fn committed_offsets(
    env: &Env,
    group: &str,
    topic: &str,
    partitions: i32,
) -> Result<Vec<Option<i64>>> {
    let client: BaseConsumer = client_config(env)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a Kafka client")?;
    let mut wanted = TopicPartitionList::new();
    for partition in 0..partitions {
        wanted.add_partition(topic, partition);
    }
    let committed = client
        .committed_offsets(wanted, METADATA_TIMEOUT)
        .with_context(|| format!("reading the offsets group {group} committed on {topic}"))?;
    let mut offsets = vec![None; partitions.max(0) as usize];
    for element in committed.elements() {
        if let (Offset::Offset(offset), Some(slot)) =
            (element.offset(), offsets.get_mut(element.partition() as usize))
        {
            *slot = Some(offset);
        }
    }
    Ok(offsets)
}

/// The next record for `consumer`, or `None` once `deadline` has passed.
///
/// "Unknown topic" is not an error here but a reason to keep waiting: a topic that a connector
/// creates appears with its first record, and until then the consumer reports it (the broker's
/// code, or librdkafka's own) and asks again at the next metadata refresh.
pub async fn recv_before(
    consumer: &StreamConsumer,
    deadline: Instant,
) -> Result<Option<BorrowedMessage<'_>>> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => return Ok(Some(message)),
            Ok(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) => continue,
            Ok(Err(error)) => return Err(error).context("reading from Kafka"),
            Err(_) => return Ok(None),
        }
    }
}

/// A broker as the cluster metadata lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

/// One partition of a topic: who leads it, who holds copies, who is in sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub id: i32,
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
}

/// A topic and its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub name: String,
    pub partitions: Vec<Partition>,
}

/// What the cluster says about itself in a metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub brokers: Vec<Broker>,
    pub topics: Vec<Topic>,
}

/// Asks the brokers at `bootstrap_servers` for the cluster's metadata (all topics, or just
/// `topic`), failing within `timeout`: the first thing a program does, so that a broker that is not
/// there is a clear error in seconds (`no answer from Kafka at …`), not a hang later.
///
/// librdkafka's metadata call blocks its thread until the answer comes; this runs it on tokio's
/// blocking pool, so the async threads keep working meanwhile.
pub async fn fetch_metadata(
    bootstrap_servers: &str,
    topic: Option<&str>,
    timeout: Duration,
) -> Result<Cluster> {
    let (servers, topic) = (bootstrap_servers.to_string(), topic.map(str::to_string));
    tokio::task::spawn_blocking(move || {
        fetch_metadata_blocking(&servers, topic.as_deref(), timeout)
    })
    .await
    .context("the metadata request panicked")?
}

/// The first thing a chapter's program does: [`fetch_metadata`] from the environment's brokers (an
/// unreachable broker is a clear error in seconds), then one line that says where Kafka is:
/// `Kafka at 127.0.0.1:9092 (1 broker(s))`.
pub async fn probe(env: &Env) -> Result<Cluster> {
    let cluster = fetch_metadata(&env.bootstrap_servers, None, METADATA_TIMEOUT).await?;
    println!("Kafka at {} ({} broker(s))", env.bootstrap_servers, cluster.brokers.len());
    Ok(cluster)
}

/// [`fetch_metadata`] for code that is not async: it blocks the calling thread until the answer
/// comes.
pub fn fetch_metadata_blocking(
    bootstrap_servers: &str,
    topic: Option<&str>,
    timeout: Duration,
) -> Result<Cluster> {
    let consumer: BaseConsumer =
        client_config_for(bootstrap_servers).create().context("creating a Kafka client")?;
    let metadata = consumer.fetch_metadata(topic, timeout).with_context(|| {
        format!(
            "no answer from Kafka at {bootstrap_servers} within {} s. Is the environment up? \
             Try `cargo xtask status`, or `cargo xtask up`",
            timeout.as_secs()
        )
    })?;
    Ok(cluster_from(&metadata))
}

fn cluster_from(metadata: &Metadata) -> Cluster {
    let mut brokers: Vec<Broker> = metadata
        .brokers()
        .iter()
        .map(|b| Broker { id: b.id(), host: b.host().to_string(), port: b.port() })
        .collect();
    brokers.sort_by_key(|b| b.id);
    let mut topics: Vec<Topic> = metadata
        .topics()
        .iter()
        .map(|t| {
            let mut partitions: Vec<Partition> = t
                .partitions()
                .iter()
                .map(|p| Partition {
                    id: p.id(),
                    leader: p.leader(),
                    replicas: p.replicas().to_vec(),
                    isr: p.isr().to_vec(),
                })
                .collect();
            partitions.sort_by_key(|p| p.id);
            Topic { name: t.name().to_string(), partitions }
        })
        .collect();
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    Cluster { brokers, topics }
}
