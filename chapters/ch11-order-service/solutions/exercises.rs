//! Chapter 11 exercises: the reference solutions.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::Serialize;
use serde_json::Value;
use sqlx::{AssertSqlSafe, MySqlPool};
use workbook_support::{Env, kafka};

use ch11_order_service::{ORDER_AGGREGATE, Order, OutboxEvent, Tables, insert_outbox, new_id};

// ANCHOR: cancel_order
pub async fn cancel_order(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail_after_update: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await.context("starting a transaction")?;
    // The check and the change in ONE statement: only a CREATED order is cancelled, and the row
    // lock the UPDATE takes makes a concurrent cancel wait until we commit; it then finds the order
    // CANCELLED and matches nothing.
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
        tables.orders
    );
    let updated =
        sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected();
    if updated == 0 {
        tx.rollback().await?; // unknown, already cancelled or shipped: nothing to announce
        return Ok(false);
    }
    if fail_after_update {
        tx.rollback().await?; // what MariaDB does when a crashed service's connection drops
        bail!("failpoint: crashed after the UPDATE of {order_id}");
    }
    // Read back on the transaction's connection: it sees its own uncommitted UPDATE.
    let sql = format!(
        "SELECT order_id, user_id, product_id, qty, unit_price, total_price, status, \
         DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at FROM {} WHERE order_id = ?",
        tables.orders
    );
    let order: Order =
        sqlx::query_as(AssertSqlSafe(sql)).bind(order_id).fetch_one(&mut *tx).await?;
    let event = OutboxEvent {
        id: new_id(),
        aggregate_type: ORDER_AGGREGATE.to_string(),
        aggregate_id: order.order_id.clone(),
        event_type: "OrderCancelled".to_string(),
        payload: serde_json::to_value(&order)?,
    };
    // An error here returns early: the transaction is dropped uncommitted, and MariaDB undoes the
    // UPDATE too.
    insert_outbox(&mut tx, tables, &event).await?;
    tx.commit().await.context("committing the cancellation and its event")?;
    Ok(true)
}
// ANCHOR_END: cancel_order

// ANCHOR: publish_events
pub async fn publish_events(
    env: &Env,
    topic: &str,
    events: &[OutboxEvent],
) -> Result<Vec<(i32, i64)>> {
    // The router's records are produced by Kafka Connect's Java producer, which puts a keyed record
    // in partition murmur2(key) % partitions. librdkafka's default partitioner hashes with CRC32
    // instead: same key, other partition. `murmur2_random` is librdkafka's Java-compatible choice.
    let producer: FutureProducer = kafka::producer_config(env)
        .set("partitioner", "murmur2_random")
        .create()
        .context("creating a producer")?;
    let mut positions = Vec::with_capacity(events.len());
    for event in events {
        let value = router_value(&event.payload)?;
        let headers = OwnedHeaders::new()
            .insert(Header { key: "id", value: Some(&event.id) })
            .insert(Header { key: "eventType", value: Some(&event.event_type) });
        // Key: the aggregate id, as StringConverter writes it (the bare UTF-8 text): one order, one
        // partition.
        let record =
            FutureRecord::to(topic).key(&event.aggregate_id).payload(&value).headers(headers);
        // One at a time, as a relay that marks each outbox row published once it is acknowledged: a
        // retried send can never overtake the next event of the same order.
        let delivery = producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e)?;
        positions.push((delivery.partition, delivery.offset));
    }
    Ok(positions)
}

/// The value the router's JsonConverter writes (`schemas.enable=true`): the schema the router
/// inferred from the payload, then the payload. serde writes a struct's fields in declaration
/// order, which is the converter's order; a `serde_json::Value` object would sort its keys
/// (`payload` before `schema`).
#[derive(Serialize)]
struct Envelope<'a> {
    schema: Schema,
    payload: &'a Value,
}

#[derive(Serialize)]
struct Schema {
    #[serde(rename = "type")]
    kind: &'static str,
    fields: Vec<Field>,
    optional: bool,
    name: &'static str,
}

#[derive(Serialize)]
struct Field {
    #[serde(rename = "type")]
    kind: &'static str,
    optional: bool,
    field: String,
}

fn router_value(payload: &Value) -> Result<String> {
    let object = payload.as_object().context("the router expands a JSON object payload")?;
    // The payload's fields in its own order (serde_json's: sorted), which is the order the outbox
    // row's text has and so the order the router keeps.
    let fields = object
        .iter()
        .map(|(name, value)| {
            Ok(Field { kind: field_type(value)?, optional: true, field: name.clone() })
        })
        .collect::<Result<Vec<_>>>()?;
    let schema = Schema { kind: "struct", fields, optional: true, name: "payload" };
    Ok(serde_json::to_string(&Envelope { schema, payload })?)
}

/// The Connect type the router infers for a JSON value: the smallest integer type that holds the
/// number.
fn field_type(value: &Value) -> Result<&'static str> {
    Ok(match value {
        Value::String(_) => "string",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => "int32",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(n) if n.is_f64() => "double",
        other => bail!("a payload field the router would not infer a flat type for: {other}"),
    })
}
// ANCHOR_END: publish_events
