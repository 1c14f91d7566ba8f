//! Chapter 11 — an order service on MariaDB, and how its events reach Kafka.
//!
//! The service owns an `orders` table (sqlx migrations), exposes a small HTTP API, and announces every new order
//! as an `OrderCreated` event. Publishing that event straight to Kafka after the commit is a *dual write* that can
//! lose events; the service instead writes the event to an `outbox` table in the same transaction as the order,
//! and Debezium (chapter 09) turns the outbox into a topic.

use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::migrate::{Migration, Migrator};
use sqlx::mysql::MySqlPool;
use sqlx::{AssertSqlSafe, MySqlConnection, SqlSafeStr};
pub use workbook_support::cleanup::Cleanup;
pub use workbook_support::connect::wait_running;
use workbook_support::{Env, connect, db, kafka};

pub mod http;

pub const MARIADB_SOURCE: &str = "io.debezium.connector.mariadb.MariaDbConnector";
pub const EVENT_ROUTER: &str = "io.debezium.transforms.outbox.EventRouter";
/// The one database of the workbook's MariaDB.
pub const DATABASE: &str = "mydb";

// ANCHOR: tables
/// The tables of one service instance.
///
/// In production each service has a database of its own and the tables are just `orders` and `outbox`. The
/// workbook's MariaDB has one database (`mydb`) for everybody, so each instance prefixes its tables instead:
/// instance `shop` owns `shop_orders`, `shop_outbox` and `shop_migrations` (sqlx's record of applied migrations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub orders: String,
    pub outbox: String,
    pub migrations: String,
}

impl Tables {
    pub fn for_instance(instance: &str) -> Result<Tables> {
        let valid = !instance.is_empty()
            && instance.len() <= 40
            && instance.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        ensure!(valid, "instance name {instance:?}: use 1-40 of a-z, 0-9 and _ (it prefixes table names)");
        Ok(Tables {
            orders: format!("{instance}_orders"),
            outbox: format!("{instance}_outbox"),
            migrations: format!("{instance}_migrations"),
        })
    }

    /// Replaces `{orders}` and `{outbox}` in a SQL text by this instance's table names.
    pub fn sql(&self, template: &str) -> String {
        template.replace("{orders}", &self.orders).replace("{outbox}", &self.outbox)
    }
}
// ANCHOR_END: tables

// ANCHOR: migrate
/// The migrations in `migrations/`, embedded in the binary at compile time, for this instance's tables.
pub fn migrator(tables: &Tables) -> Migrator {
    let embedded: Migrator = sqlx::migrate!("./migrations");
    let migrations: Vec<Migration> = embedded
        .iter()
        .map(|m| {
            let sql = AssertSqlSafe(tables.sql(m.sql.as_str())).into_sql_str();
            Migration::new(m.version, m.description.clone(), m.migration_type, sql, m.no_tx)
        })
        .collect();
    let mut migrator = Migrator::with_migrations(migrations);
    migrator.dangerous_set_table_name(tables.migrations.clone());
    migrator
}

/// Brings the instance's tables up to the latest migration; returns the versions applied by this call.
pub async fn migrate(pool: &MySqlPool, tables: &Tables) -> Result<Vec<(i64, String)>> {
    let migrator = migrator(tables);
    let before = applied_versions(pool, tables).await?;
    migrator.run(pool).await.with_context(|| format!("migrating the tables of {}", tables.orders))?;
    Ok(migrator
        .iter()
        .filter(|m| !before.contains(&m.version))
        .map(|m| (m.version, m.description.to_string()))
        .collect())
}
// ANCHOR_END: migrate

