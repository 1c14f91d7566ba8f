//! The chapter's exercises, against the real MariaDB, Kafka and Kafka Connect (run by
//! `cargo xtask check ch11`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::HashMap;
use std::time::Duration;

use ch11_order_service::{
    Cleanup, Failpoint, NewOrder, ORDER_AGGREGATE, Order, OrderRepository, OutboxEvent, Tables,
    insert_outbox, migrate, new_id, order_topic, outbox_connector_config, outbox_topics,
    wait_outbox_capturing,
};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPoolOptions;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names, wait};

async fn instance(env: &Env, cleanup: &mut Cleanup) -> OrderRepository {
    let tables = Tables::for_instance(&names::unique_table("ch11_ex")).unwrap();
    for table in tables.all() {
        cleanup.table(table);
    }
    let pool = db::pool(env).await.unwrap();
    migrate(&pool, &tables).await.unwrap();
    OrderRepository { pool, tables }
}

fn an_order(user: &str) -> NewOrder {
    NewOrder { user_id: user.into(), product_id: "CATALOG-001".into(), qty: 2, unit_price: 700 }
}

async fn status(repo: &OrderRepository, order_id: &str) -> String {
    repo.get(order_id).await.unwrap().expect("the order exists").status
}

/// The OrderCancelled events of one order in the outbox.
async fn cancellations(repo: &OrderRepository, order_id: &str) -> Vec<OutboxEvent> {
    let events = repo.outbox().await.unwrap();
    events
        .into_iter()
        .filter(|e| e.event_type == "OrderCancelled" && e.aggregate_id == order_id)
        .collect()
}

/// After a failure between the UPDATE and the outbox INSERT, neither may be there.
async fn assert_left_nothing(repo: &OrderRepository, order_id: &str, when: &str) {
    let status = status(repo, order_id).await;
    let events = cancellations(repo, order_id).await.len();
    assert!(
        status == "CREATED" && events == 0,
        "{when}: the order is {status} with {events} OrderCancelled event(s) in the outbox, but a \
         failure between the two writes must leave neither. Are the UPDATE and the outbox INSERT \
         in the same transaction, committed once?"
    );
}

/// Connections (other than this one) running a statement on `table`: waiting for a row lock,
/// typically.
async fn busy_on(repo: &OrderRepository, table: &str) -> anyhow::Result<usize> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE ID <> CONNECTION_ID() AND COMMAND <> 'Sleep' AND LOCATE(?, INFO) > 0",
    )
    .bind(table)
    .fetch_one(&repo.pool)
    .await?;
    Ok(n as usize)
}

