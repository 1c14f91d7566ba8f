//! Chapter 6 exercises. Check them with `cargo xtask check ch06`.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::producer::FutureProducer;
use workbook_support::Env;

use ch06_processing::{CrashPoint, Job};

// ANCHOR: transactional_producer
/// A producer, ready to run transactions as the job instance `transactional_id`.
///
/// - Start from `workbook_support::kafka::producer_config(env)`.
/// - When it returns, the producer must be able to `begin_transaction()` at once.
/// - A restarted job calls this again with the same id: the new producer must fence off the
///   old one, so that the old one ("a zombie") can no longer commit anything.
pub fn transactional_producer(env: &Env, transactional_id: &str) -> Result<FutureProducer> {
    todo!("configure a transactional id and register it with the transaction coordinator")
}
// ANCHOR_END: transactional_producer

// ANCHOR: uppercase_exactly_once
/// Copies every record of `job.input` (one partition) to `job.output`: same key, value
/// upper-cased. Exactly once, even if this function is stopped halfway and run again.
///
/// - Consume as group `job.group`; produce as `job.transactional_id`; up to `job.batch` input
///   records per transaction.
/// - After sending each output record, call `crash.after_send(&producer)?`. A test uses it to
///   "crash" you in the middle of a batch, then runs your function again.
/// - Return the number of records this run processed once no input record has arrived for
///   2 seconds.
pub async fn uppercase_exactly_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    todo!("consume, and for each batch: begin, send, add the input offsets to the transaction, commit")
}
// ANCHOR_END: uppercase_exactly_once
