//! The chapter 1 exercises, checked against the real environment (`cargo xtask check ch01`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use ch01_why_kafka::{ensure_topic, produce, producer, read_at};
use rdkafka::admin::AdminOptions;
use workbook_support::{Env, kafka, names};

async fn fresh_topic(env: &Env, prefix: &str, partitions: i32) -> String {
    let topic = names::unique(prefix);
    let admin = kafka::admin(env).unwrap();
    assert!(ensure_topic(&admin, &topic, partitions).await.unwrap(), "the test topic {topic} should be new");
    topic
}

async fn delete(env: &Env, topic: &str) {
    let admin = kafka::admin(env).unwrap();
    let _ = admin.delete_topics(&[topic], &AdminOptions::new()).await;
}

#[tokio::test]
async fn produce_and_locate() {
    let env = Env::load().unwrap();
    let topic = fresh_topic(&env, "ch01-locate", 4).await;
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..8 {
        let value = format!("record {n}");
        let (partition, offset) = exercises::produce_and_locate(&env, &topic, &value).await.unwrap();
        assert!((0..4).contains(&partition), "partition {partition} does not exist: the topic has 4 (0..=3)");
        assert!(seen.insert((partition, offset)), "two records cannot land at the same place ({partition}, {offset})");
        // The broker must really hold this record at the place you reported.
        let fetched = read_at(&env, &topic, partition, offset).await.unwrap();
        assert_eq!(
            (fetched.landed.partition, fetched.landed.offset, fetched.value.as_deref()),
            (partition, offset, Some(value.as_str())),
            "the record at the reported partition/offset is not the one you sent"
        );
    }
    delete(&env, &topic).await;
}

#[tokio::test]
async fn first_record() {
    let env = Env::load().unwrap();
    let topic = fresh_topic(&env, "ch01-first", 1).await;
    let producer = producer(&env).unwrap();
    for value in ["first", "second", "third"] {
        produce(&producer, &topic, "k", value).await.unwrap();
    }
    // Two different new groups: each must start at the beginning of the log.
    for _ in 0..2 {
        let group = names::unique("ch01-first-group");
        let got = exercises::first_record(&env, &topic, &group).await.unwrap();
        assert_eq!(got, "first", "a brand-new group should read the topic's first record");
    }
    delete(&env, &topic).await;
}