async fn applied_versions(pool: &MySqlPool, tables: &Tables) -> Result<Vec<i64>> {
    let exists: Option<(String,)> = sqlx::query_as(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(&tables.migrations)
    .fetch_optional(pool)
    .await
    .context("looking for the migrations table")?;
    if exists.is_none() {
        return Ok(Vec::new());
    }
    let sql = format!("SELECT version FROM {} WHERE success", tables.migrations);
    let rows: Vec<(i64,)> =
        sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await.context("reading applied migrations")?;
    Ok(rows.into_iter().map(|(v,)| v).collect())
}

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

/// The columns of `Order`, with the timestamp formatted by MariaDB (the workspace's sqlx has no date types).
const ORDER_COLUMNS: &str = "order_id, user_id, product_id, qty, unit_price, total_price, status, \
     DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS created_at";

// ANCHOR: event
/// One row of the outbox table: an event about one aggregate (here: one order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// Unique per event; consumers remember it to ignore a redelivered copy.
    pub id: String,
    /// The kind of thing that changed: `order`. The EventRouter publishes to one topic per aggregate type.
    pub aggregate_type: String,
    /// Which one: the order id. It becomes the record **key**, so all events of one order land in one
    /// partition and are read in the order they were written.
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

/// A random UUID (version 4 format), made from the standard library's randomly seeded hasher.
pub fn new_id() -> String {
    let a = RandomState::new().hash_one(0u8);
    let b = RandomState::new().hash_one(1u8);
    let hex = format!("{a:016x}{b:016x}");
    // Version 4 and the RFC 4122 variant, so the id looks like what every UUID library makes.
    let variant = ["8", "9", "a", "b"][(b >> 62) as usize];
    format!("{}-{}-4{}-{variant}{}-{}", &hex[0..8], &hex[8..12], &hex[13..16], &hex[17..20], &hex[20..32])
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
    pub async fn create(&self, new: &NewOrder, failpoint: Failpoint) -> Result<(Order, OutboxEvent)> {
        validate(new)?;
        let mut tx = self.pool.begin().await.context("starting a transaction")?;
        let order = insert_order(&mut tx, &self.tables, new).await?;
        if failpoint == Failpoint::AfterOrderInsert {
            // No COMMIT: MariaDB undoes the INSERT, as it does when a crashed service's connection drops.
            tx.rollback().await.context("rolling back")?;
            bail!("failpoint: crashed after inserting order {} (nothing was committed)", order.order_id);
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
    /// The tempting version: commit the order, then send the event to Kafka. Two systems, two writes, no
    /// transaction spanning both. A crash (or a broker outage longer than the producer's timeout) between the
    /// two leaves an order that no other service will ever hear about.
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
            .with_context(|| format!("order {} is committed but its event was not sent", order.order_id))?;
        Ok(order)
    }
    // ANCHOR_END: dual_write

    /// The outbox rows of this instance, oldest first (what Debezium will publish).
    pub async fn outbox(&self) -> Result<Vec<OutboxEvent>> {
        read_outbox(&self.pool, &self.tables).await
    }

    pub async fn count_orders(&self) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.tables.orders);
        let (n,): (i64,) = sqlx::query_as(AssertSqlSafe(sql)).fetch_one(&self.pool).await.context("counting orders")?;
        Ok(n)
    }
}

fn validate(new: &NewOrder) -> Result<()> {
    ensure!(!new.user_id.is_empty() && new.user_id.len() <= 64, "user_id must be 1-64 characters");
    ensure!(!new.product_id.is_empty() && new.product_id.len() <= 64, "product_id must be 1-64 characters");
    ensure!(new.qty > 0, "qty must be positive");
    ensure!(new.unit_price >= 0, "unit_price must not be negative");
    Ok(())
}

// ANCHOR: insert
/// Inserts the order on `conn` (a transaction) and reads it back as stored.
pub async fn insert_order(conn: &mut MySqlConnection, tables: &Tables, new: &NewOrder) -> Result<Order> {
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
    sqlx::query_as(AssertSqlSafe(sql)).bind(&order_id).fetch_one(&mut *conn).await.context("reading the order back")
}

