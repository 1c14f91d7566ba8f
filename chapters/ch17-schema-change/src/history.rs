//! Debezium's schema history topic: every DDL statement the source saw, with its binlog position.
//!
//! The source needs it to read old binlog events with the structure their table had then: after a
//! restart it replays this topic up to the position it resumes from. It is written by Debezium's
//! own producer as plain JSON (not through the converter), to one partition kept forever
//! (`cleanup.policy=delete`, unlimited retention). Without it the source refuses to restart:
//! "The db history topic is missing" (snapshot mode `recovery` rebuilds it).

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value;
use workbook_support::{Env, kafka};

/// The schema history topic of a source with this `topic.prefix`, as chapter 9 names it.
pub fn history_topic(prefix: &str) -> String {
    format!("schema-history.{prefix}")
}

// ANCHOR: ddl_statements
/// The `ddl` of every record in the schema history topic of source `prefix` that mentions `table`,
/// oldest first: the snapshot's `CREATE TABLE`, then each `ALTER TABLE` the binlog carried.
pub fn ddl_statements(env: &Env, prefix: &str, table: &str) -> Result<Vec<String>> {
    let topic = history_topic(prefix);
    // The partition is assigned by hand; the group id is required but never joined or committed.
    let consumer: BaseConsumer = kafka::client_config(env)
        .set("group.id", "ch17-history-reader")
        .set("enable.auto.commit", "false")
        .create()?;
    let (_, end) = consumer.fetch_watermarks(&topic, 0, Duration::from_secs(10))?;
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition_offset(&topic, 0, Offset::Beginning)?;
    consumer.assign(&partitions)?;
    let mut statements = Vec::new();
    let mut next = 0;
    while next < end {
        let message = match consumer.poll(Duration::from_secs(10)) {
            Some(message) => message.with_context(|| format!("reading {topic}"))?,
            None => anyhow::bail!("{topic}: no record at offset {next} of {end} within 10 s"),
        };
        next = message.offset() + 1;
        let record: Value = serde_json::from_slice(message.payload().unwrap_or_default())?;
        let ddl = record["ddl"].as_str().unwrap_or_default();
        // The history holds the DDL of every table of the database, not only the captured ones.
        if ddl.contains(table) {
            statements.push(ddl.to_string());
        }
    }
    Ok(statements)
}
// ANCHOR_END: ddl_statements
