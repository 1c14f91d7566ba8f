//! Chapter 7: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
// Every exercise is dispatched below; the re-export stays for exercises added later.
#[allow(unused_imports)]
pub use solution::*;

use std::path::Path;

use anyhow::Result;
use serde_json::Value;
use workbook_support::{Env, mistakes};

pub fn file_source_connector(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    match mistakes::chosen().as_deref() {
        None => solution::file_source_connector(env, file, topic),
        Some("string_converter") => string_converter(env, file, topic),
        Some("schemas_enabled") => schemas_enabled(env, file, topic),
        Some("no_topic_creation") => no_topic_creation(env, file, topic),
        Some("template_path") => template_path(env, file, topic),
        Some(other) => mistakes::unknown("file_source_connector", other),
    }
}

/// Mistake: keeps the chapter's `StringConverter`: each line arrives as plain text (`hello`, no quotes),
/// which a JSON consumer cannot parse, or parses as something else than a string (`{"a": 1}`).
fn string_converter(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    let mut config = solution::file_source_connector(env, file, topic)?;
    config["value.converter"] = "org.apache.kafka.connect.storage.StringConverter".into();
    remove(&mut config, "value.converter.schemas.enable");
    Ok(config)
}

/// Mistake: picks `JsonConverter` but leaves `schemas.enable` at its default (true): every value is
/// wrapped as `{"schema":{"type":"string",…},"payload":"hello"}` instead of being the string itself.
fn schemas_enabled(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    let mut config = solution::file_source_connector(env, file, topic)?;
    remove(&mut config, "value.converter.schemas.enable");
    Ok(config)
}

/// Mistake: no `topic.creation.default.*`: the broker does not create topics on first use, so the task's
/// producer waits for a topic that never comes, and nothing arrives (the task still says RUNNING).
fn no_topic_creation(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    let mut config = solution::file_source_connector(env, file, topic)?;
    remove(&mut config, "topic.creation.default.replication.factor");
    remove(&mut config, "topic.creation.default.partitions");
    Ok(config)
}

/// Mistake: keeps the path of the chapter's template (`connectors/file-source.json`) instead of `file`:
/// the worker opens exactly that path on its own machine, and finds nothing there (or someone else's file).
fn template_path(env: &Env, file: &Path, topic: &str) -> Result<Value> {
    let mut config = solution::file_source_connector(env, file, topic)?;
    config["file"] = "/tmp/ch07/input.txt".into();
    Ok(config)
}

pub fn file_sink_connector(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    match mistakes::chosen().as_deref() {
        None => solution::file_sink_connector(env, file, prefix),
        Some("topic_key") => topic_key(env, file, prefix),
        Some("prefix_as_topics") => prefix_as_topics(env, file, prefix),
        Some("glob_pattern") => glob_pattern(env, file, prefix),
        Some("unescaped_dots") => unescaped_dots(env, file, prefix),
        Some("default_converter") => default_converter(env, file, prefix),
        Some(other) => mistakes::unknown("file_sink_connector", other),
    }
}

/// Mistake: a sink configured with the source's setting `topic` (singular): the plugin does not know it,
/// and validate answers "Must configure one of topics or topics.regex".
fn topic_key(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    let mut config = solution::file_sink_connector(env, file, prefix)?;
    remove(&mut config, "topics.regex");
    config["topic"] = format!("\\Q{prefix}\\E.*").into();
    Ok(config)
}

/// Mistake: puts the prefix in `topics`, as if it matched every topic that starts with it: `topics` is a
/// list of exact names, so the sink subscribes to one topic that does not exist and copies nothing.
fn prefix_as_topics(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    let mut config = solution::file_sink_connector(env, file, prefix)?;
    remove(&mut config, "topics.regex");
    config["topics"] = prefix.into();
    Ok(config)
}

/// Mistake: a shell glob (`prefix*`) where Java expects a regex: `*` repeats the character before it, here
/// the prefix's final `.` ("any character"), and the prefix's other dots match anything too, so
/// `shop-inventory.audit` is copied.
fn glob_pattern(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    let mut config = solution::file_sink_connector(env, file, prefix)?;
    config["topics.regex"] = format!("{prefix}*").into();
    Ok(config)
}

/// Mistake: `prefix.*` without quoting the prefix: each `.` of `shop.inventory.` matches any character,
/// so `shop-inventory.audit` is copied too.
fn unescaped_dots(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    let mut config = solution::file_sink_connector(env, file, prefix)?;
    config["topics.regex"] = format!("{prefix}.*").into();
    Ok(config)
}

/// Mistake: no converter set: the worker's default, `JsonConverter` with `schemas.enable=true`, expects
/// `{"schema":…,"payload":…}` and fails the task on the first plain-text record.
fn default_converter(env: &Env, file: &Path, prefix: &str) -> Result<Value> {
    let mut config = solution::file_sink_connector(env, file, prefix)?;
    remove(&mut config, "value.converter");
    remove(&mut config, "key.converter");
    Ok(config)
}

fn remove(config: &mut Value, key: &str) {
    if let Some(map) = config.as_object_mut() {
        map.remove(key);
    }
}
