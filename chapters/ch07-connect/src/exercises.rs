//! Chapter 07 exercises. Each function returns a connector config (the JSON object you would
//! send to `PUT /connectors/{name}/config`); `cargo xtask check ch07` submits it to the
//! real worker and checks the result.
#![allow(unused_variables)]

use std::path::Path;

use anyhow::Result;
use serde_json::Value;
use workbook_support::Env;

// ANCHOR: file_source_connector
/// Return the config of a FileStream **source** connector that copies the lines of `file` into
/// `topic` for consumers that parse every record value as **JSON**.
///
/// - `file` is where the test wrote the lines, as *your* programs see it:
///   a file under `env.files_dir`, the one directory the workbook shares with the Connect worker.
///   The worker opens the path in the config itself, on its own machine, where that
///   directory may have another name (`env.connect_files_dir`, `/workbook/files` in Docker):
///   `env.connect_path(file)` is its view;
/// - the plugin class is `org.apache.kafka.connect.file.FileStreamSourceConnector`;
/// - each record value must be the line as a JSON *string*, and nothing else: the line `hello`
///   arrives as the 7 bytes `"hello"` (quoted), a line `{"a": 1}` as the string `"{\"a\": 1}"`;
///   no schema travels with it;
/// - nobody creates `topic` for you: this broker runs with `auto.create.topics.enable=false`.
pub fn file_source_connector(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    todo!("build the FileStream source config")
}
// ANCHOR_END: file_source_connector

// ANCHOR: file_sink_connector
/// Return the config of a FileStream **sink** connector that appends every record of **every topic
/// whose name starts with `prefix`** to `file`, one line per record, as plain strings (the records
/// are plain UTF-8 text, written by a producer without any schema).
///
/// `file` is under `env.files_dir`, as your programs see it (the test reads it there);
/// the worker writes the path in the config, as it sees it (see `file_source_connector`).
///
/// `prefix` is like `shop.inventory.` (all the change topics of one database,
/// as chapter 9 names them): letters, digits, `-` and `.`. Topics `shop.inventory.customers`
/// and `shop.inventory.orders` must be copied; `shop-inventory.audit` or
/// `archive.shop.inventory.orders` must not. The topics exist before the connector is created.
/// The worker's validate endpoint must report no error for the config.
pub fn file_sink_connector(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    todo!("build the FileStream sink config")
}
// ANCHOR_END: file_sink_connector
