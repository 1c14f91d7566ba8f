//! Chapter 09 — Source: from a MariaDB table into a topic (change data capture with Debezium).
//!
//! The connector reads MariaDB's binary log like a replica would: every committed INSERT,
//! UPDATE and DELETE becomes one record on `<topic.prefix>.<database>.<table>`,
//! keyed by the row's primary key.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use serde_json::{Value, json};
use sqlx::mysql::MySqlPool;
use workbook_support::connect::{is_marker, marker, wait_capturing};
use workbook_support::{Env, db, kafka, names};

// What every Connect chapter shares lives once, in the support crate: waiting for RUNNING, a
// config safe to print, running a statement, and deleting what a run made.
pub use workbook_support::cleanup::Cleanup;
pub use workbook_support::connect::{redacted, wait_running};
pub use workbook_support::db::execute;

pub const MARIADB_SOURCE: &str = "io.debezium.connector.mariadb.MariaDbConnector";
/// The database `cargo xtask up` created; the CDC user may read all of it.
pub const DATABASE: &str = "mydb";

// ANCHOR: source_config
/// The Debezium MariaDB source config that captures `tables` (in `mydb`)
/// into `<topic_prefix>.mydb.<table>`.
pub fn source_config(env: &Env, topic_prefix: &str, tables: &[&str]) -> Result<Value> {
    let mariadb = db::Address::for_connect(env)?;
    let (Some(user), Some(password)) = (&env.cdc_user, &env.cdc_password) else {
        bail!(
            "CDC_USER and CDC_PASSWORD are not set: the local and docker backends create that user"
        )
    };
    let tables: Vec<String> = tables.iter().map(|t| format!("{DATABASE}.{t}")).collect();
    Ok(json!({
        "connector.class": MARIADB_SOURCE,
        "tasks.max": "1", // one binlog, one reader: this connector never runs more than one task
        // MariaDB as the Connect worker reaches it, and the user with replication rights.
        "database.hostname": mariadb.host,
        "database.port": mariadb.port.to_string(),
        "database.user": user,
        "database.password": password,
        // The connector joins the server as a replica: its id must differ from the
        // server's and every other reader's.
        "database.server.id": server_id().to_string(),
        "topic.prefix": topic_prefix,
        "database.include.list": DATABASE,
        "table.include.list": tables.join(","),
        // Debezium keeps the tables' DDL history in a topic of its own,
        // to parse old binlog events correctly.
        "schema.history.internal.kafka.bootstrap.servers": env.connect_bootstrap_servers,
        "schema.history.internal.kafka.topic": format!("schema-history.{topic_prefix}"),
        // Only the captured tables' DDL: by default the snapshot reads the schema of every table in
        // the database, which is slow on a big one and fails if another program
        // drops a table meanwhile.
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        // First copy the existing rows (op "r"), then stream the binlog from where the copy ended.
        "snapshot.mode": "initial",
        // The broker does not auto-create topics: Connect creates each table's
        // topic with these settings.
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
    }))
}
// ANCHOR_END: source_config

/// A replica id no other connector of this machine uses right now (the server itself is 1).
pub fn server_id() -> u32 {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos());
    let mixed = std::process::id().wrapping_mul(7919)
        ^ nanos.unwrap_or(0)
        ^ COUNTER.fetch_add(1, Ordering::Relaxed);
    10_000 + mixed % 2_000_000_000
}

// ANCHOR: unwrap
/// Adds Debezium's ExtractNewRecordState transform with its defaults: each value becomes the row
/// after the change, and a delete becomes only a tombstone (key, null value).
pub fn unwrap_envelope(mut config: Value) -> Value {
    config["transforms"] = json!("unwrap");
    config["transforms.unwrap.type"] = json!("io.debezium.transforms.ExtractNewRecordState");
    config
}
// ANCHOR_END: unwrap

/// Where Debezium writes the changes of `table`.
pub fn data_topic(topic_prefix: &str, table: &str) -> String {
    format!("{topic_prefix}.{DATABASE}.{table}")
}

// ANCHOR: users_table
/// A `users` table (primary key, utf8mb4) for the change-capture demo.
pub async fn create_users_table(pool: &MySqlPool, table: &str) -> Result<()> {
    let sql = format!(
        "CREATE TABLE {table} (
            id    INT          NOT NULL AUTO_INCREMENT PRIMARY KEY,
            name  VARCHAR(100) NOT NULL,
            email VARCHAR(255) NOT NULL
        ) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
    );
    execute(pool, &sql).await
}
// ANCHOR_END: users_table

