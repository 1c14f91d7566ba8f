//! The transactional outbox: an event is a row of the instance's `outbox` table, written in the
//! same transaction as the change it announces.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, MySqlConnection};

use crate::orders::{Order, new_id};
use crate::schema::Tables;

// ANCHOR: event
/// One row of the outbox table: an event about one aggregate (here: one order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Unique per event; consumers remember it to ignore a redelivered copy.
    pub id: String,
    /// The kind of thing that changed: `order`. The EventRouter publishes to one topic per
    /// aggregate type.
    pub aggregate_type: String,
    /// Which one: the order id. It becomes the record **key**, so all events of one order land in
    /// one partition and are read in the order they were written.
    pub aggregate_id: String,
    /// `OrderCreated`, `OrderCancelled`, ...
    pub event_type: String,
    /// The event body consumers read.
    pub payload: Value,
}

pub const ORDER_AGGREGATE: &str = "order";

/// The `OrderCreated` event of a freshly stored order.
pub fn order_created(order: &Order) -> Result<OutboxEvent> {
    Ok(OutboxEvent {
        id: new_id(),
        aggregate_type: ORDER_AGGREGATE.to_string(),
        aggregate_id: order.order_id.clone(),
        event_type: "OrderCreated".to_string(),
        payload: serde_json::to_value(order).context("serializing the order")?,
    })
}
// ANCHOR_END: event

// ANCHOR: insert_outbox
/// Inserts one event into the outbox on `conn` (the same transaction as the change it announces).
pub async fn insert_outbox(
    conn: &mut MySqlConnection,
    tables: &Tables,
    event: &OutboxEvent,
) -> Result<()> {
    let sql = format!(
        "INSERT INTO {} (id, aggregatetype, aggregateid, type, payload, created_at)
         VALUES (?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
        tables.outbox
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&event.id)
        .bind(&event.aggregate_type)
        .bind(&event.aggregate_id)
        .bind(&event.event_type)
        .bind(event.payload.to_string())
        .execute(&mut *conn)
        .await
        .context("inserting the outbox event")?;
    Ok(())
}
// ANCHOR_END: insert_outbox

/// Every outbox row of `tables`, oldest first.
pub async fn read_outbox(pool: &MySqlPool, tables: &Tables) -> Result<Vec<OutboxEvent>> {
    let sql = format!(
        "SELECT id, aggregatetype, aggregateid, type, payload FROM {} ORDER BY created_at, id",
        tables.outbox
    );
    let rows: Vec<(String, String, String, String, String)> =
        sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await.context("reading the outbox")?;
    rows.into_iter()
        .map(|(id, aggregate_type, aggregate_id, event_type, payload)| {
            Ok(OutboxEvent {
                id,
                aggregate_type,
                aggregate_id,
                event_type,
                payload: serde_json::from_str(&payload)
                    .context("an outbox payload that is not JSON")?,
            })
        })
        .collect()
}
