//! The chapter's exercises, against the real MariaDB and Kafka (run by `cargo xtask check ch11`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::BTreeMap;
use std::time::Duration;

use ch11_order_service::{
    Cleanup, Failpoint, NewOrder, ORDER_AGGREGATE, OrderRepository, OutboxEvent, Tables, migrate, new_id, next_records,
    subscribe,
};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::producer::FutureProducer;
use serde_json::json;
use workbook_support::{Env, db, kafka, names};

async fn instance(env: &Env, cleanup: &mut Cleanup) -> OrderRepository {
    let tables = Tables::for_instance(&names::unique_table("ch11_ex")).unwrap();
    cleanup.tables.extend(tables.all());
    let pool = db::pool(env).await.unwrap();
    migrate(&pool, &tables).await.unwrap();
    OrderRepository { pool, tables }
}

fn an_order(user: &str) -> NewOrder {
    NewOrder { user_id: user.into(), product_id: "CATALOG-001".into(), qty: 2, unit_price: 700 }
}

#[tokio::test]
async fn cancel_order() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let repo = instance(&env, &mut cleanup).await;
    let (order, _) = repo.create(&an_order("dora"), Failpoint::None).await.unwrap();
    let (other, _) = repo.create(&an_order("dora"), Failpoint::None).await.unwrap();
    let cancelled_events = |events: Vec<OutboxEvent>, id: &str| {
        events.into_iter().filter(|e| e.event_type == "OrderCancelled" && e.aggregate_id == id).collect::<Vec<_>>()
    };

    // A crash after the UPDATE: nothing of the cancellation may remain.
    let failed = exercises::cancel_order(&repo.pool, &repo.tables, &order.order_id, true).await;
    assert!(failed.is_err(), "with fail_after_update = true, cancel_order must return an error");
    let status = repo.get(&order.order_id).await.unwrap().unwrap().status;
    assert_eq!(status, "CREATED", "the UPDATE was not rolled back: is it in the same transaction as the event?");
    assert_eq!(repo.outbox().await.unwrap().len(), 2, "only the two OrderCreated events may be in the outbox");

    // The real cancellation: the status and exactly one event, with the cancelled order as payload.
    assert!(
        exercises::cancel_order(&repo.pool, &repo.tables, &order.order_id, false).await.unwrap(),
        "must return true"
    );
    assert_eq!(repo.get(&order.order_id).await.unwrap().unwrap().status, "CANCELLED");
    let events = cancelled_events(repo.outbox().await.unwrap(), &order.order_id);
    assert_eq!(events.len(), 1, "exactly one OrderCancelled event for the order: {events:?}");
    let event = &events[0];
    assert_eq!(event.aggregate_type, ORDER_AGGREGATE);
    assert_eq!(event.payload["order_id"], json!(order.order_id));
    assert_eq!(event.payload["status"], json!("CANCELLED"), "the payload is the order as it is after the update");
    assert_eq!(event.payload["total_price"], json!(1400));
    assert_eq!(event.id.len(), 36, "a fresh UUID as event id");

    // A retry, and an unknown order: false, and no new event.
    assert!(
        !exercises::cancel_order(&repo.pool, &repo.tables, &order.order_id, false).await.unwrap(),
        "second cancel: false"
    );
    assert!(
        !exercises::cancel_order(&repo.pool, &repo.tables, "no-such-order", false).await.unwrap(),
        "unknown order: false"
    );
    assert_eq!(cancelled_events(repo.outbox().await.unwrap(), &order.order_id).len(), 1, "a retry announced again");
    assert_eq!(repo.outbox().await.unwrap().len(), 3);
    assert_eq!(repo.get(&other.order_id).await.unwrap().unwrap().status, "CREATED", "only that order is cancelled");
}

#[tokio::test]
async fn publish_event() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = names::unique("ch11-ex-events");
    cleanup.topics.push(topic.clone());
    let admin = kafka::admin(&env).unwrap();
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&[NewTopic::new(&topic, 6, TopicReplication::Fixed(1))], &options).await.unwrap()
    {
        result.unwrap();
    }
    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();

    // Three orders, four events each, interleaved as they would happen in a busy service.
    let orders: Vec<String> = (0..3).map(|_| new_id()).collect();
    let steps = ["OrderCreated", "OrderPaid", "OrderShipped", "OrderDelivered"];
    let mut sent = Vec::new();
    for (step, event_type) in steps.iter().enumerate() {
        for order_id in &orders {
            let event = OutboxEvent {
                id: new_id(),
                aggregate_type: ORDER_AGGREGATE.into(),
                aggregate_id: order_id.clone(),
                event_type: event_type.to_string(),
                payload: json!({"order_id": order_id, "step": step}),
            };
            let (partition, offset) = exercises::publish_event(&producer, &topic, &event).await.unwrap();
            assert!((0..6).contains(&partition) && offset >= 0, "return the delivery's partition and offset");
            sent.push(event);
        }
    }

    let consumer = subscribe(&env, &topic, &names::unique("ch11-ex-reader")).unwrap();
    let records = next_records(&consumer, sent.len(), Duration::from_secs(30)).await.unwrap();
    let mut by_order: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for record in &records {
        let event = sent
            .iter()
            .find(|e| record.event_id.as_deref() == Some(e.id.as_str()))
            .unwrap_or_else(|| panic!("header `id` must carry the event id: {record:?}"));
        assert_eq!(record.event_type.as_deref(), Some(event.event_type.as_str()), "header `eventType`: {record:?}");
        assert_eq!(record.payload, event.payload, "the value is the payload JSON");
        assert_eq!(record.key, event.aggregate_id, "the key is the order id");
        by_order.entry(record.key.clone()).or_default().push(record.clone());
    }
    for (order_id, records) in by_order {
        let partitions: Vec<i32> = records.iter().map(|r| r.partition).collect();
        assert!(partitions.windows(2).all(|w| w[0] == w[1]), "order {order_id} spread over partitions {partitions:?}");
        let read: Vec<_> = records.iter().map(|r| r.payload["step"].as_u64().unwrap()).collect();
        assert_eq!(read, vec![0, 1, 2, 3], "order {order_id}: events read out of order");
    }
}
