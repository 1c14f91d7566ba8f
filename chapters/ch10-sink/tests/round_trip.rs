//! The round trip users → source → topic → JDBC sink → users_copy, and what happens when things go wrong.
//! Real Connect worker, real MariaDB, real broker; every name is unique to the run and cleaned up.

use std::time::{Duration, Instant};

use ch10_sink::{
    Cleanup, check_sink_login, create_topic, create_users_table, data_topic, delete_markers,
    ensure_utf8mb4, execute, explain_failure, produce_json, root_cause, sink_config, source_config,
    users, wait_caught_up, wait_converged, wait_failed, wait_running, wait_users_capturing,
};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use serde_json::json;
use sqlx::mysql::MySqlPool;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names};

const DEADLINE: Duration = Duration::from_secs(60);

struct Pipeline {
    env: Env,
    pool: MySqlPool,
    client: ConnectClient,
    table: String,
    copy: String,
    topic: String,
    sink: String,
    cleanup: Cleanup,
}

/// users (with `rows` rows) → source → topic → sink → users_copy, converged once.
async fn pipeline(rows: u32) -> Pipeline {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    ensure_utf8mb4(&pool).await.unwrap();
    let mut cleanup = Cleanup::new(&env);
    let table = cleanup.table(names::unique_table("users"));
    let copy = cleanup.table(format!("{table}_copy"));
    let prefix = names::unique("ch10-rt");
    let source = cleanup.connector(format!("{prefix}-source"));
    let sink = cleanup.connector(format!("{prefix}-sink"));
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    let topic = data_topic(&prefix, &table);

    create_users_table(&pool, &table).await.unwrap();
    for i in 1..=rows {
        execute(
            &pool,
            &format!("INSERT INTO {table} (name, email) VALUES ('u{i}', 'u{i}@example.com')"),
        )
        .await
        .unwrap();
    }
    client.put_connector(&source, &source_config(&env, &prefix, &table).unwrap()).await.unwrap();
    client.put_connector(&sink, &sink_config(&env, &topic, &copy).unwrap()).await.unwrap();
    // The tests change rows next: the source must stream by then, not merely run.
    wait_users_capturing(&env, &source, &topic, &table, DEADLINE).await.unwrap();
    wait_running(&client, &sink, DEADLINE).await.unwrap();
    delete_markers(&pool, &table).await.unwrap();
    println!("waiting for the copy to converge");
    wait_converged(&pool, &table, &copy, DEADLINE).await.unwrap();
    Pipeline { env, pool, client, table, copy, topic, sink, cleanup }
}

#[tokio::test]
async fn round_trip_converges_after_inserts_updates_and_deletes() {
    let p = pipeline(5).await;
    let (n, m, k) = (40, 20, 10);
    for i in 0..n {
        execute(
            &p.pool,
            &format!(
                "INSERT INTO {} (name, email) VALUES ('이름{i}', 'n{i}@example.com')",
                p.table
            ),
        )
        .await
        .unwrap();
    }
    for id in 1..=m {
        execute(
            &p.pool,
            &format!("UPDATE {} SET email = 'changed{id}@example.com' WHERE id = {id}", p.table),
        )
        .await
        .unwrap();
    }
    for id in (m + 1)..=(m + k) {
        execute(&p.pool, &format!("DELETE FROM {} WHERE id = {id}", p.table)).await.unwrap();
    }
    let rows = wait_converged(&p.pool, &p.table, &p.copy, DEADLINE)
        .await
        .expect("users_copy converges to users");
    assert_eq!(rows.len(), 5 + n as usize - k as usize);
    assert!(
        rows.iter().any(|(_, name, _)| name == "이름0"),
        "Korean text survives the trip: {rows:?}"
    );
    assert_eq!(rows[0].2, "changed1@example.com");
}

