//! Consumer 1: a JDBC sink connector keeps one table with every instance's orders.

use anyhow::Result;
use serde_json::{Value, json};
use sqlx::mysql::MySqlPool;
pub use workbook_support::connect::merge;
use workbook_support::{Env, db};

use crate::execute;

pub const JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";

// ANCHOR: shared_table
/// The one table every instance's orders end up in (written only by the JDBC sink). Its columns
/// are the order event's fields, not those of chapter 11's own `orders` table: a sink writes what
/// the record carries, so the status is a column here, and `created_at` is the event's text.
pub async fn create_shared_orders_table(pool: &MySqlPool, table: &str) -> Result<()> {
    let sql = format!(
        "CREATE TABLE {table} (
            order_id    CHAR(36)    NOT NULL PRIMARY KEY,
            user_id     VARCHAR(64) NOT NULL,
            product_id  VARCHAR(64) NOT NULL,
            qty         INT         NOT NULL,
            unit_price  BIGINT      NOT NULL,
            total_price BIGINT      NOT NULL,
            status      VARCHAR(16) NOT NULL,
            created_at  VARCHAR(32) NOT NULL  -- as the event carries it: ISO 8601, UTC
        ) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
    );
    execute(pool, &sql).await
}
// ANCHOR_END: shared_table

/// A JDBC sink's connection settings: MariaDB as the Connect worker reaches it
/// (`CONNECT_DATABASE_URL`), logged in as the workbook user.
pub fn jdbc_connection(env: &Env) -> Result<Value> {
    let mariadb = db::Address::for_connect(env)?;
    Ok(json!({
        "connection.url": mariadb.jdbc_url(),
        "connection.username": mariadb.user,
        "connection.password": mariadb.password,
    }))
}

// ANCHOR: sink_config
/// The JDBC sink that keeps `table` in step with the order topic: one row per order id,
/// replaced by the order's latest event (so a replayed or repeated event changes nothing).
pub fn shared_table_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = jdbc_connection(env)?;
    let settings = json!({
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": topic,
        // The outbox router wrote a plain-string key and a JSON value with its schema:
        // read them the same way.
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        // INSERT ... ON DUPLICATE KEY UPDATE, keyed by the order id found in the value.
        "insert.mode": "upsert",
        "primary.key.mode": "record_value",
        "primary.key.fields": "order_id",
        "collection.name.format": table,
        "schema.evolution": "none", // the table is ours; the sink must not alter it
    });
    merge(&mut config, &settings);
    Ok(config)
}
// ANCHOR_END: sink_config