/// Inserts one event into the outbox on `conn` (the same transaction as the change it announces).
pub async fn insert_outbox(conn: &mut MySqlConnection, tables: &Tables, event: &OutboxEvent) -> Result<()> {
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
// ANCHOR_END: insert

/// Every outbox row of `tables`, oldest first.
pub async fn read_outbox(pool: &MySqlPool, tables: &Tables) -> Result<Vec<OutboxEvent>> {
    let sql =
        format!("SELECT id, aggregatetype, aggregateid, type, payload FROM {} ORDER BY created_at, id", tables.outbox);
    let rows: Vec<(String, String, String, String, String)> =
        sqlx::query_as(AssertSqlSafe(sql)).fetch_all(pool).await.context("reading the outbox")?;
    rows.into_iter()
        .map(|(id, aggregate_type, aggregate_id, event_type, payload)| {
            Ok(OutboxEvent {
                id,
                aggregate_type,
                aggregate_id,
                event_type,
                payload: serde_json::from_str(&payload).context("an outbox payload that is not JSON")?,
            })
        })
        .collect()
}

// ANCHOR: connector
/// A Debezium MariaDB source that captures the outbox tables (`mydb.<table>`) and, through the outbox
/// EventRouter, publishes each new row as one record on `<topic_prefix>.<aggregatetype>`:
/// key = `aggregateid` (the order id, as a plain string), value = the `payload` JSON (with a schema, so a JDBC
/// sink can write it), headers `id` (the event id) and `eventType`.
pub fn outbox_connector_config(env: &Env, topic_prefix: &str, outbox_tables: &[&str]) -> Result<Value> {
    // Chapter 9's MariaDB source (server, CDC user, tables, schema history), changed where an outbox differs.
    let mut config = ch09_source::source_config(env, topic_prefix, outbox_tables)?;
    let outbox = json!({
        // The outbox is a queue, not state: start from now, do not snapshot old rows.
        "snapshot.mode": "no_data",
        // Three partitions: the key (order id) decides which one, so one order's events keep their order.
        "topic.creation.default.partitions": "3",
        // The outbox pattern in one transform: route by aggregatetype, key by aggregateid, value = payload.
        "transforms": "outbox",
        "transforms.outbox.type": EVENT_ROUTER,
        "transforms.outbox.route.topic.replacement": format!("{topic_prefix}.${{routedByValue}}"),
        // payload is text in MariaDB; parse it so the record value is a JSON object, not a quoted string.
        "transforms.outbox.table.expand.json.payload": "true",
        "transforms.outbox.table.fields.additional.placement": "type:header:eventType",
        // The key is the bare order id; the value keeps its schema (the JDBC sink of chapter 12 needs it).
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
    });
    if let (Some(base), Some(changes)) = (config.as_object_mut(), outbox.as_object()) {
        base.extend(changes.clone());
    }
    Ok(config)
}
// ANCHOR_END: connector

/// The topic the EventRouter writes order events to.
pub fn order_topic(topic_prefix: &str) -> String {
    format!("{topic_prefix}.{ORDER_AGGREGATE}")
}

/// The config with its passwords replaced, safe to print.
pub fn redacted(config: &Value) -> Value {
    let mut shown = config.clone();
    for key in ["database.password", "connection.password"] {
        if let Some(v) = shown.get_mut(key) {
            *v = Value::String("***".to_string());
        }
    }
    shown
}

/// The aggregate type of the capture markers that [`wait_outbox_capturing`] writes: the EventRouter routes them
/// to a topic of their own (`<prefix>.capture_marker`), so no reader of the order topic ever sees one.
pub const MARKER_AGGREGATE: &str = "capture_marker";

/// The topic the capture markers of an outbox source with this prefix go to.
pub fn marker_topic(topic_prefix: &str) -> String {
    format!("{topic_prefix}.{MARKER_AGGREGATE}")
}

// ANCHOR: wait_outbox_capturing
/// Waits until the outbox source `connector` (started with [`outbox_connector_config`]) really captures
/// `outbox_table`: from then on every committed outbox row becomes a record.
///
/// RUNNING is not enough: the task then starts to read the binlog position, and a row committed before that
/// position is never published (`snapshot.mode=no_data`). So this writes one marker event per second into the
/// outbox (aggregate type [`MARKER_AGGREGATE`], routed to [`marker_topic`]) until one arrives
/// (`workbook_support::connect::wait_capturing`), then deletes the markers: the router ignores deletes, and the
/// outbox holds only real events again.
pub async fn wait_outbox_capturing(
    env: &Env,
    connector: &str,
    topic_prefix: &str,
    outbox_table: &str,
    timeout: Duration,
) -> Result<()> {
    let marker_sql = |n: u32| {
        let marker = connect::marker(n);
        format!(
            "INSERT INTO {outbox_table} (id, aggregatetype, aggregateid, type, payload, created_at) \
             VALUES ('{marker}', '{MARKER_AGGREGATE}', '{marker}', 'CaptureMarker', '{{\"marker\": \"{marker}\"}}', \
             UTC_TIMESTAMP(6))"
        )
    };
    connect::wait_capturing(env, connector, &marker_topic(topic_prefix), timeout, marker_sql).await?;
    let pool = db::pool(env).await?;
    let sql = format!("DELETE FROM {outbox_table} WHERE aggregatetype = ?");
    sqlx::query(AssertSqlSafe(sql))
        .bind(MARKER_AGGREGATE)
        .execute(&pool)
        .await
        .context("deleting the capture markers")?;
    pool.close().await;
    Ok(())
}
// ANCHOR_END: wait_outbox_capturing

// ANCHOR: record
/// One record of an order topic, read back: what every consumer of the events sees.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    pub partition: i32,
    pub offset: i64,
    pub key: String,
    /// The `id` header (the event id), when present.
    pub event_id: Option<String>,
    /// The `eventType` header, when present.
    pub event_type: Option<String>,
    /// The value, unwrapped from the JsonConverter's `{"schema": ..., "payload": ...}` envelope if it has one.
    pub payload: Value,
}

