//! More partitions for a topic in use, and what that does to keys.

use std::time::Duration;

use anyhow::{Result, anyhow};
use futures::future::try_join_all;
use rdkafka::admin::{AdminOptions, NewPartitions};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::kafka::ADMIN_TIMEOUT;

use crate::configs::Admin;

// ANCHOR: produce_keyed
/// Produces one record per key and returns the partition each key went to. The producer's
/// partitioner chose it: a hash of the key, modulo the number of partitions.
pub async fn produce_keyed(
    producer: &FutureProducer,
    topic: &str,
    keys: &[&str],
    value: &str,
) -> Result<Vec<i32>> {
    let sends = keys.iter().map(|key| async move {
        let record = FutureRecord::to(topic).key(*key).payload(value);
        let delivery = producer
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| anyhow!("producing key {key}: {e}"))?;
        Ok::<i32, anyhow::Error>(delivery.partition)
    });
    try_join_all(sends).await
}
// ANCHOR_END: produce_keyed

// ANCHOR: add_partitions
/// Raises `topic` to `total` partitions (CreatePartitions). Partitions can only be added:
/// Kafka never removes a partition, because its records would have nowhere to go.
pub async fn add_partitions(admin: &Admin, topic: &str, total: usize) -> Result<()> {
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    let results = admin.create_partitions(&[NewPartitions::new(topic, total)], &options).await?;
    for result in results {
        result.map_err(|(name, code)| anyhow!("adding partitions to {name}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: add_partitions
