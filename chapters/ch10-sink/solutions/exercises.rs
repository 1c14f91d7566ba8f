//! Chapter 10 exercises: the reference solutions.

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::mysql::MySqlConnectOptions;
use workbook_support::Env;

// ANCHOR: upsert_sink_config
pub fn upsert_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let url = &env.connect_database_url;
    let mariadb: MySqlConnectOptions = url.parse()?;
    let credentials =
        &url[url.find("://").context("no scheme")? + 3..url.rfind('@').context("no user")?];
    let (user, password) = credentials.split_once(':').context("no password")?;
    Ok(json!({
        "connector.class": "io.debezium.connector.jdbc.JdbcSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "connection.url":
            format!("jdbc:mariadb://{}:{}/mydb", mariadb.get_host(), mariadb.get_port()),
        "connection.username": user,
        "connection.password": password,
        // The record key identifies the row ...
        "primary.key.mode": "record_key",
        // ... every write is INSERT … ON DUPLICATE KEY UPDATE: a replayed
        // record rewrites its row ...
        "insert.mode": "upsert",
        // ... and a tombstone (null value) becomes DELETE … WHERE id = <key>.
        "delete.enabled": "true",
        // The table is someone else's: never CREATE or ALTER it. A record that
        // does not fit fails the task.
        "schema.evolution": "none",
        "collection.name.format": table,
    }))
}
// ANCHOR_END: upsert_sink_config

// ANCHOR: user_record
pub fn user_record(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    // Connect types say the SQL type: int64 → BIGINT, int32 → INT; `optional`
    // says whether NULL is allowed.
    let id_field = json!({ "field": "id", "type": "int64", "optional": false });
    let key = json!({
        "schema": { "type": "struct", "optional": false, "fields": [id_field] },
        "payload": { "id": id },
    });
    let value = json!({
        "schema": {
            "type": "struct",
            "optional": false,
            "fields": [
                id_field,
                { "field": "name", "type": "string", "optional": false },
                { "field": "email", "type": "string", "optional": true },
                { "field": "logins", "type": "int32", "optional": false },
            ],
        },
        // None becomes JSON null: allowed because the field is optional, and stored as SQL NULL.
        "payload": { "id": id, "name": name, "email": email, "logins": logins },
    });
    (key, value)
}
// ANCHOR_END: user_record
