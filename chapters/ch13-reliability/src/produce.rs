//! Writing through a failover: numbered records, sent without pause, each one's fate kept.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ch04_producers::{Acks, ProducerSettings};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use workbook_support::Env;

// ANCHOR: producer_config
/// Chapter 4's producer for `settings` (acks, idempotence, linger), which keeps retrying a
/// record for up to `delivery_timeout` (librdkafka's `message.timeout.ms`, the Java client's
/// `delivery.timeout.ms`) before reporting it failed. While a partition has no leader,
/// records wait in the producer.
pub fn failover_producer(
    env: &Env,
    settings: &ProducerSettings,
    delivery_timeout: Duration,
) -> Result<FutureProducer> {
    ch04_producers::producer_config(env, settings)
        .set("message.timeout.ms", delivery_timeout.as_millis().to_string())
        .create()
        .context("creating the producer")
}
// ANCHOR_END: producer_config

/// What happened to one numbered record.
#[derive(Debug, Clone)]
pub struct Ack {
    pub seq: u64,
    /// When it was handed to the producer, since the start of the run.
    pub sent_at: Duration,
    /// When its delivery report came back.
    pub done_at: Duration,
    /// The offset it was written at, or the error the producer gave up with.
    pub result: Result<i64, String>,
}

// ANCHOR: produce
/// Sends records `"0"`, `"1"`, `"2"`, … to `topic`, one every `every`, until `stop` is set, and
/// returns every record's fate. Sending never waits for an acknowledgment: records keep being
/// handed to the producer while a failover is going on, the way a real application keeps writing.
pub async fn produce_numbered(
    producer: FutureProducer,
    topic: String,
    every: Duration,
    start: Instant,
    stop: Arc<AtomicBool>,
) -> Vec<Ack> {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pending = Vec::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        let payload = seq.to_string();
        let sent_at = start.elapsed();
        match producer.send_result(FutureRecord::<(), _>::to(&topic).payload(&payload)) {
            Ok(delivery) => pending.push(tokio::spawn(async move {
                let result = match delivery.await {
                    Ok(Ok(delivered)) => Ok(delivered.offset),
                    Ok(Err((error, _))) => Err(error.to_string()),
                    Err(_) => Err("the producer was dropped".to_string()),
                };
                Ack { seq, sent_at, done_at: start.elapsed(), result }
            })),
            Err((error, _)) => pending.push(tokio::spawn(async move {
                Ack { seq, sent_at, done_at: sent_at, result: Err(error.to_string()) }
            })),
        }
        seq += 1;
    }
    let mut acks = Vec::with_capacity(pending.len());
    for handle in pending {
        if let Ok(ack) = handle.await {
            acks.push(ack);
        }
    }
    acks
}
// ANCHOR_END: produce

/// The longest stretch during which no record was acknowledged, as (from, to) since the start.
pub fn longest_silence(acks: &[Ack]) -> Option<(Duration, Duration)> {
    let mut done: Vec<Duration> =
        acks.iter().filter(|a| a.result.is_ok()).map(|a| a.done_at).collect();
    done.sort();
    done.windows(2).map(|w| (w[0], w[1])).max_by_key(|(from, to)| *to - *from)
}

/// The slowest acknowledged record: (sequence number, time from send to acknowledgment).
pub fn slowest(acks: &[Ack]) -> Option<(u64, Duration)> {
    acks.iter()
        .filter(|a| a.result.is_ok())
        .map(|a| (a.seq, a.done_at - a.sent_at))
        .max_by_key(|(_, d)| *d)
}

// ANCHOR: try_write
/// Writes one record with `acks` and no retries, so the broker's own answer comes back as is
/// (an idempotent producer would keep retrying a refused write until `message.timeout.ms`).
pub async fn try_write(env: &Env, topic: &str, acks: Acks) -> Result<i64, KafkaError> {
    let settings = ProducerSettings { acks, idempotence: false, ..ProducerSettings::default() };
    let producer: FutureProducer = ch04_producers::producer_config(env, &settings)
        .set("message.send.max.retries", "0")
        .create()?;
    let value = format!("probe acks={}", acks.as_config());
    let record = FutureRecord::<(), _>::to(topic).payload(&value);
    match producer.send(record, Timeout::After(Duration::from_secs(15))).await {
        Ok(delivered) => Ok(delivered.offset),
        Err((error, _)) => Err(error),
    }
}
// ANCHOR_END: try_write

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u64, done_ms: u64, ok: bool) -> Ack {
        let result = if ok { Ok(seq as i64) } else { Err("timed out".to_string()) };
        Ack { seq, sent_at: Duration::ZERO, done_at: Duration::from_millis(done_ms), result }
    }

    #[test]
    fn the_longest_silence_is_between_two_acknowledgments() {
        let acks = [ack(0, 10, true), ack(1, 20, true), ack(2, 900, true), ack(3, 500, false)];
        assert_eq!(
            longest_silence(&acks),
            Some((Duration::from_millis(20), Duration::from_millis(900)))
        );
        assert_eq!(slowest(&acks), Some((2, Duration::from_millis(900))));
    }
}
