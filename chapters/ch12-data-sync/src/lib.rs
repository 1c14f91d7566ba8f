//! Chapter 12 — syncing data across services through Kafka.
//!
//! Two instances of chapter 11's order service, each with its own tables, publish their order events through
//! their outboxes to ONE topic. Two independent consumers read that log: a JDBC sink connector that keeps one
//! shared `orders` table, and a catalog service that keeps its own read model (stock per product). Each
//! converges to the same truth at its own pace, and neither double-counts a replayed event.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ch11_order_service::{EventRecord, event_record};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use serde_json::{Value, json};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use sqlx::{AssertSqlSafe, MySqlConnection};
use tokio::sync::watch;
use workbook_support::{Env, kafka};

pub const JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";
/// The products the catalog sells, and the stock each starts with.
pub const PRODUCTS: [&str; 3] = ["CATALOG-001", "CATALOG-002", "CATALOG-003"];
pub const INITIAL_STOCK: i64 = 1000;

// ANCHOR: shared_table
/// The one table every instance's orders end up in (written only by the JDBC sink).
pub async fn create_shared_orders_table(pool: &MySqlPool, table: &str) -> Result<()> {
    let sql = format!(
        "CREATE TABLE {table} (
            order_id    CHAR(36)    NOT NULL PRIMARY KEY,
            user_id     VARCHAR(64) NOT NULL,
            product_id  VARCHAR(64) NOT NULL,
            qty         INT         NOT NULL,
            unit_price  BIGINT      NOT NULL,
            total_price BIGINT      NOT NULL,
            status      VARCHAR(16) NOT NULL,
            created_at  VARCHAR(32) NOT NULL  -- as the event carries it: ISO 8601, UTC
        ) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
    );
    execute(pool, &sql).await
}
// ANCHOR_END: shared_table

/// The JDBC connection settings of `DATABASE_URL`, as the Connect worker reaches MariaDB.
pub fn jdbc_connection(env: &Env) -> Result<Value> {
    let options: MySqlConnectOptions =
        env.connect_database_url.parse().context("CONNECT_DATABASE_URL is not a valid mysql:// URL")?;
    let url: reqwest::Url = env.connect_database_url.parse().context("CONNECT_DATABASE_URL is not a URL")?;
    let password = url.password().unwrap_or_default().to_string();
    let database = options.get_database().unwrap_or("mydb");
    Ok(json!({
        "connection.url": format!("jdbc:mariadb://{}:{}/{database}", options.get_host(), options.get_port()),
        "connection.username": options.get_username(),
        "connection.password": password,
    }))
}

// ANCHOR: sink_config
/// The JDBC sink that keeps `table` in step with the order topic: one row per order id, replaced by the
/// order's latest event (so a replayed or repeated event changes nothing).
pub fn shared_table_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = jdbc_connection(env)?;
    let settings = json!({
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": topic,
        // The outbox router wrote a plain-string key and a JSON value with its schema: read them the same way.
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        // INSERT ... ON DUPLICATE KEY UPDATE, keyed by the order id found in the value.
        "insert.mode": "upsert",
        "primary.key.mode": "record_value",
        "primary.key.fields": "order_id",
        "collection.name.format": table,
        "schema.evolution": "none", // the table is ours; the sink must not alter it
    });
    merge(&mut config, &settings);
    Ok(config)
}
// ANCHOR_END: sink_config

pub fn merge(config: &mut Value, settings: &Value) {
    if let (Some(config), Some(settings)) = (config.as_object_mut(), settings.as_object()) {
        config.extend(settings.clone());
    }
}

// ANCHOR: catalog_tables
/// The catalog service's own tables: its read model, and the events it has already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTables {
    pub stock: String,
    pub processed: String,
}

impl CatalogTables {
    pub fn with_prefix(prefix: &str) -> CatalogTables {
        CatalogTables { stock: format!("{prefix}_stock"), processed: format!("{prefix}_processed_events") }
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
/// Applies one `OrderCreated` event to the read model, exactly once per event id: the event id is recorded in
/// the same transaction as the stock change, so a redelivered event finds it and changes nothing.
/// Returns whether the stock changed.
pub async fn apply_order_created(pool: &MySqlPool, tables: &CatalogTables, record: &EventRecord) -> Result<bool> {
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
    let inserted = sqlx::query(AssertSqlSafe(sql)).bind(event_id).bind(order_id).execute(&mut *conn).await?;
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
/// The catalog service's consumer loop: read the order topic in consumer group `group`, apply each event, and
/// only then mark its offset for commit. A crash after the DB commit and before the offset commit means the
/// event comes again after a restart (at least once); `apply_order_created` makes that harmless.
pub async fn run_catalog(
    env: Env,
    pool: MySqlPool,
    tables: CatalogTables,
    topic: String,
    group: String,
    stats: Arc<CatalogStats>,
    mut stop: watch::Receiver<bool>,
) -> Result<()> {
    let consumer: StreamConsumer = kafka::consumer_config(&env, &group)
        .set("enable.auto.commit", "true") // commit in the background, every second ...
        .set("auto.commit.interval.ms", "1000")
        .set("enable.auto.offset.store", "false") // ... but only offsets we stored, i.e. of applied events
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
    // Commit what was stored before leaving the group, so a restart resumes right after the last applied event.
    consumer.commit_consumer_state(rdkafka::consumer::CommitMode::Sync).or_else(ignore_no_offset)?;
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

pub async fn count(pool: &MySqlPool, table: &str) -> Result<i64> {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    let (n,): (i64,) =
        sqlx::query_as(AssertSqlSafe(sql)).fetch_one(pool).await.with_context(|| format!("counting {table}"))?;
    Ok(n)
}

pub async fn execute(pool: &MySqlPool, sql: &str) -> Result<()> {
    sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(pool).await.with_context(|| format!("running {sql}"))?;
    Ok(())
}

/// The committed offsets of `group` on `topic` and the log-end offsets: (committed total, end total).
pub fn group_position(env: &Env, group: &str, topic: &str) -> Result<(i64, i64)> {
    use rdkafka::TopicPartitionList;
    use rdkafka::consumer::BaseConsumer;
    let consumer: BaseConsumer = kafka::consumer_config(env, group).create()?;
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
