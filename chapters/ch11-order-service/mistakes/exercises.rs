//! Chapter 11: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
#[allow(unused_imports)]
// every exercise is dispatched below; the glob keeps the convention's shape
pub use solution::*;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlConnection, MySqlPool};
use workbook_support::{Env, kafka, mistakes};

use ch11_order_service::{ORDER_AGGREGATE, Order, OutboxEvent, Tables, insert_outbox, new_id};

pub async fn cancel_order(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail_after_update: bool,
) -> Result<bool> {
    match mistakes::chosen().as_deref() {
        None => solution::cancel_order(pool, tables, order_id, fail_after_update).await,
        Some("select_then_update") => {
            select_then_update(pool, tables, order_id, fail_after_update).await
        }
        Some("outbox_outside_transaction") => {
            outbox_outside_transaction(pool, tables, order_id, fail_after_update).await
        }
        Some("commits_before_outbox") => {
            commits_before_outbox(pool, tables, order_id, fail_after_update).await
        }
        Some("no_outbox_event") => no_outbox_event(pool, tables, order_id, fail_after_update).await,
        Some("cancels_any_status") => {
            cancels_any_status(pool, tables, order_id, fail_after_update).await
        }
        Some("payload_before_update") => {
            payload_before_update(pool, tables, order_id, fail_after_update).await
        }
        Some(other) => mistakes::unknown("cancel_order", other),
    }
}

pub async fn publish_events(
    env: &Env,
    topic: &str,
    events: &[OutboxEvent],
) -> Result<Vec<(i32, i64)>> {
    match mistakes::chosen().as_deref() {
        None => solution::publish_events(env, topic, events).await,
        Some("default_partitioner") => {
            publish(env, topic, events, Recipe { partitioner: None, ..Recipe::RIGHT }).await
        }
        Some("bare_payload") => {
            publish(env, topic, events, Recipe { value: bare_payload, ..Recipe::RIGHT }).await
        }
        Some("key_is_event_id") => {
            publish(env, topic, events, Recipe { key_is_event_id: true, ..Recipe::RIGHT }).await
        }
        Some("json_macro_envelope") => {
            publish(env, topic, events, Recipe { value: json_macro_envelope, ..Recipe::RIGHT })
                .await
        }
        Some("int64_for_every_integer") => {
            publish(env, topic, events, Recipe { value: int64_for_every_integer, ..Recipe::RIGHT })
                .await
        }
        Some("no_headers") => {
            publish(env, topic, events, Recipe { headers: false, ..Recipe::RIGHT }).await
        }
        Some(other) => mistakes::unknown("publish_events", other),
    }
}

// ---- cancel_order ----

const ORDER_COLUMNS: &str = "order_id, user_id, product_id, qty, unit_price, total_price, status, \
     DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at";

async fn read_order(conn: &mut MySqlConnection, tables: &Tables, order_id: &str) -> Result<Order> {
    let sql = format!("SELECT {ORDER_COLUMNS} FROM {} WHERE order_id = ?", tables.orders);
    Ok(sqlx::query_as(AssertSqlSafe(sql)).bind(order_id).fetch_one(conn).await?)
}

fn cancelled_event(order: &Order) -> Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: new_id(),
        aggregate_type: ORDER_AGGREGATE.to_string(),
        aggregate_id: order.order_id.clone(),
        event_type: "OrderCancelled".to_string(),
        payload: serde_json::to_value(order)?,
    })
}

/// Mistake: checks the status with a plain SELECT, then updates by id alone. Inside a transaction
/// it looks safe, but a plain SELECT takes no lock: concurrent cancels all read CREATED before the
/// first commits, and each writes an OrderCancelled event (check-then-act race).
async fn select_then_update(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let sql = format!("SELECT status FROM {} WHERE order_id = ?", tables.orders);
    let status: Option<(String,)> =
        sqlx::query_as(AssertSqlSafe(sql)).bind(order_id).fetch_optional(&mut *tx).await?;
    if status.as_ref().map(|(s,)| s.as_str()) != Some("CREATED") {
        tx.rollback().await?;
        return Ok(false);
    }
    let sql = format!("UPDATE {} SET status = 'CANCELLED' WHERE order_id = ?", tables.orders);
    sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?;
    if fail {
        tx.rollback().await?;
        bail!("failpoint after the UPDATE of {order_id}");
    }
    let order = read_order(&mut tx, tables, order_id).await?;
    insert_outbox(&mut tx, tables, &cancelled_event(&order)?).await?;
    tx.commit().await?;
    Ok(true)
}

