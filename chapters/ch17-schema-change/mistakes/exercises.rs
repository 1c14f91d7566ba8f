//! Chapter 17: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;
// Every exercise is dispatched below; the re-export stays for exercises added later.
#[allow(unused_imports)]
pub use solution::*;

use std::collections::BTreeMap;

use ch17_schema_change::{Impact, Step};
use serde_json::Value;
use workbook_support::mistakes;

pub fn sink_impact(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    match mistakes::chosen().as_deref() {
        None => solution::sink_impact(old, new),
        Some("every_addition_fails") => every_addition_fails(old, new),
        Some("defaults_travel") => defaults_travel(old, new),
        Some("drops_ignored") => drops_ignored(old, new),
        Some("every_drop_fails") => every_drop_fails(old, new),
        Some("types_ignored") => types_ignored(old, new),
        Some("nullability_ignored") => nullability_ignored(old, new),
        Some(other) => mistakes::unknown("sink_impact", other),
    }
}

fn names(schema: &Value) -> Vec<String> {
    let fields = schema["fields"].as_array().into_iter().flatten();
    fields.filter_map(|f| f["field"].as_str().map(str::to_string)).collect()
}

fn field<'a>(schema: &'a Value, name: &str) -> Option<&'a Value> {
    schema["fields"].as_array().into_iter().flatten().find(|f| f["field"] == name)
}

/// Mistake: thinks like `schema.evolution=none`: every new field fails the sink, even a NULLable
/// one that basic evolution adds without a fuss.
fn every_addition_fails(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    for name in names(new).into_iter().filter(|n| field(old, n).is_none()) {
        impact.insert(name, Impact::Fails);
    }
    impact
}

/// Mistake: believes a column's DEFAULT travels to the copy with the schema: a new string field
/// with a default is taken as safe, although the copy's TEXT column gets no DEFAULT.
fn defaults_travel(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    impact.retain(|_, verdict| *verdict != Impact::Diverges);
    impact
}

/// Mistake: looks only at the fields of `new`: a dropped NOT NULL column is never noticed.
fn drops_ignored(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    impact.retain(|name, _| field(new, name).is_some());
    impact
}

/// Mistake: every dropped field fails the sink, even a NULLable one or one whose column has a
/// DEFAULT in the copy.
fn every_drop_fails(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    for name in names(old).into_iter().filter(|n| field(new, n).is_none()) {
        impact.insert(name, Impact::Fails);
    }
    impact
}

/// Mistake: compares fields by name and nullability only: a column whose type changed looks safe.
fn types_ignored(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    impact.retain(|name, _| {
        let (before, after) = (field(old, name), field(new, name));
        match (before, after) {
            (Some(b), Some(a)) => !(b["type"] != a["type"] && b["optional"] == a["optional"]),
            _ => true,
        }
    });
    impact
}

/// Mistake: compares names and types only: a NOT NULL column that became NULLable looks safe,
/// but the copy's column stays NOT NULL.
fn nullability_ignored(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let mut impact = solution::sink_impact(old, new);
    impact.retain(|name, _| {
        let (before, after) = (field(old, name), field(new, name));
        match (before, after) {
            (Some(b), Some(a)) => b["type"] != a["type"],
            _ => true,
        }
    });
    impact
}

pub fn safe_migration(table: &str, copy: &str) -> Vec<Step> {
    match mistakes::chosen().as_deref() {
        None => solution::safe_migration(table, copy),
        Some("renames_in_one_step") => renames_in_one_step(table, copy),
        Some("not_null_without_default") => not_null_without_default(table, copy),
        Some("no_backfill") => no_backfill(table, copy),
        Some("drops_before_the_copy_allows") => drops_before_the_copy_allows(table, copy),
        Some("drops_in_the_copy_first") => drops_in_the_copy_first(table, copy),
        Some(other) => mistakes::unknown("safe_migration", other),
    }
}

/// Mistake: renames the column in one statement. For the sink that is a new NOT NULL column
/// without a DEFAULT (which it refuses to add) and an old NOT NULL column that stops arriving.
fn renames_in_one_step(table: &str, _copy: &str) -> Vec<Step> {
    vec![Step::Source(format!("ALTER TABLE {table} RENAME COLUMN email TO contact"))]
}

/// Mistake: adds the new column NOT NULL right away. MariaDB fills the existing rows with '',
/// but the sink refuses to add a NOT NULL column without a DEFAULT to the copy.
fn not_null_without_default(table: &str, copy: &str) -> Vec<Step> {
    let mut steps = solution::safe_migration(table, copy);
    steps[0] =
        Step::Source(format!("ALTER TABLE {table} ADD COLUMN contact VARCHAR(255) NOT NULL"));
    steps.retain(|s| !s.sql().contains("MODIFY contact"));
    steps
}

/// Mistake: forgets the backfill: the rows written before `contact` existed never get a value,
/// and making the column NOT NULL fails on them.
fn no_backfill(table: &str, copy: &str) -> Vec<Step> {
    let mut steps = solution::safe_migration(table, copy);
    steps.retain(|s| !s.sql().starts_with("UPDATE"));
    steps
}

/// Mistake: drops `email` on the source while the copy's `email` is still NOT NULL without a
/// DEFAULT: the next INSERT into the copy leaves it out and fails.
fn drops_before_the_copy_allows(table: &str, copy: &str) -> Vec<Step> {
    let mut steps = solution::safe_migration(table, copy);
    steps.retain(|s| !s.sql().contains("MODIFY email"));
    steps
}

/// Mistake: drops `email` from the copy first, then from the source: in between, the records
/// still carry `email`, and the sink refuses to add it back as a NOT NULL column.
fn drops_in_the_copy_first(table: &str, copy: &str) -> Vec<Step> {
    vec![
        Step::Source(format!("ALTER TABLE {table} ADD COLUMN contact VARCHAR(255) NULL")),
        Step::Source(format!("UPDATE {table} SET contact = email WHERE contact IS NULL")),
        Step::Sink(format!("ALTER TABLE {copy} DROP COLUMN email")),
        Step::Source(format!("ALTER TABLE {table} DROP COLUMN email")),
        Step::Source(format!("ALTER TABLE {table} MODIFY contact VARCHAR(255) NOT NULL")),
    ]
}
