//! Checks for the chapter 10 exercises: your configs and records go through the real worker into MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch10_sink::{
    Cleanup, User, create_topic, ensure_utf8mb4, execute, produce_json, root_cause, sink_config,
    users, wait_caught_up, wait_failed,
};
use serde_json::{Value, json};
use sqlx::mysql::MySqlPool;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, names, wait};

const DEADLINE: Duration = Duration::from_secs(60);

/// A key and a flat row value with schemas, written by the check itself (not by an exercise); `extra` adds
/// optional string fields the table may not have.
fn row(id: i32, name: &str, email: &str, extra: &[(&str, &str)]) -> (Value, Value) {
    let id_field = json!({"field": "id", "type": "int32", "optional": false});
    let mut fields = vec![id_field.clone()];
    let mut payload = json!({"id": id, "name": name, "email": email});
    fields.push(json!({"field": "name", "type": "string", "optional": false}));
    fields.push(json!({"field": "email", "type": "string", "optional": false}));
    for (field, value) in extra {
        fields.push(json!({"field": field, "type": "string", "optional": true}));
        payload[*field] = json!(value);
    }
    (
        json!({"schema": {"type": "struct", "optional": false, "fields": [id_field]}, "payload": {"id": id}}),
        json!({"schema": {"type": "struct", "optional": false, "fields": fields}, "payload": payload}),
    )
}

fn expected(rows: &[(i32, &str, &str)]) -> Vec<User> {
    rows.iter().map(|(i, n, e)| (*i, n.to_string(), e.to_string())).collect()
}

/// `SHOW CREATE TABLE`: the table's definition, to prove that nobody changed it.
async fn definition(pool: &MySqlPool, table: &str) -> String {
    let (_, ddl): (String, String) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW CREATE TABLE {table}")))
            .fetch_one(pool)
            .await
            .unwrap();
    ddl
}

/// Waits until sink `name` has committed the whole `topic`; a FAILED task ends the wait with what went wrong.
async fn applied(env: &Env, client: &ConnectClient, name: &str, topic: &str, config: &Value) {
    println!("waiting for {name} to apply {topic}");
    // The caught-up check makes blocking Kafka calls: on a thread of its own, so the status keeps being watched.
    let (env, group_of, of) = (env.clone(), name.to_string(), topic.to_string());
    let caught_up = tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(wait_caught_up(&env, &group_of, &of, DEADLINE))
    });
    tokio::select! {
        failed = wait_failed(client, name, DEADLINE) => match failed {
            Ok(trace) => panic!("{}\n{trace}", diagnose(&trace, config)),
            Err(_) => panic!("{name} neither applied {topic} nor failed within {} s", DEADLINE.as_secs()),
        },
        caught_up = caught_up => {
            caught_up.unwrap().unwrap_or_else(|e| panic!("the sink did not consume the topic: {e:#}"));
        }
    }
}

/// What a failed sink task's trace says about the config that made it.
fn diagnose(trace: &str, config: &Value) -> String {
    let cause = root_cause(trace);
    if trace.contains("Duplicate entry") {
        return format!(
            "the sink INSERTed a key that already has a row ({cause}): an update, or a replayed record, must \
             overwrite the row of its key"
        );
    }
    if trace.contains("Error configuring an instance of JdbcSinkConnectorConfig") {
        let mode = &config["primary.key.mode"];
        if *mode != json!("record_key") {
            return format!(
                "the sink refused its configuration when its task started (the worker log says why): an upsert \
                 and a delete need to know each row's primary key, and primary.key.mode is {mode}"
            );
        }
        return "the sink refused its configuration when its task started; the worker log says why"
            .to_string();
    }
    format!("the sink task FAILED: {cause}")
}