/// Mistake: runs the UPDATE and the outbox INSERT on the pool, each committing on its own
/// (autocommit). A crash between them leaves the order cancelled and no event: the dual write
/// again, inside one database.
async fn outbox_outside_transaction(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
        tables.orders
    );
    if sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(pool).await?.rows_affected() == 0 {
        return Ok(false);
    }
    if fail {
        bail!("failpoint after the UPDATE of {order_id}");
    }
    let mut conn = pool.acquire().await?;
    let order = read_order(&mut conn, tables, order_id).await?;
    insert_outbox(&mut conn, tables, &cancelled_event(&order)?).await?;
    Ok(true)
}

/// Mistake: the UPDATE has its own transaction, and the failpoint sits before its commit, so the
/// failpoint finds nothing wrong; but the event is inserted after the commit, and a failure there
/// (MariaDB refusing the INSERT, a crash) leaves the order cancelled without its event.
async fn commits_before_outbox(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
        tables.orders
    );
    if sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected() == 0
    {
        tx.rollback().await?;
        return Ok(false);
    }
    if fail {
        tx.rollback().await?;
        bail!("failpoint after the UPDATE of {order_id}");
    }
    let order = read_order(&mut tx, tables, order_id).await?;
    tx.commit().await?;
    let mut conn = pool.acquire().await?;
    insert_outbox(&mut conn, tables, &cancelled_event(&order)?).await?;
    Ok(true)
}

/// Mistake: cancels the order atomically, but forgets the outbox row: nobody else ever hears of the
/// cancellation.
async fn no_outbox_event(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
        tables.orders
    );
    if sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected() == 0
    {
        tx.rollback().await?;
        return Ok(false);
    }
    if fail {
        tx.rollback().await?;
        bail!("failpoint after the UPDATE of {order_id}");
    }
    tx.commit().await?;
    Ok(true)
}

/// Mistake: guards against a second cancellation only (`status <> 'CANCELLED'`), so an order that
/// has already SHIPPED is cancelled too.
async fn cancels_any_status(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status <> 'CANCELLED'",
        tables.orders
    );
    if sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected() == 0
    {
        tx.rollback().await?;
        return Ok(false);
    }
    if fail {
        tx.rollback().await?;
        bail!("failpoint after the UPDATE of {order_id}");
    }
    let order = read_order(&mut tx, tables, order_id).await?;
    insert_outbox(&mut tx, tables, &cancelled_event(&order)?).await?;
    tx.commit().await?;
    Ok(true)
}

/// Mistake: reads the order for the payload before the UPDATE, so the OrderCancelled event carries
/// the order as it was: status CREATED.
async fn payload_before_update(
    pool: &MySqlPool,
    tables: &Tables,
    order_id: &str,
    fail: bool,
) -> Result<bool> {
    let mut tx = pool.begin().await?;
    let Ok(before) = read_order(&mut tx, tables, order_id).await else {
        tx.rollback().await?;
        return Ok(false);
    };
    let sql = format!(
        "UPDATE {} SET status = 'CANCELLED' WHERE order_id = ? AND status = 'CREATED'",
        tables.orders
    );
    if sqlx::query(AssertSqlSafe(sql)).bind(order_id).execute(&mut *tx).await?.rows_affected() == 0
    {
        tx.rollback().await?;
        return Ok(false);
    }
    if fail {
        tx.rollback().await?;
        bail!("failpoint after the UPDATE of {order_id}");
    }
    insert_outbox(&mut tx, tables, &cancelled_event(&before)?).await?;
    tx.commit().await?;
    Ok(true)
}

// ---- publish_events ----

