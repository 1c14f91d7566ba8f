//! End-to-end latency at a fixed rate: a paced producer and a reader on one clock.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::future::join_all;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::create_topic;
use workbook_support::{Env, names};

use crate::knobs::{FetchKnobs, consumer_config};
use crate::payload::{now_micros, payload, sent_micros};
use crate::summary::Summary;

/// One fixed-rate latency run.
#[derive(Debug, Clone, Copy)]
pub struct LatencyRun {
    /// Records per second the producer is asked to send.
    pub rate: u64,
    /// Records sent during the warm-up are received but not measured.
    pub warmup: Duration,
    /// How long the measured part lasts.
    pub measure: Duration,
    /// About how many bytes each record value has.
    pub record_size: usize,
    /// Partitions of the fresh topic each run writes to.
    pub partitions: i32,
}

/// What a latency run saw.
#[derive(Debug, Clone)]
pub struct LatencyResult {
    pub sent: usize,
    pub received: usize,
    /// End-to-end latency of the records sent after the warm-up; `None` if none arrived.
    pub latency: Option<Summary>,
}

// ANCHOR: send_paced
/// Sends `total` records at `rate` per second, starting at `start`. Record `i` is *meant* to
/// leave at `start + i / rate`; that intended time goes into the record (its value and its
/// timestamp) even when the loop is late. If the producer stalls, the records it should have
/// sent meanwhile carry the stall in their latency instead of hiding it: no coordinated omission.
pub async fn send_paced(
    producer: &FutureProducer,
    topic: &str,
    run: &LatencyRun,
    start: Instant,
    start_micros: u64,
) -> Result<Vec<DeliveryFuture>> {
    let total = run.rate * (run.warmup + run.measure).as_micros() as u64 / 1_000_000;
    let mut deliveries = Vec::with_capacity(total as usize);
    for seq in 0..total {
        let offset_micros = seq * 1_000_000 / run.rate;
        // Wait for the intended time (returns at once when we are behind: catch up, don't skip).
        tokio::time::sleep_until((start + Duration::from_micros(offset_micros)).into()).await;
        let intended = start_micros + offset_micros;
        let (key, value) = (format!("order-{}", seq % 64), payload(intended, seq, run.record_size));
        let record =
            FutureRecord::to(topic).key(&key).payload(&value).timestamp((intended / 1000) as i64);
        deliveries
            .push(producer.send_result(record).map_err(|(e, _)| e).context("enqueueing a record")?);
    }
    Ok(deliveries)
}
// ANCHOR_END: send_paced

// ANCHOR: receive
/// Reads every partition of `topic` from the beginning until `expected` records arrived or
/// `deadline` passed, and returns (records received, latencies in µs of the records meant to be
/// sent at or after `measure_from`). Latency is "now" minus the intended send time the record
/// carries: one process, one clock, so no clock skew between producer and consumer.
pub async fn receive(
    consumer: StreamConsumer,
    expected: usize,
    measure_from: u64,
    deadline: Instant,
) -> Result<(usize, Vec<u64>)> {
    let mut latencies = Vec::with_capacity(expected);
    let mut received = 0;
    while received < expected {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(message) = tokio::time::timeout(left, consumer.recv()).await else { break };
        let message = message.context("consuming")?;
        let now = now_micros();
        received += 1;
        if let Some(sent) = message.payload().and_then(sent_micros)
            && sent >= measure_from
        {
            latencies.push(now.saturating_sub(sent));
        }
    }
    Ok((received, latencies))
}
// ANCHOR_END: receive

// ANCHOR: measure_latency
/// One end-to-end latency measurement on a fresh topic: a consumer reading every partition, a
/// producer built from `producer` sending at `run.rate`, percentiles of the post-warm-up records.
pub async fn measure_latency(
    env: &Env,
    producer: &ClientConfig,
    fetch: FetchKnobs,
    run: &LatencyRun,
) -> Result<LatencyResult> {
    let mut cleanup = Cleanup::new(env);
    let topic = cleanup.topic(names::unique("ch14-latency"));
    create_topic(env, &topic, run.partitions).await?;

    // The consumer starts first, assigned to every partition from offset 0 (a fresh topic).
    let consumer: StreamConsumer = consumer_config(env, &names::unique("ch14-latency"), fetch)
        .create()
        .context("creating the consumer")?;
    let mut partitions = TopicPartitionList::new();
    for p in 0..run.partitions {
        partitions.add_partition_offset(&topic, p, Offset::Beginning)?;
    }
    consumer.assign(&partitions)?;
    let producer: FutureProducer = producer.create().context("creating the producer")?;

    let (start, start_micros) = (Instant::now(), now_micros());
    let measure_from = start_micros + run.warmup.as_micros() as u64;
    let expected = (run.rate * (run.warmup + run.measure).as_micros() as u64 / 1_000_000) as usize;
    // Everything should be in well before this; a stuck run still ends.
    let deadline = start + run.warmup + run.measure + Duration::from_secs(15);
    let receiving = tokio::spawn(receive(consumer, expected, measure_from, deadline));

    let deliveries = send_paced(&producer, &topic, run, start, start_micros).await?;
    let sent = deliveries.len();
    let failed = join_all(deliveries).await.into_iter().filter(|d| !matches!(d, Ok(Ok(_)))).count();
    if failed > 0 {
        bail!("{failed} of {sent} records were not delivered");
    }
    let (received, mut latencies) = receiving.await.context("the consumer task panicked")??;
    cleanup.run().await;
    Ok(LatencyResult { sent, received, latency: Summary::of(&mut latencies) })
}
// ANCHOR_END: measure_latency
