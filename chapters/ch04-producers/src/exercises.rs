//! Chapter 4 exercises. Check them with `cargo xtask check ch04`.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;

// ANCHOR: produce_keyed_in_order
/// Sends every `(key, value)` of `records` to `topic` as one record with that key and value, and
/// returns where each one landed: `(partition, offset)`, in the same order as `records`.
///
/// - Each key's records must end up in one partition, in the order they appear in `records`.
/// - Do not wait for one record's delivery before sending the next:
///   keep them all in flight together.
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
/// Returns `base`, a producer configuration a colleague tuned for speed, made safe for data that
/// must not be lost, duplicated or reordered, even when a broker or the network fails and the
/// producer retries.
///
/// - Keep every setting of `base` that has nothing to do with that (addresses, timeouts,
///   batching, compression, client id): the colleague chose them on purpose.
/// - Change (or remove) whatever in `base` lets a retry write a record twice or out of order,
///   turns retries off, or lets a record count as written before every in-sync replica has it.
/// - Send each key to the partition a Java producer would choose for it.
///
/// librdkafka must accept the result: it refuses settings that contradict each other when the
/// producer is created, and says which.
pub fn safe_producer_config(base: &ClientConfig) -> ClientConfig {
    todo!("start from a copy of `base` and fix what makes its retries and acknowledgements unsafe")
}
// ANCHOR_END: safe_producer_config
