//! Chapter 11 exercises. `cargo xtask check ch11` runs them against the real MariaDB, Kafka and
//! Kafka Connect.
#![allow(unused_variables)]

use anyhow::Result;
use sqlx::MySqlPool;
use workbook_support::Env;

use ch11_order_service::{OutboxEvent, Tables};

// ANCHOR: cancel_order
/// Cancel the order `order_id` of the instance `tables`, and announce it, **atomically**:
///
/// - set its `status` from `'CREATED'` to `'CANCELLED'`. Only a `CREATED` order can be cancelled:
///   one that is already `CANCELLED`, or `SHIPPED`, stays as it is;
/// - insert one outbox row (see `ch11_order_service::insert_outbox`) with `aggregate_type`
///   `"order"`, `aggregate_id` the order id, `event_type` `"OrderCancelled"`, a fresh id
///   (`ch11_order_service::new_id()`), and as payload the cancelled order as JSON (read it back
///   after the update: its `status` is `"CANCELLED"`).
///
/// Both changes commit together or not at all. Whatever fails in between must leave neither: the
/// check makes MariaDB refuse one of the two writes, and when `fail_after_update` is true you
/// return an error yourself right after the UPDATE (before the outbox insert).
///
/// Several requests may cancel the same order at the same moment (a double click, a retry that
/// overtakes the original), each on its own connection: exactly one of them cancels it and writes
/// the event.
///
/// Return `Ok(true)` when this call cancelled the order; `Ok(false)`, writing nothing, when there
/// is no such order or it is not `CREATED` (any more).
pub async fn cancel_order(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail_after_update: bool,
) -> Result<bool> {
    todo!("UPDATE the status and INSERT the OrderCancelled event in one transaction")
}
// ANCHOR_END: cancel_order

// ANCHOR: publish_events
/// Publish `events` (outbox rows, oldest first) to `topic` yourself, without Debezium, so that
/// nobody can tell your records from the ones this chapter's outbox router
/// (`outbox_connector_config`) writes for the same rows. For each event, your record and the
/// router's have:
///
/// - the same **partition** (the topic has the router's three partitions);
/// - the same **key** bytes and the same **value** bytes: what the router's converters write, byte
///   for byte (look at a record of the order topic in "The same with the Kafka CLI"). The payloads
///   here are flat JSON objects of strings and integers, like an order; a number may be too large
///   for 32 bits;
/// - the same `id` and `eventType` headers.
///
/// Use one producer for all the events, keep each order's events in the order given, and return the
/// (partition, offset) the broker acknowledged for each event, in the order of `events`.
pub async fn publish_events(
    env: &Env,
    topic: &str,
    events: &[OutboxEvent],
) -> Result<Vec<(i32, i64)>> {
    todo!("produce each event with the router's partition, key, value bytes and headers")
}
// ANCHOR_END: publish_events
