//! Compacted topics: the broker keeps the latest record of each key and forgets deleted keys.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::{Env, kafka, wait};

use crate::log::{Log, TIMEOUT, read_log};

// ANCHOR: config
/// Topic configs that make the broker compact within seconds, for a demo. A production changelog
/// keeps the defaults of the last three (7-day segments, 50% dirty, tombstones kept a day): the
/// cleaner then runs rarely, on big segments.
pub fn demo_compaction() -> Vec<(&'static str, &'static str)> {
    vec![
        // Keep the latest record of each key, instead of deleting old segments by age.
        ("cleanup.policy", "compact"),
        // A record is never compacted while it sits in the partition's active (last) segment. The
        // first write at least 100 ms after a segment began starts a new one.
        ("segment.ms", "100"),
        // Clean as soon as 1% of the log is dirty (written since the last cleaning); default 50%.
        ("min.cleanable.dirty.ratio", "0.01"),
        // Any record in a closed segment may go (the default, 0, said out loud).
        ("min.compaction.lag.ms", "0"),
        // A tombstone stays this long after its first cleaning, for readers that are behind.
        ("delete.retention.ms", "5000"),
    ]
}
// ANCHOR_END: config

/// Creates `topic` with `partitions` partitions and these topic configs.
pub async fn create_topic_with(
    env: &Env,
    topic: &str,
    partitions: i32,
    configs: &[(&str, &str)],
) -> Result<()> {
    let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    for (name, value) in configs {
        new_topic = new_topic.set(name, value);
    }
    let options = AdminOptions::new().request_timeout(Some(TIMEOUT));
    let results = kafka::admin(env)?
        .create_topics(&[new_topic], &options)
        .await
        .with_context(|| format!("creating topic {topic}"))?;
    for result in results {
        result.map_err(|(name, code)| anyhow!("creating topic {name}: {code}"))?;
    }
    Ok(())
}

// ANCHOR: wait_for_log
/// Reads partition 0 of `topic` every second until `done` says yes; returns that log and how
/// long it took. The log cleaner is a broker thread that looks for work every 15 s
/// (`log.cleaner.backoff.ms`) when it has none: compaction is seconds away, not instant.
pub async fn wait_for_log(
    env: &Env,
    topic: &str,
    what: &str,
    timeout: Duration,
    done: impl Fn(&Log) -> bool,
) -> Result<(Log, Duration)> {
    println!("waiting for {what} (up to {} s)", timeout.as_secs());
    let started = Instant::now();
    let log = wait::until(what, timeout, Duration::from_secs(1), || async {
        let log = read_log(env, topic).await?;
        Ok(done(&log).then_some(log))
    })
    .await?;
    Ok((log, started.elapsed()))
}
// ANCHOR_END: wait_for_log
