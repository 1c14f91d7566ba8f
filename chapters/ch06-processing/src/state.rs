//! The job's state: a running total per key, kept in the output topic and read back from it.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka};

use crate::TXN_TIMEOUT;

// ANCHOR: read_committed
/// Every record of `topic` (one partition) that a `read_committed` consumer sees, as
/// `(key, value)`, reading up to the end of the log: records of aborted transactions are
/// skipped, and so are open ones (the log stops, for this consumer, where the first open
/// transaction starts: the last stable offset).
pub async fn read_committed(env: &Env, topic: &str) -> Result<Vec<(String, String)>> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", "unused-we-assign")
        .set("enable.auto.commit", "false")
        // librdkafka's default, spelled out: the Java client's default is read_uncommitted.
        .set("isolation.level", "read_committed")
        .create()
        .context("creating a consumer")?;
    let (low, high) =
        consumer.fetch_watermarks(topic, 0, TXN_TIMEOUT).context("reading the log's end")?;
    let mut records = Vec::new();
    if low == high {
        return Ok(records);
    }
    let mut start = TopicPartitionList::new();
    start.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&start)?;
    loop {
        // The end of the log may be a transaction marker, which is never handed out as a
        // record: compare the consumer's position with the end offset, not the last offset seen.
        if let Some(Offset::Offset(position)) =
            consumer.position()?.find_partition(topic, 0).map(|p| p.offset())
            && position >= high
        {
            return Ok(records);
        }
        match tokio::time::timeout(Duration::from_millis(500), consumer.recv()).await {
            Ok(message) => {
                let message = message.context("reading")?;
                records.push((text(message.key()), text(message.payload())));
            }
            // Nothing more came, yet the position is not at the end: the rest is aborted
            // records and markers (or an open transaction) that read_committed skips.
            Err(_) => return Ok(records),
        }
    }
}
// ANCHOR_END: read_committed

pub(crate) fn text(bytes: Option<&[u8]>) -> String {
    String::from_utf8_lossy(bytes.unwrap_or_default()).into_owned()
}

// ANCHOR: totals
/// The stateful part: a running total per key. Returns the key's new total.
pub fn add_to_total(totals: &mut HashMap<String, i64>, key: &str, amount: i64) -> i64 {
    let total = totals.entry(key.to_string()).or_insert(0);
    *total += amount;
    *total
}

/// The state after a restart: the output topic is the changelog of the totals, so the last
/// total written for each key is that key's state (what Kafka Streams' state stores do with a
/// changelog topic, in miniature).
pub async fn restore_totals(env: &Env, output: &str) -> Result<HashMap<String, i64>> {
    let mut totals = HashMap::new();
    for (key, value) in read_committed(env, output).await? {
        totals.insert(
            key,
            value.parse().with_context(|| format!("a total that is not a number: {value:?}"))?,
        );
    }
    Ok(totals)
}
// ANCHOR_END: totals

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_up_per_key() {
        let mut totals = HashMap::new();
        assert_eq!(add_to_total(&mut totals, "alice", 10), 10);
        assert_eq!(add_to_total(&mut totals, "bob", 5), 5);
        assert_eq!(add_to_total(&mut totals, "alice", -3), 7);
    }
}
