//! Chapter 12 exercises. `cargo xtask check ch12` runs them against the real MariaDB, Kafka and Kafka Connect.
#![allow(unused_variables)]

use anyhow::Result;
use ch11_order_service::EventRecord;
use serde_json::Value;
use sqlx::MySqlPool;
use workbook_support::Env;

use ch12_data_sync::CatalogTables;

// ANCHOR: apply_event
/// Apply one order event to the catalog's read model (`tables.stock`: product_id → stock), **idempotently**:
///
/// - `OrderCreated` takes `payload.qty` of `payload.product_id` out of stock,
/// - `OrderCancelled` (chapter 11's cancellation) puts them back,
/// - any other event type changes nothing.
///
/// Kafka delivers at least once, so the same event (same `record.event_id`) may arrive twice, or many times:
/// only its first delivery may change the stock. Record what you applied in `tables.processed`
/// (see `ch12_data_sync::remember_event`) in the same transaction as the stock change.
///
/// Return `Ok(true)` when the stock changed, `Ok(false)` otherwise.
pub async fn apply_event(pool: &MySqlPool, tables: &CatalogTables, record: &EventRecord) -> Result<bool> {
    todo!("apply OrderCreated and OrderCancelled once per event id")
}
// ANCHOR_END: apply_event

// ANCHOR: orders_sink_config
/// Return the config of a Debezium JDBC sink connector (the JSON object for `PUT /connectors/{name}/config`) that
/// writes the order events of `topic` into the existing MariaDB table `mydb.<table>` (made by
/// `ch12_data_sync::create_shared_orders_table`): one row per `order_id`, holding the order's latest event, so that an
/// `OrderCancelled` after an `OrderCreated` turns the row's status to `CANCELLED` instead of adding a row.
///
/// The records are as chapter 11's outbox router writes them: key = the order id as a plain string, value = the
/// order as JSON with an embedded schema (`{"schema": ..., "payload": {...}}`). Connect with
/// `ch12_data_sync::jdbc_connection(env)` (MariaDB as the Connect worker reaches it). The sink must not change the table.
pub fn orders_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    todo!("a JDBC sink that upserts by order_id into mydb.<table>")
}
// ANCHOR_END: orders_sink_config
