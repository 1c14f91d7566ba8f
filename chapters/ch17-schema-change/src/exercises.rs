//! Chapter 17 exercises. `cargo xtask check ch17` runs them against real ALTER TABLE statements
//! flowing through Debezium and the JDBC sink.
#![allow(unused_variables)]

use std::collections::BTreeMap;

use ch17_schema_change::{Impact, Step};
use serde_json::Value;

// ANCHOR: sink_impact
/// Predict what a schema change does to a copy kept by chapter 10's JDBC sink
/// (`schema.evolution=basic`, MariaDB, no `column.propagate.source.type`).
///
/// `old` and `new` are two row schemas of one captured table, as [`row_schema`] returns them from
/// two change events: `{"type": "struct", "fields": [{"field": "id", "type": "int32",
/// "optional": false}, …]}`, where a field may also carry a `"default"`. The copy was created (or
/// last evolved) by the sink from `old`; `new` is the schema of the next records.
///
/// Return every field whose change hurts the copy, by name (a field of `old`, of `new` or of
/// both), with
/// - [`Impact::Fails`] when some record that `new` allows stops the sink task, and otherwise
/// - [`Impact::Diverges`] when the sink goes on, but a row that existed before the change ends up
///   with another value in the copy than in the source.
///
/// Leave out the fields the sink copes with. The check alters a real table step by step (columns
/// added with and without defaults, types changed, columns dropped and renamed, NULL allowed and
/// forbidden) and compares your answer for each step with what the sink does.
///
/// [`row_schema`]: ch17_schema_change::row_schema
pub fn sink_impact(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    todo!("compare the fields of the two row schemas")
}
// ANCHOR_END: sink_impact

// ANCHOR: safe_migration
/// Return the steps that rename the column `email` of the source table `table` to `contact`,
/// while chapter 10's pipeline keeps `copy` in sync (source → topic → JDBC sink with
/// `schema.evolution=basic`).
///
/// Today the source is `(id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL,
/// email VARCHAR(255) NOT NULL)` and holds rows; the sink created `copy` from it. When your
/// last step has run, the source has `contact VARCHAR(255) NOT NULL` holding every user's
/// address and no `email` column.
///
/// The check plays the application: after each of your steps it updates a user and inserts one,
/// writing the address into `email`, `contact` or both, whichever the source has at that moment.
/// It holds your steps to this:
/// - every step succeeds, and the sink task never fails;
/// - after each step, the copy holds every row of the source, with the same `name` and the same
///   `email` and `contact` (for the columns the source has);
/// - at the end, every row of the copy has its user's `contact`. What the copy keeps of `email`
///   is yours to decide.
///
/// A [`Step::Source`] runs on `table`, a [`Step::Sink`] on `copy`, in the order you return them.
pub fn safe_migration(table: &str, copy: &str) -> Vec<Step> {
    todo!("the steps, in order")
}
// ANCHOR_END: safe_migration
