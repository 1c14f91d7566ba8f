//! Sending records: many in flight at once, or one after the other.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures::future::BoxFuture;
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;

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
    /// One future per record in flight, each resolving to that record's [`Report`].
    pending: FuturesUnordered<BoxFuture<'static, Report>>,
    next_seq: u64,
}

impl<'p> InFlight<'p> {
    pub fn new(producer: &'p FutureProducer, max: usize) -> Self {
        InFlight { producer, max: max.max(1), pending: FuturesUnordered::new(), next_seq: 0 }
    }

    /// Hands one record to the producer. Returns at once unless `max` records are already in
    /// flight or librdkafka's local queue is full; then it first waits for deliveries, and returns
    /// their reports. Every report comes out of `send` or `finish`, the failed ones too: a
    /// delivery error dropped here would be a record lost without a word.
    pub async fn send(&mut self, topic: &str, key: Option<&str>, value: &str) -> Vec<Report> {
        let mut finished = Vec::new();
        if self.pending.len() >= self.max {
            finished.extend(self.pending.next().await);
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let mut record = FutureRecord::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        // Enqueue into librdkafka's buffer (it copies the bytes).
        // Only a full local queue fails here.
        let delivery = loop {
            match self.producer.send_result(record) {
                Ok(delivery) => break delivery,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    // The local queue is full: wait for the oldest delivery, then retry.
                    finished.extend(self.pending.next().await);
                }
                Err((error, _)) => {
                    finished.push(Report { seq, result: Err(error) });
                    return finished;
                }
            }
        };
        // Await the delivery report, and tag it with the record's number.
        self.pending.push(
            async move {
                let result = match delivery.await {
                    Ok(Ok(delivered)) => Ok((delivered.partition, delivered.offset)),
                    Ok(Err((error, _message))) => Err(error),
                    Err(_canceled) => Err(KafkaError::Canceled), // the producer was dropped
                };
                Report { seq, result }
            }
            .boxed(),
        );
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

// ANCHOR: one_by_one
/// The slow way: send a record, wait for its delivery report, then send the next. Every record
/// pays a full round trip (plus `linger.ms`), and every batch holds exactly one record.
pub async fn send_one_by_one(
    producer: &FutureProducer,
    topic: &str,
    records: &[(String, String)],
) -> Result<()> {
    for (key, value) in records {
        let record = FutureRecord::to(topic).key(key).payload(value);
        producer
            .send(record, Timeout::Never)
            .await
            .map_err(|(e, _)| e)
            .context("sending a record")?;
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
    (0..n)
        .map(|i| (format!("key-{:02}", i % 16), format!("record {i:08} {}", "x".repeat(80))))
        .collect()
}

/// Times `f` and returns records per second.
pub async fn timed<F: std::future::Future<Output = Result<()>>>(
    n: usize,
    f: F,
) -> Result<(Duration, f64)> {
    let started = Instant::now();
    f.await?;
    let elapsed = started.elapsed();
    Ok((elapsed, n as f64 / elapsed.as_secs_f64()))
}
