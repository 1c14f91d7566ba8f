//! What the partition really holds, compared with what the producer was told.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, names};

use crate::Ack;

// ANCHOR: verdict
/// The producer's view compared with what the partition really holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub sent: usize,
    pub acknowledged: usize,
    pub failed: usize,
    pub read: usize,
    /// Acknowledged, but not in the partition: the one thing that must never happen.
    pub lost: Vec<u64>,
    /// In the partition more than once (a retry that wrote the record again).
    pub duplicated: Vec<u64>,
    /// Reported failed, yet in the partition (the write landed but its answer was lost).
    pub failed_but_written: Vec<u64>,
}

/// Compares the producer's delivery reports with the records read back from the partition.
pub fn verdict(acks: &[Ack], read: &[String]) -> Verdict {
    let mut copies: BTreeMap<u64, usize> = BTreeMap::new();
    for value in read {
        if let Ok(seq) = value.parse::<u64>() {
            *copies.entry(seq).or_default() += 1;
        }
    }
    let acknowledged: Vec<u64> = acks.iter().filter(|a| a.result.is_ok()).map(|a| a.seq).collect();
    let failed: Vec<u64> = acks.iter().filter(|a| a.result.is_err()).map(|a| a.seq).collect();
    Verdict {
        sent: acks.len(),
        acknowledged: acknowledged.len(),
        failed: failed.len(),
        read: copies.values().sum(),
        lost: acknowledged.iter().copied().filter(|seq| !copies.contains_key(seq)).collect(),
        duplicated: copies.iter().filter(|(_, n)| **n > 1).map(|(seq, _)| *seq).collect(),
        failed_but_written: failed.iter().copied().filter(|seq| copies.contains_key(seq)).collect(),
    }
}
// ANCHOR_END: verdict

// ANCHOR: read_all
/// Reads partition 0 of `topic` from its first offset up to its high watermark (the end of
/// what the in-sync replicas all have, which is all a consumer may see), without a group.
pub fn read_all(env: &Env, topic: &str, timeout: Duration) -> Result<Vec<String>> {
    // Assigned, not subscribed: the group only names the reader; it joins
    // nothing and commits nothing.
    let consumer: BaseConsumer = kafka::group_config(env, &names::unique("ch13-read"))
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a consumer")?;
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, timeout)
        .context("asking the leader for the watermarks")?;
    let mut values = Vec::new();
    if high <= low {
        return Ok(values);
    }
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let deadline = Instant::now() + timeout;
    let mut last_error = None;
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(message)) => {
                values.push(
                    String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned(),
                );
                if message.offset() + 1 >= high {
                    return Ok(values);
                }
            }
            // Errors such as "broker transport failure" (a connection to a dead broker) are
            // reports, not the end: the consumer carries on with the brokers that answer.
            Some(Err(error)) => last_error = Some(error),
            None => {}
        }
    }
    bail!(
        "read {} of the records up to offset {high} within {} s (last error: {last_error:?})",
        values.len(),
        timeout.as_secs()
    )
}
// ANCHOR_END: read_all

/// The partition's first offset and its high watermark (the offset after the last record
/// consumers may read), as the leader reports them.
pub fn watermarks(env: &Env, topic: &str) -> Result<(i64, i64)> {
    let consumer: BaseConsumer = kafka::client_config(env).create().context("creating a client")?;
    consumer
        .fetch_watermarks(topic, 0, Duration::from_secs(10))
        .context("asking the leader for the watermarks")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u64, ok: bool) -> Ack {
        let result = if ok { Ok(seq as i64) } else { Err("timed out".to_string()) };
        Ack { seq, sent_at: Duration::ZERO, done_at: Duration::ZERO, result }
    }

    #[test]
    fn the_verdict_finds_lost_duplicated_and_failed_but_written_records() {
        let acks = [ack(0, true), ack(1, true), ack(2, false), ack(3, true)];
        let read: Vec<String> =
            ["0", "1", "1", "2", "probe"].iter().map(|s| s.to_string()).collect();
        let v = verdict(&acks, &read);
        assert_eq!((v.sent, v.acknowledged, v.failed, v.read), (4, 3, 1, 4));
        assert_eq!(v.lost, vec![3]);
        assert_eq!(v.duplicated, vec![1]);
        assert_eq!(v.failed_but_written, vec![2]);
    }
}
