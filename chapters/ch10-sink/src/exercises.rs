//! Chapter 10 exercises. `cargo xtask check ch10` runs your sink configs and records on the real
//! worker and compares the rows that land in MariaDB.
#![allow(unused_variables)]

use anyhow::Result;
use serde_json::Value;
use workbook_support::Env;

// ANCHOR: upsert_sink_config
/// Return a Debezium JDBC sink config (the JSON object for `PUT /connectors/{name}/config`)
/// that keeps the table `mydb.<table>` equal to the latest state of `topic`.
///
/// The table already exists: its owners created it as
/// `(id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, email VARCHAR(255) NOT NULL)`,
/// and its definition is theirs. The check holds your sink to this:
///
/// - one row per record key, holding the latest value for that key, however many times a record is
///   delivered: a second connector replaying the whole topic into the table changes nothing;
/// - a tombstone (the key with a null value) deletes that key's row;
/// - the table's definition never changes: a record with a field the table does not have stops the
///   sink (its task FAILED) instead of adding a column.
///
/// Records are keyed by `{"id": …}` and their values are flat rows
/// (`{"id": …, "name": …, "email": …}`), both as JSON with schemas. Connect as the workbook user:
/// `env.connect_database_url` is MariaDB as the worker sees it.
pub fn upsert_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    todo!("the JDBC sink config")
}
// ANCHOR_END: upsert_sink_config

// ANCHOR: user_record
/// Return the record key and value, as the JSON the worker's `JsonConverter`
/// (`schemas.enable=true`) reads, for one row of a users table whose owners
/// want exactly these columns:
///
/// | column   | type    | null?                               |
/// |----------|---------|-------------------------------------|
/// | `id`     | BIGINT  | NOT NULL, the primary key           |
/// | `name`   | text    | NOT NULL                            |
/// | `email`  | text    | NULL when the user gave none        |
/// | `logins` | INT     | NOT NULL                            |
///
/// The key holds `id`, the value the whole row. The check lets the chapter's JDBC sink
/// (`schema.evolution=basic`) create the table from your records alone, then compares the columns
/// it created and the rows with the above: an absent email must be SQL `NULL`, not an empty string.
pub fn user_record(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    todo!("key and value, each with its schema and payload")
}
// ANCHOR_END: user_record
