//! Chapter 13: reliability. Lose a broker, lose no data.
//!
//! Three ingredients, each covering a gap the others leave:
//! - **replication factor 3**: every partition lives on three brokers;
//! - **`min.insync.replicas=2`**: the leader accepts an `acks=all` write only while at least two
//!   replicas (itself included) are in sync, so an acknowledged record is always on two disks;
//! - **`acks=all` + idempotence** on the producer: "acknowledged" means "on every in-sync
//!   replica", and the retries that follow a failover never write a record twice.
//!
//! The crate proves it on a three-broker cluster of its own ([`cluster::OwnCluster`]): it writes
//! numbered records without pause, kills the partition leader, and afterwards reads the partition
//! back and compares it with the set of records the producer saw acknowledged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};
use workbook_support::kafka::{self, Partition};
use workbook_support::{Env, names};

pub mod cluster;

// ANCHOR: reliable_topic
/// Creates `topic` with one partition, three replicas, and `min.insync.replicas=2` set on the
/// topic itself, so the guarantee travels with the topic instead of depending on a broker default
/// (the workbook's one-broker environment has `min.insync.replicas=1`).
pub async fn create_reliable_topic(env: &Env, topic: &str) -> Result<()> {
    let new_topic = NewTopic::new(topic, 1, TopicReplication::Fixed(3)).set("min.insync.replicas", "2");
    let options = AdminOptions::new().request_timeout(Some(kafka::ADMIN_TIMEOUT));
    let results = kafka::admin(env)?.create_topics(&[new_topic], &options).await.context("creating the topic")?;
    for result in results {
        result.map_err(|(name, code)| anyhow::anyhow!("creating topic {name}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: reliable_topic

/// The two numbers that decide what a topic survives (the chapter's exercise `replica_plan` chooses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaPlan {
    /// Copies of each partition, each on a broker of its own.
    pub replication_factor: usize,
    /// The topic's `min.insync.replicas`: below this many in-sync replicas the leader refuses `acks=all` writes.
    pub min_insync_replicas: usize,
}

// ANCHOR: producer_config
/// A producer with the given `acks` and idempotence, which keeps retrying a record for up to
/// `delivery_timeout` (librdkafka's `message.timeout.ms`, the Java client's `delivery.timeout.ms`)
/// before reporting it failed. While a partition has no leader, records wait in the producer.
pub fn producer_config(env: &Env, acks: &str, idempotence: bool, delivery_timeout: Duration) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        .set("acks", acks)
        .set("enable.idempotence", idempotence.to_string())
        .set("message.timeout.ms", delivery_timeout.as_millis().to_string())
        .set("linger.ms", "5");
    config
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
    let mut done: Vec<Duration> = acks.iter().filter(|a| a.result.is_ok()).map(|a| a.done_at).collect();
    done.sort();
    done.windows(2).map(|w| (w[0], w[1])).max_by_key(|(from, to)| *to - *from)
}

/// The slowest acknowledged record: (sequence number, time from send to acknowledgment).
pub fn slowest(acks: &[Ack]) -> Option<(u64, Duration)> {
    acks.iter().filter(|a| a.result.is_ok()).map(|a| (a.seq, a.done_at - a.sent_at)).max_by_key(|(_, d)| *d)
}

// ANCHOR: verdict
/// The producer's view compared with what the partition really holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub sent: usize,
    pub acknowledged: usize,
    pub failed: usize,
    pub read: usize,
    /// Acknowledged, but not in the partition: the one thing that must never happen.
    pub lost: Vec<u64>,
    /// In the partition more than once (a retry that wrote the record again).
    pub duplicated: Vec<u64>,
    /// Reported failed, yet in the partition (the write landed but its answer was lost).
    pub failed_but_written: Vec<u64>,
}

/// Compares the producer's delivery reports with the records read back from the partition.
pub fn verdict(acks: &[Ack], read: &[String]) -> Verdict {
    let mut copies: BTreeMap<u64, usize> = BTreeMap::new();
    for value in read {
        if let Ok(seq) = value.parse::<u64>() {
            *copies.entry(seq).or_default() += 1;
        }
    }
    let acknowledged: Vec<u64> = acks.iter().filter(|a| a.result.is_ok()).map(|a| a.seq).collect();
    let failed: Vec<u64> = acks.iter().filter(|a| a.result.is_err()).map(|a| a.seq).collect();
    Verdict {
        sent: acks.len(),
        acknowledged: acknowledged.len(),
        failed: failed.len(),
        read: copies.values().sum(),
        lost: acknowledged.iter().copied().filter(|seq| !copies.contains_key(seq)).collect(),
        duplicated: copies.iter().filter(|(_, n)| **n > 1).map(|(seq, _)| *seq).collect(),
        failed_but_written: failed.iter().copied().filter(|seq| copies.contains_key(seq)).collect(),
    }
}
// ANCHOR_END: verdict

// ANCHOR: read_all
/// Reads partition 0 of `topic` from its first offset up to its high watermark (the end of
/// what the in-sync replicas all have, which is all a consumer may see), without a group.
pub fn read_all(env: &Env, topic: &str, timeout: Duration) -> Result<Vec<String>> {
    let consumer: BaseConsumer = kafka::consumer_config(env, &names::unique("ch13-read"))
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a consumer")?;
    let (low, high) = consumer.fetch_watermarks(topic, 0, timeout).context("asking the leader for the watermarks")?;
    let mut values = Vec::new();
    if high <= low {
        return Ok(values);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                values.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
                if message.offset() + 1 >= high {
                    return Ok(values);
                }
            }
            // Errors such as "broker transport failure" (a connection to a dead broker) are
            // reports, not the end: the consumer carries on with the brokers that answer.
            Some(Err(error)) => last_error = Some(error),
            None => {}
        }
    }
    bail!(
        "read {} of the records up to offset {high} within {} s (last error: {last_error:?})",
        values.len(),
        timeout.as_secs()
    )
}
// ANCHOR_END: read_all

