//! Chapter 15: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;
use workbook_support::{Env, kafka, mistakes, names};

pub async fn commit_on_revoke(
    env: &Env,
    topic: &str,
    group: &str,
    commit_every: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    let run = Run { env, topic, group, commit_every };
    match mistakes::chosen().as_deref() {
        None => solution::commit_on_revoke(env, topic, group, commit_every, process, stop).await,
        Some("no_commit_on_revoke") => no_commit_on_revoke(run, process, stop).await,
        Some("commits_the_offset_read") => commits_the_offset_read(run, process, stop).await,
        Some("commits_the_position_on_revoke") => {
            commits_the_position_on_revoke(run, process, stop).await
        }
        Some("marks_before_processing") => marks_before_processing(run, process, stop).await,
        Some("commits_every_record") => commits_every_record(run, process, stop).await,
        Some("commits_on_stop_not_on_revoke") => {
            commits_on_stop_not_on_revoke(run, process, stop).await
        }
        Some(other) => mistakes::unknown("commit_on_revoke", other),
    }
}

/// The arguments every variant shares.
struct Run<'a> {
    env: &'a Env,
    topic: &'a str,
    group: &'a str,
    commit_every: usize,
}

type Process<'a> = &'a mut dyn FnMut(&str) -> Result<()>;

/// Mistake: commits after every `commit_every` records only, never when partitions are
/// revoked: what was processed since the last batch is processed again by the next owner.
async fn no_commit_on_revoke(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::NoCommitOnRevoke).await
}

/// Mistake: commits the last processed record's own offset, in batches and on revoke. A
/// committed offset is the next record to read, so the next owner repeats that record.
async fn commits_the_offset_read(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::CommitsTheOffsetRead).await
}

/// Mistake: commits the consumer's position (`commit_consumer_state`) in batches and on revoke.
/// With auto offset store on, that counts every record handed out, including one whose
/// processing failed: the next owner skips it.
async fn commits_the_position_on_revoke(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::CommitsThePosition).await
}

/// Mistake: marks a record processed before calling `process`. When `process` fails, the revoke
/// that runs as the consumer closes commits the failed record as done: it is lost.
async fn marks_before_processing(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::MarksBeforeProcessing).await
}

/// Mistake: commits after every record (and so never needs the revoke): no record lost or
/// repeated, but a round trip per record, which this service cannot afford.
async fn commits_every_record(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::CommitsEveryRecord).await
}

/// Mistake: commits in batches and once more when told to stop, but not when a rebalance
/// revokes partitions: the member that takes them over repeats what was processed since the
/// last batch.
async fn commits_on_stop_not_on_revoke(
    run: Run<'_>,
    process: Process<'_>,
    stop: watch::Receiver<bool>,
) -> Result<()> {
    consume(run, process, stop, How::CommitsOnStop).await
}

/// Which mistake [`consume`] makes; otherwise it is the reference solution.
#[derive(Clone, Copy, PartialEq, Eq)]
enum How {
    NoCommitOnRevoke,
    CommitsTheOffsetRead,
    CommitsThePosition,
    MarksBeforeProcessing,
    CommitsEveryRecord,
    CommitsOnStop,
}

struct Variant {
    how: How,
    processed: Mutex<HashMap<(String, i32), i64>>,
}

impl Variant {
    fn offsets(&self, only: Option<&TopicPartitionList>) -> TopicPartitionList {
        let mut processed = self.processed.lock().unwrap();
        let mut offsets = TopicPartitionList::new();
        let keys: Vec<(String, i32)> = processed
            .keys()
            .filter(|(t, p)| only.is_none_or(|list| list.find_partition(t, *p).is_some()))
            .cloned()
            .collect();
        for key in keys {
            let next =
                if only.is_some() { processed.remove(&key).unwrap() } else { processed[&key] };
            let offset = if self.how == How::CommitsTheOffsetRead { next - 1 } else { next };
            offsets.add_partition_offset(&key.0, key.1, Offset::Offset(offset)).unwrap();
        }
        offsets
    }
}

impl ClientContext for Variant {}

