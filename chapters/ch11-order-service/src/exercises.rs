//! Chapter 11 exercises. `cargo xtask check ch11` runs them against the real MariaDB and Kafka.
#![allow(unused_variables)]

use anyhow::Result;
use rdkafka::producer::FutureProducer;
use sqlx::MySqlPool;

use ch11_order_service::{OutboxEvent, Tables};

// ANCHOR: cancel_order
/// Cancel the order `order_id` of the instance `tables`, and announce it, **atomically**:
///
/// - set its `status` from `'CREATED'` to `'CANCELLED'`, and
/// - insert one outbox row (see `ch11_order_service::insert_outbox`) with `aggregate_type` `"order"`, `aggregate_id` the order id,
///   `event_type` `"OrderCancelled"`, a fresh id (`ch11_order_service::new_id()`), and as payload the cancelled order as JSON
///   (read it back after the update; its `status` is then `"CANCELLED"`).
///
/// Both changes happen in ONE transaction. When `fail_after_update` is true, return an error right after the
/// UPDATE (before the outbox insert): afterwards neither change may be visible.
///
/// Return `Ok(true)` when the order was cancelled now; `Ok(false)`, writing nothing, when there is no such order
/// or it was already cancelled (a retried request must not announce a second cancellation).
pub async fn cancel_order(pool: &MySqlPool, tables: &Tables, order_id: &str, fail_after_update: bool) -> Result<bool> {
    todo!("UPDATE the status and INSERT the OrderCancelled event in one transaction")
}
// ANCHOR_END: cancel_order

// ANCHOR: publish_event
/// Publish `event` to `topic` directly (without Debezium), exactly as the outbox EventRouter would, so that a
/// consumer cannot tell the two paths apart:
///
/// - the record key is what keeps all events of one order in one partition, in order: the order id;
/// - the value is `event.payload` as JSON text;
/// - header `id` = the event id, header `eventType` = the event type.
///
/// Wait for the broker's acknowledgement and return the (partition, offset) the record got.
pub async fn publish_event(producer: &FutureProducer, topic: &str, event: &OutboxEvent) -> Result<(i32, i64)> {
    todo!("send one record with the right key, value and headers")
}
// ANCHOR_END: publish_event
