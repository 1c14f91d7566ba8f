//! Chapter 07 exercises: the reference solutions.

use std::path::Path;

use serde_json::{Value, json};

// ANCHOR: file_source_connector
pub fn file_source_connector(file: &Path, topic: &str) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topic": topic,
        // No broker-side auto-creation: Connect creates the topic itself from these defaults.
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        // The worker's default converter is JSON with a schema envelope; a line should stay a line.
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}
// ANCHOR_END: file_source_connector

// ANCHOR: file_sink_connector
pub fn file_sink_connector(file: &Path, topics: &[&str]) -> Value {
    json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        // A sink subscribes to `topics` (plural, comma-separated); `topic` is the source's setting.
        "topics": topics.join(","),
        "file": file.display().to_string(),
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    })
}
// ANCHOR_END: file_sink_connector