// ANCHOR: capturing
/// Waits until source connector `name` streams the users-shaped `mydb.<table>` into `topic`. A
/// RUNNING connector may not have taken its snapshot yet: a row written then arrives as a snapshot
/// read, or not at all. So [`wait_capturing`] writes marker rows until one of them comes out of the
/// connector; from then on every change is streamed. The markers have negative ids (no real row has
/// one, and the AUTO_INCREMENT counter ignores them) and the name `capture-marker-<n>`.
pub async fn wait_users_capturing(
    env: &Env,
    name: &str,
    topic: &str,
    table: &str,
    timeout: Duration,
) -> Result<u32> {
    wait_capturing(env, name, topic, timeout, |n| {
        format!("INSERT INTO {table} (id, name, email) VALUES (-{n}, '{}', '')", marker(n))
    })
    .await
}
// ANCHOR_END: capturing

// ANCHOR: event
/// One record of a Debezium data topic, read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A change: `op` is c (create), u (update), d (delete) or r (read during the snapshot).
    Change {
        key: Value,
        op: String,
        before: Option<Value>,
        after: Option<Value>,
        source_ts_ms: i64,
        snapshot: String,
    },
    /// A record with a key and no value, sent after a delete so that log
    /// compaction may drop the key.
    Tombstone { key: Value },
    /// A value whose payload is null inside a `{"schema": …, "payload": null}` envelope:
    /// how the JsonConverter writes a null value that still has a schema (a delete,
    /// once ExtractNewRecordState flattened it). The record's bytes are not empty,
    /// so for log compaction it is *not* a tombstone.
    NullPayload { key: Value },
    /// Anything else (e.g. a flattened row, when the ExtractNewRecordState SMT is on).
    Other { key: Value, value: Value },
}

/// With `schemas.enable=true` the JsonConverter wraps every key and value as
/// `{"schema": …, "payload": …}`.
pub fn payload(bytes: &[u8]) -> Result<Value> {
    let json: Value = serde_json::from_slice(bytes).context("a record that is not JSON")?;
    Ok(match json.get("payload") {
        Some(payload) if json.get("schema").is_some() => payload.clone(),
        _ => json,
    })
}

pub fn parse(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<Event> {
    let key = key.map(payload).transpose()?.unwrap_or(Value::Null);
    let Some(value) = value else { return Ok(Event::Tombstone { key }) };
    let value = payload(value)?;
    if value.is_null() {
        return Ok(Event::NullPayload { key });
    }
    let Some(op) = value.get("op").and_then(Value::as_str) else {
        return Ok(Event::Other { key, value });
    };
    let field = |name: &str| value.get(name).filter(|v| !v.is_null()).cloned();
    Ok(Event::Change {
        key: key.clone(),
        op: op.to_string(),
        before: field("before"),
        after: field("after"),
        source_ts_ms: value.pointer("/source/ts_ms").and_then(Value::as_i64).unwrap_or(0),
        snapshot: value
            .pointer("/source/snapshot")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
    })
}
// ANCHOR_END: event

// ANCHOR: read_events
/// A consumer of `topic` from its first record, in a group of its own.
pub fn subscribe(env: &Env, topic: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::group_config(env, &names::unique("ch09-reader"))
        .set("auto.offset.reset", "earliest") // a new group: start with the snapshot
        // The topic appears when the connector starts: look for it often.
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

/// Reads the next `count` events, or fails after `timeout` saying how many arrived. The marker rows
/// of [`wait_users_capturing`] are skipped: they only prove that the connector captures.
pub async fn next_events(
    consumer: &StreamConsumer,
    count: usize,
    timeout: Duration,
) -> Result<Vec<Event>> {
    let deadline = Instant::now() + timeout;
    let mut events = Vec::new();
    while events.len() < count {
        // The topic appears only when the connector writes its first record: until then the
        // consumer reports "unknown topic", which `recv_before` takes as "keep waiting".
        let Some(message) =
            kafka::recv_before(consumer, deadline).await.context("reading the change topic")?
        else {
            bail!(
                "only {} of {count} change events within {} s: {events:?}",
                events.len(),
                timeout.as_secs()
            )
        };
        if !is_marker(message.key(), message.payload()) {
            events.push(parse(message.key(), message.payload())?);
        }
    }
    Ok(events)
}
// ANCHOR_END: read_events

/// One line per event, as the book shows them.
pub fn describe(event: &Event) -> String {
    let show = |v: &Option<Value>| v.as_ref().map_or("null".to_string(), Value::to_string);
    match event {
        Event::Change { key, op, before, after, snapshot, .. } => {
            let snapshot = if snapshot.is_empty() || snapshot == "false" {
                String::new()
            } else {
                format!(" snapshot={snapshot}")
            };
            format!(
                "op={op} key={key}{snapshot}\n      before={}\n      after ={}",
                show(before),
                show(after)
            )
        }
        Event::Tombstone { key } => format!("tombstone key={key} value=null"),
        Event::NullPayload { key } => {
            format!("key={key} payload=null (schema envelope around null: not a tombstone)")
        }
        Event::Other { key, value } => format!("key={key} value={value}"),
    }
}
