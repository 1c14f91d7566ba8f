//! Chapter 2: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use workbook_support::kafka::{Cluster, Partition};
use workbook_support::mistakes;

pub fn leader_of(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    match mistakes::chosen().as_deref() {
        None => solution::leader_of(cluster, topic, partition),
        Some("minus_one_is_a_broker") => minus_one_is_a_broker(cluster, topic, partition),
        Some("first_replica_is_the_leader") => {
            first_replica_is_the_leader(cluster, topic, partition)
        }
        Some("ignores_the_topic") => ignores_the_topic(cluster, partition),
        Some(other) => mistakes::unknown("leader_of", other),
    }
}

fn find<'a>(cluster: &'a Cluster, topic: &str, partition: i32) -> Option<&'a Partition> {
    cluster.topics.iter().find(|t| t.name == topic)?.partitions.iter().find(|p| p.id == partition)
}

/// Mistake: returns the leader field as it is. An offline partition says leader -1, and the
/// caller gets "broker -1", a broker that does not exist.
fn minus_one_is_a_broker(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    find(cluster, topic, partition).map(|p| p.leader)
}

/// Mistake: takes the first replica for the leader. It is only the *preferred* leader: once its
/// broker stops, another replica leads.
fn first_replica_is_the_leader(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    find(cluster, topic, partition)?.replicas.first().copied()
}

/// Mistake: looks for the partition number in every topic and takes the first match. Partition
/// numbers start at 0 in every topic, so this answers for whichever topic comes first.
fn ignores_the_topic(cluster: &Cluster, partition: i32) -> Option<i32> {
    let found = cluster.topics.iter().flat_map(|t| &t.partitions).find(|p| p.id == partition)?;
    (found.leader >= 0).then_some(found.leader)
}

pub fn under_replicated(cluster: &Cluster) -> Vec<(String, i32)> {
    match mistakes::chosen().as_deref() {
        None => solution::under_replicated(cluster),
        Some("isr_differs_from_replicas") => isr_differs_from_replicas(cluster),
        Some("compares_with_broker_count") => compares_with_broker_count(cluster),
        Some("compares_with_min_insync_replicas") => compares_with_min_insync_replicas(cluster),
        Some("skips_offline_partitions") => skips_offline_partitions(cluster),
        Some(other) => mistakes::unknown("under_replicated", other),
    }
}

/// Every `(topic, partition)` for which `lagging` holds, sorted.
fn matching(
    cluster: &Cluster,
    lagging: impl Fn(&Cluster, &Partition) -> bool,
) -> Vec<(String, i32)> {
    let mut found: Vec<(String, i32)> = cluster
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().filter(|p| lagging(cluster, p)).map(|p| (t.name.clone(), p.id))
        })
        .collect();
    found.sort();
    found
}

/// Mistake: `isr != replicas` compares lists, not sets. A replica that rejoins the ISR is added
/// at its end, so an ISR holding every replica in another order counts as lagging.
fn isr_differs_from_replicas(cluster: &Cluster) -> Vec<(String, i32)> {
    matching(cluster, |_, p| p.isr != p.replicas)
}

/// Mistake: compares the ISR with the number of brokers. A topic with fewer replicas than the
/// cluster has brokers always looks under-replicated, and a stopped broker, gone from the
/// metadata's broker list, makes the partitions it lagged on look fine.
fn compares_with_broker_count(cluster: &Cluster) -> Vec<(String, i32)> {
    matching(cluster, |c, p| p.isr.len() < c.brokers.len())
}

/// Mistake: compares the ISR with min.insync.replicas (2 on the book's three brokers). That says
/// whether acks=all writes are still accepted, not whether every replica is in sync.
fn compares_with_min_insync_replicas(cluster: &Cluster) -> Vec<(String, i32)> {
    const MIN_INSYNC_REPLICAS: usize = 2;
    matching(cluster, |_, p| {
        p.isr.len() < MIN_INSYNC_REPLICAS.min(p.replicas.len()) || p.isr.is_empty()
    })
}

/// Mistake: skips partitions without a leader, as if "no leader" meant "nothing to report".
/// An offline partition is the worst case of under-replication.
fn skips_offline_partitions(cluster: &Cluster) -> Vec<(String, i32)> {
    matching(cluster, |_, p| p.leader >= 0 && p.isr.len() < p.replicas.len())
}