/// The table after a pass of the sink: the same definition, and exactly `want`.
async fn check_table(pool: &MySqlPool, table: &str, before: &str, want: &[User], when: &str) {
    let now = definition(pool, table).await;
    assert_eq!(
        now, before,
        "{when}: the sink changed the table's definition; it belongs to its owners"
    );
    let rows = users(pool, table).await.unwrap();
    assert!(
        !rows.iter().any(|(id, ..)| *id == 2),
        "{when}: the tombstone of id 2 left its row; a tombstone must delete the row of its key: {rows:?}"
    );
    assert_eq!(rows, want, "{when}: one row per key, with the latest value");
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
    cleanup.connector(first.clone());
    cleanup.connector(replay.clone());
    cleanup.table(table.clone());
    cleanup.topic(topic.clone());

    // The owners' table, as they made it.
    execute(&pool, &format!("CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL) DEFAULT CHARSET = utf8mb4")).await.unwrap();
    let before = definition(&pool, &table).await;
    create_topic(&env, &topic).await.unwrap();
    let changes =
        [(1, "ann", "ann@example.com"), (2, "bo", "bo@example.com"), (1, "ann", "ann@new.example")];
    for (id, name, email) in changes {
        let (key, value) = row(id, name, email, &[]);
        produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    }
    let (tombstone, _) = row(2, "", "", &[]);
    produce_json(&env, &topic, &tombstone, None).await.unwrap();
    let (key, value) = row(3, "cy", "cy@example.com", &[]);
    produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    let want = expected(&[(1, "ann", "ann@new.example"), (3, "cy", "cy@example.com")]);

    let config = exercises::upsert_sink_config(&env, &topic, &table).expect("building the config");
    client.put_connector(&first, &config).await.expect("the worker accepts the config");
    applied(&env, &client, &first, &topic, &config).await;
    check_table(&pool, &table, &before, &want, "after the first pass").await;

    // Replay: a second connector (a new consumer group) reads the whole topic again into the same table.
    client.delete(&first).await.unwrap();
    client.put_connector(&replay, &config).await.expect("the worker accepts the config again");
    applied(&env, &client, &replay, &topic, &config).await;
    check_table(&pool, &table, &before, &want, "after replaying the topic").await;

    // A record that does not fit the owners' table must stop the sink, not change the table.
    let (key, value) = row(4, "dee", "dee@example.com", &[("phone", "555-0100")]);
    produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    println!("waiting for {replay} to stop at a record with a field the table does not have");
    let (pool_, table_, before_) = (&pool, &table, &before);
    wait::until("the sink stops at the record that does not fit", DEADLINE, Duration::from_millis(250), || async {
        if definition(pool_, table_).await != *before_ {
            let now = definition(pool_, table_).await;
            return Err(wait::fatal(format!(
                "the sink changed the table's definition for a record with a field the table does not have; \
                 the table belongs to its owners: it must stay\n{before_}\nbut is now\n{now}"
            )));
        }
        let status = client.status(&replay).await?;
        Ok(status["tasks"].as_array().into_iter().flatten().any(|t| t["state"] == "FAILED").then_some(()))
    })
    .await
    .unwrap_or_else(|e| panic!("{e:#}"));
    let rows = users(&pool, &table).await.unwrap();
    assert_eq!(rows, want, "the record that does not fit must not land: {rows:?}");
}

/// The users of the `user_record` check: (id, name, email, logins).
const USERS: [(i64, &str, Option<&str>, i32); 3] = [
    (7, "김민수", Some("minsu@example.com"), 3),
    (42, "Jane", None, 0),
    (5_000_000_000, "Big", Some("big@example.com"), 2_000_000_000),
];

/// A column as `information_schema` describes it: (name, data type, nullable, key).
type Column = (String, String, String, String);

