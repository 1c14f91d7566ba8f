//! Chapter 4: producers.
//!
//! A producer turns your records into batches, one batch per partition, and sends the batches to
//! the partition leaders. Everything a producer can tune is a trade between three things: how
//! much you may lose (`acks`, idempotence), how fast you go (batching, compression, records in
//! flight) and in which order records land (keys, partitions, retries).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use workbook_support::{Env, kafka};

/// How many replicas must have a record before the leader answers "written".
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Acks {
    /// Fire and forget: the broker sends no answer at all, so there is no offset and no error.
    #[value(name = "0")]
    Zero,
    /// The leader has written it to its own log; lost if the leader dies before followers copy it.
    #[value(name = "1")]
    One,
    /// Every in-sync replica has it (at least `min.insync.replicas`); survives the loss of a broker.
    #[value(name = "all")]
    All,
}

impl Acks {
    pub fn as_config(self) -> &'static str {
        match self {
            Acks::Zero => "0",
            Acks::One => "1",
            Acks::All => "all",
        }
    }
}

/// The codecs librdkafka can use in this build (zstd needs rdkafka's `zstd` feature, which the workbook leaves off).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
}

impl Compression {
    pub fn as_config(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
        }
    }
}

/// What the console producer lets you choose.
#[derive(Debug, Clone, Copy)]
pub struct ProducerSettings {
    pub acks: Acks,
    pub linger_ms: u64,
    pub batch_size: Option<u64>,
    pub compression: Compression,
    pub idempotence: bool,
}

impl Default for ProducerSettings {
    fn default() -> Self {
        ProducerSettings {
            acks: Acks::All,
            linger_ms: 5,
            batch_size: None,
            compression: Compression::None,
            idempotence: true,
        }
    }
}

// ANCHOR: config
/// The producer configuration for `settings`, on top of the workbook's addresses and timeouts.
pub fn producer_config(env: &Env, settings: &ProducerSettings) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        // How many replicas must have a record before it counts as written.
        .set("acks", settings.acks.as_config())
        // Wait up to this long for more records to fill a batch before sending it.
        .set("linger.ms", settings.linger_ms.to_string())
        // Compress whole batches (the broker stores them compressed, as they came).
        .set("compression.type", settings.compression.as_config())
        // Retries can then neither duplicate nor reorder records (the broker drops duplicates
        // by producer id + sequence number). Requires acks=all.
        .set("enable.idempotence", settings.idempotence.to_string())
        // The Java client's partitioner (murmur2 of the key), so a key lands on the same
        // partition whether a Rust or a Java producer sends it. librdkafka's default is CRC32.
        .set("partitioner", "murmur2_random");
    if let Some(bytes) = settings.batch_size {
        // The most bytes one partition's batch may hold.
        config.set("batch.size", bytes.to_string());
    }
    config
}
// ANCHOR_END: config

// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics, topic_partitions};

// ANCHOR: parse_line
/// Splits a console line into key and value, as `kafka-console-producer --property parse.key=true` does.
///
/// Without a separator the whole line is the value and the key is null. With one, the line must
/// contain it: the key is what comes before the first occurrence, the value what comes after.
pub fn parse_line<'a>(line: &'a str, key_separator: Option<&str>) -> Result<(Option<&'a str>, &'a str)> {
    match key_separator {
        None => Ok((None, line)),
        Some(separator) => match line.split_once(separator) {
            Some((key, value)) => Ok((Some(key), value)),
            None => bail!("no key separator `{separator}` in line {line:?}"),
        },
    }
}
// ANCHOR_END: parse_line

/// Where a record ended up, or why it did not.
#[derive(Debug)]
pub struct Report {
    /// The record's number in the order it was sent (0, 1, 2, ...).
    pub seq: u64,
    /// `(partition, offset)`; the offset is -1 with acks=0, since the broker never answers.
    pub result: Result<(i32, i64), KafkaError>,
}

// ANCHOR: in_flight
/// Sends records without waiting for each one: up to `max` records are in flight at once, and
/// librdkafka packs them into batches per partition while earlier batches are on the wire.
pub struct InFlight<'p> {
    producer: &'p FutureProducer,
    max: usize,
    pending: FuturesUnordered<Tagged>,
    next_seq: u64,
}

impl<'p> InFlight<'p> {
    pub fn new(producer: &'p FutureProducer, max: usize) -> Self {
        InFlight { producer, max: max.max(1), pending: FuturesUnordered::new(), next_seq: 0 }
    }

    /// Hands one record to the producer. Returns at once unless `max` records are already in
    /// flight; then it first waits for one delivery report and returns it.
    pub async fn send(&mut self, topic: &str, key: Option<&str>, value: &str) -> Option<Report> {
        let mut finished = None;
        if self.pending.len() >= self.max {
            finished = self.pending.next().await;
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut record = FutureRecord::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        // Enqueue into librdkafka's buffer (it copies the bytes). Only a full local queue fails here.
        let delivery = loop {
            match self.producer.send_result(record) {
                Ok(delivery) => break delivery,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    // The local queue is full: wait for the oldest delivery, then retry.
                    if let Some(report) = self.pending.next().await {
                        finished.get_or_insert(report);
                    }
                }
                Err((error, _)) => {
                    return Some(Report { seq, result: Err(error) });
                }
            }
        };
        self.pending.push(Tagged { seq, delivery });
        finished
    }

