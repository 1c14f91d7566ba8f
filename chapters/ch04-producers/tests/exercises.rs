//! The chapter 4 exercises, checked against the real broker (`cargo xtask check ch04`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::HashMap;
use std::time::Duration;

use ch04_producers::{ProducerSettings, create_topic, delete_topics, producer_config};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, names};

/// Reads `count` records from all `partitions` of `topic`: (partition, offset) -> (key, value).
async fn read_back(env: &Env, topic: &str, partitions: i32, count: usize) -> HashMap<(i32, i64), (String, String)> {
    let consumer: StreamConsumer = kafka::consumer_config(env, &names::unique("ch04-readback")).create().unwrap();
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut seen = HashMap::new();
    while seen.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .expect("reading the records back took more than 15 s")
            .unwrap();
        let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        let value = message.payload().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        seen.insert((message.partition(), message.offset()), (key, value));
    }
    seen
}

#[tokio::test]
async fn produce_keyed_in_order() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch04-ex-keyed");
    create_topic(&env, &topic, 3).await.unwrap();
    let producer: FutureProducer = producer_config(&env, &ProducerSettings::default()).create().unwrap();
    // Six keys, ten records each, interleaved: user-0 #0, user-1 #0, ..., user-5 #9.
    let records: Vec<(String, String)> =
        (0..60).map(|i| (format!("user-{}", i % 6), format!("user-{} event {}", i % 6, i / 6))).collect();

    let placed = exercises::produce_keyed_in_order(&producer, &topic, &records).await.unwrap();

    assert_eq!(placed.len(), records.len(), "one (partition, offset) per record");
    let mut partition_of: HashMap<&str, i32> = HashMap::new();
    let mut last_offset: HashMap<&str, i64> = HashMap::new();
    for ((key, value), (partition, offset)) in records.iter().zip(&placed) {
        let first = *partition_of.entry(key).or_insert(*partition);
        assert_eq!(*partition, first, "{value:?}: all records of key {key} must land in one partition");
        if let Some(previous) = last_offset.insert(key, *offset) {
            assert!(
                *offset > previous,
                "{value:?}: key {key}'s records must keep their order (offset {offset} after {previous})"
            );
        }
    }
    let stored = read_back(&env, &topic, 3, records.len()).await;
    for ((key, value), position) in records.iter().zip(&placed) {
        assert_eq!(
            stored.get(position),
            Some(&(key.clone(), value.clone())),
            "the report for {value:?} says {position:?}, but that record in the topic is different \
             (are the reports in the order of `records`, and does every record carry its key?)"
        );
    }
    delete_topics(&env, &[&topic]).await.unwrap();
}

/// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as the Java producer hashes keys.
fn java_partition(key: &[u8], partitions: u32) -> i32 {
    let (m, r) = (0x5bd1_e995_u32, 24);
    let mut h = 0x9747_b28c_u32 ^ key.len() as u32;
    let chunks = key.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    ((h & 0x7fff_ffff) % partitions) as i32
}

#[tokio::test]
async fn safe_producer_config() {
    let env = Env::load().unwrap();
    let config = exercises::safe_producer_config(&env);

    assert_eq!(
        config.get("bootstrap.servers"),
        Some(env.bootstrap_servers.as_str()),
        "start from the workbook's config"
    );
    assert_eq!(config.get("message.timeout.ms"), Some("10000"), "start from kafka::producer_config(env)");
    assert_eq!(config.get("enable.idempotence"), Some("true"), "retries must not duplicate or reorder");
    assert!(
        matches!(config.get("acks"), Some("all" | "-1")),
        "acks={:?}: written must mean every in-sync replica",
        config.get("acks")
    );
    if let Some(n) = config.get("max.in.flight.requests.per.connection").or(config.get("max.in.flight")) {
        assert!(n.parse::<u32>().unwrap() <= 5, "idempotence allows at most 5 requests in flight");
    }

    // It must really work, and put keys where a Java producer would.
    let producer: FutureProducer = config.create().expect("librdkafka rejected this configuration");
    let topic = names::unique("ch04-ex-safe");
    create_topic(&env, &topic, 6).await.unwrap();
    for key in ["user-1", "user-42", "order-7", "k"] {
        let delivery = producer
            .send(FutureRecord::to(&topic).key(key).payload("v"), Timeout::After(Duration::from_secs(10)))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        let partition = delivery.partition;
        assert_eq!(
            partition,
            java_partition(key.as_bytes(), 6),
            "key {key:?} went to a different partition than Java's murmur2 picks"
        );
    }
    delete_topics(&env, &[&topic]).await.unwrap();
}
