//! Chapter 17: reference solutions.

use std::collections::BTreeMap;

use ch17_schema_change::{Impact, Step};
use serde_json::Value;

// ANCHOR: sink_impact
pub fn sink_impact(old: &Value, new: &Value) -> BTreeMap<String, Impact> {
    let (old, new) = (fields(old), fields(new));
    let mut impact = BTreeMap::new();
    for (name, field) in &new {
        let verdict = match old.get(name) {
            // New: basic evolution ALTERs the copy, but refuses a NOT NULL column without a
            // DEFAULT; and the MariaDB dialect gives TEXT/BLOB columns no DEFAULT at all, so old
            // rows get NULL (or '' if NOT NULL) in the copy where the source filled in the default.
            None if !optional(field) && !has_default(field) => Some(Impact::Fails),
            None if is_text(field) && has_default(field) && field["default"] != implicit(field) => {
                Some(Impact::Diverges)
            }
            None => None,
            // Kept: the sink never changes a column's type or lets a NOT NULL column take NULL.
            Some(before) if before["type"] != field["type"] => Some(Impact::Fails),
            Some(before) if !optional(before) && optional(field) => Some(Impact::Fails),
            Some(_) => None,
        };
        if let Some(verdict) = verdict {
            impact.insert(name.clone(), verdict);
        }
    }
    for (name, field) in &old {
        // Dropped: the copy keeps the column, and INSERTs leave it out. Fine if it is NULLable or
        // has a DEFAULT in the copy (a TEXT column there never has one).
        let copy_has_default = has_default(field) && !is_text(field);
        if !new.contains_key(name) && !optional(field) && !copy_has_default {
            impact.insert(name.clone(), Impact::Fails);
        }
    }
    impact
}

/// The fields of a row schema by name.
fn fields(schema: &Value) -> BTreeMap<String, Value> {
    let fields = schema["fields"].as_array().into_iter().flatten();
    fields.map(|f| (f["field"].as_str().unwrap_or_default().to_string(), f.clone())).collect()
}

fn optional(field: &Value) -> bool {
    field["optional"] == true
}

fn has_default(field: &Value) -> bool {
    field.get("default").is_some_and(|d| !d.is_null())
}

/// What MariaDB puts into old rows for a new column without a DEFAULT: NULL, or '' if NOT NULL.
fn implicit(field: &Value) -> Value {
    if optional(field) { Value::Null } else { Value::String(String::new()) }
}

/// Strings and bytes become LONGTEXT and LONGBLOB in the copy.
fn is_text(field: &Value) -> bool {
    field["type"] == "string" || field["type"] == "bytes"
}
// ANCHOR_END: sink_impact

// ANCHOR: safe_migration
pub fn safe_migration(table: &str, copy: &str) -> Vec<Step> {
    vec![
        // Expand: a NULLable column reaches the copy as a NULLable column (basic evolution).
        Step::Source(format!("ALTER TABLE {table} ADD COLUMN contact VARCHAR(255) NULL")),
        // Backfill: an UPDATE is a change event per row, so the copy gets the old rows too.
        Step::Source(format!("UPDATE {table} SET contact = email WHERE contact IS NULL")),
        // Before the source stops sending email, the copy must accept rows without it.
        Step::Sink(format!("ALTER TABLE {copy} MODIFY email LONGTEXT NULL")),
        // Contract: the application writes only contact now.
        Step::Source(format!("ALTER TABLE {table} DROP COLUMN email")),
        Step::Source(format!("ALTER TABLE {table} MODIFY contact VARCHAR(255) NOT NULL")),
        // Once no record carries email any more, the copy may drop it too.
        Step::Sink(format!("ALTER TABLE {copy} DROP COLUMN email")),
    ]
}
// ANCHOR_END: safe_migration
