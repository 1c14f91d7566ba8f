//! Chapter 12: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
#[allow(unused_imports)]
// every exercise is dispatched below; the glob keeps the convention's shape
pub use solution::*;

use anyhow::{Context, Result};
use ch11_order_service::EventRecord;
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, MySqlConnection, MySqlPool};
use workbook_support::{Env, mistakes};

use ch12_data_sync::{CatalogTables, merge, remember_event, shared_table_sink_config};

pub async fn apply_event(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    match mistakes::chosen().as_deref() {
        None => solution::apply_event(pool, tables, record).await,
        Some("no_dedup") => no_dedup(pool, tables, record).await,
        Some("dedup_by_order_id") => dedup_by_order_id(pool, tables, record).await,
        Some("stock_then_mark_separately") => {
            stock_then_mark_separately(pool, tables, record).await
        }
        Some("mark_then_stock_separately") => {
            mark_then_stock_separately(pool, tables, record).await
        }
        Some("swallows_errors") => swallows_errors(pool, tables, record).await,
        Some(other) => mistakes::unknown("apply_event", other),
    }
}

pub fn orders_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    match mistakes::chosen().as_deref() {
        None => solution::orders_sink_config(env, topic, table),
        Some("copies_shared_table_sink") => copies_shared_table_sink(env, topic, table),
        Some("lets_sink_add_columns") => lets_sink_add_columns(env, topic, table),
        Some("excludes_todays_fields") => excludes_todays_fields(env, topic, table),
        Some("insert_mode_insert") => insert_mode_insert(env, topic, table),
        Some(other) => mistakes::unknown("orders_sink_config", other),
    }
}

// ---- apply_event ----

/// The stock change an event asks for: (product, signed quantity), or None for other event types.
fn change(record: &EventRecord) -> Result<Option<(String, i64)>> {
    let sign = match record.event_type.as_deref() {
        Some("OrderCreated") => -1,
        Some("OrderCancelled") => 1,
        _ => return Ok(None),
    };
    let product = record.payload["product_id"].as_str().context("no product_id")?.to_string();
    let qty = record.payload["qty"].as_i64().context("no qty")?;
    Ok(Some((product, sign * qty)))
}

async fn update_stock(
    conn: &mut MySqlConnection,
    tables: &CatalogTables,
    product: &str,
    delta: i64,
) -> Result<()> {
    let sql = format!("UPDATE {} SET stock = stock + ? WHERE product_id = ?", tables.stock);
    sqlx::query(AssertSqlSafe(sql)).bind(delta).bind(product).execute(conn).await?;
    Ok(())
}

fn event_id(record: &EventRecord) -> Result<&str> {
    record.event_id.as_deref().context("an event without an id header")
}

/// Mistake: applies every delivery. Kafka delivers at least once, so a redelivered event takes the stock twice.
async fn no_dedup(pool: &MySqlPool, tables: &CatalogTables, record: &EventRecord) -> Result<bool> {
    let Some((product, delta)) = change(record)? else { return Ok(false) };
    update_stock(&mut *pool.acquire().await?, tables, &product, delta).await?;
    Ok(true)
}

/// Mistake: deduplicates on the order id (the record key). An order's OrderCancelled shares the order id with
/// its OrderCreated, so the cancellation is skipped as a "duplicate" and the stock is never given back.
async fn dedup_by_order_id(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    let Some((product, delta)) = change(record)? else { return Ok(false) };
    let mut tx = pool.begin().await?;
    // The order id in the event-id column: "have I seen this order?"
    if !remember_event(&mut tx, tables, &record.key, &record.key).await? {
        tx.rollback().await?;
        return Ok(false);
    }
    update_stock(&mut tx, tables, &product, delta).await?;
    tx.commit().await?;
    Ok(true)
}

/// Mistake: checks for the event id, changes the stock, then records the event id, each statement committing on
/// its own. A crash (here: MariaDB refusing the mark) between the stock change and the mark leaves the stock
/// changed and the event unmarked, so its redelivery takes the stock a second time.
async fn stock_then_mark_separately(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    let Some((product, delta)) = change(record)? else { return Ok(false) };
    let id = event_id(record)?;
    let sql = format!("SELECT COUNT(*) FROM {} WHERE event_id = ?", tables.processed);
    let (seen,): (i64,) = sqlx::query_as(AssertSqlSafe(sql)).bind(id).fetch_one(pool).await?;
    if seen > 0 {
        return Ok(false);
    }
    update_stock(&mut *pool.acquire().await?, tables, &product, delta).await?;
    remember_event(&mut *pool.acquire().await?, tables, id, &record.key).await?;
    Ok(true)
}

/// Mistake: records the event id in a transaction of its own, then changes the stock. A crash between the two
/// (here: MariaDB refusing the stock change) leaves the event marked as applied without its change: the
/// redelivery is skipped, and the change is lost for good.
async fn mark_then_stock_separately(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    let Some((product, delta)) = change(record)? else { return Ok(false) };
    let mut tx = pool.begin().await?;
    let first = remember_event(&mut tx, tables, event_id(record)?, &record.key).await?;
    tx.commit().await?;
    if !first {
        return Ok(false);
    }
    update_stock(&mut *pool.acquire().await?, tables, &product, delta).await?;
    Ok(true)
}

/// Mistake: the reference solution, but a database error becomes `Ok(false)` ("nothing changed"). The consumer
/// then stores the offset as for a duplicate, and the event is never delivered again: lost.
async fn swallows_errors(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    match solution::apply_event(pool, tables, record).await {
        Ok(changed) => Ok(changed),
        Err(e) => {
            eprintln!("apply_event: {e:#} (ignored)");
            Ok(false)
        }
    }
}

// ---- orders_sink_config ----

/// Mistake: the chapter's own `shared_table_sink_config`, unchanged. It writes every field of the order, and
/// with `schema.evolution=none` the sink fails on the first event: the table has no column for `user_id`.
fn copies_shared_table_sink(env: &Env, topic: &str, table: &str) -> Result<Value> {
    shared_table_sink_config(env, topic, table)
}

/// Mistake: the shared table's config with chapter 10's `schema.evolution=basic`, the quick fix for "Cannot alter
/// table": the sink adds a column for every field the table lacks, in a table that is not ours.
fn lets_sink_add_columns(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = shared_table_sink_config(env, topic, table)?;
    merge(&mut config, &json!({"schema.evolution": "basic"}));
    Ok(config)
}

/// Mistake: excludes the order's other fields by name instead of including the table's columns. It works
/// until a newer order service adds a field (`coupon`): the sink then fails on it.
fn excludes_todays_fields(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = shared_table_sink_config(env, topic, table)?;
    let excluded = ["created_at", "product_id", "qty", "unit_price", "user_id"]
        .map(|f| format!("{topic}:{f}"));
    merge(&mut config, &json!({"field.exclude.list": excluded.join(",")}));
    Ok(config)
}

/// Mistake: chapter 10's `insert.mode=insert`. The OrderCancelled of an order already in the table is a second
/// INSERT of the same primary key: the sink task fails on a duplicate key.
fn insert_mode_insert(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = solution::orders_sink_config(env, topic, table)?;
    merge(&mut config, &json!({"insert.mode": "insert"}));
    Ok(config)
}
