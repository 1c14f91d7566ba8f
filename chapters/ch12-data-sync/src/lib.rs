//! Chapter 12 — syncing data across services through Kafka.
//!
//! Two instances of chapter 11's order service, each with its own tables, publish their
//! order events through their outboxes to ONE topic. Two independent consumers read that log:
//! a JDBC sink connector that keeps one shared `orders` table, and a catalog service that keeps
//! its own read model (stock per product). Each converges to the same truth at its own pace,
//! and neither double-counts a replayed event.
//!
//! - [`shared_table`]: consumer 1, the JDBC sink and the one table it keeps;
//! - [`catalog`]: consumer 2, the catalog service and its read model, each event applied once.

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;
pub use workbook_support::db::execute;
use workbook_support::{Env, kafka};

pub mod catalog;
pub mod shared_table;

pub use catalog::{
    Catalog, CatalogStats, CatalogTables, apply_order_created, remember_event, run_catalog, stock,
};
pub use shared_table::{
    JDBC_SINK, create_shared_orders_table, jdbc_connection, merge, shared_table_sink_config,
};

/// The products the catalog sells, and the stock each starts with.
pub const PRODUCTS: [&str; 3] = ["CATALOG-001", "CATALOG-002", "CATALOG-003"];
pub const INITIAL_STOCK: i64 = 1000;

pub async fn count(pool: &MySqlPool, table: &str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_one(pool)
        .await
        .with_context(|| format!("counting {table}"))?;
    Ok(n)
}

/// How far consumer group `group` got on `topic`, summed over its partitions: (committed offsets,
/// log-end offsets). Chapter 5's `lag`, for a whole topic.
pub fn group_position(env: &Env, group: &str, topic: &str) -> Result<(i64, i64)> {
    // Only asks the group coordinator for the group's offsets: it never joins the group.
    let consumer: BaseConsumer = kafka::group_config(env, group).create()?;
    let metadata = consumer.fetch_metadata(Some(topic), kafka::METADATA_TIMEOUT)?;
    let partitions = metadata.topics().iter().map(|t| t.partitions().len()).sum();
    let lags = ch05_consumers::lag(&consumer, topic, partitions)?;
    Ok((lags.iter().map(|l| l.committed.unwrap_or(0)).sum(), lags.iter().map(|l| l.end).sum()))
}
