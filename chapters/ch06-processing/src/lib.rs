//! Chapter 6: processing. Consume, transform, produce, and make it exactly-once.
//!
//! Kafka Streams is a Java library; in Rust the same job is a consumer, some code and a
//! producer. What Streams adds (exactly-once, state that survives restarts) comes from two
//! Kafka features any client can use: transactions, and topics as durable state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

/// How long every blocking transaction call may take.
pub const TXN_TIMEOUT: Duration = Duration::from_secs(10);

/// One processing job: where it reads, where it writes, and the names that make it restartable.
#[derive(Debug, Clone)]
pub struct Job {
    pub input: String,
    pub output: String,
    /// The consumer group: where the job's progress (input offsets) is committed.
    pub group: String,
    /// Stable across restarts: a restarted job with the same id fences off the old one.
    pub transactional_id: String,
    /// Input records per transaction (or per offset commit, without transactions).
    pub batch: usize,
}

/// A simulated crash: at a chosen point of a job's run, flush what was sent (so it reached the
/// broker, as it would have in a real crash) and fail, skipping everything that would follow.
#[derive(Debug, Default)]
pub struct CrashPoint {
    at: Option<Strike>,
    sent: AtomicUsize,
    commits: AtomicUsize,
}

/// Where a [`CrashPoint`] strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strike {
    /// After the Nth output record was sent.
    AfterSend(usize),
    /// Just before the Nth transaction commits: the transaction stays open.
    BeforeCommit(usize),
    /// Just after the Nth transaction committed, before anything else happens.
    AfterCommit(usize),
}

impl CrashPoint {
    pub fn never() -> Self {
        CrashPoint::default()
    }

    /// Crash after `records` output records.
    pub fn after(records: usize) -> Self {
        CrashPoint { at: Some(Strike::AfterSend(records)), ..CrashPoint::default() }
    }

    /// Crash in [`CrashPoint::commit_transaction`], just before the `n`th transaction commits.
    pub fn before_commit(n: usize) -> Self {
        CrashPoint { at: Some(Strike::BeforeCommit(n)), ..CrashPoint::default() }
    }

    /// Crash in [`CrashPoint::commit_transaction`], just after the `n`th transaction committed.
    pub fn after_commit(n: usize) -> Self {
        CrashPoint { at: Some(Strike::AfterCommit(n)), ..CrashPoint::default() }
    }

    /// Call after sending each output record; returns the "crash" as an error when it is time.
    pub fn after_send<P: Producer<C>, C: rdkafka::producer::ProducerContext>(&self, producer: &P) -> Result<()> {
        let sent = self.sent.fetch_add(1, Ordering::SeqCst) + 1;
        if self.at == Some(Strike::AfterSend(sent)) {
            producer.flush(TXN_TIMEOUT).context("flushing before the simulated crash")?;
            bail!("simulated crash after {sent} output record(s)");
        }
        Ok(())
    }

    /// Commits the producer's open transaction (`producer.commit_transaction`), unless this is
    /// where the crash strikes: just before the commit, or just after it.
    pub fn commit_transaction<P: Producer<C>, C: rdkafka::producer::ProducerContext>(
        &self,
        producer: &P,
    ) -> Result<()> {
        let n = self.commits.fetch_add(1, Ordering::SeqCst) + 1;
        if self.at == Some(Strike::BeforeCommit(n)) {
            producer.flush(TXN_TIMEOUT).context("flushing before the simulated crash")?;
            bail!("simulated crash just before committing transaction {n}");
        }
        producer.commit_transaction(TXN_TIMEOUT).context("committing the transaction")?;
        if self.at == Some(Strike::AfterCommit(n)) {
            bail!("simulated crash just after committing transaction {n}");
        }
        Ok(())
    }
}

// The topic helpers every chapter uses live once, in the support crate.
pub use workbook_support::kafka::{create_topic, delete_topics};

