//! Chapter 6 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use workbook_support::{Env, kafka};

use ch06_processing::{CrashPoint, Job, TXN_TIMEOUT};

// ANCHOR: transactional_producer
pub fn transactional_producer(env: &Env, job: &str, partition: i32) -> Result<FutureProducer> {
    let producer: FutureProducer = kafka::producer_config(env)
        // One id per job instance: the same on every start of that instance, which is what lets
        // the coordinator recognize (and fence) its previous incarnation; different from every
        // other instance, which would otherwise fence this one. No random part, no process id.
        .set("transactional.id", format!("{job}-partition-{partition}"))
        .set("transaction.timeout.ms", "10000")
        .create()
        .context("creating the producer")?;
    // Gets a producer id and a new epoch for this transactional id, aborts the previous
    // instance's open transaction, and fences that instance.
    producer.init_transactions(TXN_TIMEOUT).context("initializing transactions")?;
    Ok(producer)
}
// ANCHOR_END: transactional_producer

// ANCHOR: uppercase_exactly_once
pub async fn uppercase_exactly_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    let consumer: StreamConsumer = kafka::group_config(env, &job.group)
        // A new job reads its input from the start.
        .set("auto.offset.reset", "earliest")
        // Offsets are committed inside the transaction, never on their own.
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[&job.input])?;
    let producer = transactional_producer(env, &job.transactional_id, 0)?;
    let mut processed = 0;
    loop {
        let mut batch = Vec::new();
        while batch.len() < job.batch {
            let wait =
                if batch.is_empty() { Duration::from_secs(2) } else { Duration::from_millis(200) };
            match tokio::time::timeout(wait, consumer.recv()).await {
                Ok(message) => batch.push(message?.detach()),
                Err(_) => break,
            }
        }
        if batch.is_empty() {
            return Ok(processed);
        }
        producer.begin_transaction()?;
        for message in &batch {
            let value =
                String::from_utf8_lossy(message.payload().unwrap_or_default()).to_uppercase();
            let mut record = FutureRecord::to(&job.output).payload(&value);
            if let Some(key) = message.key() {
                record = record.key(key);
            }
            producer.send_result(record).map_err(|(e, _)| e)?;
            // A crash here leaves an open transaction; the rerun's init_transactions aborts it.
            crash.after_send(&producer)?;
        }
        // The input progress joins the transaction: committed to the group if, and only if,
        // the outputs are.
        let group = consumer.group_metadata().context("no group metadata")?;
        producer.send_offsets_to_transaction(&consumer.position()?, &group, TXN_TIMEOUT)?;
        crash.commit_transaction(&producer)?;
        processed += batch.len();
    }
}
// ANCHOR_END: uppercase_exactly_once