#[tokio::test]
async fn replaying_the_source_topic_leaves_the_copy_unchanged() {
    let mut p = pipeline(10).await;
    execute(&p.pool, &format!("UPDATE {} SET name = 'renamed' WHERE id = 3", p.table))
        .await
        .unwrap();
    execute(&p.pool, &format!("DELETE FROM {} WHERE id = 4", p.table)).await.unwrap();
    let before = wait_converged(&p.pool, &p.table, &p.copy, DEADLINE).await.unwrap();
    wait_caught_up(&p.env, &p.sink, &p.topic, DEADLINE).await.unwrap();

    // A second sink with a new name has a new consumer group: it reads the topic from offset 0 into the same
    // table, re-applying every insert, update, delete and tombstone.
    let replay = p.cleanup.connector(format!("{}-replay", p.sink));
    p.client.delete(&p.sink).await.unwrap();
    p.client
        .put_connector(&replay, &sink_config(&p.env, &p.topic, &p.copy).unwrap())
        .await
        .unwrap();
    wait_running(&p.client, &replay, DEADLINE).await.unwrap();
    let end = wait_caught_up(&p.env, &replay, &p.topic, DEADLINE).await.unwrap();
    assert!(
        end >= 13,
        "the replay read the whole topic (10 snapshot rows, an update, a delete and its tombstone)"
    );
    assert_eq!(users(&p.pool, &p.copy).await.unwrap(), before, "replaying changed users_copy");
}

#[tokio::test]
async fn an_invalid_config_is_rejected_with_the_rest_error() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let name = cleanup.connector(names::unique("ch10-invalid"));
    let mut config = sink_config(&env, "unused", "unused").unwrap();
    config.as_object_mut().unwrap().remove("topics");
    let error = client
        .put_connector(&name, &config)
        .await
        .expect_err("a sink without topics must be rejected");
    let message = format!("{error:#}");
    println!("{message}");
    assert!(
        message.contains("400") && message.contains("Must configure one of topics or topics.regex"),
        "{message}"
    );
    assert!(!client.connectors().await.unwrap().contains(&name), "nothing was created");
}

#[tokio::test]
async fn a_wrong_password_fails_clearly_and_fast() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let prefix = cleanup.topic(names::unique("ch10-badpw"));
    let source = cleanup.connector(format!("{prefix}-source"));
    let sink = cleanup.connector(format!("{prefix}-sink"));
    let started = Instant::now();

    // The source checks its database connection when the config is submitted: PUT itself fails.
    let mut config = source_config(&env, &prefix, "users").unwrap();
    config["database.password"] = json!("not-the-password");
    let error =
        format!("{:#}", client.put_connector(&source, &config).await.expect_err("rejected"));
    assert!(error.contains("Access denied for user"), "{error}");

    // The sink only connects when its task starts: validate accepts the config, the task FAILS.
    create_topic(&env, &prefix).await.unwrap();
    let mut config = sink_config(&env, &prefix, "unused").unwrap();
    config["connection.password"] = json!("not-the-password");
    let login = format!(
        "{:#}",
        check_sink_login(&config).await.expect_err("the preflight login is refused")
    );
    assert!(login.contains("Access denied for user"), "{login}");
    client.put_connector(&sink, &config).await.unwrap();
    let trace = wait_failed(&client, &sink, Duration::from_secs(30))
        .await
        .expect("the sink task fails, it does not hang");
    let explained = explain_failure(&trace);
    assert!(explained.contains("could not open a database connection"), "{explained}\n{trace}");
    assert!(started.elapsed() < Duration::from_secs(30), "took {:?}", started.elapsed());
}