// ANCHOR: read_committed
/// Every record of `topic` (one partition) that a `read_committed` consumer sees, as
/// `(key, value)`, reading up to the end of the log: records of aborted transactions are
/// skipped, and so are open ones (the log stops, for this consumer, where the first open
/// transaction starts: the last stable offset).
pub async fn read_committed(env: &Env, topic: &str) -> Result<Vec<(String, String)>> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", "unused-we-assign")
        .set("enable.auto.commit", "false")
        // librdkafka's default, spelled out: the Java client's default is read_uncommitted.
        .set("isolation.level", "read_committed")
        .create()
        .context("creating a consumer")?;
    let (low, high) = consumer.fetch_watermarks(topic, 0, TXN_TIMEOUT).context("reading the log's end")?;
    let mut records = Vec::new();
    if low == high {
        return Ok(records);
    }
    let mut start = TopicPartitionList::new();
    start.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&start)?;
    loop {
        // The end of the log may be a transaction marker, which is never handed out as a
        // record: compare the consumer's position with the end offset, not the last offset seen.
        if let Some(Offset::Offset(position)) = consumer.position()?.find_partition(topic, 0).map(|p| p.offset())
            && position >= high
        {
            return Ok(records);
        }
        match tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await {
            Ok(message) => {
                let message = message.context("reading")?;
                records.push((text(message.key()), text(message.payload())));
            }
            // Nothing more came, yet the position is not at the end: the rest is aborted
            // records and markers (or an open transaction) that read_committed skips.
            Err(_) => return Ok(records),
        }
    }
}
// ANCHOR_END: read_committed

fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

// ANCHOR: totals
/// The stateful part: a running total per key. Returns the key's new total.
pub fn add_to_total(totals: &mut HashMap<String, i64>, key: &str, amount: i64) -> i64 {
    let total = totals.entry(key.to_string()).or_insert(0);
    *total += amount;
    *total
}

/// The state after a restart: the output topic is the changelog of the totals, so the last
/// total written for each key is that key's state (what Kafka Streams' state stores do with a
/// changelog topic, in miniature).
pub async fn restore_totals(env: &Env, output: &str) -> Result<HashMap<String, i64>> {
    let mut totals = HashMap::new();
    for (key, value) in read_committed(env, output).await? {
        totals.insert(key, value.parse().with_context(|| format!("a total that is not a number: {value:?}"))?);
    }
    Ok(totals)
}
// ANCHOR_END: totals

/// What one run of a job did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// The input offset the run started at (the group's committed offset).
    pub started_at: i64,
    pub processed: usize,
}

/// Reads up to `job.batch` records: waits up to 2 s for the first, then takes what is ready.
async fn next_batch(consumer: &StreamConsumer, job: &Job) -> Result<Vec<OwnedMessage>> {
    let mut batch = Vec::new();
    let mut wait = Duration::from_secs(2);
    while batch.len() < job.batch {
        match tokio::time::timeout(wait, consumer.recv()).await {
            Ok(message) => batch.push(message.context("reading the input")?.detach()),
            Err(_) => break,
        }
        wait = Duration::from_millis(200);
    }
    Ok(batch)
}

fn job_consumer(env: &Env, job: &Job) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::consumer_config(env, &job.group)
        // Progress is committed by us: after the batch, or inside the transaction.
        .set("enable.auto.commit", "false")
        .create()
        .context("creating the consumer")?;
    consumer.subscribe(&[&job.input]).context("subscribing")?;
    Ok(consumer)
}

fn amount(message: &OwnedMessage) -> Result<(String, i64)> {
    let key = text(message.key());
    let value = text(message.payload());
    Ok((key, value.trim().parse().with_context(|| format!("not an amount: {value:?}"))?))
}

/// The offset the group will start at (for the report).
fn committed_start(consumer: &StreamConsumer, job: &Job) -> i64 {
    let mut list = TopicPartitionList::new();
    list.add_partition(&job.input, 0);
    match consumer.committed_offsets(list, TXN_TIMEOUT).ok().and_then(|l| l.elements().first().map(|e| e.offset())) {
        Some(Offset::Offset(o)) => o,
        _ => 0,
    }
}

