//! A partition record by record, with its offsets: how this chapter shows what compaction and
//! retention removed.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::{Env, kafka, names};

/// How long one broker request of this chapter may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// One record as the broker stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub offset: i64,
    pub key: String,
    /// `None`: a tombstone, a record with a key and no value at all.
    pub value: Option<String>,
}

/// Partition 0 of a topic, from its first stored record to its high watermark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Log {
    /// The log start offset (low watermark): the first offset still stored.
    pub low: i64,
    /// The high watermark: the offset the next record will get (one broker: the log end offset).
    pub high: i64,
    pub entries: Vec<Entry>,
}

impl Log {
    /// The records of `key`, oldest first.
    pub fn of(&self, key: &str) -> Vec<&Entry> {
        self.entries.iter().filter(|e| e.key == key).collect()
    }
}

// ANCHOR: write
/// Writes `key` → `value` and returns the record's offset. `None` writes a tombstone: the key
/// with no value at all (not an empty one), which on a compacted topic means "delete this key".
pub async fn write(
    producer: &FutureProducer,
    topic: &str,
    key: &str,
    value: Option<&str>,
) -> Result<i64> {
    let mut record = FutureRecord::<str, str>::to(topic).key(key);
    if let Some(value) = value {
        record = record.payload(value);
    }
    let delivered = producer
        .send(record, TIMEOUT)
        .await
        .map_err(|(e, _)| e)
        .with_context(|| format!("writing {key} to {topic}"))?;
    Ok(delivered.offset)
}
// ANCHOR_END: write

// ANCHOR: read_log
/// Reads partition 0 of `topic` from its first stored record up to its high watermark now.
pub async fn read_log(env: &Env, topic: &str) -> Result<Log> {
    let consumer: StreamConsumer = kafka::client_config(env)
        .set("group.id", names::unique("ch16-log-reader")) // librdkafka wants one; never joined
        .set("enable.auto.commit", "false")
        .create()
        .context("creating a consumer")?;
    // Compaction never moves the low watermark: it removes records *inside* the log. Only
    // retention and kafka-delete-records move it.
    let (low, high) = consumer
        .fetch_watermarks(topic, 0, TIMEOUT)
        .with_context(|| format!("watermarks of {topic}"))?;
    let mut entries = Vec::new();
    if high > low {
        let mut start = TopicPartitionList::new();
        start.add_partition_offset(topic, 0, Offset::Beginning)?;
        consumer.assign(&start).context("assigning partition 0")?;
        loop {
            let message =
                tokio::time::timeout(TIMEOUT, consumer.recv()).await.with_context(|| {
                    format!("no record of {topic} within {} s", TIMEOUT.as_secs())
                })??;
            entries.push(Entry {
                offset: message.offset(),
                key: text(message.key()).unwrap_or_default(),
                value: text(message.payload()),
            });
            // The last record before the high watermark is the newest: stop there.
            if message.offset() + 1 >= high {
                break;
            }
        }
    }
    Ok(Log { low, high, entries })
}
// ANCHOR_END: read_log

fn text(bytes: Option<&[u8]>) -> Option<String> {
    bytes.map(|b| String::from_utf8_lossy(b).into_owned())
}

/// One line per record, as the book shows them.
pub fn describe(entry: &Entry) -> String {
    match &entry.value {
        Some(value) => format!("offset {:>3}  {:<6} = {value:?}", entry.offset, entry.key),
        None => format!("offset {:>3}  {:<6}   (tombstone: no value)", entry.offset, entry.key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tombstone_is_shown_as_such() {
        let bob = Entry { offset: 5, key: "bob".into(), value: None };
        assert_eq!(describe(&bob), "offset   5  bob      (tombstone: no value)");
        let empty = Entry { offset: 6, key: "carol".into(), value: Some(String::new()) };
        assert_eq!(describe(&empty), "offset   6  carol  = \"\"");
    }
}
