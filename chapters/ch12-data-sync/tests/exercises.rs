//! The chapter's exercises, against the real MariaDB, Kafka and Kafka Connect (run by
//! `cargo xtask check ch12`).

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

use ch11_order_service::{Cleanup, EventRecord, new_id};
use ch12_data_sync::{CatalogTables, INITIAL_STOCK, execute, stock};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlPool};
use workbook_support::connect::{ConnectClient, wait_sink_assigned};
use workbook_support::{Env, db, kafka, names, wait};

fn event(event_type: &str, order_id: &str, product: &str, qty: i64) -> EventRecord {
    EventRecord {
        partition: 0,
        offset: 0,
        key: order_id.to_string(),
        event_id: Some(new_id()),
        event_type: Some(event_type.to_string()),
        payload: json!({
            "order_id": order_id, "product_id": product, "qty": qty, "status": "CREATED",
        }),
    }
}

async fn stock_of(pool: &MySqlPool, tables: &CatalogTables, product: &str) -> i64 {
    let stock = stock(pool, tables).await.unwrap();
    stock.into_iter().find(|(p, _)| p == product).expect("a product of the catalog").1
}

#[tokio::test]
async fn apply_event() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let mut cleanup = Cleanup::new(&env);
    let tables = CatalogTables::with_prefix(&names::unique_table("ch12_ex"));
    cleanup.table(tables.stock.clone());
    cleanup.table(tables.processed.clone());
    tables.create(&pool).await.unwrap();

    // 1. An order, created then cancelled, each event delivered twice.
    let order = new_id();
    let created = event("OrderCreated", &order, "CATALOG-001", 3);
    assert!(
        exercises::apply_event(&pool, &tables, &created).await.unwrap(),
        "first OrderCreated: true"
    );
    assert_eq!(
        stock_of(&pool, &tables, "CATALOG-001").await,
        INITIAL_STOCK - 3,
        "an OrderCreated of 3"
    );
    let again = exercises::apply_event(&pool, &tables, &created).await.unwrap();
    let now = stock_of(&pool, &tables, "CATALOG-001").await;
    assert!(
        !again && now == INITIAL_STOCK - 3,
        "a redelivered OrderCreated (same event id) was applied twice: it returned {again}, stock \
         {now} instead of {}",
        INITIAL_STOCK - 3
    );

    let mut cancelled = event("OrderCancelled", &order, "CATALOG-001", 3);
    cancelled.payload["status"] = json!("CANCELLED");
    let first = exercises::apply_event(&pool, &tables, &cancelled).await.unwrap();
    let now = stock_of(&pool, &tables, "CATALOG-001").await;
    assert!(
        first,
        "the first OrderCancelled of an order was skipped (stock {now}): it is a new event, with \
         an event id of its own, but the same order id as the OrderCreated. Is your dedup keyed on \
         the order instead of the event?"
    );
    assert_eq!(now, INITIAL_STOCK, "the cancellation must put the 3 back");
    let again = exercises::apply_event(&pool, &tables, &cancelled).await.unwrap();
    let now = stock_of(&pool, &tables, "CATALOG-001").await;
    assert!(
        !again && now == INITIAL_STOCK,
        "a redelivered OrderCancelled was applied twice: it returned {again}, stock {now} instead \
         of {INITIAL_STOCK}"
    );

    // 2. Other event types change nothing.
    let other = event("OrderCreated", &new_id(), "CATALOG-002", 2);
    assert!(
        exercises::apply_event(&pool, &tables, &other).await.unwrap(),
        "an OrderCreated of another order: true"
    );
    let shipped = event("OrderShipped", &new_id(), "CATALOG-002", 2);
    assert!(
        !exercises::apply_event(&pool, &tables, &shipped).await.unwrap(),
        "other event types change nothing"
    );
    assert_eq!(
        stock_of(&pool, &tables, "CATALOG-002").await,
        INITIAL_STOCK - 2,
        "other event types change nothing"
    );
    assert_eq!(stock_of(&pool, &tables, "CATALOG-003").await, INITIAL_STOCK);

    // 3. A failure between the two writes: MariaDB refuses the "applied" mark of one event (a CHECK
    //    constraint the check adds and drops), then the event comes again.
    let marked = event("OrderCreated", &new_id(), "CATALOG-002", 5);
    let id = marked.event_id.clone().unwrap();
    let before = stock_of(&pool, &tables, "CATALOG-002").await;
    db::ddl(
        &env,
        &format!(
            "ALTER TABLE {} ADD CONSTRAINT refuse_mark CHECK (event_id <> '{id}')",
            tables.processed
        ),
    )
    .await
    .unwrap();
    let failed = exercises::apply_event(&pool, &tables, &marked).await;
    db::ddl(&env, &format!("ALTER TABLE {} DROP CONSTRAINT refuse_mark", tables.processed))
        .await
        .unwrap();
    let after = stock_of(&pool, &tables, "CATALOG-002").await;
    assert!(
        after == before,
        "MariaDB refused to record the event as applied, yet the stock changed ({before} → \
         {after}) and stays changed: the redelivery will apply it again. The stock change and the \
         mark must commit in one transaction"
    );
    assert!(
        failed.is_err(),
        "MariaDB refused to record the event as applied, and apply_event returned {failed:?}: it \
         must return the error, so that the consumer does not store the offset and the event comes \
         again"
    );
    let redelivered = exercises::apply_event(&pool, &tables, &marked).await.unwrap();
    let now = stock_of(&pool, &tables, "CATALOG-002").await;
    assert!(
        redelivered && now == before - 5,
        "the redelivery must apply the event once: {redelivered}, {now}"
    );

    // 4. The other way round: MariaDB refuses the stock change of one event, then the event comes
    //    again.
    let refused = event("OrderCreated", &new_id(), "CATALOG-003", 4);
    let check = format!("CHECK (product_id <> 'CATALOG-003' OR stock = {INITIAL_STOCK})");
    db::ddl(&env, &format!("ALTER TABLE {} ADD CONSTRAINT refuse_stock {check}", tables.stock))
        .await
        .unwrap();
    let failed = exercises::apply_event(&pool, &tables, &refused).await;
    db::ddl(&env, &format!("ALTER TABLE {} DROP CONSTRAINT refuse_stock", tables.stock))
        .await
        .unwrap();
    assert!(
        failed.is_err(),
        "MariaDB refused the stock change, and apply_event returned {failed:?}: it must return the \
         error, so that the consumer does not store the offset and the event comes again"
    );
    let redelivered = exercises::apply_event(&pool, &tables, &refused).await.unwrap();
    let now = stock_of(&pool, &tables, "CATALOG-003").await;
    assert!(
        redelivered && now == INITIAL_STOCK - 4,
        "after MariaDB refused its stock change, the redelivered event returned {redelivered} and \
         the stock is {now} instead of {}: the event was marked as applied but its stock change \
         was lost. The mark and the stock change must commit in one transaction",
        INITIAL_STOCK - 4
    );
}