// ANCHOR: at_least_once
/// Running totals without transactions: write the batch's outputs, wait for them, then commit
/// the input offsets. A crash between the two repeats the batch's records on restart.
pub async fn run_at_least_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<RunStats> {
    let mut totals = restore_totals(env, &job.output).await?;
    let consumer = job_consumer(env, job)?;
    let producer: FutureProducer = kafka::producer_config(env).set("enable.idempotence", "true").create()?;
    let mut stats = RunStats { started_at: committed_start(&consumer, job), processed: 0 };
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(stats);
        }
        for message in &batch {
            let (key, amount) = amount(message)?;
            let total = add_to_total(&mut totals, &key, amount).to_string();
            producer.send_result(FutureRecord::to(&job.output).key(&key).payload(&total)).map_err(|(e, _)| e)?;
            crash.after_send(&producer)?;
            stats.processed += 1;
        }
        producer.flush(TXN_TIMEOUT).context("delivering the outputs")?;
        // Only now is the batch's output safe; record the progress.
        consumer.commit_consumer_state(CommitMode::Sync).context("committing input offsets")?;
    }
}
// ANCHOR_END: at_least_once

// ANCHOR: exactly_once
/// Running totals with transactions: the batch's outputs and its input offsets are committed
/// together, or not at all.
pub async fn run_exactly_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<RunStats> {
    let mut totals = restore_totals(env, &job.output).await?;
    let consumer = job_consumer(env, job)?;
    let producer: FutureProducer = kafka::producer_config(env)
        // Implies enable.idempotence=true and acks=all.
        .set("transactional.id", &job.transactional_id)
        // If we die mid-transaction, the coordinator aborts it after this long at the latest.
        .set("transaction.timeout.ms", "10000")
        .create()
        .context("creating the transactional producer")?;
    // Registers the id with the transaction coordinator: aborts whatever a previous instance with
    // the same id left open, and fences that instance off (its epoch is now stale).
    producer.init_transactions(TXN_TIMEOUT).context("initializing transactions")?;
    let mut stats = RunStats { started_at: committed_start(&consumer, job), processed: 0 };
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(stats);
        }
        producer.begin_transaction()?;
        for message in &batch {
            let (key, amount) = amount(message)?;
            let total = add_to_total(&mut totals, &key, amount).to_string();
            producer.send_result(FutureRecord::to(&job.output).key(&key).payload(&total)).map_err(|(e, _)| e)?;
            crash.after_send(&producer)?;
            stats.processed += 1;
        }
        // The input progress goes into the same transaction: the consumer's next offsets,
        // committed to the group only if the transaction commits.
        let positions = consumer.position()?;
        let group = consumer.group_metadata().context("the consumer has no group metadata")?;
        producer.send_offsets_to_transaction(&positions, &group, TXN_TIMEOUT)?;
        producer.commit_transaction(TXN_TIMEOUT).context("committing the transaction")?;
    }
}
// ANCHOR_END: exactly_once

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_per_key() {
        let mut totals = HashMap::new();
        assert_eq!(add_to_total(&mut totals, "alice", 10), 10);
        assert_eq!(add_to_total(&mut totals, "bob", 5), 5);
        assert_eq!(add_to_total(&mut totals, "alice", -3), 7);
    }

    #[test]
    fn a_crash_point_fires_once_at_its_count() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
        let crash = CrashPoint::after(2);
        assert!(crash.after_send(&producer).is_ok());
        assert!(crash.after_send(&producer).unwrap_err().to_string().contains("simulated crash after 2"));
        assert!(crash.after_send(&producer).is_ok());
        assert!(CrashPoint::never().after_send(&producer).is_ok());
    }

    #[test]
    fn a_crash_before_a_commit_strikes_before_the_producer_is_asked() {
        let env = Env::from_sources(|_| Some("127.0.0.1:1".into())).unwrap();
        let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
        let error = CrashPoint::before_commit(1).commit_transaction(&producer).unwrap_err();
        assert_eq!(error.to_string(), "simulated crash just before committing transaction 1");
    }
}
