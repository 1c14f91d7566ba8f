//! Chapter 15 exercises: the reference solutions.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;
use workbook_support::{Env, kafka};

// ANCHOR: commit_on_revoke
/// Remembers, per partition, the offset after the last processed record (the next one to
/// read), and commits it for the partitions a rebalance takes away.
#[derive(Default)]
pub struct CommitOnRevoke {
    processed: Mutex<HashMap<(String, i32), i64>>,
}

impl CommitOnRevoke {
    /// The offsets to commit for everything processed from the partitions this member owns.
    fn offsets(&self) -> TopicPartitionList {
        let mut offsets = TopicPartitionList::new();
        for ((topic, partition), next) in self.processed.lock().unwrap().iter() {
            offsets.add_partition_offset(topic, *partition, Offset::Offset(*next)).unwrap();
        }
        offsets
    }

    /// The offsets to commit for the `revoked` partitions, forgotten here: once another member
    /// owns them, committing them again would move its position back.
    fn take(&self, revoked: &TopicPartitionList) -> TopicPartitionList {
        let mut processed = self.processed.lock().unwrap();
        let mut offsets = TopicPartitionList::new();
        for element in revoked.elements() {
            let (topic, partition) = (element.topic(), element.partition());
            if let Some(next) = processed.remove(&(topic.to_string(), partition)) {
                offsets.add_partition_offset(topic, partition, Offset::Offset(next)).unwrap();
            }
        }
        offsets
    }
}

impl ClientContext for CommitOnRevoke {}

impl ConsumerContext for CommitOnRevoke {
    // Runs inside recv() (or while the consumer closes), before librdkafka stops fetching the
    // revoked partitions, and before the next owner can be given them.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let Rebalance::Revoke(revoked) = rebalance else { return };
        let offsets = self.take(revoked);
        // Lost, not revoked: another member may own them already; a commit would be
        // rejected, or worse, move its position back.
        if consumer.assignment_lost() {
            return;
        }
        // Sync: the next owner reads the committed offset as soon as this callback returns.
        if offsets.count() > 0
            && let Err(e) = consumer.commit(&offsets, CommitMode::Sync)
        {
            eprintln!("committing revoked partitions failed: {e}");
        }
    }
}

pub async fn commit_on_revoke(
    env: &Env,
    topic: &str,
    group: &str,
    commit_every: usize,
    process: &mut dyn FnMut(&str) -> Result<()>,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let consumer: StreamConsumer<CommitOnRevoke> = kafka::client_config(env)
        .set("group.id", group)
        // A group with no committed offset starts at the topic's first record.
        .set("auto.offset.reset", "earliest")
        // This member commits itself: in batches, and when partitions are revoked.
        .set("enable.auto.commit", "false")
        .create_with_context(CommitOnRevoke::default())?;
    consumer.subscribe(&[topic]).context("subscribing")?;
    let mut count = 0;
    loop {
        let message = tokio::select! {
            _ = stop.changed() => return Ok(()),
            message = consumer.recv() => message.context("consuming")?,
        };
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        // A failure returns here: the record is not marked processed, so the revoke that
        // runs as the consumer closes commits only what came before it.
        process(&value)?;
        let key = (message.topic().to_string(), message.partition());
        consumer.context().processed.lock().unwrap().insert(key, message.offset() + 1);
        count += 1;
        if count % commit_every == 0 {
            consumer
                .commit(&consumer.context().offsets(), CommitMode::Sync)
                .context("committing")?;
        }
    }
}
// ANCHOR_END: commit_on_revoke

// ANCHOR: deploy_safe_config
pub fn deploy_safe_config(env: &Env, group: &str, name: &str, restart: Duration) -> ClientConfig {
    let mut config = kafka::client_config(env);
    config
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        // Revoke only what moves: a new instance takes partitions, the others keep the rest.
        .set("partition.assignment.strategy", "cooperative-sticky")
        // Static membership: the instance's name, the same at every start of it. A restart
        // within the session timeout gets the same partitions back, with no rebalance.
        .set("group.instance.id", name)
        // Longer than a restart, with room to spare. The price: an instance that dies for
        // good keeps its partitions idle this long before the coordinator moves them.
        .set("session.timeout.ms", (restart.as_millis() * 2).to_string());
    config
}
// ANCHOR_END: deploy_safe_config