#[tokio::test]
async fn cancel_order() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let repo = instance(&env, &mut cleanup).await;
    let (pool, tables) = (&repo.pool, &repo.tables);

    // 1. A cancellation: the status and exactly one event, with the cancelled order as payload.
    let (order, created) = repo.create(&an_order("dora"), Failpoint::None).await.unwrap();
    let (other, _) = repo.create(&an_order("dora"), Failpoint::None).await.unwrap();
    let cancelled = exercises::cancel_order(pool, tables, &order.order_id, false).await.unwrap();
    assert!(cancelled, "cancelling a CREATED order must return true");
    assert_eq!(status(&repo, &order.order_id).await, "CANCELLED", "the cancelled order's status");
    let events = cancellations(&repo, &order.order_id).await;
    assert_eq!(
        events.len(),
        1,
        "exactly one OrderCancelled event for the cancelled order in the outbox: {events:?}"
    );
    let event = &events[0];
    assert_eq!(event.aggregate_type, ORDER_AGGREGATE, "the event's aggregate_type");
    assert_eq!(
        event.payload["status"],
        json!("CANCELLED"),
        "the payload is the order as it is after the update (status CANCELLED): {}",
        event.payload
    );
    assert_eq!(
        event.payload["order_id"],
        json!(order.order_id),
        "the payload is the order: {}",
        event.payload
    );
    assert_eq!(
        event.payload["total_price"],
        json!(1400),
        "the payload is the order: {}",
        event.payload
    );
    assert!(
        event.id.len() == 36 && event.id != created.id,
        "a fresh UUID as event id, not {:?}",
        event.id
    );
    assert_eq!(status(&repo, &other.order_id).await, "CREATED", "only that order is cancelled");

    // 2. A retry, and an unknown order: false, and nothing written.
    let again = exercises::cancel_order(pool, tables, &order.order_id, false).await.unwrap();
    let events = cancellations(&repo, &order.order_id).await.len();
    assert!(
        !again && events == 1,
        "a retried cancel returned {again} and left {events} OrderCancelled events: false, 1"
    );
    let unknown = exercises::cancel_order(pool, tables, "no-such-order", false).await.unwrap();
    assert!(!unknown, "cancelling an unknown order must return false");
    assert_eq!(
        repo.outbox().await.unwrap().len(),
        3,
        "two OrderCreated and one OrderCancelled in the outbox"
    );

    // 3. Only a CREATED order can be cancelled: a shipped one has left the warehouse.
    let (shipped, _) = repo.create(&an_order("emil"), Failpoint::None).await.unwrap();
    let ship = format!("UPDATE {} SET status = 'SHIPPED' WHERE order_id = ?", tables.orders);
    sqlx::query(AssertSqlSafe(ship)).bind(&shipped.order_id).execute(pool).await.unwrap();
    let result = exercises::cancel_order(pool, tables, &shipped.order_id, false).await.unwrap();
    let after = status(&repo, &shipped.order_id).await;
    let events = cancellations(&repo, &shipped.order_id).await.len();
    assert!(
        !result && after == "SHIPPED" && events == 0,
        "a SHIPPED order must stay SHIPPED (only a CREATED order can be cancelled): cancel_order \
         returned {result}, the order is {after}, with {events} OrderCancelled event(s)"
    );

    // 4. A failure between the two writes leaves neither: your failpoint, then MariaDB refusing
    //    each write.
    let (victim, _) = repo.create(&an_order("finn"), Failpoint::None).await.unwrap();
    let id = &victim.order_id;
    let failed = exercises::cancel_order(pool, tables, id, true).await;
    assert!(
        failed.is_err(),
        "with fail_after_update = true, cancel_order must return an error, not {failed:?}"
    );
    assert_left_nothing(&repo, id, "after the failpoint (fail_after_update = true)").await;

    let refuse = format!("CHECK (aggregateid <> '{id}' OR type <> 'OrderCancelled')");
    db::ddl(&env, &format!("ALTER TABLE {} ADD CONSTRAINT refuse_event {refuse}", tables.outbox))
        .await
        .unwrap();
    let failed = exercises::cancel_order(pool, tables, id, false).await;
    db::ddl(&env, &format!("ALTER TABLE {} DROP CONSTRAINT refuse_event", tables.outbox))
        .await
        .unwrap();
    assert!(
        failed.is_err(),
        "MariaDB refused the outbox INSERT (the check made it fail), so the cancel must fail"
    );
    assert_left_nothing(&repo, id, "after MariaDB refused the outbox INSERT").await;

    let refuse = format!("CHECK (order_id <> '{id}' OR status = 'CREATED')");
    db::ddl(&env, &format!("ALTER TABLE {} ADD CONSTRAINT refuse_cancel {refuse}", tables.orders))
        .await
        .unwrap();
    let failed = exercises::cancel_order(pool, tables, id, false).await;
    db::ddl(&env, &format!("ALTER TABLE {} DROP CONSTRAINT refuse_cancel", tables.orders))
        .await
        .unwrap();
    assert!(
        failed.is_err(),
        "MariaDB refused the UPDATE (the check made it fail), so the cancel must fail"
    );
    assert_left_nothing(&repo, id, "after MariaDB refused the UPDATE").await;

    let cancelled = exercises::cancel_order(pool, tables, id, false).await.unwrap();
    let events = cancellations(&repo, id).await.len();
    assert!(
        cancelled && events == 1,
        "after the failures, a real cancel: returned {cancelled}, {events} event(s)"
    );

    // 5. Many cancels of one order at the same moment, each on its own connection.
    cancel_concurrently(&env, &repo).await;
}

