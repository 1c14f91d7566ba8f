//! Chapter 14: performance, measured rather than guessed.
//!
//! Two numbers describe a Kafka pipeline: *throughput* (records per second it can carry) and
//! *end-to-end latency* (how long one record takes from "the producer was asked to send it" to
//! "a consumer has it"). Batching raises the first by spending some of the second, so every
//! knob here is measured on both.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures::future::join_all;
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names, wait};

// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics};

/// Microseconds since 1970 on this machine's clock.
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

// ANCHOR: payload
/// A record value of about `size` bytes that carries the time it was *meant* to be sent: 16
/// digits of microseconds since 1970, a space, then an order-like JSON document (so that
/// compression has realistic text to work on, not a run of identical bytes).
pub fn payload(intended_micros: u64, seq: u64, size: usize) -> String {
    let statuses = ["CREATED", "PAID", "SHIPPED", "DELIVERED"];
    let mut value = format!(
        "{intended_micros:016} {{\"order_id\":{seq},\"customer\":\"customer-{:05}\",\"amount_cents\":{},\
         \"status\":\"{}\",\"note\":\"",
        seq * 7919 % 100_000,
        seq * 104_729 % 1_000_000,
        statuses[(seq % 4) as usize],
    );
    let mut filler = seq.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    while value.len() + 2 < size {
        filler = filler.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        value.push(char::from(b"abcdefghijklmnopqrstuvwxyz     "[(filler >> 59) as usize % 31]));
    }
    value.push_str("\"}");
    value
}

/// The intended send time a [`payload`] carries, or `None` for a record that has none.
pub fn sent_micros(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value.get(..16)?).ok()?.parse().ok()
}
// ANCHOR_END: payload

// ANCHOR: summary
/// Latency percentiles in microseconds, by nearest rank over every sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub count: usize,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Summary {
    /// Sorts `samples` once and reads the percentiles off it; `None` when there are none.
    pub fn of(samples: &mut [u64]) -> Option<Summary> {
        samples.sort_unstable();
        // Nearest rank: the smallest sample that at least p% of all samples are <= to.
        let rank = |p: f64| samples[((p / 100.0 * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
        let max = *samples.last()?;
        Some(Summary { count: samples.len(), p50: rank(50.0), p90: rank(90.0), p99: rank(99.0), max })
    }
}
// ANCHOR_END: summary

/// The producer knobs this chapter turns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerKnobs {
    /// "all" or "1" (with "all" the producer is also idempotent).
    pub acks: String,
    pub linger_ms: u64,
    /// `None` keeps librdkafka's default (1,000,000 bytes).
    pub batch_size: Option<u64>,
    /// none, gzip, snappy, lz4 (zstd only when rdkafka is built with its `zstd` feature).
    pub compression: String,
}

impl Default for ProducerKnobs {
    fn default() -> Self {
        ProducerKnobs { acks: "all".into(), linger_ms: 5, batch_size: None, compression: "none".into() }
    }
}

// ANCHOR: producer_config
/// A producer tuned by `knobs`, on top of the workbook's addresses and timeouts.
pub fn producer_config(env: &Env, knobs: &ProducerKnobs) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        .set("acks", &knobs.acks)
        .set("enable.idempotence", (knobs.acks == "all").to_string())
        // How long a batch may wait for more records before it is sent: the latency you pay
        // on purpose, in exchange for fuller batches (fewer requests, better compression).
        .set("linger.ms", knobs.linger_ms.to_string())
        .set("compression.type", &knobs.compression);
    if let Some(bytes) = knobs.batch_size {
        // A batch that reaches this size is sent at once, whatever linger.ms says.
        config.set("batch.size", bytes.to_string());
    }
    config
}
// ANCHOR_END: producer_config

/// The consumer knobs this chapter turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchKnobs {
    pub fetch_min_bytes: u64,
    pub fetch_wait_max_ms: u64,
}

impl Default for FetchKnobs {
    /// librdkafka's defaults: answer a fetch as soon as 1 byte is there, wait at most 500 ms.
    fn default() -> Self {
        FetchKnobs { fetch_min_bytes: 1, fetch_wait_max_ms: 500 }
    }
}

