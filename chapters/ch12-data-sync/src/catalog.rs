//! Consumer 2: the catalog service keeps stock per product, applying each order event once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ch11_order_service::{EventRecord, event_record};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, MySqlConnection};
use tokio::sync::watch;
use workbook_support::{Env, kafka};

use crate::{INITIAL_STOCK, PRODUCTS, execute};

// ANCHOR: catalog_tables
/// The catalog service's own tables: its read model, and the events it has already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTables {
    pub stock: String,
    pub processed: String,
}

impl CatalogTables {
    pub fn with_prefix(prefix: &str) -> CatalogTables {
        CatalogTables {
            stock: format!("{prefix}_stock"),
            processed: format!("{prefix}_processed_events"),
        }
    }

    pub async fn create(&self, pool: &MySqlPool) -> Result<()> {
        let stock = format!(
            "CREATE TABLE {} (product_id VARCHAR(64) NOT NULL PRIMARY KEY, stock BIGINT NOT NULL) \
             DEFAULT CHARSET = utf8mb4",
            self.stock
        );
        execute(pool, &stock).await?;
        let processed = format!(
            "CREATE TABLE {} (event_id CHAR(36) NOT NULL PRIMARY KEY, order_id CHAR(36) NOT NULL, \
             applied_at DATETIME(6) NOT NULL) DEFAULT CHARSET = utf8mb4",
            self.processed
        );
        execute(pool, &processed).await?;
        for product in PRODUCTS {
            let sql = format!("INSERT INTO {} (product_id, stock) VALUES (?, ?)", self.stock);
            sqlx::query(AssertSqlSafe(sql)).bind(product).bind(INITIAL_STOCK).execute(pool).await?;
        }
        Ok(())
    }
}
// ANCHOR_END: catalog_tables

// ANCHOR: apply
/// Applies one `OrderCreated` event to the read model, exactly once per event id:
/// the event id is recorded in the same transaction as the stock change, so a redelivered event
/// finds it and changes nothing. Returns whether the stock changed.
pub async fn apply_order_created(
    pool: &MySqlPool,
    tables: &CatalogTables,
    record: &EventRecord,
) -> Result<bool> {
    if record.event_type.as_deref() != Some("OrderCreated") {
        return Ok(false);
    }
    let event_id = record.event_id.as_deref().context("an event without an id header")?;
    let mut tx = pool.begin().await?;
    if !remember_event(&mut tx, tables, event_id, &record.key).await? {
        tx.rollback().await?; // seen before: a replay, nothing to do
        return Ok(false);
    }
    let product = record.payload["product_id"].as_str().context("no product_id")?;
    let qty = record.payload["qty"].as_i64().context("no qty")?;
    let sql = format!("UPDATE {} SET stock = stock - ? WHERE product_id = ?", tables.stock);
    sqlx::query(AssertSqlSafe(sql)).bind(qty).bind(product).execute(&mut *tx).await?;
    tx.commit().await.context("committing the stock change")?;
    Ok(true)
}

/// Records `event_id` as applied; false if it already was.
pub async fn remember_event(
    conn: &mut MySqlConnection,
    tables: &CatalogTables,
    event_id: &str,
    order_id: &str,
) -> Result<bool> {
    let sql = format!(
        "INSERT IGNORE INTO {} (event_id, order_id, applied_at) VALUES (?, ?, UTC_TIMESTAMP(6))",
        tables.processed
    );
    let inserted =
        sqlx::query(AssertSqlSafe(sql)).bind(event_id).bind(order_id).execute(&mut *conn).await?;
    Ok(inserted.rows_affected() == 1)
}
// ANCHOR_END: apply

/// What the catalog consumer did so far.
#[derive(Debug, Default)]
pub struct CatalogStats {
    pub applied: AtomicU64,
    pub skipped: AtomicU64,
}

// ANCHOR: catalog
/// The catalog service's consumer loop: read the order topic in consumer group `group`,
/// apply each event, and only then mark its offset for commit. A crash after the DB commit
/// and before the offset commit means the event comes again after a restart (at least once);
/// `apply_order_created` makes that harmless.
pub async fn run_catalog(
    env: Env,
    pool: MySqlPool,
    tables: CatalogTables,
    topic: String,
    group: String,
    stats: Arc<CatalogStats>,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let consumer: StreamConsumer = kafka::group_config(&env, &group)
        .set("auto.offset.reset", "earliest") // a new group reads the topic from its first event
        .set("enable.auto.commit", "true") // commit in the background, every second ...
        .set("auto.commit.interval.ms", "1000")
        // ... but only offsets we stored, i.e. of applied events.
        .set("enable.auto.offset.store", "false")
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .context("creating the catalog consumer")?;
    consumer.subscribe(&[&topic]).with_context(|| format!("subscribing to {topic}"))?;
    loop {
        let message = tokio::select! {
            _ = stop.changed() => break,
            message = consumer.recv() => message,
        };
        let message = match message {
            Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            )) => continue,
            other => other.context("reading the order topic")?,
        };
        let record = event_record(&message)?;
        if apply_order_created(&pool, &tables, &record).await? {
            stats.applied.fetch_add(1, Ordering::Relaxed);
        } else {
            stats.skipped.fetch_add(1, Ordering::Relaxed);
        }
        consumer.store_offset(message.topic(), message.partition(), message.offset())?;
    }
    // Commit what was stored before leaving the group, so a restart resumes right
    // after the last applied event.
    consumer
        .commit_consumer_state(rdkafka::consumer::CommitMode::Sync)
        .or_else(ignore_no_offset)?;
    Ok(())
}
// ANCHOR_END: catalog

/// "Nothing to commit" is not an error when stopping.
fn ignore_no_offset(e: KafkaError) -> Result<(), KafkaError> {
    match e {
        KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset) => Ok(()),
        other => Err(other),
    }
}

/// A running catalog consumer, stopped by [`Catalog::stop`].
pub struct Catalog {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
}

impl Catalog {
    pub fn start(
        env: &Env,
        pool: &MySqlPool,
        tables: &CatalogTables,
        topic: &str,
        group: &str,
        stats: Arc<CatalogStats>,
    ) -> Catalog {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run_catalog(
            env.clone(),
            pool.clone(),
            tables.clone(),
            topic.to_string(),
            group.to_string(),
            stats,
            stopped,
        ));
        Catalog { stop, task }
    }

    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(30), self.task).await {
            Ok(joined) => joined.context("the catalog task panicked")?,
            Err(_) => bail!("the catalog consumer did not stop within 30 s"),
        }
    }
}

/// Stock per product in the read model.
pub async fn stock(pool: &MySqlPool, tables: &CatalogTables) -> Result<Vec<(String, i64)>> {
    let sql = format!("SELECT product_id, stock FROM {} ORDER BY product_id", tables.stock);
    sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await.context("reading the stock")
}
