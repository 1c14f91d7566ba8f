//! Chapter 11 — an order service on MariaDB, and how its events reach Kafka.
//!
//! The service owns an `orders` table (sqlx migrations), exposes a small HTTP API, and announces
//! every new order as an `OrderCreated` event. Publishing that event straight to Kafka after the
//! commit is a *dual write* that can lose events; the service instead writes the event to an
//! `outbox` table in the same transaction as the order, and Debezium (chapter 09) turns the outbox
//! into a topic.
//!
//! One module per part of the story, everything re-exported here:
//!
//! - `schema`: the instance's table names and the migrations that create them;
//! - `orders`: orders, their repository (an order and its event in one transaction), dual writes;
//! - `outbox`: the outbox event and its table;
//! - `connector`: the relay, Debezium's MariaDB source with the outbox EventRouter;
//! - `events`: the order topic read back, as consumers see it;
//! - `http`: the HTTP API.

pub mod connector;
pub mod events;
pub mod http;
pub mod orders;
pub mod outbox;
pub mod schema;

pub use connector::{
    EVENT_ROUTER, MARIADB_SOURCE, MARKER_AGGREGATE, marker_topic, order_topic,
    outbox_connector_config, outbox_topics, wait_outbox_capturing,
};
pub use events::{EventRecord, event_record, next_records, subscribe};
pub use orders::{Failpoint, NewOrder, Order, OrderRepository, insert_order, new_id};
pub use outbox::{ORDER_AGGREGATE, OutboxEvent, insert_outbox, order_created, read_outbox};
pub use schema::{Tables, migrate, migrator};
pub use workbook_support::cleanup::Cleanup;
pub use workbook_support::connect::{redacted, wait_running};

/// The one database of the workbook's MariaDB.
pub const DATABASE: &str = "mydb";
