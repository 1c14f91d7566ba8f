//! Chapter 6: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Message};
use workbook_support::{Env, kafka, mistakes, names};

use ch06_processing::{CrashPoint, Job, TXN_TIMEOUT};

pub fn transactional_producer(env: &Env, job: &str, partition: i32) -> Result<FutureProducer> {
    match mistakes::chosen().as_deref() {
        None => solution::transactional_producer(env, job, partition),
        Some("no_init_transactions") => no_init_transactions(env, job, partition),
        Some("random_transactional_id") => random_transactional_id(env, job, partition),
        Some("same_id_for_every_partition") => same_id_for_every_partition(env, job),
        Some("id_without_the_job") => id_without_the_job(env, partition),
        Some(other) => mistakes::unknown("transactional_producer", other),
    }
}

fn transactional_config(env: &Env, transactional_id: &str) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config.set("transactional.id", transactional_id).set("transaction.timeout.ms", "10000");
    config
}

/// Mistake: sets the transactional id but never calls `init_transactions`, so the producer has no
/// producer id and epoch yet, and `begin_transaction` fails.
fn no_init_transactions(env: &Env, job: &str, partition: i32) -> Result<FutureProducer> {
    Ok(transactional_config(env, &format!("{job}-partition-{partition}")).create()?)
}

/// Mistake: makes the id unique per start (a random suffix, "to avoid clashes"). A restarted
/// instance then has a new id, so nothing fences the old one, and its open transaction stays open.
fn random_transactional_id(env: &Env, job: &str, partition: i32) -> Result<FutureProducer> {
    let producer: FutureProducer =
        transactional_config(env, &names::unique(&format!("{job}-partition-{partition}")))
            .create()?;
    producer.init_transactions(TXN_TIMEOUT)?;
    Ok(producer)
}

/// Mistake: one id for the whole job. Every instance's `init_transactions` fences the instance
/// that registered the id before it, so the job's instances keep killing each other.
fn same_id_for_every_partition(env: &Env, job: &str) -> Result<FutureProducer> {
    let producer: FutureProducer = transactional_config(env, job).create()?;
    producer.init_transactions(TXN_TIMEOUT)?;
    Ok(producer)
}

/// Mistake: the id names the partition but not the job, so partition 0's instance of one job
/// fences partition 0's instance of every other job.
fn id_without_the_job(env: &Env, partition: i32) -> Result<FutureProducer> {
    let producer: FutureProducer =
        transactional_config(env, &format!("ch06-partition-{partition}")).create()?;
    producer.init_transactions(TXN_TIMEOUT)?;
    Ok(producer)
}

pub async fn uppercase_exactly_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    match mistakes::chosen().as_deref() {
        None => solution::uppercase_exactly_once(env, job, crash).await,
        Some("consumer_commit_after_transaction") => {
            consumer_commit_after_transaction(env, job, crash).await
        }
        Some("consumer_commit_before_transaction") => {
            consumer_commit_before_transaction(env, job, crash).await
        }
        Some("auto_commit_left_on") => auto_commit_left_on(env, job, crash).await,
        Some("offsets_never_committed") => offsets_never_committed(env, job, crash).await,
        Some(other) => mistakes::unknown("uppercase_exactly_once", other),
    }
}

fn job_consumer(env: &Env, job: &Job, auto_commit: bool) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::group_config(env, &job.group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", auto_commit.to_string())
        .create()?;
    consumer.subscribe(&[&job.input])?;
    Ok(consumer)
}

/// Up to `job.batch` records: waits 2 s for the first, then takes what comes within 200 ms.
async fn next_batch(consumer: &StreamConsumer, job: &Job) -> Result<Vec<OwnedMessage>> {
    let mut batch = Vec::new();
    while batch.len() < job.batch {
        let wait =
            if batch.is_empty() { Duration::from_secs(2) } else { Duration::from_millis(200) };
        match tokio::time::timeout(wait, consumer.recv()).await {
            Ok(message) => batch.push(message?.detach()),
            Err(_) => break,
        }
    }
    Ok(batch)
}

/// Begins a transaction and sends the batch's upper-cased outputs in it.
fn send_outputs(
    producer: &FutureProducer,
    job: &Job,
    batch: &[OwnedMessage],
    crash: &CrashPoint,
) -> Result<()> {
    producer.begin_transaction()?;
    for message in batch {
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default()).to_uppercase();
        let mut record = FutureRecord::to(&job.output).payload(&value);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        producer.send_result(record).map_err(|(e, _)| e)?;
        crash.after_send(producer)?;
    }
    Ok(())
}

/// Mistake: commits the transaction, then the input offsets with the consumer (what the page
/// warns about). A crash between the two leaves outputs committed and inputs not: the restart
/// processes the batch again, and its outputs appear twice.
async fn consumer_commit_after_transaction(
    env: &Env,
    job: &Job,
    crash: &CrashPoint,
) -> Result<usize> {
    let consumer = job_consumer(env, job, false)?;
    let producer = solution::transactional_producer(env, &job.transactional_id, 0)?;
    let mut processed = 0;
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(processed);
        }
        send_outputs(&producer, job, &batch, crash)?;
        crash.commit_transaction(&producer)?;
        consumer.commit_consumer_state(CommitMode::Sync).context("committing input offsets")?;
        processed += batch.len();
    }
}

/// Mistake: commits the input offsets with the consumer first, then the transaction. A crash
/// between the two leaves inputs marked done whose outputs were aborted: they are lost.
async fn consumer_commit_before_transaction(
    env: &Env,
    job: &Job,
    crash: &CrashPoint,
) -> Result<usize> {
    let consumer = job_consumer(env, job, false)?;
    let producer = solution::transactional_producer(env, &job.transactional_id, 0)?;
    let mut processed = 0;
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(processed);
        }
        send_outputs(&producer, job, &batch, crash)?;
        consumer.commit_consumer_state(CommitMode::Sync).context("committing input offsets")?;
        crash.commit_transaction(&producer)?;
        processed += batch.len();
    }
}

/// Mistake: sends the offsets to the transaction, but leaves the consumer's auto-commit on. It
/// commits what was handed out, in the background and when the consumer closes after a crash,
/// so the inputs of an aborted transaction count as done: their outputs are lost.
async fn auto_commit_left_on(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    let consumer = job_consumer(env, job, true)?;
    let producer = solution::transactional_producer(env, &job.transactional_id, 0)?;
    let mut processed = 0;
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(processed);
        }
        send_outputs(&producer, job, &batch, crash)?;
        let group = consumer.group_metadata().context("no group metadata")?;
        producer.send_offsets_to_transaction(&consumer.position()?, &group, TXN_TIMEOUT)?;
        crash.commit_transaction(&producer)?;
        processed += batch.len();
    }
}

/// Mistake: commits the outputs in transactions but never records the input progress, so every
/// restart processes the input from the beginning again.
async fn offsets_never_committed(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    let consumer = job_consumer(env, job, false)?;
    let producer = solution::transactional_producer(env, &job.transactional_id, 0)?;
    let mut processed = 0;
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(processed);
        }
        send_outputs(&producer, job, &batch, crash)?;
        crash.commit_transaction(&producer)?;
        processed += batch.len();
    }
}
