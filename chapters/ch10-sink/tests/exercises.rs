//! Checks for the chapter 10 exercises: your configs and records go through the real worker into MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch10_sink::{
    Cleanup, create_topic, ensure_utf8mb4, produce_json, sink_config, users, wait_caught_up, wait_running,
};
use serde_json::{Value, json};
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, names, wait};

const DEADLINE: Duration = Duration::from_secs(60);

/// A key and a flat row value with schemas, written by the test itself (not by an exercise).
fn record(id: i32, name: &str, email: &str) -> (Value, Value) {
    let id_field = json!({"field": "id", "type": "int32", "optional": false});
    let text = |f: &str| json!({"field": f, "type": "string", "optional": false});
    (
        json!({"schema": {"type": "struct", "optional": false, "fields": [id_field]}, "payload": {"id": id}}),
        json!({"schema": {"type": "struct", "optional": false, "fields": [id_field, text("name"), text("email")]},
               "payload": {"id": id, "name": name, "email": email}}),
    )
}

fn expected(rows: &[(i32, &str, &str)]) -> Vec<(i32, String, String)> {
    rows.iter().map(|(i, n, e)| (*i, n.to_string(), e.to_string())).collect()
}

#[tokio::test]
async fn upsert_sink_config() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let topic = names::unique("ch10-ex-upsert");
    let table = names::unique_table("ch10_ex_upsert");
    let (first, replay) = (format!("{topic}-sink"), format!("{topic}-replay"));
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.extend([first.clone(), replay.clone()]);
    cleanup.tables.push(table.clone());
    cleanup.topics.push(topic.clone());

    create_topic(&env, &topic).await.unwrap();
    for (id, name, email) in [(1, "ann", "ann@example.com"), (2, "bo", "bo@example.com"), (1, "ann", "ann@new.example")]
    {
        let (key, value) = record(id, name, email);
        produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    }
    let want = expected(&[(1, "ann", "ann@new.example"), (2, "bo", "bo@example.com")]);

    let config = exercises::upsert_sink_config(&env, &topic, &table).expect("building the config");
    client.put_connector(&first, &config).await.expect("the worker accepts the config");
    wait_running(&client, &first, DEADLINE).await.expect("the sink runs");
    wait_caught_up(&env, &first, &topic, DEADLINE).await.expect("the sink consumed the topic");
    let rows = users(&pool, &table).await.unwrap();
    assert_eq!(rows, want, "one row per key, the latest value");

    // Replay: a second connector (a new consumer group) reads the whole topic again into the same table.
    client.delete(&first).await.unwrap();
    client.put_connector(&replay, &config).await.expect("the worker accepts the config again");
    wait_running(&client, &replay, DEADLINE).await.expect("the replaying sink runs");
    wait_caught_up(&env, &replay, &topic, DEADLINE).await.expect("the replaying sink consumed the topic");
    assert_eq!(users(&pool, &table).await.unwrap(), want, "replaying the topic must not change the table");
}

#[tokio::test]
async fn user_record() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let topic = names::unique("ch10-ex-records");
    let table = names::unique_table("ch10_ex_records");
    let name = format!("{topic}-sink");
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.push(name.clone());
    cleanup.tables.push(table.clone());
    cleanup.topics.push(topic.clone());

    ensure_utf8mb4(&pool).await.unwrap();
    create_topic(&env, &topic).await.unwrap();
    let rows = [(7, "김민수", "minsu@example.com"), (42, "Jane", "jane@example.com")];
    for (id, user, email) in rows {
        let (key, value) = exercises::user_record(id, user, email);
        produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    }
    client.put_connector(&name, &sink_config(&env, &topic, &table).unwrap()).await.unwrap();
    wait_running(&client, &name, DEADLINE).await.expect("the sink runs");
    let want = expected(&rows);
    let got = wait::until("the rows land in MariaDB", DEADLINE, Duration::from_millis(100), || async {
        let status = client.status(&name).await?;
        if let Some(task) = status["tasks"].as_array().and_then(|t| t.iter().find(|t| t["state"] == "FAILED")) {
            let trace = task["trace"].as_str().unwrap_or_default();
            return Err(wait::fatal(format!("the sink task FAILED on your records: {}", ch10_sink::root_cause(trace))));
        }
        let got = users(&pool, &table).await?;
        Ok((got.len() >= want.len()).then_some(got))
    })
    .await
    .unwrap();
    assert_eq!(got, want);
    // The key's schema made `id` the primary key.
    let key: Option<String> = sqlx::query_scalar(
        "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'",
    )
    .bind(&table)
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(key.as_deref(), Some("id"), "the sink should have made id the primary key (from the record key)");
}
