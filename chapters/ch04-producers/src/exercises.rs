//! Chapter 4 exercises. Check them with `cargo xtask check ch04`.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;
use workbook_support::Env;

// ANCHOR: produce_keyed_in_order
/// Sends every `(key, value)` of `records` to `topic` as one record with that key and value, and
/// returns where each one landed: `(partition, offset)`, in the same order as `records`.
///
/// - Each key's records must end up in one partition, in the order they appear in `records`.
/// - Do not wait for one record's delivery before sending the next: keep them in flight.
/// - Fail (return an error) if any record is not delivered.
pub async fn produce_keyed_in_order(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    todo!("send all records with their keys, then collect the delivery reports in input order")
}
// ANCHOR_END: produce_keyed_in_order

// ANCHOR: safe_producer_config
/// A producer configuration for data that must not be lost, duplicated or reordered, even when a
/// broker or the network fails and the producer retries.
///
/// Start from `workbook_support::kafka::producer_config(env)` (addresses and timeouts), then:
/// - make retries safe (no duplicates, no reordering),
/// - make "written" mean "every in-sync replica has it",
/// - and send each key to the same partition a Java producer would choose for it.
pub fn safe_producer_config(env: &Env) -> ClientConfig {
    todo!("start from the workbook's producer config and set three properties")
}
// ANCHOR_END: safe_producer_config
