//! The service's own data: orders, the repository that stores them (with their event, in one
//! transaction) and reads them, and the dual write it must not do.

use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, MySqlConnection};

use crate::outbox::{OutboxEvent, insert_outbox, order_created, read_outbox};
use crate::schema::Tables;

// ANCHOR: order
/// What a client sends to place an order (`POST /orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub user_id: String,
    pub product_id: String,
    pub qty: i32,
    pub unit_price: i64,
}

/// An order as stored, returned by the API and carried by its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Order {
    pub order_id: String,
    pub user_id: String,
    pub product_id: String,
    pub qty: i32,
    pub unit_price: i64,
    pub total_price: i64,
    pub status: String,
    /// UTC, ISO 8601 with microseconds.
    pub created_at: String,
}
// ANCHOR_END: order

/// The columns of `Order`, with the timestamp formatted by MariaDB (the workspace's sqlx has no
/// date types).
const ORDER_COLUMNS: &str = "order_id, user_id, product_id, qty, unit_price, total_price, status, \
     DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at";

/// A new id for an order or an event: a UUID of version 7, as text (`0193c2e4-…`, 36 characters).
///
/// Version 7 rather than 4 (all random): its first 48 bits are the time in milliseconds, so ids
/// made later sort later. The id is the primary key of the orders and outbox tables, and InnoDB
/// keeps a table's rows in primary-key order: ids that grow with time append to the end of that
/// index instead of splitting pages all over it. The rest is random, so two instances of the
/// service that make an id in the same millisecond still make different ones.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

// ANCHOR: repository
/// The service's data access: every statement names the instance's tables.
#[derive(Debug, Clone)]
pub struct OrderRepository {
    pub pool: MySqlPool,
    pub tables: Tables,
}

/// Where to fail on purpose, to see what a crash at that point leaves behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failpoint {
    None,
    /// After the order's INSERT, before the outbox INSERT and the COMMIT.
    AfterOrderInsert,
}

impl OrderRepository {
    /// Stores the order **and** its `OrderCreated` event in one transaction: both rows or neither.
    pub async fn create(
        &self,
        new: &NewOrder,
        failpoint: Failpoint,
    ) -> Result<(Order, OutboxEvent)> {
        validate(new)?;
        let mut tx = self.pool.begin().await.context("starting a transaction")?;
        let order = insert_order(&mut tx, &self.tables, new).await?;
        if failpoint == Failpoint::AfterOrderInsert {
            // No COMMIT: MariaDB undoes the INSERT, as when a crashed service's connection drops.
            tx.rollback().await.context("rolling back")?;
            bail!(
                "failpoint: crashed after inserting order {} (nothing was committed)",
                order.order_id
            );
        }
        let event = order_created(&order)?;
        insert_outbox(&mut tx, &self.tables, &event).await?;
        tx.commit().await.context("committing the order and its event")?;
        Ok((order, event))
    }
    // ANCHOR_END: repository

    // ANCHOR: queries
    pub async fn get(&self, order_id: &str) -> Result<Option<Order>> {
        let sql = format!("SELECT {ORDER_COLUMNS} FROM {} WHERE order_id = ?", self.tables.orders);
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .with_context(|| format!("reading order {order_id}"))
    }

    pub async fn list_by_user(&self, user_id: &str) -> Result<Vec<Order>> {
        let sql = format!(
            "SELECT {ORDER_COLUMNS} FROM {} WHERE user_id = ? ORDER BY created_at, order_id",
            self.tables.orders
        );
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await
            .with_context(|| format!("listing the orders of {user_id}"))
    }
    // ANCHOR_END: queries

    // ANCHOR: dual_write
    /// The tempting version: commit the order, then send the event to Kafka. Two systems, two
    /// writes, no transaction spanning both. A crash (or a broker outage longer than the producer's
    /// timeout) between the two leaves an order that no other service will ever hear about.
    pub async fn create_then_publish(
        &self,
        new: &NewOrder,
        producer: &FutureProducer,
        topic: &str,
        crash_before_send: bool,
    ) -> Result<Order> {
        validate(new)?;
        let mut tx = self.pool.begin().await.context("starting a transaction")?;
        let order = insert_order(&mut tx, &self.tables, new).await?;
        tx.commit().await.context("committing the order")?; // write 1: MariaDB
        if crash_before_send {
            bail!("crashed after committing order {} and before sending its event", order.order_id);
        }
        let event = order_created(&order)?;
        let payload = event.payload.to_string();
        let record = FutureRecord::to(topic).key(&event.aggregate_id).payload(&payload);
        producer // write 2: Kafka
            .send(record, Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)
            .with_context(|| {
                format!("order {} is committed but its event was not sent", order.order_id)
            })?;
        Ok(order)
    }
    // ANCHOR_END: dual_write

    /// The outbox rows of this instance, oldest first (what Debezium will publish).
    pub async fn outbox(&self) -> Result<Vec<OutboxEvent>> {
        read_outbox(&self.pool, &self.tables).await
    }

    pub async fn count_orders(&self) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.tables.orders);
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await
            .context("counting orders")?;
        Ok(n)
    }
}

fn validate(new: &NewOrder) -> Result<()> {
    ensure!(!new.user_id.is_empty() && new.user_id.len() <= 64, "user_id must be 1-64 characters");
    ensure!(
        !new.product_id.is_empty() && new.product_id.len() <= 64,
        "product_id must be 1-64 characters"
    );
    ensure!(new.qty > 0, "qty must be positive");
    ensure!(new.unit_price >= 0, "unit_price must not be negative");
    Ok(())
}

// ANCHOR: insert_order
/// Inserts the order on `conn` (a transaction) and reads it back as stored.
pub async fn insert_order(
    conn: &mut MySqlConnection,
    tables: &Tables,
    new: &NewOrder,
) -> Result<Order> {
    let order_id = new_id();
    let sql = format!(
        "INSERT INTO {} (order_id, user_id, product_id, qty, unit_price, total_price, created_at)
         VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6))",
        tables.orders
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(&order_id)
        .bind(&new.user_id)
        .bind(&new.product_id)
        .bind(new.qty)
        .bind(new.unit_price)
        .bind(i64::from(new.qty) * new.unit_price)
        .execute(&mut *conn)
        .await
        .context("inserting the order")?;
    let sql = format!("SELECT {ORDER_COLUMNS} FROM {} WHERE order_id = ?", tables.orders);
    sqlx::query_as(AssertSqlSafe(sql))
        .bind(&order_id)
        .fetch_one(&mut *conn)
        .await
        .context("reading the order back")
}

// ANCHOR_END: insert_order

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_look_like_uuids_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "7", "the version digit");
        assert_eq!(a.matches('-').count(), 4);
    }
}
