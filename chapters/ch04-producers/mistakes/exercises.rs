//! Chapter 4: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use anyhow::{Context, Result};
use futures::StreamExt;
use futures::future::try_join_all;
use futures::stream::FuturesUnordered;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use workbook_support::mistakes;

pub async fn produce_keyed_in_order(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    match mistakes::chosen().as_deref() {
        None => solution::produce_keyed_in_order(producer, topic, records).await,
        Some("awaits_each_delivery") => awaits_each_delivery(producer, topic, records).await,
        Some("drops_the_key") => drops_the_key(producer, topic, records).await,
        Some("reports_in_completion_order") => {
            reports_in_completion_order(producer, topic, records).await
        }
        Some("ignores_failed_delivery") => ignores_failed_delivery(producer, topic, records).await,
        Some(other) => mistakes::unknown("produce_keyed_in_order", other),
    }
}

/// Mistake: awaits each record's delivery before sending the next (as rust-rdkafka's
/// `simple_producer` example does), so only one record is ever in flight: correct, but every
/// record pays a whole linger and round trip alone.
async fn awaits_each_delivery(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    let mut placed = Vec::with_capacity(records.len());
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        let delivery =
            producer.send(record, Timeout::Never).await.map_err(|(e, _)| e).context("sending")?;
        placed.push((delivery.partition, delivery.offset));
    }
    Ok(placed)
}

/// Mistake: sends only the value. Without a key the partitioner spreads records as it likes,
/// so a key's records are no longer bound to one partition, and the key is gone from the topic.
async fn drops_the_key(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    let mut deliveries = Vec::with_capacity(records.len());
    for (_key, value) in records {
        let record = FutureRecord::<str, str>::to(topic).payload(value);
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
    try_join_all(deliveries).await
}

/// Mistake: collects the delivery reports with `FuturesUnordered`, which yields them as they
/// complete (one partition's batch after another), so report i no longer belongs to record i.
async fn reports_in_completion_order(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    let deliveries = FuturesUnordered::new();
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        deliveries
            .push(producer.send_result(record).map_err(|(e, _)| e).context("enqueueing a record")?);
    }
    let mut placed = Vec::with_capacity(records.len());
    let mut deliveries = deliveries;
    while let Some(outcome) = deliveries.next().await {
        match outcome {
            Ok(Ok(d)) => placed.push((d.partition, d.offset)),
            Ok(Err((e, _))) => {
                return Err(anyhow::Error::new(e).context("a record was not delivered"));
            }
            Err(_) => anyhow::bail!("the producer was dropped before delivery"),
        }
    }
    Ok(placed)
}

/// Mistake: logs a failed delivery and carries on with a placeholder position, so the caller
/// believes every record was written.
async fn ignores_failed_delivery(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<Vec<(i32, i64)>> {
    let mut deliveries = Vec::with_capacity(records.len());
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        let delivery =
            producer.send_result(record).map_err(|(e, _)| e).context("enqueueing a record")?;
        deliveries.push(async move {
            match delivery.await {
                Ok(Ok(d)) => Ok((d.partition, d.offset)),
                Ok(Err((e, _))) => {
                    eprintln!("not delivered: {e}");
                    Ok((-1, -1))
                }
                Err(_) => anyhow::bail!("the producer was dropped before delivery"),
            }
        });
    }
    try_join_all(deliveries).await
}

pub fn safe_producer_config(base: &ClientConfig) -> ClientConfig {
    match mistakes::chosen().as_deref() {
        None => solution::safe_producer_config(base),
        Some("keeps_acks_1") => keeps_acks_1(base),
        Some("no_idempotence") => no_idempotence(base),
        Some("keeps_max_in_flight_10") => keeps_max_in_flight_10(base),
        Some("keeps_retries_0") => keeps_retries_0(base),
        Some("forgets_java_partitioner") => forgets_java_partitioner(base),
        Some("starts_from_scratch") => starts_from_scratch(base),
        Some(other) => mistakes::unknown("safe_producer_config", other),
    }
}

/// Mistake: turns idempotence on but leaves the colleague's `acks=1`, as if the leader's own
/// write were enough. librdkafka refuses the combination.
fn keeps_acks_1(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("enable.idempotence", "true")
        .set("max.in.flight.requests.per.connection", "5")
        .set("partitioner", "murmur2_random")
        .remove("retries");
    config
}

/// Mistake: `acks=all` and everything else right, but idempotence left off: a retry after a
/// lost answer writes the batch a second time, and a retried batch can overtake a later one.
fn no_idempotence(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .set("partitioner", "murmur2_random")
        .remove("retries");
    config
}

/// Mistake: keeps 10 requests in flight "for throughput"; the broker can only deduplicate and
/// order 5 per partition, so librdkafka refuses it next to idempotence.
fn keeps_max_in_flight_10(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random")
        .remove("retries");
    config
}

/// Mistake: keeps `retries=0`, thinking no retry means no duplicate: every passing error loses
/// the record instead. librdkafka refuses it next to idempotence.
fn keeps_retries_0(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .set("partitioner", "murmur2_random");
    config
}

/// Mistake: safe retries and acks, but librdkafka's own partitioner (CRC32) stays: a key lands
/// in a different partition than a Java producer puts it in.
fn forgets_java_partitioner(base: &ClientConfig) -> ClientConfig {
    let mut config = base.clone();
    config
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("max.in.flight.requests.per.connection", "5")
        .remove("retries");
    config
}

/// Mistake: writes a fresh safe configuration with only the broker address, throwing away the
/// colleague's timeouts, batching, compression and client id.
fn starts_from_scratch(base: &ClientConfig) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", base.get("bootstrap.servers").unwrap_or_default())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("partitioner", "murmur2_random");
    config
}
