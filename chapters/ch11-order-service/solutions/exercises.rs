//! Chapter 11 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use sqlx::{AssertSqlSafe, MySqlPool};

use ch11_order_service::{ORDER_AGGREGATE, Order, OutboxEvent, Tables, insert_outbox, new_id};

// ANCHOR: cancel_order
pub async fn cancel_order(pool: &MySqlPool, tables: &Tables, order_id: &str, fail_after_update: bool) -> Result<bool> {
    let mut tx = pool.begin().await.context("starting a transaction")?;
    // The WHERE clause makes the state change conditional: only a CREATED order is cancelled, and the
    // row lock taken here keeps a concurrent cancel waiting until we commit.
    let sql = format!("UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'", tables.orders);
    let updated = sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected();
    if updated == 0 {
        tx.rollback().await?; // unknown or already cancelled: nothing to announce
        return Ok(false);
    }
    if fail_after_update {
        tx.rollback().await?; // what MariaDB does when a crashed service's connection drops
        bail!("failpoint: crashed after the UPDATE of {order_id}");
    }
    let sql = format!(
        "SELECT order_id, user_id, product_id, qty, unit_price, total_price, status, \
         DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at FROM {} WHERE order_id = ?",
        tables.orders
    );
    let order: Order = sqlx::query_as(AssertSqlSafe(sql)).bind(order_id).fetch_one(&mut *tx).await?;
    let event = OutboxEvent {
        id: new_id(),
        aggregate_type: ORDER_AGGREGATE.to_string(),
        aggregate_id: order.order_id.clone(),
        event_type: "OrderCancelled".to_string(),
        payload: serde_json::to_value(&order)?,
    };
    insert_outbox(&mut tx, tables, &event).await?;
    tx.commit().await.context("committing the cancellation and its event")?;
    Ok(true)
}
// ANCHOR_END: cancel_order

// ANCHOR: publish_event
pub async fn publish_event(producer: &FutureProducer, topic: &str, event: &OutboxEvent) -> Result<(i32, i64)> {
    let payload = event.payload.to_string();
    let headers = OwnedHeaders::new()
        .insert(Header { key: "id", value: Some(&event.id) })
        .insert(Header { key: "eventType", value: Some(&event.event_type) });
    // Same key => same partition (the default partitioner hashes the key) => read in the order written.
    let record = FutureRecord::to(topic).key(&event.aggregate_id).payload(&payload).headers(headers);
    let delivery = producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e)?;
    Ok((delivery.partition, delivery.offset))
}
// ANCHOR_END: publish_event
