//! Chapter 07 exercises: the reference solutions.

use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};
use workbook_support::Env;

// ANCHOR: file_source_connector
pub fn file_source_connector(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    Ok(json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        // The worker opens this path itself, on its own machine: the shared
        // directory, by its name there.
        "file": env.connect_path(file)?,
        "topic": topic,
        // No broker-side auto-creation: Connect creates the topic itself from these defaults.
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        // JSON, but without the {"schema": …, "payload": …} envelope the worker's default adds:
        // a line (a Connect STRING) becomes a JSON string.
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        // FileStream source records have no key; say how a key would be written all the same.
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    }))
}
// ANCHOR_END: file_source_connector

// ANCHOR: file_sink_connector
pub fn file_sink_connector(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    Ok(json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        // A sink subscribes like any consumer: a list (`topics`) or a Java regex (`topics.regex`)
        // that must match the WHOLE topic name. \Q…\E quotes the prefix, so its dots
        // are dots, not "any character".
        "topics.regex": format!("\\Q{prefix}\\E.*"),
        "file": env.connect_path(file)?,
        // The records are plain text: the worker's default (JSON with a schema
        // envelope) would fail on them.
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
    }))
}
// ANCHOR_END: file_sink_connector
