//! Chapter 13: reliability. Lose a broker, lose no data.
//!
//! Three ingredients, each covering a gap the others leave:
//! - **replication factor 3**: every partition lives on three brokers;
//! - **`min.insync.replicas=2`**: the leader accepts an `acks=all` write only while at least two
//!   replicas (itself included) are in sync, so an acknowledged record is always on two disks;
//! - **`acks=all` + idempotence** on the producer: "acknowledged" means "on every in-sync
//!   replica", and the retries that follow a failover never write a record twice.
//!
//! The crate proves it on a three-broker cluster of its own ([`cluster::OwnCluster`]): it writes
//! numbered records without pause, kills the partition leader, and afterwards reads the partition
//! back and compares it with the set of records the producer saw acknowledged. And it shows the
//! opposite ([`lost_acks`]): with `acks=1`, records the leader acknowledged vanish when it dies
//! before its followers copied them.
//!
//! - [`cluster`]: the chapter's own three-broker cluster, and breaking it;
//! - [`produce`]: writing numbered records through a failover, with chapter 4's producer settings;
//! - [`verdict`]: reading the partition back and comparing it with the acknowledgments;
//! - [`watcher`]: the partition's leader and ISR, seen change by change.

use anyhow::{Context, Result};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::{Env, kafka};

pub mod cluster;
pub mod lost_acks;
pub mod produce;
pub mod verdict;
pub mod watcher;

pub use produce::{Ack, failover_producer, longest_silence, produce_numbered, slowest, try_write};
pub use verdict::{Verdict, read_all, verdict, watermarks};
pub use watcher::{Seen, Watcher, describe};

// ANCHOR: reliable_topic
/// Creates `topic` with one partition, three replicas, and `min.insync.replicas=2` set on the
/// topic itself, so the guarantee travels with the topic instead of depending on a broker default
/// (the workbook's one-broker environment has `min.insync.replicas=1`).
pub async fn create_reliable_topic(env: &Env, topic: &str) -> Result<()> {
    let new_topic =
        NewTopic::new(topic, 1, TopicReplication::Fixed(3)).set("min.insync.replicas", "2");
    let options = AdminOptions::new().request_timeout(Some(kafka::ADMIN_TIMEOUT));
    let results = kafka::admin(env)?
        .create_topics(&[new_topic], &options)
        .await
        .context("creating the topic")?;
    for result in results {
        result.map_err(|(name, code)| anyhow::anyhow!("creating topic {name}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: reliable_topic

/// The two numbers that decide what a topic survives (the chapter's exercise
/// `replica_plan` chooses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaPlan {
    /// Copies of each partition, each on a broker of its own.
    pub replication_factor: usize,
    /// The topic's `min.insync.replicas`: below this many in-sync replicas the leader
    /// refuses `acks=all` writes.
    pub min_insync_replicas: usize,
}
