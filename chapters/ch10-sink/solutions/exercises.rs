//! Chapter 10 exercises: the reference solutions.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::mysql::MySqlConnectOptions;
use workbook_support::Env;

// ANCHOR: upsert_sink_config
pub fn upsert_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let url = &env.connect_database_url;
    let mariadb: MySqlConnectOptions = url.parse()?;
    let credentials = &url[url.find("://").context("no scheme")? + 3..url.rfind('@').context("no user")?];
    let (user, password) = credentials.split_once(':').context("no password")?;
    Ok(json!({
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "connection.url": format!("jdbc:mariadb://{}:{}/mydb", mariadb.get_host(), mariadb.get_port()),
        "connection.username": user,
        "connection.password": password,
        // The record key becomes the table's primary key ...
        "primary.key.mode": "record_key",
        // ... and every write is INSERT … ON DUPLICATE KEY UPDATE: a replayed record rewrites its row.
        "insert.mode": "upsert",
        "schema.evolution": "basic",
        "collection.name.format": table,
    }))
}
// ANCHOR_END: upsert_sink_config

// ANCHOR: user_record
pub fn user_record(id: i32, name: &str, email: &str) -> (Value, Value) {
    let id_field = json!({ "field": "id", "type": "int32", "optional": false });
    let key = json!({
        "schema": { "type": "struct", "optional": false, "fields": [id_field] },
        "payload": { "id": id },
    });
    let value = json!({
        "schema": {
            "type": "struct",
            "optional": false,
            "name": "workbook.users.Value",
            "fields": [
                id_field,
                { "field": "name", "type": "string", "optional": false },
                { "field": "email", "type": "string", "optional": false },
            ],
        },
        "payload": { "id": id, "name": name, "email": email },
    });
    (key, value)
}
// ANCHOR_END: user_record