#[tokio::test]
async fn a_bad_record_fails_the_task_with_its_trace() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch10-badrecord"));
    let table = cleanup.table(names::unique_table("ch10_badrecord"));
    let name = cleanup.connector(format!("{topic}-sink"));
    create_topic(&env, &topic).await.unwrap();
    // Plain JSON, no {"schema", "payload"} envelope: the worker's converter (schemas.enable=true) cannot read it.
    produce_json(&env, &topic, &json!({"id": 1}), Some(&json!({"id": 1, "name": "no schema"})))
        .await
        .unwrap();

    client.put_connector(&name, &sink_config(&env, &topic, &table).unwrap()).await.unwrap();
    // errors.tolerance defaults to none: fail fast, at the first bad record.
    let trace = wait_failed(&client, &name, DEADLINE).await.unwrap();
    println!("{}", root_cause(&trace));
    assert!(trace.contains("Tolerance exceeded in error handler"), "{trace}");
    assert!(trace.contains("requires \"schema\" and \"payload\" fields"), "{trace}");
}

#[tokio::test]
async fn with_error_tolerance_a_bad_record_goes_to_the_dead_letter_topic() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch10-dlq"));
    let dlq = cleanup.topic(format!("{topic}-dlq"));
    let table = cleanup.table(names::unique_table("ch10_dlq"));
    let name = cleanup.connector(format!("{topic}-sink"));
    create_topic(&env, &topic).await.unwrap();

    let schema =
        |fields: serde_json::Value| json!({"type": "struct", "optional": false, "fields": fields});
    let id = json!({"field": "id", "type": "int32", "optional": false});
    let good = |n: i32| {
        (
            json!({"schema": schema(json!([id])), "payload": {"id": n}}),
            json!({"schema": schema(json!([id, {"field": "name", "type": "string", "optional": false},
                   {"field": "email", "type": "string", "optional": false}])),
                   "payload": {"id": n, "name": format!("good{n}"), "email": format!("g{n}@example.com")}}),
        )
    };
    let (k1, v1) = good(1);
    produce_json(&env, &topic, &k1, Some(&v1)).await.unwrap();
    let (k2, _) = good(2);
    produce_json(&env, &topic, &k2, Some(&json!({"id": 2, "name": "no schema"}))).await.unwrap();
    let (k3, v3) = good(3);
    produce_json(&env, &topic, &k3, Some(&v3)).await.unwrap();

    let mut config = sink_config(&env, &topic, &table).unwrap();
    config["errors.tolerance"] = json!("all");
    config["errors.deadletterqueue.topic.name"] = json!(dlq);
    config["errors.deadletterqueue.topic.replication.factor"] = json!("1");
    config["errors.deadletterqueue.context.headers.enable"] = json!("true");
    client.put_connector(&name, &config).await.unwrap();
    wait_running(&client, &name, DEADLINE).await.unwrap();
    wait_caught_up(&env, &name, &topic, DEADLINE).await.unwrap();
    let ids: Vec<i32> =
        users(&pool, &table).await.unwrap().into_iter().map(|(id, ..)| id).collect();
    assert_eq!(ids, [1, 3], "the good records land, the bad one is skipped");
    assert_eq!(
        client.status(&name).await.unwrap()["tasks"][0]["state"],
        "RUNNING",
        "the task keeps running"
    );

    let consumer: StreamConsumer = kafka::group_config(&env, &names::unique("ch10-dlq-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&dlq]).unwrap();
    let message = tokio::time::timeout(DEADLINE, consumer.recv())
        .await
        .expect("a record in the DLQ")
        .unwrap();
    assert_eq!(
        message.payload(),
        Some(br#"{"id":2,"name":"no schema"}"#.as_slice()),
        "the original bytes"
    );
    let headers = message.headers().expect("context headers");
    let header = |name: &str| {
        headers
            .iter()
            .find(|h| h.key == name)
            .and_then(|h| h.value)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header("__connect.errors.topic").as_deref(), Some(topic.as_str()));
    assert_eq!(header("__connect.errors.stage").as_deref(), Some("VALUE_CONVERTER"));
    let class = header("__connect.errors.exception.class.name").unwrap_or_default();
    assert!(class.ends_with("DataException"), "{class}");
}
