//! The job: read amounts, add them up per key, write each new total; crash it and run it again.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

use crate::state::{add_to_total, restore_totals, text};
use crate::{CrashPoint, Job, TXN_TIMEOUT};

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
    let consumer: StreamConsumer = kafka::group_config(env, &job.group)
        // The first run of a job reads its input from the start.
        .set("auto.offset.reset", "earliest")
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
    match consumer
        .committed_offsets(list, TXN_TIMEOUT)
        .ok()
        .and_then(|l| l.elements().first().map(|e| e.offset()))
    {
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
    let producer: FutureProducer =
        kafka::producer_config(env).set("enable.idempotence", "true").create()?;
    let mut stats = RunStats { started_at: committed_start(&consumer, job), processed: 0 };
    loop {
        let batch = next_batch(&consumer, job).await?;
        if batch.is_empty() {
            return Ok(stats);
        }
        for message in &batch {
            let (key, amount) = amount(message)?;
            let total = add_to_total(&mut totals, &key, amount).to_string();
            producer
                .send_result(FutureRecord::to(&job.output).key(&key).payload(&total))
                .map_err(|(e, _)| e)?;
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
            producer
                .send_result(FutureRecord::to(&job.output).key(&key).payload(&total))
                .map_err(|(e, _)| e)?;
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