/// Starts RACERS cancels of one order while the test holds the order's row lock, waits until each
/// has got as far as it can (it waits for the lock, or has returned), then releases the lock: every
/// racer that read the order before that saw it CREATED.
async fn cancel_concurrently(env: &Env, repo: &OrderRepository) {
    const RACERS: usize = 8;
    let (contested, _) = repo.create(&an_order("gus"), Failpoint::None).await.unwrap();
    let racers = MySqlPoolOptions::new()
        .max_connections(RACERS as u32)
        .connect(&env.database_url)
        .await
        .unwrap();
    let mut holder = repo.pool.begin().await.unwrap();
    let lock = format!("SELECT order_id FROM {} WHERE order_id = ? FOR UPDATE", repo.tables.orders);
    sqlx::query(AssertSqlSafe(lock))
        .bind(&contested.order_id)
        .fetch_one(&mut *holder)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (pool, tables, id) =
                (racers.clone(), repo.tables.clone(), contested.order_id.clone());
            tokio::spawn(async move { exercises::cancel_order(&pool, &tables, &id, false).await })
        })
        .collect();
    println!("waiting for {RACERS} concurrent cancels of one order to reach its row lock");
    wait::until(
        &format!(
            "each of {RACERS} concurrent cancels waits for the order's row lock or has returned"
        ),
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let finished = tasks.iter().filter(|t| t.is_finished()).count();
            Ok((busy_on(repo, &repo.tables.orders).await? + finished >= RACERS).then_some(()))
        },
    )
    .await
    .unwrap();
    holder.rollback().await.unwrap();
    let mut results = Vec::new();
    for task in tasks {
        let joined = tokio::time::timeout(Duration::from_secs(60), task).await;
        let result =
            joined.expect("a concurrent cancel did not return within 60 s of the lock's release");
        results.push(result.expect("a concurrent cancel panicked").map_err(|e| format!("{e:#}")));
    }
    racers.close().await;
    let winners = results.iter().filter(|r| matches!(r, Ok(true))).count();
    let events = cancellations(repo, &contested.order_id).await.len();
    assert!(
        winners == 1 && events == 1,
        "{RACERS} concurrent cancels of one CREATED order: {winners} returned true and {events} \
         OrderCancelled events were written, but exactly one cancel may win. Reading the status \
         first and updating after is a check-then-act race: every caller read CREATED before the \
         first one committed. Results: {results:?}"
    );
}

/// One record as it is on the topic: the bytes a consumer gets.
#[derive(Debug, Clone)]
struct Raw {
    partition: i32,
    offset: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    id: Option<Vec<u8>>,
    event_type: Option<Vec<u8>>,
}

fn raw(message: &rdkafka::message::BorrowedMessage<'_>) -> Raw {
    let header = |name: &str| {
        message.headers().and_then(|h| {
            h.iter().find(|h| h.key == name).and_then(|h| h.value.map(<[u8]>::to_vec))
        })
    };
    Raw {
        partition: message.partition(),
        offset: message.offset(),
        key: message.key().map(<[u8]>::to_vec),
        value: message.payload().map(<[u8]>::to_vec),
        id: header("id"),
        event_type: header("eventType"),
    }
}

fn text(bytes: &Option<Vec<u8>>) -> String {
    bytes.as_deref().map_or("(none)".to_string(), |b| String::from_utf8_lossy(b).to_string())
}