    /// Waits for every record still in flight: one flush, then the remaining delivery reports.
    pub async fn finish(self, timeout: Duration) -> Result<Vec<Report>> {
        let producer = self.producer.clone();
        // flush() blocks (it is librdkafka's rd_kafka_flush), so run it off the async threads.
        tokio::task::spawn_blocking(move || producer.flush(timeout))
            .await
            .context("flush task panicked")?
            .context("flushing the producer: some records were not delivered in time")?;
        Ok(self.pending.collect().await)
    }
}
// ANCHOR_END: in_flight

/// A delivery future tagged with the record's sequence number.
struct Tagged {
    seq: u64,
    delivery: DeliveryFuture,
}

impl std::future::Future for Tagged {
    type Output = Report;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Report> {
        let seq = self.seq;
        std::pin::Pin::new(&mut self.delivery).poll(cx).map(|outcome| {
            let result = match outcome {
                Ok(Ok(delivery)) => Ok((delivery.partition, delivery.offset)),
                Ok(Err((error, _message))) => Err(error),
                Err(_canceled) => Err(KafkaError::Canceled),
            };
            Report { seq, result }
        })
    }
}

// ANCHOR: one_by_one
/// The slow way: send a record, wait for its delivery report, then send the next. Every record
/// pays a full round trip (plus `linger.ms`), and every batch holds exactly one record.
pub async fn send_one_by_one(producer: &FutureProducer, topic: &str, records: &[(String, String)]) -> Result<()> {
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        producer.send(record, Timeout::Never).await.map_err(|(e, _)| e).context("sending a record")?;
    }
    Ok(())
}
// ANCHOR_END: one_by_one

/// The fast way, as a function over a slice: at most `max_in_flight` records outstanding.
pub async fn send_in_flight(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
    max_in_flight: usize,
) -> Result<()> {
    let mut in_flight = InFlight::new(producer, max_in_flight);
    let mut reports = Vec::new();
    for (key, value) in records {
        reports.extend(in_flight.send(topic, Some(key), value).await);
    }
    reports.extend(in_flight.finish(Duration::from_secs(30)).await?);
    if let Some(failed) = reports.iter().find(|r| r.result.is_err()) {
        bail!("record {} was not delivered: {:?}", failed.seq, failed.result);
    }
    Ok(())
}

/// `n` records of about 100 bytes, keyed over 16 keys.
pub fn bench_records(n: usize) -> Vec<(String, String)> {
    (0..n).map(|i| (format!("key-{:02}", i % 16), format!("record {i:08} {}", "x".repeat(80)))).collect()
}

/// Times `f` and returns records per second.
pub async fn timed<F: std::future::Future<Output = Result<()>>>(n: usize, f: F) -> Result<(Duration, f64)> {
    let started = Instant::now();
    f.await?;
    let elapsed = started.elapsed();
    Ok((elapsed, n as f64 / elapsed.as_secs_f64()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_line_without_separator_keeps_the_whole_line() {
        assert_eq!(parse_line("a:b", None).unwrap(), (None, "a:b"));
    }

    #[test]
    fn parse_line_splits_at_the_first_separator() {
        assert_eq!(parse_line("user-1:{\"a\":1}", Some(":")).unwrap(), (Some("user-1"), "{\"a\":1}"));
        assert_eq!(parse_line(":v", Some(":")).unwrap(), (Some(""), "v"));
    }

    #[test]
    fn parse_line_rejects_a_line_without_the_separator() {
        let err = parse_line("no separator", Some(":")).unwrap_err();
        assert!(err.to_string().contains("no key separator"), "{err}");
    }

    #[test]
    fn the_config_says_what_the_settings_say() {
        let env = Env::from_sources(|k| match k {
            "KAFKA_BOOTSTRAP_SERVERS" => Some("127.0.0.1:1".into()),
            _ => Some("x".into()),
        })
        .unwrap();
        let settings = ProducerSettings { acks: Acks::One, idempotence: false, ..Default::default() };
        let config = producer_config(&env, &settings);
        assert_eq!(config.get("acks"), Some("1"));
        assert_eq!(config.get("enable.idempotence"), Some("false"));
        assert_eq!(config.get("partitioner"), Some("murmur2_random"));
        assert_eq!(config.get("batch.size"), None);
    }

    #[test]
    fn librdkafka_refuses_idempotence_with_acks_1() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let settings = ProducerSettings { acks: Acks::One, idempotence: true, ..Default::default() };
        let error = producer_config(&env, &settings).create::<FutureProducer>().err().expect("must be refused");
        assert!(error.to_string().contains("acks"), "{error}");
    }
}
