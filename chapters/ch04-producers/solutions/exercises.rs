//! Chapter 4 exercises: the reference solutions.

use anyhow::{Context, Result};
use futures::future::try_join_all;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

// ANCHOR: produce_keyed_in_order
pub async fn produce_keyed_in_order(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    // Enqueue everything first: send_result returns as soon as librdkafka has the record, so all
    // records are in flight together. The key picks the partition, so a key's records share one
    // partition, and librdkafka keeps each partition's records in the order they were enqueued.
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        let delivery =
            producer.send_result(record).map_err(|(e, _)| e).context("enqueueing a record")?;
        deliveries.push(async move {
            match delivery.await {
                Ok(Ok(d)) => Ok((d.partition, d.offset)),
                Ok(Err((e, _))) => Err(anyhow::Error::new(e).context("a record was not delivered")),
                Err(_) => anyhow::bail!("the producer was dropped before delivery"),
            }
        });
    }
    // try_join_all returns the results in the order of its inputs, not of completion.
    try_join_all(deliveries).await
}
// ANCHOR_END: produce_keyed_in_order

// ANCHOR: safe_producer_config
pub fn safe_producer_config(base: &ClientConfig) -> ClientConfig {
    // Everything else the colleague chose stays as it was.
    let mut config = base.clone();
    config
        // Producer id + per-partition sequence numbers: the broker drops a retried duplicate and
        // refuses a batch that skips ahead, so retries neither duplicate nor reorder.
        .set("enable.idempotence", "true")
        // Written means every in-sync replica has it (idempotence requires it, too).
        .set("acks", "all")
        // The broker tracks sequence numbers for at most 5 batches in flight per partition.
        .set("max.in.flight.requests.per.connection", "5")
        // Java's partitioner (murmur2). librdkafka's default hashes keys with CRC32 instead.
        .set("partitioner", "murmur2_random")
        // retries=0 turns every passing error into a lost record; without the setting,
        // librdkafka retries until message.timeout.ms, which idempotence makes safe.
        .remove("retries");
    config
}
// ANCHOR_END: safe_producer_config