/// Reads the next `count` records of the consumer's topic, or fails after `timeout` saying how many
/// arrived.
async fn read_raw(
    consumer: &StreamConsumer,
    count: usize,
    timeout: Duration,
) -> Result<Vec<Raw>, String> {
    let deadline = std::time::Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count {
        match kafka::recv_before(consumer, deadline).await {
            Ok(Some(message)) => records.push(raw(&message)),
            Ok(None) => {
                let secs = timeout.as_secs();
                return Err(format!("only {} of {count} records within {secs} s", records.len()));
            }
            Err(e) => return Err(format!("{e:#}")),
        }
    }
    Ok(records)
}

/// Says how a value differs from the router's, in the words of the usual mistakes.
fn explain_value(event: &OutboxEvent, mine: &Option<Vec<u8>>, router: &Option<Vec<u8>>) -> String {
    let parsed = |bytes: &Option<Vec<u8>>| {
        bytes.as_deref().and_then(|b| serde_json::from_slice::<Value>(b).ok())
    };
    let what = match (parsed(mine), parsed(router)) {
        (Some(m), Some(r)) if m == r["payload"] => {
            "yours is the bare payload; the router's JsonConverter \
            (schemas.enable=true) wraps it in an envelope with the schema it inferred"
                .to_string()
        }
        (Some(m), Some(r)) if m == r => {
            "same JSON, different bytes: a consumer that compares, hashes or \
            deduplicates the bytes sees two different values. Compare the order of the keys"
                .to_string()
        }
        (Some(m), Some(r)) if m.get("payload") == r.get("payload") => {
            format!(
                "the schema differs from the one the router inferred: {}",
                schema_difference(&m, &r)
            )
        }
        _ => "the value differs".to_string(),
    };
    format!(
        "the value of event {} ({}) is not the router's: {what}\n  yours:        {}\n  the \
         router's: {}",
        event.id,
        event.event_type,
        text(mine),
        text(router)
    )
}

fn schema_difference(mine: &Value, router: &Value) -> String {
    let fields = |v: &Value| v["schema"]["fields"].as_array().cloned().unwrap_or_default();
    for theirs in fields(router) {
        let name = &theirs["field"];
        match fields(mine).into_iter().find(|f| f["field"] == *name) {
            Some(ours) if ours["type"] != theirs["type"] => {
                return format!(
                    "field {name}: yours {}, the router's {}",
                    ours["type"], theirs["type"]
                );
            }
            None => return format!("field {name} is missing from yours"),
            _ => {}
        }
    }
    format!("yours {}, the router's {}", mine["schema"], router["schema"])
}