/// A record as the outbox router writes it: the payload with the schema the JsonConverter embeds.
/// `coupon` is a field a newer order service adds.
fn order_value(order_id: &str, status: &str, qty: i32, coupon: Option<&str>) -> String {
    let field = |name: &str, kind: &str| json!({"type": kind, "optional": true, "field": name});
    let mut fields = vec![
        field("created_at", "string"),
        field("order_id", "string"),
        field("product_id", "string"),
        field("qty", "int32"),
        field("status", "string"),
        field("total_price", "int32"),
        field("unit_price", "int32"),
        field("user_id", "string"),
    ];
    let mut payload = json!({
        "created_at": "2026-01-02T03:04:05.000006Z", "order_id": order_id,
        "product_id": "CATALOG-001", "qty": qty, "status": status, "total_price": qty * 1200,
        "unit_price": 1200, "user_id": "erin",
    });
    if let Some(coupon) = coupon {
        fields.insert(0, field("coupon", "string"));
        payload["coupon"] = json!(coupon);
    }
    let schema = json!({"type": "struct", "optional": true, "name": "payload", "fields": fields});
    json!({"schema": schema, "payload": payload}).to_string()
}

async fn columns(pool: &MySqlPool, table: &str) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND \
         table_name = ? ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(pool)
    .await
    .unwrap();
    rows.into_iter().map(|(c,)| c).collect()
}

/// The sink task's failure, in one line: its innermost `Caused by:` (the sentence that says what
/// went wrong).
fn failure(status: &Value) -> Option<String> {
    let failed =
        status["tasks"].as_array().into_iter().flatten().find(|t| t["state"] == "FAILED")?;
    let trace = failed["trace"].as_str().unwrap_or("(no trace)");
    let cause = trace.lines().rev().find_map(|l| l.trim().strip_prefix("Caused by: "));
    Some(cause.unwrap_or_else(|| trace.lines().next().unwrap_or_default()).to_string())
}

type Row = (String, String, i64);

