//! Producer throughput: records sent as fast as the producer takes them.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ch04_producers::{InFlight, Report};
use rdkafka::ClientConfig;
use rdkafka::producer::FutureProducer;
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::create_topic;
use workbook_support::{Env, names};

use crate::payload::{now_micros, payload};

/// Sends `total` records as fast as the producer takes them, at most `max_in_flight`
/// outstanding (chapter 4's [`InFlight`]), and returns the payload bytes sent. Fails if any
/// record is not delivered.
pub async fn produce_flat_out(
    producer: &FutureProducer,
    topic: &str,
    total: u64,
    record_size: usize,
    max_in_flight: usize,
) -> Result<u64> {
    let mut in_flight = InFlight::new(producer, max_in_flight);
    let mut bytes = 0;
    let now = now_micros();
    for seq in 0..total {
        let (key, value) = (format!("order-{}", seq % 64), payload(now, seq, record_size));
        bytes += value.len() as u64;
        for report in in_flight.send(topic, Some(&key), &value).await {
            delivered(report)?;
        }
    }
    for report in in_flight.finish(FLUSH_TIMEOUT).await? {
        delivered(report)?;
    }
    Ok(bytes)
}

/// How long the records still in flight at the end may take to be delivered.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(60);

/// An error for a record that was not delivered.
fn delivered(report: Report) -> Result<()> {
    report.result.map(drop).with_context(|| format!("record {} was not delivered", report.seq))
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
    let mut cleanup = Cleanup::new(env);
    let topic = cleanup.topic(names::unique("ch14-throughput"));
    create_topic(env, &topic, partitions).await?;
    let producer: FutureProducer = producer.create().context("creating the producer")?;
    produce_flat_out(&producer, &topic, 1, record_size, 1).await?;
    let started = Instant::now();
    let bytes = produce_flat_out(&producer, &topic, total, record_size, 100_000).await?;
    let elapsed = started.elapsed();
    cleanup.run().await;
    Ok(Throughput { records: total, bytes, elapsed })
}
