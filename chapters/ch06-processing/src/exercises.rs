//! Chapter 6 exercises. Check them with `cargo xtask check ch06`.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::producer::FutureProducer;
use workbook_support::Env;

use ch06_processing::{CrashPoint, Job};

// ANCHOR: transactional_producer
/// A transactional producer for the instance of job `job` that works on input partition
/// `partition`, ready to run transactions.
///
/// - Start from `workbook_support::kafka::producer_config(env)`.
/// - When it returns, the producer must be able to `begin_transaction()` at once.
/// - A job runs one instance per input partition, and other jobs run too: the producers of all
///   these instances work side by side, and creating one must not stop another from committing.
/// - When the instance of a partition restarts (this function is called again with the same job
///   and partition), the new producer must fence off the old one, so that the old one (a
///   "zombie") can no longer commit anything, and must abort what the old one left open.
pub fn transactional_producer(env: &Env, job: &str, partition: i32) -> Result<FutureProducer> {
    todo!(
        "give each instance a transactional id of its own, \
         and register it with the transaction coordinator"
    )
}
// ANCHOR_END: transactional_producer

// ANCHOR: uppercase_exactly_once
/// Copies every record of `job.input` (one partition) to `job.output`: same key, value
/// upper-cased. Exactly once, even if this function is stopped halfway and run again.
///
/// - Consume as group `job.group`; produce with a transactional producer for job
///   `job.transactional_id` and input partition 0 (your `transactional_producer` makes one); up
///   to `job.batch` input records per transaction.
/// - After sending each output record, call `crash.after_send(&producer)?`, and commit each
///   transaction with `crash.commit_transaction(&producer)?` (it calls the producer's
///   `commit_transaction`). A test uses them to "crash" you in the middle of a batch, or just
///   before or just after a commit, then runs your function again.
/// - Return the number of records this run processed once no input record has arrived for
///   2 seconds.
pub async fn uppercase_exactly_once(env: &Env, job: &Job, crash: &CrashPoint) -> Result<usize> {
    todo!(
        "consume, and for each batch: begin, send, put the input offsets in the transaction, commit"
    )
}
// ANCHOR_END: uppercase_exactly_once