impl ConsumerContext for Variant {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else { return };
        let offsets = self.offsets(Some(revoked));
        if consumer.assignment_lost() {
            return;
        }
        let result = match self.how {
            How::NoCommitOnRevoke | How::CommitsEveryRecord | How::CommitsOnStop => return,
            How::CommitsThePosition => consumer.commit_consumer_state(CommitMode::Sync),
            _ if offsets.count() == 0 => return,
            _ => consumer.commit(&offsets, CommitMode::Sync),
        };
        match result {
            Ok(()) | Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => {}
            Err(e) => eprintln!("committing revoked partitions failed: {e}"),
        }
    }
}

async fn consume(
    run: Run<'_>,
    process: Process<'_>,
    mut stop: watch::Receiver<bool>,
    how: How,
) -> Result<()> {
    let Run { env, topic, group, commit_every } = run;
    let context = Variant { how, processed: Mutex::default() };
    let consumer: StreamConsumer<Variant> = kafka::client_config(env)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create_with_context(context)?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let mut count = 0;
    loop {
        let message = tokio::select! {
            _ = stop.changed() => {
                if how == How::CommitsOnStop {
                    consumer.commit(&consumer.context().offsets(None), CommitMode::Sync)?;
                }
                return Ok(());
            }
            message = consumer.recv() => message.context("consuming")?,
        };
        if how == How::MarksBeforeProcessing {
            mark(&consumer, &message);
        }
        process(&String::from_utf8_lossy(message.payload().unwrap_or_default()))?;
        mark(&consumer, &message);
        count += 1;
        if how == How::CommitsEveryRecord {
            consumer.commit_message(&message, CommitMode::Sync).context("committing")?;
        } else if count % commit_every == 0 {
            match how {
                How::CommitsThePosition => consumer.commit_consumer_state(CommitMode::Sync)?,
                _ => consumer.commit(&consumer.context().offsets(None), CommitMode::Sync)?,
            }
        }
    }
}

fn mark(consumer: &StreamConsumer<Variant>, message: &BorrowedMessage<'_>) {
    let key = (message.topic().to_string(), message.partition());
    consumer.context().processed.lock().unwrap().insert(key, message.offset() + 1);
}

pub fn deploy_safe_config(env: &Env, group: &str, name: &str, restart: Duration) -> ClientConfig {
    match mistakes::chosen().as_deref() {
        None => solution::deploy_safe_config(env, group, name, restart),
        Some("static_but_eager") => static_but_eager(env, group, name, restart),
        Some("no_instance_id") => no_instance_id(env, group, name, restart),
        Some("instance_id_per_process") => instance_id_per_process(env, group, name, restart),
        Some("session_timeout_ignores_restart") => {
            session_timeout_ignores_restart(env, group, name, restart)
        }
        Some(other) => mistakes::unknown("deploy_safe_config", other),
    }
}

/// Mistake: static membership with a long enough session, but the default assignors (`range`,
/// `roundrobin`) are eager: every rebalance, a scale-out too, revokes every partition.
fn static_but_eager(env: &Env, group: &str, instance: &str, restart: Duration) -> ClientConfig {
    let mut config = solution::deploy_safe_config(env, group, instance, restart);
    config.remove("partition.assignment.strategy");
    config
}

/// Mistake: cooperative-sticky, but no `group.instance.id`: a restarting instance leaves the
/// group and joins again, two rebalances that move its partitions away and back.
fn no_instance_id(env: &Env, group: &str, instance: &str, restart: Duration) -> ClientConfig {
    let mut config = solution::deploy_safe_config(env, group, instance, restart);
    config.remove("group.instance.id");
    config
}

/// Mistake: a `group.instance.id` made unique per process, like a client id: the restarted
/// instance is a new static member, and the old one holds its partitions until it expires.
fn instance_id_per_process(
    env: &Env,
    group: &str,
    instance: &str,
    restart: Duration,
) -> ClientConfig {
    let mut config = solution::deploy_safe_config(env, group, instance, restart);
    config.set("group.instance.id", names::unique(instance));
    config
}

/// Mistake: static and cooperative, but the session timeout copied from chapter 5 (10 s), shorter
/// than a restart: the coordinator declares the instance dead while it is down.
fn session_timeout_ignores_restart(
    env: &Env,
    group: &str,
    instance: &str,
    restart: Duration,
) -> ClientConfig {
    let mut config = solution::deploy_safe_config(env, group, instance, restart);
    config.set("session.timeout.ms", "10000");
    config
}
