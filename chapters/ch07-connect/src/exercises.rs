//! Chapter 07 exercises. Each function returns a connector config (the JSON object you would send to
//! `PUT /connectors/{name}/config`); `cargo xtask check ch07` submits it to the real worker and checks the result.
#![allow(unused_variables)]

use std::path::Path;

use serde_json::Value;

// ANCHOR: file_source_connector
/// Return the config of a FileStream **source** connector that reads the lines of `file` into `topic`.
///
/// - the plugin class is `org.apache.kafka.connect.file.FileStreamSourceConnector`;
/// - each line must arrive as a plain string record, exactly as written in the file;
/// - nobody creates `topic` for you: this broker runs with `auto.create.topics.enable=false`.
pub fn file_source_connector(file: &Path, topic: &str) -> Value {
    todo!("build the FileStream source config")
}
// ANCHOR_END: file_source_connector

// ANCHOR: file_sink_connector
/// Return the config of a FileStream **sink** connector that appends every record of *all* the given
/// `topics` (they exist already) to `file`, one line per record, as plain strings.
///
/// The worker's validate endpoint (`PUT /connector-plugins/{class}/config/validate`) must report no error
/// for it, and records produced to each topic must end up in the file.
pub fn file_sink_connector(file: &Path, topics: &[&str]) -> Value {
    todo!("build the FileStream sink config")
}
// ANCHOR_END: file_sink_connector
