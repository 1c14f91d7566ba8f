//! Reading the order topic back: one record as every consumer of the events sees it.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Headers};
use serde_json::Value;
use workbook_support::{Env, kafka};

// ANCHOR: record
/// One record of an order topic, read back: what every consumer of the events sees.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    /// The `id` header (the event id), when present.
    pub event_id: Option<String>,
    /// The `eventType` header, when present.
    pub event_type: Option<String>,
    /// The value, unwrapped from the JsonConverter's `{"schema": ..., "payload": ...}` envelope if
    /// it has one.
    pub payload: Value,
}

pub fn event_record(message: &BorrowedMessage<'_>) -> Result<EventRecord> {
    let header = |name: &str| {
        message.headers().and_then(|headers| {
            headers.iter().find(|h| h.key == name).and_then(|h| {
                h.value.map(|v| String::from_utf8_lossy(v).trim_matches('"').to_string())
            })
        })
    };
    let value: Value = serde_json::from_slice(message.payload().unwrap_or(b"null"))
        .context("a value that is not JSON")?;
    let payload = match value.get("payload") {
        Some(payload) if value.get("schema").is_some() => payload.clone(),
        _ => value,
    };
    Ok(EventRecord {
        partition: message.partition(),
        offset: message.offset(),
        key: String::from_utf8_lossy(message.key().unwrap_or_default()).to_string(),
        event_id: header("id"),
        event_type: header("eventType"),
        payload,
    })
}
// ANCHOR_END: record

/// A consumer of `topic` from its first record, in a group of its own.
pub fn subscribe(env: &Env, topic: &str, group: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::group_config(env, group)
        // A new group has no committed offset: start at the topic's first record, not at its end
        // (the default, `latest`, would skip the events written before the group joined).
        .set("auto.offset.reset", "earliest")
        // The EventRouter's topic is created with the first event: look for it every 500 ms.
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

/// Reads the next `count` records, or fails after `timeout` saying how many arrived.
pub async fn next_records(
    consumer: &StreamConsumer,
    count: usize,
    timeout: Duration,
) -> Result<Vec<EventRecord>> {
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count {
        // Until the topic exists, `recv_before` keeps waiting rather than failing.
        let Some(message) = kafka::recv_before(consumer, deadline).await? else {
            bail!("only {} of {count} records within {} s", records.len(), timeout.as_secs());
        };
        records.push(event_record(&message)?);
    }
    Ok(records)
}