#[tokio::test]
async fn publish_events() {
    const ORDERS: usize = 12;
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let repo = instance(&env, &mut cleanup).await;
    let prefix = names::unique("ch11-ex");
    let connector = format!("{prefix}-outbox");
    cleanup.connector(connector.clone());
    for topic in outbox_topics(&prefix) {
        cleanup.topic(topic);
    }
    // The router's topic, with the partition count the connector would create it with; made now, so
    // that the readers below find it at once.
    let topic = order_topic(&prefix);
    kafka::create_topic(&env, &topic, 3).await.unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let config = outbox_connector_config(&env, &prefix, &[&repo.tables.outbox]).unwrap();
    client.put_connector(&connector, &config).await.unwrap();
    wait_outbox_capturing(&env, &connector, &prefix, &repo.tables.outbox, Duration::from_secs(60))
        .await
        .unwrap();

    // Twelve orders (the first one too expensive for 32 bits), four events each, interleaved as in
    // a busy service. The router publishes every one of them.
    let mut orders: Vec<Order> = Vec::new();
    let mut events: Vec<OutboxEvent> = Vec::new();
    for i in 0..ORDERS {
        let unit_price = if i == 0 { 1_500_000_000 } else { 700 + i as i64 };
        let new = NewOrder {
            user_id: format!("user-{i}"),
            product_id: "CATALOG-002".into(),
            qty: 2,
            unit_price,
        };
        let (order, created) = repo.create(&new, Failpoint::None).await.unwrap();
        orders.push(order);
        events.push(created);
    }
    let mut conn = repo.pool.acquire().await.unwrap();
    for (event_type, status) in
        [("OrderPaid", "PAID"), ("OrderShipped", "SHIPPED"), ("OrderDelivered", "DELIVERED")]
    {
        for order in &orders {
            let mut payload = serde_json::to_value(order).unwrap();
            payload["status"] = json!(status);
            let event = OutboxEvent {
                id: new_id(),
                aggregate_type: ORDER_AGGREGATE.into(),
                aggregate_id: order.order_id.clone(),
                event_type: event_type.into(),
                payload,
            };
            insert_outbox(&mut conn, &repo.tables, &event).await.unwrap();
            events.push(event);
        }
    }
    drop(conn);

    // From the topic's first record: the router's events are written before it subscribes.
    let reader: StreamConsumer = kafka::group_config(&env, &names::unique("ch11-ex-reader"))
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    reader.subscribe(&[&topic]).unwrap();
    println!("waiting for the router's {} records on {topic}", events.len());
    let routed = read_raw(&reader, events.len(), Duration::from_secs(60)).await;
    let routed = routed.unwrap_or_else(|e| panic!("the router's records (not your code yet): {e}"));
    let by_id: HashMap<Vec<u8>, Raw> =
        routed.into_iter().filter_map(|r| Some((r.id.clone()?, r))).collect();

    // The same events, published by you into the same topic.
    let positions = exercises::publish_events(&env, &topic, &events).await.unwrap();
    assert_eq!(
        positions.len(),
        events.len(),
        "publish_events must return one (partition, offset) per event"
    );
    println!("waiting for the {} records of publish_events on {topic}", events.len());
    let yours = read_raw(&reader, events.len(), Duration::from_secs(60)).await;
    let yours = yours.unwrap_or_else(|e| panic!("the records of publish_events on {topic}: {e}"));
    let at: HashMap<(i32, i64), Raw> =
        yours.into_iter().map(|r| ((r.partition, r.offset), r)).collect();

    let mut misplaced = Vec::new();
    for (event, &(partition, offset)) in events.iter().zip(&positions) {
        let router = by_id.get(event.id.as_bytes()).expect("the router published every event");
        let mine = at.get(&(partition, offset)).unwrap_or_else(|| {
            panic!(
                "no record of publish_events at partition {partition}, offset {offset}, the \
                 position returned for event {}: return the partition and offset the broker \
                 acknowledged",
                event.id
            )
        });
        for (name, ours, theirs) in
            [("id", &mine.id, &router.id), ("eventType", &mine.event_type, &router.event_type)]
        {
            assert!(
                ours == theirs,
                "header `{name}` of event {}: yours {}, the router's {}",
                event.id,
                text(ours),
                text(theirs)
            );
        }
        assert!(
            mine.key == router.key,
            "the key of event {} ({} of order {}): yours {}, the router's {}. The router keys \
             every record by the outbox row's aggregateid, the order id, as plain text",
            event.id,
            event.event_type,
            event.aggregate_id,
            text(&mine.key),
            text(&router.key)
        );
        assert!(mine.value == router.value, "{}", explain_value(event, &mine.value, &router.value));
        if mine.partition != router.partition {
            misplaced.push(format!(
                "order {}: router {}, yours {}",
                event.aggregate_id, router.partition, mine.partition
            ));
        }
    }
    assert!(
        misplaced.is_empty(),
        "{} of {} records landed in another partition than the router's record with the same key \
         ({}). The router's records are partitioned by Kafka Connect's Java producer, which hashes \
         the key with murmur2; librdkafka's default partitioner (consistent_random) hashes it with \
         CRC32",
        misplaced.len(),
        events.len(),
        misplaced.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
    );
    for order in &orders {
        let offsets: Vec<i64> = events
            .iter()
            .zip(&positions)
            .filter(|(e, _)| e.aggregate_id == order.order_id)
            .map(|(_, &(_, offset))| offset)
            .collect();
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "order {}: events written out of order {offsets:?}",
            order.order_id
        );
    }
}
