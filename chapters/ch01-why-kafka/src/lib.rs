//! Chapter 1: why Kafka, and a first round trip.
//!
//! One record goes in through a producer and comes back out through a consumer. The producer
//! never learns who reads it, the consumer never learns who wrote it: both only know the
//! broker's address and the topic's name. That is the whole idea of the chapter.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::Timestamp;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::Env;
use workbook_support::kafka;

/// How long any one step (create, produce, read) may take before we give up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

// ANCHOR: ensure_topic
/// Creates `topic` with `partitions` partitions unless it exists. Returns whether it was created.
///
/// The workbook's brokers run with `auto.create.topics.enable=false`, so a topic exists only
/// because someone created it on purpose, and creating it twice must not be an error.
pub async fn ensure_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    partitions: i32,
) -> Result<bool> {
    // Replication factor -1: "use the broker's default.replication.factor" (1 on a
    // one-broker cluster, 3 on three brokers).
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    let options = AdminOptions::new().operation_timeout(Some(STEP_TIMEOUT));
    let results = admin
        .create_topics([&new_topic], &options)
        .await
        .context("asking the broker to create the topic")?;
    // The request succeeded as a whole; each topic has its own result inside it.
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(true),
        Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(false),
        Some(Err((name, code))) => bail!("could not create topic {name}: {code}"),
        None => bail!("the broker answered without a result for topic {topic}"),
    }
}
// ANCHOR_END: ensure_topic

/// Where a record landed, as the broker reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    pub partition: i32,
    pub offset: i64,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: Option<i64>,
    /// Who set the timestamp: the producer (`CreateTime`) or the broker (`LogAppendTime`).
    pub timestamp_kind: &'static str,
}

fn describe_timestamp(timestamp: Timestamp) -> (Option<i64>, &'static str) {
    match timestamp {
        Timestamp::CreateTime(ms) => (Some(ms), "CreateTime"),
        Timestamp::LogAppendTime(ms) => (Some(ms), "LogAppendTime"),
        Timestamp::NotAvailable => (None, "none"),
    }
}

// ANCHOR: producer
/// A producer for the round trip. librdkafka's defaults already ask for `acks=all`: the broker
/// confirms only once every in-sync replica has the record.
pub fn producer(env: &Env) -> Result<FutureProducer> {
    kafka::producer_config(env).create().context("creating a Kafka producer")
}
// ANCHOR_END: producer

// ANCHOR: produce
/// Sends one record and waits for the broker's acknowledgement, which says where it landed.
pub async fn produce(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    value: &str,
) -> Result<Landed> {
    let record = FutureRecord::to(topic).key(key).payload(value);
    let delivery = producer
        .send(record, STEP_TIMEOUT)
        .await
        .map_err(|(error, _record)| error)
        .with_context(|| format!("producing to topic {topic}"))?;
    let (timestamp_ms, timestamp_kind) = describe_timestamp(delivery.timestamp);
    Ok(Landed {
        partition: delivery.partition,
        offset: delivery.offset,
        timestamp_ms,
        timestamp_kind,
    })
}
// ANCHOR_END: produce

/// A record read back from the broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub landed: Landed,
    pub key: Option<String>,
    pub value: Option<String>,
}

// ANCHOR: read_at
/// Reads the record at `partition`/`offset` of `topic`.
///
/// No consumer group is joined: `assign` points the consumer at one exact position, nothing
/// is committed, and no other consumer is affected. (librdkafka insists on a `group.id` even
/// so, and with one it still asks a broker for the group's coordinator, as it would to commit
/// offsets. It never joins the group, though, and commits nothing: the group gets no members
/// and no offsets. Chapter 5 is about groups.)
pub async fn read_at(env: &Env, topic: &str, partition: i32, offset: i64) -> Result<Fetched> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", "ch01-read-at")
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a Kafka consumer")?;
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset(topic, partition, Offset::Offset(offset))
        .context("building the assignment")?;
    consumer.assign(&assignment).context("assigning the partition")?;

    let message = tokio::time::timeout(STEP_TIMEOUT, consumer.recv())
        .await
        .with_context(|| {
            format!("no record at {topic}/{partition}@{offset} within {} s", STEP_TIMEOUT.as_secs())
        })?
        .with_context(|| format!("reading {topic}/{partition}@{offset}"))?;
    let text = |bytes: Option<&[u8]>| bytes.map(|b| String::from_utf8_lossy(b).into_owned());
    let (timestamp_ms, timestamp_kind) = describe_timestamp(message.timestamp());
    Ok(Fetched {
        landed: Landed {
            partition: message.partition(),
            offset: message.offset(),
            timestamp_ms,
            timestamp_kind,
        },
        key: text(message.key()),
        value: text(message.payload()),
    })
}
// ANCHOR_END: read_at

/// The result of one round trip, with how long each half took.
#[derive(Debug, Clone)]
pub struct RoundTrip {
    pub sent: Landed,
    pub received: Fetched,
    /// From `send` to the broker's acknowledgement.
    pub produce: Duration,
    /// From the acknowledgement to having the record back in hand.
    pub fetch: Duration,
}

// ANCHOR: round_trip
/// Produces one record, then reads the very same record back, timing both halves.
pub async fn round_trip(env: &Env, topic: &str, key: &str, value: &str) -> Result<RoundTrip> {
    let producer = producer(env)?;
    let started = Instant::now();
    let sent = produce(&producer, topic, key, value).await?;
    let acknowledged = Instant::now();
    let received = read_at(env, topic, sent.partition, sent.offset).await?;
    let produce = acknowledged - started;
    let fetch = acknowledged.elapsed();
    if received.value.as_deref() != Some(value) {
        bail!("read back {:?} instead of {value:?}", received.value);
    }
    Ok(RoundTrip { sent, received, produce, fetch })
}
// ANCHOR_END: round_trip
