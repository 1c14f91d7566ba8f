//! Chapter 10: known-wrong answers, the mistakes this chapter's exercises must catch.
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

pub fn upsert_sink_config(env: &Env, topic: &str, table: &str) -> Result<Value> {
    match mistakes::chosen().as_deref() {
        None => solution::upsert_sink_config(env, topic, table),
        Some("insert_mode_insert") => insert_mode_insert(env, topic, table),
        Some("no_primary_key_mode") => no_primary_key_mode(env, topic, table),
        Some("deletes_ignored") => deletes_ignored(env, topic, table),
        Some("schema_evolution_basic") => schema_evolution_basic(env, topic, table),
        Some(other) => mistakes::unknown("upsert_sink_config", other),
    }
}

/// Mistake: keeps the default `insert.mode=insert`: the second record for id 1 is an INSERT of a key that
/// already has a row, and the task fails on the duplicate key.
fn insert_mode_insert(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = solution::upsert_sink_config(env, topic, table)?;
    config["insert.mode"] = json!("insert");
    Ok(config)
}

/// Mistake: asks for upserts and deletes but never says where the primary key comes from
/// (`primary.key.mode` defaults to none): the task refuses its configuration when it starts.
fn no_primary_key_mode(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = solution::upsert_sink_config(env, topic, table)?;
    config.as_object_mut().map(|c| c.remove("primary.key.mode"));
    Ok(config)
}

/// Mistake: leaves out `delete.enabled`: the sink skips tombstones, and a deleted key keeps its row forever.
fn deletes_ignored(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = solution::upsert_sink_config(env, topic, table)?;
    config.as_object_mut().map(|c| c.remove("delete.enabled"));
    Ok(config)
}

/// Mistake: copies the chapter's `schema.evolution=basic`: fine for a table the sink owns, but here the first
/// record with a new field adds a column to a table that belongs to someone else.
fn schema_evolution_basic(env: &Env, topic: &str, table: &str) -> Result<Value> {
    let mut config = solution::upsert_sink_config(env, topic, table)?;
    config["schema.evolution"] = json!("basic");
    Ok(config)
}

pub fn user_record(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    match mistakes::chosen().as_deref() {
        None => solution::user_record(id, name, email, logins),
        Some("id_as_int32") => id_as_int32(id, name, email, logins),
        Some("logins_as_int64") => logins_as_int64(id, name, email, logins),
        Some("email_required") => email_required(id, name, email, logins),
        Some("none_as_empty_string") => none_as_empty_string(id, name, email, logins),
        Some("everything_optional") => everything_optional(id, name, email, logins),
        Some("key_without_schema") => key_without_schema(id, name, email, logins),
        Some(other) => mistakes::unknown("user_record", other),
    }
}

/// Sets field `field`'s schema attribute `attribute` in a value (and, for `id`, in the key too).
fn set(record: &mut (Value, Value), field: &str, attribute: &str, to: Value) {
    for part in [&mut record.0, &mut record.1] {
        for f in part["schema"]["fields"].as_array_mut().into_iter().flatten() {
            if f["field"] == field {
                f[attribute] = to.clone();
            }
        }
    }
}

/// Mistake: copies the chapter's `int32` id: the column becomes INT, too small for the ids of this table.
fn id_as_int32(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    let mut record = solution::user_record(id, name, email, logins);
    set(&mut record, "id", "type", json!("int32"));
    record
}

/// Mistake: declares every integer `int64`: `logins` becomes BIGINT, not the INT the owners asked for.
fn logins_as_int64(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    let mut record = solution::user_record(id, name, email, logins);
    set(&mut record, "logins", "type", json!("int64"));
    record
}

/// Mistake: declares `email` required like the other strings: the converter rejects the user without email.
fn email_required(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    let mut record = solution::user_record(id, name, email, logins);
    set(&mut record, "email", "optional", json!(false));
    record
}

/// Mistake: writes a missing email as `""` (`email.unwrap_or("")`): the row says the email is empty, not unknown.
fn none_as_empty_string(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    solution::user_record(id, name, Some(email.unwrap_or("")), logins)
}

/// Mistake: marks every field `optional: true` to be safe: the columns become NULLable, `name` and `logins` too.
fn everything_optional(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    let mut record = solution::user_record(id, name, email, logins);
    for field in ["id", "name", "email", "logins"] {
        set(&mut record, field, "optional", json!(true));
    }
    record
}

/// Mistake: gives the value its schema but sends the key as plain JSON `{"id": …}`: with `schemas.enable=true`
/// the converter cannot read the key, and the task fails.
fn key_without_schema(id: i64, name: &str, email: Option<&str>, logins: i32) -> (Value, Value) {
    let (_, value) = solution::user_record(id, name, email, logins);
    (json!({ "id": id }), value)
}
