//! The chapter's exercises, against the real MariaDB, Kafka and Kafka Connect (run by `cargo xtask check ch12`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch11_order_service::{Cleanup, EventRecord, new_id, wait_running};
use ch12_data_sync::{CatalogTables, INITIAL_STOCK, count, create_shared_orders_table, stock};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names, wait};

fn event(event_type: &str, order_id: &str, product: &str, qty: i64) -> EventRecord {
    EventRecord {
        partition: 0,
        offset: 0,
        key: order_id.to_string(),
        event_id: Some(new_id()),
        event_type: Some(event_type.to_string()),
        payload: json!({"order_id": order_id, "product_id": product, "qty": qty, "status": "CREATED"}),
    }
}

#[tokio::test]
async fn apply_event() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let mut cleanup = Cleanup::new(&env);
    let tables = CatalogTables::with_prefix(&names::unique_table("ch12_ex"));
    cleanup.tables.extend([tables.stock.clone(), tables.processed.clone()]);
    tables.create(&pool).await.unwrap();
    let stock_of = |product: &'static str| {
        let (pool, tables) = (pool.clone(), tables.clone());
        async move { stock(&pool, &tables).await.unwrap().into_iter().find(|(p, _)| p == product).unwrap().1 }
    };

    let order = new_id();
    let created = event("OrderCreated", &order, "CATALOG-001", 3);
    assert!(exercises::apply_event(&pool, &tables, &created).await.unwrap(), "first OrderCreated: true");
    assert_eq!(stock_of("CATALOG-001").await, INITIAL_STOCK - 3);
    assert!(!exercises::apply_event(&pool, &tables, &created).await.unwrap(), "redelivered OrderCreated: false");
    assert_eq!(stock_of("CATALOG-001").await, INITIAL_STOCK - 3, "a redelivered event was applied twice");

    let mut cancelled = event("OrderCancelled", &order, "CATALOG-001", 3);
    cancelled.payload["status"] = json!("CANCELLED");
    assert!(exercises::apply_event(&pool, &tables, &cancelled).await.unwrap(), "first OrderCancelled: true");
    assert_eq!(stock_of("CATALOG-001").await, INITIAL_STOCK, "the cancellation must put the 3 back");
    assert!(!exercises::apply_event(&pool, &tables, &cancelled).await.unwrap(), "redelivered OrderCancelled: false");
    assert_eq!(stock_of("CATALOG-001").await, INITIAL_STOCK, "a redelivered cancellation was applied twice");

    let other = event("OrderCreated", &new_id(), "CATALOG-002", 2);
    assert!(exercises::apply_event(&pool, &tables, &other).await.unwrap());
    let shipped = event("OrderShipped", &new_id(), "CATALOG-002", 2);
    assert!(!exercises::apply_event(&pool, &tables, &shipped).await.unwrap(), "other event types change nothing");
    assert_eq!(stock_of("CATALOG-002").await, INITIAL_STOCK - 2);
    assert_eq!(stock_of("CATALOG-003").await, INITIAL_STOCK);
}

/// A record as the outbox router writes it: the payload with the schema the JsonConverter embeds.
fn order_value(order_id: &str, status: &str, qty: i32) -> String {
    let field = |name: &str, kind: &str| json!({"type": kind, "optional": true, "field": name});
    json!({
        "schema": {"type": "struct", "optional": true, "name": "payload", "fields": [
            field("created_at", "string"), field("order_id", "string"), field("product_id", "string"),
            field("qty", "int32"), field("status", "string"), field("total_price", "int32"),
            field("unit_price", "int32"), field("user_id", "string"),
        ]},
        "payload": {
            "created_at": "2026-01-02T03:04:05.000006Z", "order_id": order_id, "product_id": "CATALOG-001",
            "qty": qty, "status": status, "total_price": qty * 1200, "unit_price": 1200, "user_id": "erin",
        },
    })
    .to_string()
}

#[tokio::test]
async fn orders_sink_config() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let table = names::unique_table("ch12_ex_orders_all");
    let topic = names::unique("ch12-ex-orders");
    let connector = names::unique("ch12-ex-sink");
    cleanup.tables.push(table.clone());
    cleanup.topics.push(topic.clone());
    cleanup.connectors.push(connector.clone());
    create_shared_orders_table(&pool, &table).await.unwrap();
    let admin = kafka::admin(&env).unwrap();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&[NewTopic::new(&topic, 3, TopicReplication::Fixed(1))], &options).await.unwrap()
    {
        result.unwrap();
    }

    let config = exercises::orders_sink_config(&env, &topic, &table).unwrap();
    client.put_connector(&connector, &config).await.unwrap();
    wait_running(&client, &connector, Duration::from_secs(60)).await.unwrap();

    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    let (x, y) = (new_id(), new_id());
    for (key, value) in [
        (&x, order_value(&x, "CREATED", 2)),
        (&y, order_value(&y, "CREATED", 1)),
        (&x, order_value(&x, "CANCELLED", 2)),
    ] {
        producer
            .send(FutureRecord::to(&topic).key(key.as_str()).payload(&value), Duration::from_secs(10))
            .await
            .unwrap();
    }

    let status_sql = format!("SELECT order_id, status, qty FROM {table} ORDER BY order_id");
    let rows: Vec<(String, String, i32)> = wait::until(
        "the shared table shows both orders, X cancelled",
        Duration::from_secs(60),
        Duration::from_millis(250),
        || async {
            let status = client.status(&connector).await?;
            if status["tasks"].as_array().into_iter().flatten().any(|t| t["state"] == "FAILED") {
                let trace = status["tasks"][0]["trace"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string();
                return Err(wait::fatal(format!("the sink task FAILED: {trace}")));
            }
            let rows: Vec<(String, String, i32)> =
                sqlx::query_as(AssertSqlSafe(status_sql.clone())).fetch_all(&pool).await?;
            let x_cancelled = rows.iter().any(|(id, status, _)| *id == x && status == "CANCELLED");
            Ok((rows.len() >= 2 && x_cancelled).then_some(rows))
        },
    )
    .await
    .unwrap();
    assert_eq!(rows.len(), 2, "one row per order id: {rows:?}");
    assert_eq!(count(&pool, &table).await.unwrap(), 2);
    assert!(rows.iter().any(|(id, status, qty)| *id == y && status == "CREATED" && *qty == 1), "{rows:?}");
    let _: Value = client.status(&connector).await.unwrap();
}
