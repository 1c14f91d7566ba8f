//! Chapter 9: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
pub use solution::*;

use anyhow::Result;
use serde_json::{Value, json};
use workbook_support::{Env, mistakes};

pub fn orders_source_config(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    match mistakes::chosen().as_deref() {
        None => solution::orders_source_config(env, topic_prefix, orders_table),
        Some("captures_every_table") => captures_every_table(env, topic_prefix, orders_table),
        Some("keeps_card_number") => keeps_card_number(env, topic_prefix, orders_table),
        Some("prefix_includes_database") => {
            prefix_includes_database(env, topic_prefix, orders_table)
        }
        Some("table_not_qualified") => table_not_qualified(env, topic_prefix, orders_table),
        Some("your_view_of_kafka") => your_view_of_kafka(env, topic_prefix, orders_table),
        Some("your_view_of_mariadb") => your_view_of_mariadb(env, topic_prefix, orders_table),
        Some(other) => mistakes::unknown("orders_source_config", other),
    }
}

/// Mistake: gives the connector Kafka's address as the learner's code sees it. The connector runs in
/// the Connect worker: in a container, `127.0.0.1` is the worker itself, and the schema history
/// topic can never be written.
fn your_view_of_kafka(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    config["schema.history.internal.kafka.bootstrap.servers"] = json!(env.bootstrap_servers);
    Ok(config)
}

/// Mistake: takes MariaDB's host and port from `DATABASE_URL` (the learner's view) instead of
/// `CONNECT_DATABASE_URL` (the worker's).
fn your_view_of_mariadb(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    let port = env
        .database_url
        .rsplit('@')
        .next()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default();
    config["database.port"] = json!(port.rsplit(':').next().unwrap_or_default());
    Ok(config)
}

/// Mistake: picks the database with `database.include.list` and stops there, without `table.include.list`:
/// every table of `mydb` is captured, and the other table's rows reach Kafka.
fn captures_every_table(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    config.as_object_mut().map(|c| c.remove("table.include.list"));
    Ok(config)
}

/// Mistake: captures the right table but forgets `column.exclude.list`: the card number is in every event.
fn keeps_card_number(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    config.as_object_mut().map(|c| c.remove("column.exclude.list"));
    Ok(config)
}

/// Mistake: reads "topic `<prefix>.mydb.<table>`" as "the prefix is `<prefix>.mydb`": Debezium appends the
/// database and table itself, so the events go to `<prefix>.mydb.mydb.<table>`, a topic nobody reads.
fn prefix_includes_database(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    config["topic.prefix"] = json!(format!("{topic_prefix}.mydb"));
    Ok(config)
}

/// Mistake: lists the table by its bare name. `table.include.list` is matched against `database.table`, so
/// nothing matches and nothing of the table is captured.
fn table_not_qualified(env: &Env, topic_prefix: &str, orders_table: &str) -> Result<Value> {
    let mut config = solution::orders_source_config(env, topic_prefix, orders_table)?;
    config["table.include.list"] = json!(orders_table);
    config["column.exclude.list"] = json!(format!("{orders_table}.card_number"));
    Ok(config)
}

pub fn flatten(config: Value) -> Value {
    match mistakes::chosen().as_deref() {
        None => solution::flatten(config),
        Some("transform_not_listed") => transform_not_listed(config),
        Some("deletes_as_null") => deletes_as_null(config),
        Some("deletes_dropped") => deletes_dropped(config),
        Some("metadata_in_headers") => metadata_in_headers(config),
        Some(other) => mistakes::unknown("flatten", other),
    }
}

/// Mistake: configures `transforms.unwrap.*` but never lists the alias in `transforms`: Connect applies only
/// the listed transforms, so the records keep the before/after envelope.
fn transform_not_listed(config: Value) -> Value {
    let mut config = solution::flatten(config);
    config.as_object_mut().map(|c| c.remove("transforms"));
    config
}

/// Mistake: keeps ExtractNewRecordState's default delete handling (as the chapter's `unwrap_envelope` does):
/// a delete becomes a null value, and the flat stream no longer says which row was deleted.
fn deletes_as_null(config: Value) -> Value {
    let mut config = solution::flatten(config);
    config.as_object_mut().map(|c| c.remove("transforms.unwrap.delete.tombstone.handling.mode"));
    config
}

/// Mistake: picks `delete.tombstone.handling.mode=drop` to get rid of the null records: the deletes vanish
/// with them, and a consumer never learns that the row is gone.
fn deletes_dropped(config: Value) -> Value {
    let mut config = solution::flatten(config);
    config["transforms.unwrap.delete.tombstone.handling.mode"] = json!("drop");
    config
}

/// Mistake: uses `add.headers` instead of `add.fields`: `op` and `source.ts_ms` become record headers, and the
/// row itself has no `__op` or `__source_ts_ms`.
fn metadata_in_headers(config: Value) -> Value {
    let mut config = solution::flatten(config);
    if let Some(c) = config.as_object_mut() {
        c.remove("transforms.unwrap.add.fields");
        c.insert("transforms.unwrap.add.headers".into(), json!("op,source.ts_ms"));
    }
    config
}
