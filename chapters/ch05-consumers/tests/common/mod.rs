//! Helpers the chapter 5 tests share: a fresh topic filled with known records.
#![allow(dead_code)]

use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use workbook_support::{Env, kafka, names};

/// Creates a fresh topic with `partitions` partitions and writes `per_partition` records into
/// each, valued `p{partition}-{i}`, with explicit partitions so the layout is known.
pub async fn filled_topic(
    env: &Env,
    prefix: &str,
    partitions: i32,
    per_partition: usize,
) -> String {
    let topic = names::unique(prefix);
    kafka::create_topic(env, &topic, partitions).await.unwrap();
    let producer: FutureProducer = kafka::producer_config(env).create().unwrap();
    for i in 0..per_partition {
        for p in 0..partitions {
            let value = format!("p{p}-{i}");
            producer
                .send(
                    FutureRecord::<str, str>::to(&topic).partition(p).payload(&value),
                    Duration::from_secs(10),
                )
                .await
                .unwrap();
        }
    }
    producer.flush(Duration::from_secs(10)).unwrap();
    topic
}

pub async fn delete_topic(env: &Env, topic: &str) {
    kafka::delete_topics(env, &[topic]).await.unwrap();
}
