//! Producer throughput: records sent as fast as the producer takes them.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::create_topic;
use workbook_support::{Env, names};

use crate::payload::{now_micros, payload};

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
    let check = |delivery: Result<rdkafka::producer::future_producer::OwnedDeliveryResult, _>| {
        match delivery {
            Ok(Ok(_)) => Ok(()),
            Ok(Err((error, _))) => {
                Err(anyhow::Error::new(error).context("a record was not delivered"))
            }
            Err(_) => bail!("the producer went away before delivering"),
        }
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
                Err((error, _)) => {
                    return Err(anyhow::Error::new(error).context("enqueueing a record"));
                }
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
