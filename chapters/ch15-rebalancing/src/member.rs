//! Group members as the demo and the tests run them: each in its own task, polling.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{Consumer, StreamConsumer};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use workbook_support::wait;

use crate::timeline::{Timeline, Watch};

/// A consumer whose rebalance callbacks go to a [`Timeline`].
pub type WatchedConsumer = StreamConsumer<Watch>;

/// One member of a group, consuming in a task of its own.
pub struct Member {
    pub name: String,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<usize>>,
}

impl Member {
    /// Creates a consumer from `config`, subscribes it to `topic` and keeps polling it.
    pub fn start(
        config: &ClientConfig,
        name: &str,
        topic: &str,
        timeline: &Timeline,
    ) -> Result<Member> {
        let context = Watch { member: name.to_string(), timeline: timeline.clone() };
        // The client id names the member in the broker's view (kafka-consumer-groups).
        let consumer: WatchedConsumer = config
            .clone()
            .set("client.id", name)
            .create_with_context(context)
            .with_context(|| format!("creating member {name}"))?;
        // Joining happens in the background; the callbacks run inside recv().
        consumer.subscribe(&[topic]).context("subscribing")?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(consume(consumer, stopped));
        Ok(Member { name: name.to_string(), stop, task })
    }

    /// Closes the consumer (as a clean shutdown or a deploy does); returns the records it read.
    pub async fn stop(self) -> Result<usize> {
        let _ = self.stop.send(true);
        self.task.await.with_context(|| format!("member {} panicked", self.name))?
    }
}

// ANCHOR: member
/// A member's life: poll until told to stop, then close.
async fn consume(consumer: WatchedConsumer, mut stopped: watch::Receiver<bool>) -> Result<usize> {
    let mut records = 0;
    loop {
        // A member that stops polling for max.poll.interval.ms is thrown out of the group,
        // and its rebalance callbacks never run: keep calling recv().
        tokio::select! {
            _ = stopped.changed() => break,
            message = consumer.recv() => {
                message.context("consuming")?;
                records += 1;
            }
        }
    }
    // Dropping the consumer closes it: it revokes its partitions (the callback runs) and
    // leaves the group, unless it is a static member. Closing blocks: not on this task.
    tokio::task::spawn_blocking(move || drop(consumer)).await?;
    Ok(records)
}
// ANCHOR_END: member

/// Waits until `members` own all `partitions` partitions between them, each one once.
pub async fn wait_settled(
    timeline: &Timeline,
    members: &[&str],
    partitions: i32,
    timeout: Duration,
) -> Result<()> {
    let what =
        format!("members {} to own the {partitions} partitions between them", members.join(", "));
    wait::until(&what, timeout, Duration::from_millis(50), || async {
        Ok(timeline.settled(members, partitions).then_some(()))
    })
    .await
}