#[tokio::test]
async fn user_record() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let topic = names::unique("ch10-ex-records");
    let table = names::unique_table("ch10_ex_records");
    let name = format!("{topic}-sink");
    let mut cleanup = Cleanup::new(&env);
    cleanup.connector(name.clone());
    cleanup.table(table.clone());
    cleanup.topic(topic.clone());

    ensure_utf8mb4(&pool).await.unwrap();
    create_topic(&env, &topic).await.unwrap();
    for (id, user, email, logins) in USERS {
        let (key, value) = exercises::user_record(id, user, email, logins);
        produce_json(&env, &topic, &key, Some(&value)).await.unwrap();
    }
    client.put_connector(&name, &sink_config(&env, &topic, &table).unwrap()).await.unwrap();
    println!("waiting for the rows to land in {table}");
    let sql = format!(
        "SELECT CAST(id AS SIGNED), CAST(name AS CHAR), CAST(email AS CHAR), CAST(logins AS SIGNED) FROM {table} \
         ORDER BY id"
    );
    let got: Vec<(i64, String, Option<String>, i64)> =
        wait::until("the rows land in MariaDB", DEADLINE, Duration::from_millis(100), || async {
            let status = client.status(&name).await?;
            if let Some(task) =
                status["tasks"].as_array().and_then(|t| t.iter().find(|t| t["state"] == "FAILED"))
            {
                let trace = task["trace"].as_str().unwrap_or_default();
                return Err(wait::fatal(format!(
                    "the sink task FAILED on your records: {}",
                    explain_record_failure(trace)
                )));
            }
            match sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(&pool).await {
                Ok(rows) => Ok((rows.len() >= USERS.len()).then_some(rows)),
                Err(_) => Ok(None), // the sink has not created the table yet
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{e:#}"));

    check_columns(&pool, &table).await;
    let want: Vec<(i64, String, Option<String>, i64)> = USERS
        .iter()
        .map(|(i, n, e, l)| (*i, n.to_string(), e.map(str::to_string), i64::from(*l)))
        .collect();
    let jane = got.iter().find(|(id, ..)| *id == 42);
    if let Some((_, _, Some(email), _)) = jane {
        panic!(
            "Jane gave no email, but her row has email = {email:?}, not NULL: an absent value is a null payload"
        );
    }
    assert_eq!(got, want, "the rows in the table the sink created");
}

/// The columns the sink created must be the owners' table: types, nullability and primary key.
async fn check_columns(pool: &MySqlPool, table: &str) {
    let columns: Vec<Column> = sqlx::query_as(
        "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_KEY AS CHAR) \
         FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    let text = ["tinytext", "text", "mediumtext", "longtext", "varchar"];
    // (column, the types that fit, as said, nullable, why)
    let wanted = [
        ("id", &["bigint"][..], "bigint", "NO", "a Rust i64 needs BIGINT, and a key is never NULL"),
        ("name", &text[..], "a text type", "NO", "every user has a name"),
        ("email", &text[..], "a text type", "YES", "a user may give no email"),
        ("logins", &["int"][..], "int", "NO", "a Rust i32 is an INT, and every user has a count"),
    ];
    for (column, types, shown, nullable, why) in wanted {
        let Some((_, data_type, is_nullable, _)) = columns.iter().find(|c| c.0 == column) else {
            panic!("the table the sink created has no column {column}: {columns:?}")
        };
        let null = |n: &str| if n == "YES" { "NULL" } else { "NOT NULL" };
        assert!(
            types.contains(&data_type.as_str()) && is_nullable == nullable,
            "column {column}: the sink made it {data_type} {}, the table needs {} {} ({why})",
            null(is_nullable),
            shown,
            null(nullable)
        );
    }
    assert_eq!(columns.len(), wanted.len(), "exactly the four columns: {columns:?}");
    let key: Vec<&str> = columns.iter().filter(|c| c.3 == "PRI").map(|c| c.0.as_str()).collect();
    assert_eq!(key, ["id"], "the primary key (from the record key's schema) must be id alone");
}

/// What a sink task's trace says about the records it failed on.
fn explain_record_failure(trace: &str) -> String {
    let cause = root_cause(trace);
    if trace.contains("requires \"schema\" and \"payload\" fields") {
        return format!(
            "a key or value is plain JSON, without its {{schema, payload}} envelope, so the converter cannot read it \
             ({cause})"
        );
    }
    if trace.contains("Invalid null value for required")
        || trace.contains("null value for field that is required")
    {
        return format!("a null was sent in a field declared required (optional: false): {cause}");
    }
    cause
}