/// The partition's first offset and its high watermark (the offset after the last record
/// consumers may read), as the leader reports them.
pub fn watermarks(env: &Env, topic: &str) -> Result<(i64, i64)> {
    let consumer: BaseConsumer = kafka::client_config(env).create().context("creating a client")?;
    consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).context("asking the leader for the watermarks")
}

// ANCHOR: try_write
/// Writes one record with `acks` and no retries, so the broker's own answer comes back as is
/// (an idempotent producer would keep retrying a refused write until `message.timeout.ms`).
pub async fn try_write(env: &Env, topic: &str, acks: &str) -> Result<i64, KafkaError> {
    let producer: FutureProducer = kafka::producer_config(env)
        .set("acks", acks)
        .set("enable.idempotence", "false")
        .set("message.send.max.retries", "0")
        .create()?;
    let value = format!("probe acks={acks}");
    let record = FutureRecord::<(), _>::to(topic).payload(&value);
    match producer.send(record, Timeout::After(Duration::from_secs(15))).await {
        Ok(delivered) => Ok(delivered.offset),
        Err((error, _)) => Err(error),
    }
}
// ANCHOR_END: try_write

/// One observation of the partition's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub at: Duration,
    pub partition: Partition,
}

/// Polls the metadata of partition 0 of a topic every 100 ms on a thread of its own, prints
/// every change (leader, ISR) as it happens, and remembers them.
pub struct Watcher {
    stop: Arc<AtomicBool>,
    history: Arc<Mutex<Vec<Seen>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    pub fn start(env: &Env, topic: &str, start: Instant) -> Result<Watcher> {
        let consumer: BaseConsumer = kafka::client_config(env).create().context("creating a metadata client")?;
        let (stop, history) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new(Vec::<Seen>::new())));
        let (stop2, history2, topic) = (stop.clone(), history.clone(), topic.to_string());
        let thread = std::thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                if let Some(partition) = partition_of(&consumer, &topic) {
                    let mut history = history2.lock().unwrap();
                    if history.last().is_none_or(|seen| seen.partition != partition) {
                        let at = start.elapsed();
                        println!("  {:>6.2} s  metadata: {}", at.as_secs_f64(), describe(&partition));
                        history.push(Seen { at, partition });
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Ok(Watcher { stop, history, thread: Some(thread) })
    }

    /// The latest observation.
    pub fn latest(&self) -> Option<Seen> {
        self.history.lock().unwrap().last().cloned()
    }

    /// Every change seen so far.
    pub fn history(&self) -> Vec<Seen> {
        self.history.lock().unwrap().clone()
    }

    /// Waits until the partition's metadata satisfies `ready`, up to `timeout`.
    pub async fn wait_for(&self, what: &str, timeout: Duration, ready: impl Fn(&Partition) -> bool) -> Result<Seen> {
        workbook_support::wait::until(what, timeout, Duration::from_millis(20), || async {
            Ok(self.latest().filter(|seen| ready(&seen.partition)))
        })
        .await
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn partition_of(consumer: &BaseConsumer, topic: &str) -> Option<Partition> {
    let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(1)).ok()?;
    let p = metadata.topics().first()?.partitions().iter().find(|p| p.id() == 0)?;
    Some(Partition { id: 0, leader: p.leader(), replicas: p.replicas().to_vec(), isr: p.isr().to_vec() })
}

/// `leader 2, replicas [2,3,1], ISR [2,3,1]`.
pub fn describe(p: &Partition) -> String {
    let ids = |list: &[i32]| list.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let leader = if p.leader < 0 { "none".to_string() } else { p.leader.to_string() };
    format!("leader {leader}, replicas [{}], ISR [{}]", ids(&p.replicas), ids(&p.isr))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u64, done_ms: u64, ok: bool) -> Ack {
        let result = if ok { Ok(seq as i64) } else { Err("timed out".to_string()) };
        Ack { seq, sent_at: Duration::ZERO, done_at: Duration::from_millis(done_ms), result }
    }

    #[test]
    fn the_verdict_finds_lost_duplicated_and_failed_but_written_records() {
        let acks = [ack(0, 10, true), ack(1, 20, true), ack(2, 30, false), ack(3, 40, true)];
        let read: Vec<String> = ["0", "1", "1", "2", "probe"].iter().map(|s| s.to_string()).collect();
        let v = verdict(&acks, &read);
        assert_eq!((v.sent, v.acknowledged, v.failed, v.read), (4, 3, 1, 4));
        assert_eq!(v.lost, vec![3]);
        assert_eq!(v.duplicated, vec![1]);
        assert_eq!(v.failed_but_written, vec![2]);
    }

    #[test]
    fn the_longest_silence_is_between_two_acknowledgments() {
        let acks = [ack(0, 10, true), ack(1, 20, true), ack(2, 900, true), ack(3, 500, false)];
        assert_eq!(longest_silence(&acks), Some((Duration::from_millis(20), Duration::from_millis(900))));
        assert_eq!(slowest(&acks), Some((2, Duration::from_millis(900))));
    }
}
