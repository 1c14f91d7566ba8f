//! Deletes end to end: a DELETE in MariaDB, a delete event and a tombstone on a compacted topic,
//! a DELETE in the copy the JDBC sink keeps.

use std::time::Duration;

use anyhow::{Context, Result};
use ch09_source::Event;
use reqwest::Method;
use serde_json::{Value, json};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, wait};

use crate::compaction::demo_compaction;

pub const JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";

// ANCHOR: source
/// Chapter 9's Debezium source for `mydb.<table>`, with its topics created compacted.
pub fn compacted_source_config(env: &Env, prefix: &str, table: &str) -> Result<Value> {
    let mut config = ch09_source::source_config(env, prefix, &[table])?;
    // A DELETE becomes two records with the row's key: the delete event (op "d", the old row in
    // `before`) and then a tombstone (no value), which lets compaction forget the key. The
    // default, said out loud.
    config["tombstones.on.delete"] = json!("true");
    // Connect creates the table's topic with these topic configs (chapter 7's topic.creation).
    for (name, value) in demo_compaction() {
        config[format!("topic.creation.default.{name}")] = json!(value);
    }
    // Tombstones outlive any sink of this demo that is down: 10 minutes, not the demo's 5 s.
    config["topic.creation.default.delete.retention.ms"] = json!("600000");
    Ok(config)
}
// ANCHOR_END: source

// ANCHOR: sink
/// A Debezium JDBC sink that keeps `table` equal to the rows on `topic`, deletes included.
pub fn deleting_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let (host, port, database, user, password) = connect_database(env)?;
    Ok(json!({
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": topic,
        "connection.url": format!("jdbc:mariadb://{host}:{port}/{database}"),
        "connection.username": user,
        "connection.password": password,
        "insert.mode": "upsert",
        // The row's primary key is the record's key ({"id": 2}): that is how a record with no
        // value at all still names the row to delete.
        "primary.key.mode": "record_key",
        // A delete event (op "d") deletes the row; so does a tombstone on its own, which is all
        // that is left of a deleted row once compaction removed its other records.
        "delete.enabled": "true",
        "schema.evolution": "basic",
        "collection.name.format": table,
    }))
}
// ANCHOR_END: sink

/// MariaDB as the Connect worker reaches it: (host, port, database, user, password).
pub fn connect_database(env: &Env) -> Result<(String, u16, String, String, String)> {
    let url = &env.connect_database_url;
    let options: MySqlConnectOptions =
        url.parse().context("CONNECT_DATABASE_URL is not a mysql:// URL")?;
    let credentials =
        url.split_once("://").and_then(|(_, rest)| rest.rsplit_once('@')).map(|(c, _)| c);
    let password = credentials
        .and_then(|c| c.split_once(':'))
        .map(|(_, p)| percent_decoded(p))
        .unwrap_or_default();
    let database = options.get_database().unwrap_or(ch09_source::DATABASE).to_string();
    Ok((
        options.get_host().to_string(),
        options.get_port(),
        database,
        options.get_username().to_string(),
        password,
    ))
}

/// `a%40b` → `a@b`: a URL carries reserved characters of a password percent-encoded.
fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// ANCHOR: stop
/// `PUT /connectors/{name}/stop`: the tasks shut down and the sink's consumer leaves its group;
/// the group keeps its committed offsets. Waits until Connect reports STOPPED.
pub async fn stop(client: &ConnectClient, name: &str) -> Result<()> {
    client.call(Method::PUT, &format!("/connectors/{name}/stop"), None).await?;
    wait::until(
        &format!("{name} STOPPED"),
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let status = client.status(name).await?;
            let tasks = status["tasks"].as_array().map_or(0, Vec::len);
            Ok((status["connector"]["state"] == "STOPPED" && tasks == 0).then_some(()))
        },
    )
    .await
}
// ANCHOR_END: stop

/// A Debezium change event in one line: `key {"id":2}  op=d  before={…}`, or a tombstone.
pub fn change_line(key: &str, value: Option<&str>) -> String {
    let show = |row: Option<Value>| row.map_or("null".to_string(), |r| r.to_string());
    match ch09_source::parse(Some(key.as_bytes()), value.map(str::as_bytes)) {
        Ok(Event::Change { key, op, before, .. }) if op == "d" => {
            format!("key {key}  op=d  before={}", show(before))
        }
        Ok(Event::Change { key, op, after, .. }) => {
            format!("key {key}  op={op}  after={}", show(after))
        }
        Ok(Event::Tombstone { key }) => format!("key {key}  tombstone (no value)"),
        Ok(other) => format!("{other:?}"),
        Err(e) => format!("not a change event: {e}"),
    }
}

/// A user row: (id, name, email).
pub type User = (i32, String, String);

/// The rows of a users-shaped table with a positive id (marker rows have negative ids), by id; an
/// empty list while the sink has not created the table yet.
pub async fn users(pool: &MySqlPool, table: &str) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT CAST(id AS INT), CAST(name AS CHAR), CAST(email AS CHAR) \
         FROM {table} WHERE id > 0 ORDER BY id"
    );
    let result = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await;
    db::rows_once_created(result, table)
}

/// Polls `copy` until it holds exactly the rows of `source`; returns them.
pub async fn wait_same_rows(
    pool: &MySqlPool,
    source: &str,
    copy: &str,
    timeout: Duration,
) -> Result<Vec<User>> {
    println!("waiting for {copy} to hold the rows of {source}");
    wait::until(&format!("{copy} equals {source}"), timeout, Duration::from_millis(200), || async {
        let (a, b) = (users(pool, source).await?, users(pool, copy).await?);
        Ok((a == b).then_some(a))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_percent_encoded_password_is_decoded() {
        assert_eq!(percent_decoded("a%40b%2Bc"), "a@b+c");
        assert_eq!(percent_decoded("plain"), "plain");
        assert_eq!(percent_decoded("50%"), "50%");
    }

    #[test]
    fn the_sink_deletes_by_record_key() {
        let env = Env::from_sources(|key| match key {
            "DATABASE_URL" | "CONNECT_DATABASE_URL" => {
                Some("mysql://workbook:p%40ss@127.0.0.1:3307/mydb".into())
            }
            _ => Some("127.0.0.1:1".into()),
        })
        .unwrap();
        let config = deleting_sink_config(&env, "t", "users_copy").unwrap();
        assert_eq!(config["delete.enabled"], "true");
        assert_eq!(config["primary.key.mode"], "record_key");
        assert_eq!(config["connection.password"], "p@ss");
    }
}
