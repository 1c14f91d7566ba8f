//! Chapter 2 exercises: the reference solutions.

use workbook_support::kafka::{Cluster, Partition, Topic};

// ANCHOR: leader_of
pub fn leader_of(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    let topic: &Topic = cluster.topics.iter().find(|t| t.name == topic)?;
    let partition: &Partition = topic.partitions.iter().find(|p| p.id == partition)?;
    // -1 is the protocol's "no leader": every replica is down, or an election is under way.
    (partition.leader >= 0).then_some(partition.leader)
}
// ANCHOR_END: leader_of

// ANCHOR: under_replicated
pub fn under_replicated(cluster: &Cluster) -> Vec<(String, i32)> {
    let mut found: Vec<(String, i32)> = cluster
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                // The ISR is always a subset of the replicas, so "smaller"
                // means "someone fell behind".
                .filter(|p| p.isr.len() < p.replicas.len())
                .map(|p| (t.name.clone(), p.id))
        })
        .collect();
    found.sort();
    found
}
// ANCHOR_END: under_replicated
