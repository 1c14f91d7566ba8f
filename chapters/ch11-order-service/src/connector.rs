//! The relay from the outbox to Kafka: chapter 9's Debezium MariaDB source, with the outbox
//! EventRouter, and how to know it really captures.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use workbook_support::{Env, connect, db};

use crate::outbox::ORDER_AGGREGATE;

pub const MARIADB_SOURCE: &str = "io.debezium.connector.mariadb.MariaDbConnector";
pub const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";

// ANCHOR: connector
/// A Debezium MariaDB source that captures the outbox tables (`mydb.<table>`) and, through the
/// outbox EventRouter, publishes each new row as one record on `<topic_prefix>.<aggregatetype>`:
/// key = `aggregateid` (the order id, as a plain string), value = the `payload` JSON (with a
/// schema, so a JDBC sink can write it), headers `id` (the event id) and `eventType`.
pub fn outbox_connector_config(
    env: &Env,
    topic_prefix: &str,
    outbox_tables: &[&str],
) -> Result<Value> {
    // Chapter 9's MariaDB source (server, CDC user, tables, schema history), changed where an
    // outbox differs.
    let mut config = ch09_source::source_config(env, topic_prefix, outbox_tables)?;
    let outbox = json!({
        // The outbox is a queue, not state: start from now, do not snapshot old rows.
        "snapshot.mode": "no_data",
        // Three partitions: the key (order id) picks one, so one order's events stay in order.
        "topic.creation.default.partitions": "3",
        // The outbox pattern in one transform: the topic comes from aggregatetype, the key from
        // aggregateid, the value from payload.
        "transforms": "outbox",
        "transforms.outbox.type": EVENT_ROUTER,
        "transforms.outbox.route.topic.replacement": format!("{topic_prefix}.${{routedByValue}}"),
        // payload is text in MariaDB: parse it, so the value is a JSON object, not a quoted string.
        "transforms.outbox.table.expand.json.payload": "true",
        "transforms.outbox.table.fields.additional.placement": "type:header:eventType",
        // The key is the bare order id; the value keeps its schema (for chapter 12's JDBC sink).
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
    });
    connect::merge(&mut config, &outbox);
    Ok(config)
}
// ANCHOR_END: connector

/// The topic the EventRouter writes order events to.
pub fn order_topic(topic_prefix: &str) -> String {
    format!("{topic_prefix}.{ORDER_AGGREGATE}")
}

/// The aggregate type of the capture markers that [`wait_outbox_capturing`] writes: the EventRouter
/// routes them to a topic of their own (`<prefix>.capture_marker`), so no reader of the order topic
/// ever sees one.
pub const MARKER_AGGREGATE: &str = "capture_marker";

/// The topic the capture markers of an outbox source with this prefix go to.
pub fn marker_topic(topic_prefix: &str) -> String {
    format!("{topic_prefix}.{MARKER_AGGREGATE}")
}

// ANCHOR: wait_outbox_capturing
/// Waits until the outbox source `connector` (started with [`outbox_connector_config`]) really
/// captures `outbox_table`: from then on every committed outbox row becomes a record.
///
/// RUNNING is not enough: the task then starts to read the binlog position, and a row committed
/// before that position is never published (`snapshot.mode=no_data`). So this writes one marker
/// event per second into the outbox (aggregate type [`MARKER_AGGREGATE`], routed to
/// [`marker_topic`]) until one arrives (`workbook_support::connect::wait_capturing`), then deletes
/// the markers: the router ignores deletes, and the outbox holds only real events again.
pub async fn wait_outbox_capturing(
    env: &Env,
    connector: &str,
    topic_prefix: &str,
    outbox_table: &str,
    timeout: Duration,
) -> Result<()> {
    let marker_sql = |n: u32| {
        let marker = connect::marker(n);
        format!(
            "INSERT INTO {outbox_table} (id, aggregatetype, aggregateid, type, payload, \
             created_at) VALUES ('{marker}', '{MARKER_AGGREGATE}', '{marker}', 'CaptureMarker', \
             '{{\"marker\": \"{marker}\"}}', UTC_TIMESTAMP(6))"
        )
    };
    connect::wait_capturing(env, connector, &marker_topic(topic_prefix), timeout, marker_sql)
        .await?;
    let pool = db::pool(env).await?;
    let sql = format!("DELETE FROM {outbox_table} WHERE aggregatetype = ?");
    sqlx::query(AssertSqlSafe(sql))
        .bind(MARKER_AGGREGATE)
        .execute(&pool)
        .await
        .context("deleting the capture markers")?;
    pool.close().await;
    Ok(())
}
// ANCHOR_END: wait_outbox_capturing

/// schema-change topic, the history.
pub fn outbox_topics(topic_prefix: &str) -> [String; 4] {
    [
        order_topic(topic_prefix),
        marker_topic(topic_prefix),
        topic_prefix.to_string(),
        format!("schema-history.{topic_prefix}"),
    ]
}
