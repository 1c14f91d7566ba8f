//! Chapter 2 exercises. Check them with `cargo xtask check ch02`.
//!
//! `cargo run -p ch02-brokers` uses them too: its table's LEADER column comes from `leader_of`,
//! its "(under-replicated)" marks from `under_replicated`.
#![allow(unused_variables, unused_imports)]

use workbook_support::kafka::{Cluster, Partition, Topic};

// ANCHOR: leader_of
/// The id of the broker that leads partition `partition` of `topic`, according to `cluster`
/// (the metadata that `workbook_support::kafka::fetch_metadata(...).await` returns).
///
/// Return `None` when the topic or the partition does not exist, and also when the partition
/// has no leader right now (the metadata then says leader `-1`: the partition is offline).
pub fn leader_of(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    todo!("find the topic, then the partition, then its leader")
}
// ANCHOR_END: leader_of

// ANCHOR: under_replicated
/// Every partition in `cluster` that is under-replicated: at least one of its replicas is
/// missing from its ISR (in-sync replicas). Return `(topic, partition)` pairs of every topic,
/// sorted by topic, then partition.
///
/// A partition with one replica that is in sync is *not* under-replicated, even on a cluster
/// of three brokers; an offline partition (no replica in sync) is.
pub fn under_replicated(cluster: &Cluster) -> Vec<(String, i32)> {
    todo!("compare each partition's in-sync replicas with its replicas")
}
// ANCHOR_END: under_replicated
