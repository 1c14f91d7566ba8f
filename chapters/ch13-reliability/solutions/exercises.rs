//! Chapter 13 exercises: the reference solution.

use rdkafka::ClientConfig;
use workbook_support::Env;
use workbook_support::kafka::{self, Partition};

// ANCHOR: acks_all_can_write
/// Can a producer with `acks=all` write to this partition right now?
pub fn acks_all_can_write(partition: &Partition, min_insync_replicas: usize) -> bool {
    // No leader (-1): nobody accepts writes at all. Otherwise the leader checks the *current*
    // ISR (itself included) against min.insync.replicas, not the number of replicas assigned.
    partition.leader >= 0 && partition.isr.len() >= min_insync_replicas
}
// ANCHOR_END: acks_all_can_write

// ANCHOR: reliable_producer
/// A producer that loses no acknowledged record, and duplicates none, when a leader crashes.
pub fn reliable_producer(env: &Env) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        // "Written" means: on every in-sync replica, at least min.insync.replicas of them.
        .set("acks", "all")
        // Retries after a lost answer are recognised by the broker (producer id + sequence).
        .set("enable.idempotence", "true")
        // A crashed leader is noticed after broker.session.timeout.ms (9 s): keep retrying
        // well past that instead of failing records after the workbook's default 10 s.
        .set("message.timeout.ms", "60000");
    config
}
// ANCHOR_END: reliable_producer
