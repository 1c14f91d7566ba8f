//! The Connect schema a Debezium change event carries, read back from the topic.
//!
//! With `JsonConverter` and `schemas.enable=true`, each record value is
//! `{"schema": …, "payload": …}`. The schema of a Debezium event is an envelope struct whose
//! `before` and `after` fields are structs describing the row: one field per column, with its
//! Connect type, `optional` (the column is NULLable) and `default`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use serde_json::Value;
use workbook_support::connect::is_marker;
use workbook_support::kafka;

pub use ch09_source::subscribe;

/// One change event as read from the topic: its value (schema and payload), its size on the wire
/// and its offset in the topic's only partition.
#[derive(Debug, Clone)]
pub struct Change {
    pub value: Value,
    pub bytes: usize,
    pub offset: i64,
}

/// Reads `consumer` until the change event of the row with `id` arrives (an insert or an update;
/// markers, tombstones and other rows are skipped).
pub async fn next_change_of(
    consumer: &StreamConsumer,
    id: i64,
    timeout: Duration,
) -> Result<Change> {
    println!("waiting for the change event of id {id}");
    let deadline = Instant::now() + timeout;
    loop {
        // Until the connector's first record creates the topic, `recv_before` keeps waiting.
        let message = kafka::recv_before(consumer, deadline)
            .await
            .context("reading the change topic")?
            .with_context(|| {
                format!("no change event for id {id} within {} s", timeout.as_secs())
            })?;
        let Some(bytes) = message.payload() else { continue }; // a tombstone
        if is_marker(message.key(), Some(bytes)) {
            continue;
        }
        let value: Value = serde_json::from_slice(bytes).context("a record that is not JSON")?;
        if value.pointer("/payload/after/id").and_then(Value::as_i64) == Some(id) {
            return Ok(Change { value, bytes: bytes.len(), offset: message.offset() });
        }
    }
}

// ANCHOR: row_schema
/// The schema of the row in a change event: the `after` field of the envelope's schema, a struct
/// with one field per column, e.g. `{"type": "string", "optional": true, "field": "nickname"}`.
pub fn row_schema(value: &Value) -> Option<&Value> {
    let fields = value.pointer("/schema/fields")?.as_array()?;
    fields.iter().find(|f| f["field"] == "after")
}
// ANCHOR_END: row_schema

// ANCHOR: impact
/// What a change of a table's schema does to a copy kept by the JDBC sink
/// (`schema.evolution=basic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Impact {
    /// A record the new schema allows stops the sink: its task FAILS.
    Fails,
    /// The sink goes on, but rows that existed before the change differ between source and copy.
    Diverges,
}
// ANCHOR_END: impact

/// One line per field: `name  type  [optional] [default=…] [logical type]`.
pub fn describe_fields(row_schema: &Value) -> Vec<String> {
    let fields = row_schema["fields"].as_array().cloned().unwrap_or_default();
    fields
        .iter()
        .map(|f| {
            let mut line = format!(
                "{:<10} {}",
                f["field"].as_str().unwrap_or("?"),
                f["type"].as_str().unwrap_or("?")
            );
            if f["optional"] == true {
                line.push_str(" optional");
            }
            if let Some(default) = f.get("default") {
                line.push_str(&format!(" default={default}"));
            }
            if let Some(name) = f["name"].as_str() {
                line.push_str(&format!(" ({name})"));
            }
            line
        })
        .collect()
}

/// The size of a record's value, and how much of it is the payload (the rest is the schema).
pub fn sizes(change: &Change) -> Result<(usize, usize)> {
    let payload = serde_json::to_vec(&change.value["payload"])?;
    Ok((change.bytes, payload.len()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_row_schema_is_the_after_field_of_the_envelope() {
        let row = json!({"type": "struct", "optional": true, "field": "after", "fields": [
            {"type": "int32", "optional": false, "field": "id"},
            {"type": "string", "optional": false, "default": "free", "field": "plan"},
            {"type": "string", "optional": true, "field": "nickname"},
        ]});
        let before = json!({"type": "struct", "optional": true, "field": "before", "fields": []});
        let value = json!({"schema": {"type": "struct", "fields": [before, row]}, "payload": {}});
        assert_eq!(row_schema(&value), Some(&row));
        assert_eq!(
            describe_fields(&row),
            [
                "id         int32",
                "plan       string default=\"free\"",
                "nickname   string optional"
            ]
        );
        assert_eq!(row_schema(&json!({"payload": {}})), None, "a record without a schema");
    }
}
