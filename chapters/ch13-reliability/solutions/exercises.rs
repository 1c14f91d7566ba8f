//! Chapter 13 exercises: the reference solution.

use ch13_reliability::ReplicaPlan;
use workbook_support::kafka::Partition;

// ANCHOR: acks_all_can_write
/// Can a producer with `acks=all` write to this partition right now?
pub fn acks_all_can_write(partition: &Partition, min_insync_replicas: usize) -> bool {
    // No leader (-1): nobody accepts writes at all. Otherwise the leader checks the *current*
    // ISR (itself included) against min.insync.replicas, not the number of replicas assigned.
    partition.leader >= 0 && partition.isr.len() >= min_insync_replicas
}
// ANCHOR_END: acks_all_can_write

// ANCHOR: replica_plan
pub fn replica_plan(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    // No loss: an acknowledged record is only sure to be on min.insync.replicas brokers
    // (the ISR may have shrunk that far), so that many must outnumber the brokers
    // that can die: failures + 1.
    let min_insync_replicas = failures + 1;
    // Writes go on: with `failures` brokers down, min.insync.replicas copies must still be in sync.
    let replication_factor = min_insync_replicas + failures;
    // Each replica needs a broker of its own.
    (replication_factor <= brokers)
        .then_some(ReplicaPlan { replication_factor, min_insync_replicas })
}
// ANCHOR_END: replica_plan