// ANCHOR: consumer_config
/// A consumer in `group` whose fetches follow `fetch`.
pub fn consumer_config(env: &Env, group: &str, fetch: FetchKnobs) -> ClientConfig {
    let mut config = kafka::consumer_config(env, group);
    config
        // The broker holds a fetch until it has this many bytes for the consumer...
        .set("fetch.min.bytes", fetch.fetch_min_bytes.to_string())
        // ...or until this much time has passed, whichever comes first.
        .set("fetch.wait.max.ms", fetch.fetch_wait_max_ms.to_string())
        .set("enable.auto.commit", "false");
    config
}
// ANCHOR_END: consumer_config

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
        let record = FutureRecord::to(topic).key(&key).payload(&value).timestamp((intended / 1000) as i64);
        deliveries.push(producer.send_result(record).map_err(|(e, _)| e).context("enqueueing a record")?);
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
    let topic = names::unique("ch14-latency");
    create_topic(env, &topic, run.partitions).await?;
    let mut cleanup = Cleanup::new(env);
    cleanup.topics.push(topic.clone());

    // The consumer starts first, assigned to every partition from offset 0 (a fresh topic).
    let consumer: StreamConsumer =
        consumer_config(env, &names::unique("ch14-latency"), fetch).create().context("creating the consumer")?;
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

/// Sends `total` records as fast as the producer takes them, at most `max_in_flight`
/// outstanding, and returns the payload bytes sent. Fails if any record is not delivered.
pub async fn produce_flat_out(
    producer: &FutureProducer,
    topic: &str,
    total: u64,
    record_size: usize,
    max_in_flight: usize,
) -> Result<u64> {
    let mut pending: VecDeque<DeliveryFuture> = VecDeque::new();
    let mut bytes = 0;
    let check = |delivery: Result<rdkafka::producer::future_producer::OwnedDeliveryResult, _>| match delivery {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((error, _))) => Err(anyhow::Error::new(error).context("a record was not delivered")),
        Err(_) => bail!("the producer went away before delivering"),
    };
    let now = now_micros();
    for seq in 0..total {
        let (key, value) = (format!("order-{}", seq % 64), payload(now, seq, record_size));
        bytes += value.len() as u64;
        let mut record = FutureRecord::to(topic).key(&key).payload(&value);
        loop {
            if pending.len() >= max_in_flight
                && let Some(oldest) = pending.pop_front()
            {
                check(oldest.await)?;
            }
            match producer.send_result(record) {
                Ok(delivery) => break pending.push_back(delivery),
                // librdkafka's local queue is full: wait for the oldest record, then retry.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    match pending.pop_front() {
                        Some(oldest) => check(oldest.await)?,
                        None => bail!("the producer's queue is full with nothing in flight"),
                    }
                }
                Err((error, _)) => return Err(anyhow::Error::new(error).context("enqueueing a record")),
            }
        }
    }
    for delivery in pending {
        check(delivery.await)?;
    }
    Ok(bytes)
}

