//! Checks for the chapter 09 exercises: your connector configs run on the real worker against the real MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch09_source::{Cleanup, Event, create_users_table, data_topic, execute, next_events, source_config, subscribe};
use ch09_source::{wait_running};
use serde_json::Value;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names};

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn orders_source_config() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let (orders, other) = (names::unique_table("orders"), names::unique_table("other"));
    let prefix = names::unique("ch09-ex-orders");
    let name = format!("{prefix}-source");
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.push(name.clone());
    cleanup.tables.extend([orders.clone(), other.clone()]);
    cleanup.source_topics(&prefix, "mydb", &[&orders, &other]);

    execute(&pool, &format!("CREATE TABLE {orders} (id INT AUTO_INCREMENT PRIMARY KEY, product VARCHAR(100) NOT NULL, qty INT NOT NULL, card_number VARCHAR(19) NOT NULL)")).await.unwrap();
    execute(&pool, &format!("CREATE TABLE {other} (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100) NOT NULL)"))
        .await
        .unwrap();
    execute(
        &pool,
        &format!("INSERT INTO {orders} (product, qty, card_number) VALUES ('apple', 3, '4111111111111111')"),
    )
    .await
    .unwrap();
    execute(&pool, &format!("INSERT INTO {other} (note) VALUES ('before')")).await.unwrap();

    let config = exercises::orders_source_config(&env, &prefix, &orders).expect("building the config");
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    wait_running(&client, &name, DEADLINE).await.expect("connector and task RUNNING");

    // The other table changes first: by the time the orders change arrives, the connector has read past it.
    execute(&pool, &format!("INSERT INTO {other} (note) VALUES ('after')")).await.unwrap();
    execute(&pool, &format!("INSERT INTO {orders} (product, qty, card_number) VALUES ('plum', 7, '5500000000000004')"))
        .await
        .unwrap();

    let consumer = subscribe(&env, &data_topic(&prefix, &orders)).unwrap();
    let events = next_events(&consumer, 2, DEADLINE).await.expect("the orders table's snapshot row and new row");
    let mut products = Vec::new();
    for event in &events {
        let Event::Change { op, after: Some(after), .. } = event else {
            panic!("expected a change event, got {event:?}")
        };
        assert!(after.get("card_number").is_none(), "card_number must never reach Kafka: {after}");
        products.push((op.clone(), after["product"].as_str().unwrap_or_default().to_string()));
    }
    assert_eq!(products, [("r".to_string(), "apple".to_string()), ("c".to_string(), "plum".to_string())]);

    let env2 = env.clone();
    let cluster = tokio::task::spawn_blocking(move || kafka::fetch_cluster(&env2, None, Duration::from_secs(10)))
        .await
        .unwrap()
        .unwrap();
    let leaked: Vec<&str> = cluster
        .topics
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| t.starts_with(&prefix) && t.contains(&other))
        .collect();
    assert!(leaked.is_empty(), "only mydb.{orders} may be captured, but these topics appeared: {leaked:?}");
}

#[tokio::test]
async fn flatten() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let table = names::unique_table("users");
    let prefix = names::unique("ch09-ex-flat");
    let name = format!("{prefix}-source");
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.push(name.clone());
    cleanup.tables.push(table.clone());
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    create_users_table(&pool, &table).await.unwrap();

    let config = exercises::flatten(source_config(&env, &prefix, &[&table]).unwrap());
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    wait_running(&client, &name, DEADLINE).await.expect("connector and task RUNNING");
    execute(&pool, &format!("INSERT INTO {table} (id, name, email) VALUES (1, 'ann', 'ann@example.com')"))
        .await
        .unwrap();
    execute(&pool, &format!("UPDATE {table} SET email = 'ann@new.example' WHERE id = 1")).await.unwrap();
    execute(&pool, &format!("DELETE FROM {table} WHERE id = 1")).await.unwrap();

    let consumer = subscribe(&env, &data_topic(&prefix, &table)).unwrap();
    let mut rows: Vec<Value> = Vec::new();
    while rows.len() < 3 {
        let events = next_events(&consumer, 1, DEADLINE)
            .await
            .unwrap_or_else(|e| panic!("after {} flattened records: {e:#}", rows.len()));
        match events.into_iter().next().unwrap() {
            Event::Tombstone { .. } | Event::NullPayload { .. } => {}
            Event::Other { value, .. } => rows.push(value),
            change @ Event::Change { .. } => panic!("still the before/after envelope, not a flat row: {change:?}"),
        }
    }
    let summary: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or("<missing>").to_string();
            (text("__op"), text("email"), text("__deleted"))
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("c".into(), "ann@example.com".into(), "false".into()),
            ("u".into(), "ann@new.example".into(), "false".into()),
            ("d".into(), "ann@new.example".into(), "true".into()),
        ],
        "flat rows with __op and __deleted, a delete carrying the last row: {rows:?}"
    );
    for row in &rows {
        assert_eq!(row["id"], 1, "{row}");
        assert!(row["__source_ts_ms"].as_i64().unwrap_or(0) > 1_600_000_000_000, "__source_ts_ms missing: {row}");
    }
}
