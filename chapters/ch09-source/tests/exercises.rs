//! Checks for the chapter 09 exercises: your connector configs run on the real worker against the real MariaDB.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use ch09_source::{
    Cleanup, Event, create_users_table, data_topic, execute, next_events, parse, source_config,
    subscribe, wait_users_capturing,
};
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde_json::Value;
use workbook_support::connect::{ConnectClient, is_marker, marker, wait_capturing};
use workbook_support::{Env, db, kafka, names};

const DEADLINE: Duration = Duration::from_secs(60);

/// The card numbers the check writes; none may appear in any record.
const CARDS: [&str; 3] = ["4111111111111111", "5500000000000004", "4000000000000002"];

#[tokio::test]
async fn orders_source_config() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let (orders, other) = (names::unique_table("orders"), names::unique_table("other"));
    let prefix = names::unique("ch09-ex-orders");
    let name = format!("{prefix}-source");
    let topic = data_topic(&prefix, &orders);
    let mut cleanup = Cleanup::new(&env);
    cleanup.connector(name.clone());
    cleanup.table(orders.clone());
    cleanup.table(other.clone());
    cleanup.source_topics(&prefix, "mydb", &[&orders, &other]);

    execute(&pool, &format!("CREATE TABLE {orders} (id INT AUTO_INCREMENT PRIMARY KEY, product VARCHAR(100) NOT NULL, qty INT NOT NULL, card_number VARCHAR(19) NOT NULL)")).await.unwrap();
    execute(
        &pool,
        &format!(
            "CREATE TABLE {other} (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(100) NOT NULL)"
        ),
    )
    .await
    .unwrap();
    let order = |product: &str, card: &str| {
        format!(
            "INSERT INTO {orders} (product, qty, card_number) VALUES ('{product}', 3, '{card}')"
        )
    };
    execute(&pool, &order("apple", CARDS[0])).await.unwrap();
    execute(&pool, &format!("INSERT INTO {other} (note) VALUES ('before')")).await.unwrap();

    let config =
        exercises::orders_source_config(&env, &prefix, &orders).expect("building the config");
    // The connector runs in the Connect worker, which may not reach Kafka and MariaDB where your
    // code does (in containers, 127.0.0.1 is the worker itself): a config must use the worker's view.
    for (key, expected, view) in [
        (
            "schema.history.internal.kafka.bootstrap.servers",
            &env.connect_bootstrap_servers,
            "env.connect_bootstrap_servers",
        ),
        ("database.port", &connect_database_port(&env), "env.connect_database_url"),
    ] {
        let found = config[key]
            .as_str()
            .map(str::to_string)
            .or_else(|| config[key].as_u64().map(|p| p.to_string()));
        assert_eq!(
            found.as_deref(),
            Some(expected.as_str()),
            "{key} must be the address as the Connect worker sees it ({view}), not as your code sees it"
        );
    }
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    // Markers are orders with negative ids; the checks below skip them.
    let capturing = wait_capturing(&env, &name, &topic, DEADLINE, |n| {
        format!(
            "INSERT INTO {orders} (id, product, qty, card_number) VALUES (-{n}, '{}', 0, '{}')",
            marker(n),
            CARDS[2]
        )
    })
    .await;
    if let Err(e) = capturing {
        let found = topics_matching(&env, &[&prefix, &orders, &other]).await;
        for t in &found {
            cleanup.topic(t); // whatever the connector created, it goes
        }
        let elsewhere: Vec<&String> =
            found.iter().filter(|t| t.contains(&orders) && **t != topic).collect();
        if !elsewhere.is_empty() {
            panic!(
                "mydb.{orders} went to {elsewhere:?}, not to {topic}: topic.prefix must be the prefix given \
                 (Debezium adds .<database>.<table> itself)\n{e:#}"
            );
        }
        panic!(
            "the connector captured nothing of mydb.{orders}: no topic for it appeared (topics now: {found:?}). \
             Is it named as Debezium names tables in table.include.list?\n{e:#}"
        );
    }

    // The other table changes first: by the time the orders change arrives, the connector has read past it.
    execute(&pool, &format!("INSERT INTO {other} (note) VALUES ('after')")).await.unwrap();
    execute(&pool, &order("plum", CARDS[1])).await.unwrap();

    let consumer = subscribe(&env, &topic).unwrap();
    let records = raw_records(&consumer, 2, DEADLINE)
        .await
        .expect("the orders table's snapshot row and new row");
    let mut products = Vec::new();
    for (event, raw) in &records {
        let Event::Change { op, after: Some(after), .. } = event else {
            panic!("expected a change event, got {event:?}")
        };
        assert!(
            after.get("card_number").is_none() && !CARDS.iter().any(|c| raw.contains(c)),
            "card_number must never reach Kafka, not even in the schema or as a value: {after}"
        );
        products.push((op.clone(), after["product"].as_str().unwrap_or_default().to_string()));
    }
    assert_eq!(
        products,
        [("r".to_string(), "apple".to_string()), ("c".to_string(), "plum".to_string())]
    );

    let leaked: Vec<String> = topics_matching(&env, &[&prefix])
        .await
        .into_iter()
        .filter(|t| !t.contains(&orders) && t.contains("mydb."))
        .collect();
    for t in &leaked {
        cleanup.topic(t);
    }
    assert!(
        leaked.is_empty(),
        "the connector captured other tables too: only mydb.{orders} may be captured, but these topics appeared: \
         {leaked:?}"
    );
}

