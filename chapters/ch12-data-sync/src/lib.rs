//! Chapter 12 — syncing data across services through Kafka.
//!
//! Two instances of chapter 11's order service, each with its own tables, publish their order events through
//! their outboxes to ONE topic. Two independent consumers read that log: a JDBC sink connector that keeps one
//! shared `orders` table, and a catalog service that keeps its own read model (stock per product). Each
//! converges to the same truth at its own pace, and neither double-counts a replayed event.
//!
//! - [`shared_table`]: consumer 1, the JDBC sink and the one table it keeps;
//! - [`catalog`]: consumer 2, the catalog service and its read model, each event applied once.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlPool;
pub use workbook_support::db::execute;
use workbook_support::{Env, kafka};

pub mod catalog;
pub mod shared_table;

pub use catalog::{Catalog, CatalogStats, CatalogTables, apply_order_created, remember_event, run_catalog, stock};
pub use shared_table::{JDBC_SINK, create_shared_orders_table, jdbc_connection, merge, shared_table_sink_config};

/// The products the catalog sells, and the stock each starts with.
pub const PRODUCTS: [&str; 3] = ["CATALOG-001", "CATALOG-002", "CATALOG-003"];
pub const INITIAL_STOCK: i64 = 1000;

pub async fn count(pool: &MySqlPool, table: &str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) =
        sqlx::query_as(AssertSqlSafe(sql)).fetch_one(pool).await.with_context(|| format!("counting {table}"))?;
    Ok(n)
}

/// The committed offsets of `group` on `topic` and the log-end offsets: (committed total, end total).
pub fn group_position(env: &Env, group: &str, topic: &str) -> Result<(i64, i64)> {
    use rdkafka::TopicPartitionList;
    // Only asks the group coordinator for the group's offsets: it never joins the group.
    let consumer: BaseConsumer = kafka::group_config(env, group).create()?;
    let metadata = consumer.fetch_metadata(Some(topic), kafka::METADATA_TIMEOUT)?;
    let partitions: Vec<i32> = metadata.topics().iter().flat_map(|t| t.partitions().iter().map(|p| p.id())).collect();
    let mut list = TopicPartitionList::new();
    for p in &partitions {
        list.add_partition(topic, *p);
    }
    let committed = consumer.committed_offsets(list, Duration::from_secs(5))?;
    let mut committed_total = 0;
    let mut end_total = 0;
    for p in &partitions {
        let (_, high) = consumer.fetch_watermarks(topic, *p, Duration::from_secs(5))?;
        end_total += high;
        if let Some(rdkafka::Offset::Offset(o)) = committed.find_partition(topic, *p).map(|e| e.offset()) {
            committed_total += o;
        }
    }
    Ok((committed_total, end_total))
}