pub fn event_record(message: &rdkafka::message::BorrowedMessage<'_>) -> Result<EventRecord> {
    use rdkafka::Message;
    use rdkafka::message::Headers;
    let header = |name: &str| {
        message.headers().and_then(|headers| {
            headers
                .iter()
                .find(|h| h.key == name)
                .and_then(|h| h.value.map(|v| String::from_utf8_lossy(v).trim_matches('"').to_string()))
        })
    };
    let value: Value =
        serde_json::from_slice(message.payload().unwrap_or(b"null")).context("a value that is not JSON")?;
    let payload = match value.get("payload") {
        Some(payload) if value.get("schema").is_some() => payload.clone(),
        _ => value,
    };
    Ok(EventRecord {
        partition: message.partition(),
        offset: message.offset(),
        key: String::from_utf8_lossy(message.key().unwrap_or_default()).to_string(),
        event_id: header("id"),
        event_type: header("eventType"),
        payload,
    })
}
// ANCHOR_END: record

/// A consumer of `topic` from its first record, in a group of its own.
pub fn subscribe(env: &Env, topic: &str, group: &str) -> Result<rdkafka::consumer::StreamConsumer> {
    use rdkafka::consumer::Consumer;
    let consumer: rdkafka::consumer::StreamConsumer = kafka::consumer_config(env, group)
        .set("topic.metadata.refresh.interval.ms", "500") // the topic appears with the first event
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

/// Reads the next `count` records, or fails after `timeout` saying how many arrived.
pub async fn next_records(
    consumer: &rdkafka::consumer::StreamConsumer,
    count: usize,
    timeout: Duration,
) -> Result<Vec<EventRecord>> {
    let deadline = std::time::Instant::now() + timeout;
    let mut records = Vec::new();
    while records.len() < count {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match tokio::time::timeout(left, consumer.recv()).await {
            // The EventRouter's topic is created with the first event: until then the consumer reports it unknown.
            Ok(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) => continue,
            Ok(message) => records.push(event_record(&message.context("reading the order topic")?)?),
            Err(_) => bail!("only {} of {count} records within {} s", records.len(), timeout.as_secs()),
        }
    }
    Ok(records)
}

impl Tables {
    /// All three names, e.g. for `workbook_support::cleanup::Cleanup::tables`.
    pub fn all(&self) -> [String; 3] {
        [self.orders.clone(), self.outbox.clone(), self.migrations.clone()]
    }
}

/// The topics an outbox source with this prefix creates: the order topic, the capture markers' topic, the
/// schema-change topic, the history.
pub fn outbox_topics(topic_prefix: &str) -> [String; 4] {
    [
        order_topic(topic_prefix),
        marker_topic(topic_prefix),
        topic_prefix.to_string(),
        format!("schema-history.{topic_prefix}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_names_become_table_prefixes() {
        let tables = Tables::for_instance("shop_a").unwrap();
        assert_eq!(tables.orders, "shop_a_orders");
        assert_eq!(tables.sql("INSERT INTO {outbox}"), "INSERT INTO shop_a_outbox");
        assert!(Tables::for_instance("Robert'); DROP TABLE x").is_err());
    }

    #[test]
    fn ids_look_like_uuids_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn every_migration_names_only_placeholder_tables() {
        let tables = Tables::for_instance("t").unwrap();
        for migration in migrator(&tables).iter() {
            assert!(!migration.sql.as_str().contains('{'), "{}", migration.description);
        }
    }
}