/// What a throughput run measured.
#[derive(Debug, Clone, Copy)]
pub struct Throughput {
    pub records: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

impl Throughput {
    pub fn records_per_second(&self) -> f64 {
        self.records as f64 / self.elapsed.as_secs_f64()
    }
    pub fn megabytes_per_second(&self) -> f64 {
        self.bytes as f64 / 1_000_000.0 / self.elapsed.as_secs_f64()
    }
}

/// Producer throughput on a fresh topic: one warm-up record (connection, producer id), then
/// `total` records flat out, timed until the last delivery report.
pub async fn measure_throughput(
    env: &Env,
    producer: &ClientConfig,
    total: u64,
    record_size: usize,
    partitions: i32,
) -> Result<Throughput> {
    let topic = names::unique("ch14-throughput");
    create_topic(env, &topic, partitions).await?;
    let mut cleanup = Cleanup::new(env);
    cleanup.topics.push(topic.clone());
    let producer: FutureProducer = producer.create().context("creating the producer")?;
    produce_flat_out(&producer, &topic, 1, record_size, 1).await?;
    let started = Instant::now();
    let bytes = produce_flat_out(&producer, &topic, total, record_size, 100_000).await?;
    let elapsed = started.elapsed();
    cleanup.run().await;
    Ok(Throughput { records: total, bytes, elapsed })
}

/// What a consumer-parallelism run measured.
#[derive(Debug, Clone)]
pub struct Parallel {
    pub elapsed: Duration,
    /// Records each member processed.
    pub per_member: Vec<usize>,
}

// ANCHOR: member
/// One member of the group, on its own thread: poll, "process" each record for `work`, repeat
/// until `stop`. `assigned` shows how many partitions it owns right now; `done` counts records.
fn member(
    consumer: BaseConsumer,
    work: Duration,
    assigned: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Result<usize> {
    let mut processed = 0;
    while !stop.load(Ordering::Relaxed) {
        let message = consumer.poll(Duration::from_millis(50));
        assigned.store(consumer.assignment().map(|a| a.count()).unwrap_or(0), Ordering::Relaxed);
        if let Some(message) = message {
            message.context("consuming")?;
            // Stands for a database write or an HTTP call: time spent waiting, not computing.
            // (CPU-bound work would stop scaling at this machine's 2 cores.)
            std::thread::sleep(work);
            processed += 1;
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(processed)
}
// ANCHOR_END: member

// ANCHOR: measure_parallel
/// `members` consumers in one group on a fresh `partitions`-partition topic. Once every member
/// owns a partition, `total` records are produced flat out; the clock runs from the first send to
/// the moment the group has processed them all, spending `work` on each.
pub async fn measure_parallel(
    env: &Env,
    members: usize,
    partitions: i32,
    total: u64,
    work: Duration,
    fetch: FetchKnobs,
) -> Result<Parallel> {
    let topic = names::unique("ch14-parallel");
    create_topic(env, &topic, partitions).await?;
    let mut cleanup = Cleanup::new(env);
    cleanup.topics.push(topic.clone());
    let group = names::unique("ch14-parallel");
    let (done, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let mut threads = Vec::new();
    let mut assigned = Vec::new();
    for _ in 0..members {
        let consumer: BaseConsumer = consumer_config(env, &group, fetch).create().context("creating a group member")?;
        consumer.subscribe(&[&topic]).context("subscribing")?;
        let owns = Arc::new(AtomicUsize::new(0));
        assigned.push(owns.clone());
        let (done, stop) = (done.clone(), stop.clone());
        threads.push(std::thread::spawn(move || member(consumer, work, owns, done, stop)));
    }
    let result = async {
        // Wait for the group to settle: every partition owned, every member (up to the number of
        // partitions) owning at least one. Otherwise the first member would start alone.
        let busy = members.min(partitions as usize);
        wait::until("the group to assign every partition", Duration::from_secs(60), Duration::from_millis(100), || {
            let owned: Vec<usize> = assigned.iter().map(|a| a.load(Ordering::Relaxed)).collect();
            let settled =
                owned.iter().sum::<usize>() == partitions as usize && owned.iter().filter(|&&n| n > 0).count() == busy;
            async move { Ok(settled.then_some(())) }
        })
        .await?;
        let producer: FutureProducer =
            producer_config(env, &ProducerKnobs::default()).create().context("creating the producer")?;
        let started = Instant::now();
        produce_flat_out(&producer, &topic, total, 200, 10_000).await?;
        let limit = Duration::from_secs(30) + work * total as u32;
        wait::until("the group to process every record", limit, Duration::from_millis(10), || {
            let finished = done.load(Ordering::Relaxed) >= total as usize;
            async move { Ok(finished.then_some(())) }
        })
        .await?;
        anyhow::Ok(started.elapsed())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut per_member = Vec::new();
    for thread in threads {
        per_member.push(thread.join().map_err(|_| anyhow::anyhow!("a member panicked"))??);
    }
    cleanup.run().await;
    Ok(Parallel { elapsed: result?, per_member })
}
// ANCHOR_END: measure_parallel

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_carries_its_intended_time_and_size() {
        let value = payload(1_795_737_054_671_123, 42, 200);
        assert_eq!(sent_micros(value.as_bytes()), Some(1_795_737_054_671_123));
        assert_eq!(value.len(), 200, "{value}");
        assert!(value.ends_with("\"}"));
        assert_eq!(sent_micros(b"not a timestamp at all"), None);
        assert_eq!(sent_micros(b"short"), None);
    }

    #[test]
    fn summary_uses_nearest_rank() {
        let mut samples: Vec<u64> = (1..=1000).rev().collect();
        let summary = Summary::of(&mut samples).unwrap();
        assert_eq!((summary.p50, summary.p90, summary.p99, summary.max), (500, 900, 990, 1000));
        assert_eq!(Summary::of(&mut []), None);
        assert_eq!(Summary::of(&mut [7]).unwrap().p50, 7);
    }

    #[test]
    fn the_config_says_what_the_knobs_say() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let knobs = ProducerKnobs { linger_ms: 50, batch_size: Some(16384), ..Default::default() };
        let config = producer_config(&env, &knobs);
        assert_eq!(config.get("linger.ms"), Some("50"));
        assert_eq!(config.get("batch.size"), Some("16384"));
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        let config = consumer_config(&env, "g", FetchKnobs { fetch_min_bytes: 100_000, fetch_wait_max_ms: 200 });
        assert_eq!(config.get("fetch.min.bytes"), Some("100000"));
        assert_eq!(config.get("fetch.wait.max.ms"), Some("200"));
    }
}