/// One stage of the sink's check: what it is about, the (key, value) records it writes, and
/// when the table shows them.
type Stage<'a> = (&'a str, Vec<(&'a String, String)>, Box<dyn Fn(&[Row]) -> bool + 'a>);

#[tokio::test]
async fn orders_sink_config() {
    let env = Env::load().unwrap();
    let pool = db::pool(&env).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let table = names::unique_table("ch12_ex_status");
    let topic = names::unique("ch12-ex-orders");
    let connector = names::unique("ch12-ex-sink");
    cleanup.table(table.clone());
    cleanup.topic(topic.clone());
    cleanup.connector(connector.clone());
    let create = format!(
        "CREATE TABLE {table} (order_id CHAR(36) NOT NULL PRIMARY KEY, status VARCHAR(16) NOT \
         NULL, total_price BIGINT NOT NULL) DEFAULT CHARSET = utf8mb4"
    );
    execute(&pool, &create).await.unwrap();
    let original_columns = columns(&pool, &table).await;
    kafka::create_topic(&env, &topic, 3).await.unwrap();

    let config = exercises::orders_sink_config(&env, &topic, &table).unwrap();
    client.put_connector(&connector, &config).await.unwrap();
    if let Err(e) = wait_sink_assigned(&env, &connector, &topic, Duration::from_secs(60)).await {
        panic!("the sink did not start reading {topic}: {e:#}");
    }

    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    let (x, y, z) = (new_id(), new_id(), new_id());
    let stages: [Stage; 3] = [
        (
            "on the first OrderCreated events, which carry every field of an order: more fields \
             than the table has columns",
            vec![
                (&x, order_value(&x, "CREATED", 2, None)),
                (&y, order_value(&y, "CREATED", 1, None)),
            ],
            Box::new(|rows: &[Row]| rows.iter().any(|r| r.0 == x) && rows.iter().any(|r| r.0 == y)),
        ),
        (
            "on the OrderCancelled of an order already in the table: a second event of the same \
             order must update its row",
            vec![(&x, order_value(&x, "CANCELLED", 2, None))],
            Box::new(|rows: &[Row]| rows.iter().any(|r| r.0 == x && r.1 == "CANCELLED")),
        ),
        (
            "on an event with a field that a newer order service added (`coupon`): whatever the \
             table has no column for must be left out, today's fields and tomorrow's",
            vec![(&z, order_value(&z, "CREATED", 3, Some("WELCOME10")))],
            Box::new(|rows: &[Row]| rows.iter().any(|r| r.0 == z)),
        ),
    ];
    let select = format!("SELECT order_id, status, total_price FROM {table} ORDER BY order_id");
    let mut rows: Vec<Row> = Vec::new();
    for (during, records, done) in &stages {
        for (key, value) in records {
            let record = FutureRecord::to(&topic).key(key.as_str()).payload(value);
            producer.send(record, Duration::from_secs(10)).await.unwrap();
        }
        println!(
            "waiting for the sink to write the events {}",
            during.split(':').next().unwrap_or_default()
        );
        let outcome = wait::until(
            "the table shows the events",
            Duration::from_secs(60),
            Duration::from_millis(250),
            || {
                let (client, pool, connector, select) = (&client, &pool, &connector, &select);
                async move {
                    if let Some(cause) = failure(&client.status(connector).await?) {
                        return Ok(Some(Err(cause)));
                    }
                    let rows: Vec<Row> =
                        sqlx::query_as(AssertSqlSafe(select.clone())).fetch_all(pool).await?;
                    Ok(done(&rows).then_some(Ok(rows)))
                }
            },
        )
        .await;
        rows = match outcome {
            Ok(Ok(rows)) => rows,
            Ok(Err(cause)) => panic!("the sink task FAILED {during}. Its error: {cause}"),
            Err(e) => panic!("the sink did not write the events {during}: {e:#}"),
        };
        let now = columns(&pool, &table).await;
        assert!(
            now == original_columns,
            "the sink altered the table: its columns were {original_columns:?} and are now \
             {now:?}. The table belongs to the reporting team; the sink must never change it"
        );
    }
    let expected: Vec<Row> = {
        let mut expected = vec![
            (x.clone(), "CANCELLED".to_string(), 2400),
            (y.clone(), "CREATED".to_string(), 1200),
            (z.clone(), "CREATED".to_string(), 3600),
        ];
        expected.sort();
        expected
    };
    assert_eq!(rows, expected, "one row per order id, with its latest status and its total");
}