/// How a publish_events answer builds its records: the reference's way, or with one thing changed.
struct Recipe {
    partitioner: Option<&'static str>,
    value: fn(&Value) -> Result<String>,
    key_is_event_id: bool,
    headers: bool,
}

impl Recipe {
    const RIGHT: Recipe = Recipe {
        partitioner: Some("murmur2_random"),
        value: router_value,
        key_is_event_id: false,
        headers: true,
    };
}

async fn publish(
    env: &Env,
    topic: &str,
    events: &[OutboxEvent],
    recipe: Recipe,
) -> Result<Vec<(i32, i64)>> {
    let mut config = kafka::producer_config(env);
    if let Some(partitioner) = recipe.partitioner {
        config.set("partitioner", partitioner);
    }
    let producer: FutureProducer = config.create().context("creating a producer")?;
    let mut positions = Vec::new();
    for event in events {
        let value = (recipe.value)(&event.payload)?;
        let key = if recipe.key_is_event_id { &event.id } else { &event.aggregate_id };
        let mut record = FutureRecord::to(topic).key(key).payload(&value);
        if recipe.headers {
            record = record.headers(
                OwnedHeaders::new()
                    .insert(Header { key: "id", value: Some(&event.id) })
                    .insert(Header { key: "eventType", value: Some(&event.event_type) }),
            );
        }
        let delivery = producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e)?;
        positions.push((delivery.partition, delivery.offset));
    }
    Ok(positions)
}

/// The reference's value: the envelope with the inferred schema, in the JsonConverter's key order.
fn router_value(payload: &Value) -> Result<String> {
    Ok(envelope_with(payload, int_type)?.to_string_in_converter_order())
}

fn int_type(n: i64) -> &'static str {
    if i32::try_from(n).is_ok() { "int32" } else { "int64" }
}

/// The envelope's parts, so that each mistake below changes one thing of the reference's value.
struct Parts {
    fields: Vec<(String, &'static str)>,
    payload: Value,
}

fn envelope_with(payload: &Value, int: fn(i64) -> &'static str) -> Result<Parts> {
    let object = payload.as_object().context("not an object")?;
    let fields = object
        .iter()
        .map(|(name, value)| {
            let kind = match value {
                Value::String(_) => "string",
                Value::Number(n) if n.is_i64() => int(n.as_i64().unwrap_or_default()),
                other => bail!("no flat type for {other}"),
            };
            Ok((name.clone(), kind))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Parts { fields, payload: payload.clone() })
}

impl Parts {
    fn to_string_in_converter_order(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(name, kind)| {
                format!(r#"{{"type":"{kind}","optional":true,"field":{}}}"#, json!(name))
            })
            .collect();
        let schema = format!(
            r#"{{"type":"struct","fields":[{}],"optional":true,"name":"payload"}}"#,
            fields.join(",")
        );
        format!(r#"{{"schema":{schema},"payload":{}}}"#, self.payload)
    }

    fn to_json_value(&self) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|(name, kind)| json!({"type": kind, "optional": true, "field": name}))
            .collect();
        json!({
            "schema": {"type": "struct", "fields": fields, "optional": true, "name": "payload"},
            "payload": self.payload,
        })
    }
}

/// Mistake: sends the payload alone, as the dual-write demo does. The router's JsonConverter wraps
/// it in a `{"schema": …, "payload": …}` envelope, which the JDBC sink of chapter 12 needs.
fn bare_payload(payload: &Value) -> Result<String> {
    Ok(payload.to_string())
}

/// Mistake: builds the envelope with `json!` and serializes the `Value`: the same JSON, but
/// serde_json's objects sort their keys (`payload` before `schema`, `field` before `type`), so the
/// bytes differ from the router's.
fn json_macro_envelope(payload: &Value) -> Result<String> {
    Ok(envelope_with(payload, int_type)?.to_json_value().to_string())
}

/// Mistake: calls every integer int64 (the Rust type of the prices); the router infers the smallest
/// type that holds the value, int32 for most numbers.
fn int64_for_every_integer(payload: &Value) -> Result<String> {
    Ok(envelope_with(payload, |_| "int64")?.to_string_in_converter_order())
}
