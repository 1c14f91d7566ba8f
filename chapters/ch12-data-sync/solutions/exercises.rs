//! Chapter 12 exercises: the reference solutions.

use anyhow::{Context, Result};
use ch11_order_service::EventRecord;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlPool};
use workbook_support::Env;

use ch12_data_sync::{CatalogTables, JDBC_SINK, jdbc_connection, merge, remember_event};

// ANCHOR: apply_event
pub async fn apply_event(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    let sign = match record.event_type.as_deref() {
        Some("OrderCreated") => -1,
        Some("OrderCancelled") => 1,
        _ => return Ok(false),
    };
    // Deduplicate by EVENT id: the order id is the same for an order's
    // Created and Cancelled events.
    let event_id = record.event_id.as_deref().context("an event without an id header")?;
    let mut tx = pool.begin().await?;
    if !remember_event(&mut tx, tables, event_id, &record.key).await? {
        tx.rollback().await?; // applied before: a redelivery
        return Ok(false);
    }
    let product = record.payload["product_id"].as_str().context("no product_id")?;
    let qty = record.payload["qty"].as_i64().context("no qty")?;
    let sql = format!("UPDATE {} SET stock = stock + ? WHERE product_id = ?", tables.stock);
    // If this fails, `?` returns the error and drops the transaction uncommitted: MariaDB undoes
    // the mark too, and the consumer, not storing the offset, gets the event again.
    sqlx::query(AssertSqlSafe(sql)).bind(sign * qty).bind(product).execute(&mut *tx).await?;
    tx.commit().await?; // the stock change and the "applied" mark: both or neither
    Ok(true)
}
// ANCHOR_END: apply_event

// ANCHOR: orders_sink_config
pub fn orders_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = jdbc_connection(env)?;
    // The fields to write, as `<topic>:<field>`: exactly the table's columns.
    // Every other field, today's and any a newer producer adds, is dropped before the sink
    // compares the record with the table.
    let columns =
        ["order_id", "status", "total_price"].map(|field| format!("{topic}:{field}")).join(",");
    merge(
        &mut config,
        &json!({
            "connector.class": JDBC_SINK,
            "tasks.max": "1",
            "topics": topic,
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "true",
            "field.include.list": columns,
            "insert.mode": "upsert",
            "primary.key.mode": "record_value",
            "primary.key.fields": "order_id",
            "collection.name.format": table,
            // A record the table has no column for stops the sink instead of
            // altering someone else's table.
            "schema.evolution": "none",
        }),
    );
    Ok(config)
}
// ANCHOR_END: orders_sink_config
