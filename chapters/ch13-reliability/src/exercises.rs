//! Chapter 13 exercises. Run `cargo xtask check ch13` to test them (the second one brings up a
//! three-broker cluster of its own for about a minute and kills a broker under your producer).

use rdkafka::ClientConfig;
use workbook_support::Env;
use workbook_support::kafka::Partition;

// ANCHOR: acks_all_can_write
/// Can a producer with `acks=all` write to this partition right now?
///
/// `partition` is what the metadata says (leader, replicas, in-sync replicas); `min_insync_replicas`
/// is the topic's `min.insync.replicas`. Return `true` when the leader will accept and acknowledge
/// an `acks=all` write, `false` when the write is refused (or nobody can take it).
pub fn acks_all_can_write(partition: &Partition, min_insync_replicas: usize) -> bool {
    let _ = (partition, min_insync_replicas);
    todo!("compare the partition's state with min.insync.replicas")
}
// ANCHOR_END: acks_all_can_write

// ANCHOR: reliable_producer
/// The configuration of a producer that never loses a record it saw acknowledged, and never
/// writes one twice, when the partition leader crashes (SIGKILL) in the middle of a stream of
/// writes to a topic with three replicas and `min.insync.replicas=2`. Every record must be
/// acknowledged in the end: none may fail while the cluster elects a new leader.
///
/// Start from `workbook_support::kafka::producer_config(env)` (the broker addresses, and a
/// `message.timeout.ms` of 10 s) and set what it takes.
pub fn reliable_producer(env: &Env) -> ClientConfig {
    let _ = env;
    todo!("start from kafka::producer_config(env) and make it safe")
}
// ANCHOR_END: reliable_producer
