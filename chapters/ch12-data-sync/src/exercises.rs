//! Chapter 12 exercises. `cargo xtask check ch12` runs them against the real MariaDB,
//! Kafka and Kafka Connect.
#![allow(unused_variables)]

use anyhow::Result;
use ch11_order_service::EventRecord;
use serde_json::Value;
use sqlx::MySqlPool;
use workbook_support::Env;

use ch12_data_sync::CatalogTables;

// ANCHOR: apply_event
/// Apply one order event to the catalog's read model (`tables.stock`: product_id
/// → stock), **idempotently**:
///
/// - `OrderCreated` takes `payload.qty` of `payload.product_id` out of stock,
/// - `OrderCancelled` (chapter 11's cancellation) puts them back,
/// - any other event type changes nothing.
///
/// Kafka delivers at least once, so the same event (same `record.event_id`) may arrive twice,
/// or many times: only its first delivery may change the stock. Record what you applied in
/// `tables.processed` (see `ch12_data_sync::remember_event`), together with the stock change:
/// when anything fails between the two writes (the check makes MariaDB refuse one of them),
/// return the error and leave neither, so that the event, delivered again, is applied exactly once.
///
/// Return `Ok(true)` when the stock changed, `Ok(false)` otherwise.
pub async fn apply_event(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    todo!("apply OrderCreated and OrderCancelled once per event id")
}
// ANCHOR_END: apply_event

// ANCHOR: orders_sink_config
/// Return the config of a Debezium JDBC sink connector (the JSON object for
/// `PUT /connectors/{name}/config`) that keeps the reporting team's table `mydb.<table>` in step
/// with the order events of `topic`. They made the table themselves:
///
/// ```sql
/// CREATE TABLE <table> (order_id CHAR(36) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT NULL,
///                       total_price BIGINT NOT NULL)
/// ```
///
/// - One row per `order_id`, holding what the order's latest event says: an `OrderCancelled` after
///   an `OrderCreated` turns the row's status to `CANCELLED` instead of adding a row.
/// - The table is theirs: the sink never changes it. The events carry the whole order, more
///   fields than the table has columns, and a newer order service may add fields (say `coupon`):
///   whatever the table has no column for is left out, and the sink keeps running.
///
/// The records are as chapter 11's outbox router writes them: key = the order id as a plain string,
/// value = the order as JSON with an embedded schema (`{"schema": ..., "payload": {...}}`).
/// Connect with `ch12_data_sync::jdbc_connection(env)` (MariaDB as the Connect worker reaches it).
pub fn orders_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    todo!(
        "a JDBC sink that upserts order_id, status and total_price into mydb.<table>, \
         and nothing else"
    )
}
// ANCHOR_END: orders_sink_config
