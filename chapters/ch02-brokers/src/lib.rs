//! Chapter 2: brokers, the cluster and the controller.
//!
//! A client knows one address (the bootstrap server). It asks that broker for the cluster's
//! *metadata*: every broker's id and address, every topic's partitions, and for each partition
//! which broker leads it, which hold copies and which copies are in sync. Everything else a
//! client does (produce, fetch) goes straight to the leader broker it learned about here.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use workbook_support::Env;
use workbook_support::kafka::{self, Cluster};

// ANCHOR: fetch
/// The cluster's metadata, as one broker sees it (every broker holds the same copy): one Metadata
/// request to a bootstrap server, answered with every broker, every topic and, per partition, its
/// leader, replicas and in-sync replicas. (`None`: all topics; `Some(name)` would ask for one.)
pub async fn fetch(env: &Env) -> Result<Cluster> {
    kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await
}
// ANCHOR_END: fetch

// ANCHOR: controller_samples
/// Sends `samples` Metadata requests and returns the "controller id" each answer carried.
///
/// In ZooKeeper mode that field named the one broker acting as controller. In KRaft clients
/// never talk to the controllers (KIP-590): a broker fills the field with a *random live
/// broker*, so that old clients have somewhere to send admin requests, which brokers forward
/// to the active controller. On three brokers the answers change from request to request.
pub fn metadata_controller_samples(
    env: &Env,
    samples: usize,
    timeout: Duration,
) -> Result<Vec<i32>> {
    let consumer: BaseConsumer =
        kafka::client_config(env).create().context("creating a Kafka client")?;
    let mut ids = Vec::with_capacity(samples);
    for _ in 0..samples {
        consumer.fetch_metadata(None, timeout).context("fetching metadata")?;
        // rdkafka has no safe wrapper for librdkafka's cached controller id; with a zero
        // timeout this only reads the value the Metadata answer just stored.
        let id =
            unsafe { rdkafka::bindings::rd_kafka_controllerid(consumer.client().native_ptr(), 0) };
        ids.push(id);
    }
    Ok(ids)
}
// ANCHOR_END: controller_samples

/// Internal topics (`__consumer_offsets`, `__transaction_state`, ...) start with two underscores.
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with("__")
}

/// `[1, 2, 3]` as `1,2,3`, the way `kafka-topics --describe` prints replica lists.
pub fn ids(list: &[i32]) -> String {
    list.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_id_lists_like_kafka_topics() {
        assert_eq!(ids(&[1, 2, 3]), "1,2,3");
        assert_eq!(ids(&[]), "");
        assert!(is_internal("__consumer_offsets") && !is_internal("orders"));
    }
}