#[tokio::test]
async fn flatten() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let table = names::unique_table("users");
    let prefix = names::unique("ch09-ex-flat");
    let name = format!("{prefix}-source");
    let topic = data_topic(&prefix, &table);
    let mut cleanup = Cleanup::new(&env);
    cleanup.connector(name.clone());
    cleanup.table(table.clone());
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    create_users_table(&pool, &table).await.unwrap();

    let config = exercises::flatten(source_config(&env, &prefix, &[&table]).unwrap());
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    wait_users_capturing(&env, &name, &topic, &table, DEADLINE)
        .await
        .expect("the connector captures");
    execute(
        &pool,
        &format!("INSERT INTO {table} (id, name, email) VALUES (1, 'ann', 'ann@example.com')"),
    )
    .await
    .unwrap();
    execute(&pool, &format!("UPDATE {table} SET email = 'ann@new.example' WHERE id = 1"))
        .await
        .unwrap();
    execute(&pool, &format!("DELETE FROM {table} WHERE id = 1")).await.unwrap();
    // One more row: once it arrives, everything about row 1 has arrived too (one partition, commit order).
    execute(
        &pool,
        &format!("INSERT INTO {table} (id, name, email) VALUES (2, 'bo', 'bo@example.com')"),
    )
    .await
    .unwrap();

    let consumer = subscribe(&env, &topic).unwrap();
    let mut rows: Vec<Value> = Vec::new();
    println!("waiting for the flat rows of row 1 and then row 2");
    loop {
        let events = next_events(&consumer, 1, DEADLINE)
            .await
            .unwrap_or_else(|e| panic!("after {} flattened records: {e:#}", rows.len()));
        match events.into_iter().next().unwrap() {
            Event::Tombstone { .. } => {} // allowed after a delete, not required
            Event::NullPayload { key } => panic!(
                "the delete of {key} arrived as a null value: a flat row alone cannot say that the row is gone; \
                 keep the delete as the old row with __deleted = \"true\""
            ),
            Event::Other { value, .. } if value["id"] == 2 => break,
            Event::Other { value, .. } => rows.push(value),
            change @ Event::Change { .. } => {
                panic!("still the before/after envelope, not a flat row: {change:?}")
            }
        }
    }
    assert!(
        rows.len() >= 3,
        "the delete of id 1 was dropped: no record for it before the next change: {rows:?}"
    );
    for row in &rows {
        for field in ["__op", "__source_ts_ms", "__deleted"] {
            assert!(
                row.get(field).is_some(),
                "{field} missing from the flat row (it must be a field of the row): {row}"
            );
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
        assert!(
            row["__source_ts_ms"].as_i64().unwrap_or(0) > 1_600_000_000_000,
            "__source_ts_ms is no commit time: {row}"
        );
    }
}

/// The next `count` records that are not markers: each parsed, and its value as the text on the topic.
async fn raw_records(
    consumer: &StreamConsumer,
    count: usize,
    timeout: Duration,
) -> Result<Vec<(Event, String)>> {
    println!("waiting for {count} change events");
    let deadline = Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => message,
            Ok(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) => continue,
            Ok(Err(e)) => return Err(e.into()),
            Err(_) => bail!(
                "only {} of {count} change events within {} s",
                records.len(),
                timeout.as_secs()
            ),
        };
        if is_marker(message.key(), message.payload()) {
            continue;
        }
        let raw = String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned();
        records.push((parse(message.key(), message.payload())?, raw));
    }
    Ok(records)
}

/// The topics whose name contains any of `parts`.
async fn topics_matching(env: &Env, parts: &[&str]) -> Vec<String> {
    let cluster =
        kafka::fetch_metadata(&env.bootstrap_servers, None, Duration::from_secs(10)).await.unwrap();
    cluster
        .topics
        .into_iter()
        .map(|t| t.name)
        .filter(|t| parts.iter().any(|p| t.contains(p)))
        .collect()
}

/// The MariaDB port as the Connect worker reaches it.
fn connect_database_port(env: &Env) -> String {
    let url = env.connect_database_url.rsplit('@').next().unwrap_or_default();
    let host_port = url.split('/').next().unwrap_or_default();
    host_port.rsplit(':').next().unwrap_or_default().to_string()
}
