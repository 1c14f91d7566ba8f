//! Chapter 13: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
// Every exercise is dispatched below; the re-export stays for exercises added later.
#[allow(unused_imports)]
pub use solution::*;

use ch13_reliability::ReplicaPlan;
use workbook_support::kafka::Partition;
use workbook_support::mistakes;

pub fn acks_all_can_write(partition: &Partition, min_insync_replicas: usize) -> bool {
    match mistakes::chosen().as_deref() {
        None => solution::acks_all_can_write(partition, min_insync_replicas),
        Some("replicas_instead_of_isr") => replicas_instead_of_isr(partition, min_insync_replicas),
        Some("strictly_greater") => strictly_greater(partition, min_insync_replicas),
        Some("ignores_missing_leader") => ignores_missing_leader(partition, min_insync_replicas),
        Some(other) => mistakes::unknown("acks_all_can_write", other),
    }
}

/// Mistake: compares the replicas the partition was *given* with min.insync.replicas: three replicas
/// look fine even when two of them are down and out of the ISR.
fn replicas_instead_of_isr(partition: &Partition, min_insync_replicas: usize) -> bool {
    partition.leader >= 0 && partition.replicas.len() >= min_insync_replicas
}

/// Mistake: `>` instead of `>=`: an ISR of exactly min.insync.replicas members (the usual state with one
/// broker down) is refused, as if the leader did not count itself.
fn strictly_greater(partition: &Partition, min_insync_replicas: usize) -> bool {
    partition.leader >= 0 && partition.isr.len() > min_insync_replicas
}

/// Mistake: counts the ISR and forgets the leader: a partition whose leader is -1 takes no write at all,
/// whatever its metadata still lists as in sync.
fn ignores_missing_leader(partition: &Partition, min_insync_replicas: usize) -> bool {
    partition.isr.len() >= min_insync_replicas
}

pub fn replica_plan(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    match mistakes::chosen().as_deref() {
        None => solution::replica_plan(brokers, failures),
        Some("min_isr_one") => min_isr_one(brokers, failures),
        Some("min_isr_equals_failures") => min_isr_equals_failures(brokers, failures),
        Some("min_isr_all_replicas") => min_isr_all_replicas(brokers, failures),
        Some("ignores_cluster_size") => ignores_cluster_size(brokers, failures),
        Some(other) => mistakes::unknown("replica_plan", other),
    }
}

/// Mistake: "the data survives replication factor − 1 failures" alone: `failures + 1` replicas and
/// min.insync.replicas=1. Writes go on, but an acknowledged record may sit on the leader alone.
fn min_isr_one(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    let plan = ReplicaPlan { replication_factor: failures + 1, min_insync_replicas: 1 };
    (plan.replication_factor <= brokers).then_some(plan)
}

/// Mistake: off by one: min.insync.replicas = failures ("tolerate one failure, so one copy must be in
/// sync"), with 2 × failures + 1 replicas: the acknowledging brokers can all be among the dead.
fn min_isr_equals_failures(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    let plan =
        ReplicaPlan { replication_factor: 2 * failures + 1, min_insync_replicas: failures.max(1) };
    (plan.replication_factor <= brokers).then_some(plan)
}

/// Mistake: "as safe as possible": min.insync.replicas = replication factor. No record is ever lost, but one
/// broker down (a crash, or a rolling restart) stops every acks=all write.
fn min_isr_all_replicas(brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    let replicas = 2 * failures + 1;
    let plan = ReplicaPlan { replication_factor: replicas, min_insync_replicas: replicas };
    (plan.replication_factor <= brokers).then_some(plan)
}

/// Mistake: the right numbers, without asking whether the cluster has the brokers for them: a topic with more
/// replicas than brokers cannot be created at all.
fn ignores_cluster_size(_brokers: usize, failures: usize) -> Option<ReplicaPlan> {
    Some(ReplicaPlan { replication_factor: 2 * failures + 1, min_insync_replicas: failures + 1 })
}
