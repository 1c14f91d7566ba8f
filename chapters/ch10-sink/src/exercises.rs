//! Chapter 10 exercises. `cargo xtask check ch10` runs your sink configs and records on the real worker and
//! compares the rows that land in MariaDB.
#![allow(unused_variables)]

use anyhow::Result;
use serde_json::Value;
use workbook_support::Env;

// ANCHOR: upsert_sink_config
/// Return a Debezium JDBC sink config that writes the records of `topic` into the table `mydb.<table>` (the sink
/// creates it), so that **replaying the topic leaves the table unchanged**: one row per record key, holding the
/// latest value for that key, however many times a record is delivered.
///
/// Records are keyed by `{"id": …}` and their values are flat rows (`{"id": …, "name": …, "email": …}`), both as
/// JSON with schemas. Connect as the workbook user: `env.connect_database_url` is MariaDB as the worker sees it.
pub fn upsert_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    todo!("the JDBC sink config")
}
// ANCHOR_END: upsert_sink_config

// ANCHOR: user_record
/// Return the record key and value, as the JSON the worker's `JsonConverter` (`schemas.enable=true`) reads, for the
/// row `(id, name, email)` of a users table: the key holds the `id` (a 32-bit integer), the value the whole row
/// (`id`, and two required strings `name` and `email`). The JDBC sink must be able to create and fill a table
/// from these records alone.
pub fn user_record(id: i32, name: &str, email: &str) -> (Value, Value) {
    todo!("key and value, each with its schema and payload")
}
// ANCHOR_END: user_record
