//! Chapter 09 exercises: the reference solutions.

use anyhow::{Result, bail};
use serde_json::{Value, json};
use sqlx::mysql::MySqlConnectOptions;
use workbook_support::Env;

// ANCHOR: orders_source_config
pub fn orders_source_config(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mariadb: MySqlConnectOptions = env.connect_database_url.parse()?;
    let (Some(user), Some(password)) = (&env.cdc_user, &env.cdc_password) else {
        bail!("no CDC user")
    };
    Ok(json!({
        "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
        "tasks.max": "1",
        "database.hostname": mariadb.get_host(),
        "database.port": mariadb.get_port().to_string(),
        "database.user": user,
        "database.password": password,
        "database.server.id": ch09_server_id(),
        "topic.prefix": topic_prefix,
        "database.include.list": "mydb",
        // Fully qualified (database.table); the lists are regular expressions
        // matched against the whole name.
        "table.include.list": format!("mydb.{orders_table}"),
        // Columns are named database.table.column; an excluded column is
        // absent from before and after.
        "column.exclude.list": format!("mydb.{orders_table}.card_number"),
        "schema.history.internal.kafka.bootstrap.servers": env.connect_bootstrap_servers,
        "schema.history.internal.kafka.topic": format!("schema-history.{topic_prefix}"),
        // Only the captured table's DDL, not every table's of the database (see
        // chapter 9's source_config).
        "schema.history.internal.store.only.captured.tables.ddl": "true",
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
    }))
}

/// Any id but 1 (the server's own) and unique among the connectors running at the same time.
fn ch09_server_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos());
    (10_000 + (std::process::id() ^ nanos.unwrap_or(0)) % 2_000_000_000).to_string()
}
// ANCHOR_END: orders_source_config

// ANCHOR: flatten
pub fn flatten(mut config: Value) -> Value {
    let settings = json!({
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        // Keep deletes as a record carrying the old row and __deleted=true (the default drops them
        // to a tombstone only, and a flat row alone cannot say "this row is gone").
        "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
        // Copy envelope fields into the row as __op and __source_ts_ms.
        "transforms.unwrap.add.fields": "op,source.ts_ms",
    });
    if let (Some(config), Some(settings)) = (config.as_object_mut(), settings.as_object()) {
        config.extend(settings.clone());
    }
    config
}
// ANCHOR_END: flatten
