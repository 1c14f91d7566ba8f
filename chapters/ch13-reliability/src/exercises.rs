//! Chapter 13 exercises. Run `cargo xtask check ch13` to test them (both are about the numbers the
//! leader and the controller work with; neither needs a cluster of its own).
#![allow(unused_variables)]

use ch13_reliability::ReplicaPlan;
use workbook_support::kafka::Partition;

// ANCHOR: acks_all_can_write
/// Can a producer with `acks=all` write to this partition right now?
///
/// `partition` is what the metadata says (leader, replicas, in-sync replicas);
/// `min_insync_replicas` is the topic's `min.insync.replicas`. Return `true` when the
/// leader will accept and acknowledge an `acks=all` write, `false` when the write is
/// refused (or nobody can take it).
pub fn acks_all_can_write(partition: &Partition, min_insync_replicas: usize) -> bool {
    todo!("compare the partition's state with min.insync.replicas")
}
// ANCHOR_END: acks_all_can_write

// ANCHOR: replica_plan
/// Plan a topic for a cluster of `brokers` brokers whose producers all use `acks=all` and
/// idempotence, so that, with any `failures` brokers lost:
///
/// - **writes go on**: while any `failures` brokers are down, `acks=all` writes are still accepted;
/// - **nothing acknowledged is lost**: when any `failures` brokers die at the same moment,
///   whichever they are and whenever it happens (also right after the ISR shrank as far as the
///   topic allows), every acknowledged record is still on a live broker.
///
/// Return the plan with the **fewest replicas** that does both, or `None` when this cluster has too
/// few brokers for it. (The chapter's topic is the plan for one failure on three brokers.)
pub fn replica_plan(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    todo!("choose the replication factor and min.insync.replicas")
}
// ANCHOR_END: replica_plan
