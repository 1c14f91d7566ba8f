//! Chapter 10's round trip `users` → Debezium source → topic → JDBC sink → `users_copy`, with the
//! sink's `schema.evolution` chosen by the caller, and waits that end at once when the sink fails.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::mysql::MySqlPool;
use workbook_support::connect::{ConnectClient, root_cause, wait_sink_assigned};
use workbook_support::{Env, db, names, wait};

pub use workbook_support::connect::failed_trace;
pub use workbook_support::db::execute;

/// Runs one INSERT and returns the id MariaDB gave the row (AUTO_INCREMENT).
pub async fn insert(pool: &MySqlPool, sql: &str) -> Result<i64> {
    let result = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .with_context(|| format!("running {sql}"))?;
    Ok(result.last_insert_id() as i64)
}

/// The names of one pipeline: a source table, its copy, two connectors and the change topic.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub prefix: String,
    pub table: String,
    pub copy: String,
    pub source: String,
    pub sink: String,
    pub topic: String,
}

impl Pipeline {
    /// Fresh names for a table `<what>_…`, its copy `<table>_copy` and connectors `ch17-…`.
    pub fn new(what: &str) -> Pipeline {
        let table = names::unique_table(what);
        let prefix = names::unique("ch17");
        Pipeline {
            copy: format!("{table}_copy"),
            source: format!("{prefix}-source"),
            sink: format!("{prefix}-sink"),
            topic: format!("{prefix}.mydb.{table}"),
            table,
            prefix,
        }
    }

    /// A guard that deletes both connectors, both tables and the source's topics.
    pub fn cleanup(&self, env: &Env) -> crate::Cleanup {
        let mut cleanup = crate::Cleanup::new(env);
        cleanup.connector(&self.source);
        cleanup.connector(&self.sink);
        cleanup.table(&self.table);
        cleanup.table(&self.copy);
        cleanup.source_topics(&self.prefix, "mydb", &[&self.table]);
        cleanup
    }
}

// ANCHOR: sink_config
/// Chapter 10's JDBC sink (upsert by the record key, deletes applied) into `copy`, with
/// `schema.evolution` set to `evolution`: `basic` creates the table and adds missing columns,
/// `none` never runs DDL.
pub fn sink_config(env: &Env, topic: &str, copy: &str, evolution: &str) -> Result<Value> {
    let mut config = ch10_sink::sink_config(env, topic, copy)?;
    config["schema.evolution"] = json!(evolution);
    Ok(config)
}
// ANCHOR_END: sink_config

/// Creates the source and the sink of `pipeline` and waits until both really work: the source
/// captures (chapter 9's marker rows, deleted afterwards) and the sink's consumer holds the topic.
/// The table must exist with at least `id`, `name` and `email` (the markers write those).
pub async fn start(
    env: &Env,
    pool: &MySqlPool,
    pipeline: &Pipeline,
    evolution: &str,
    timeout: Duration,
) -> Result<()> {
    let client = ConnectClient::new(env)?;
    let source = ch09_source::source_config(env, &pipeline.prefix, &[&pipeline.table])?;
    let sink = sink_config(env, &pipeline.topic, &pipeline.copy, evolution)?;
    client.put_connector(&pipeline.source, &source).await?;
    client.put_connector(&pipeline.sink, &sink).await?;
    ch09_source::wait_users_capturing(
        env,
        &pipeline.source,
        &pipeline.topic,
        &pipeline.table,
        timeout,
    )
    .await?;
    wait_sink_assigned(env, &pipeline.sink, &pipeline.topic, timeout).await?;
    ch10_sink::delete_markers(pool, &pipeline.table).await
}

/// `SHOW CREATE TABLE`: the table's definition as MariaDB prints it.
pub async fn show_create(pool: &MySqlPool, table: &str) -> Result<String> {
    let sql = format!("SHOW CREATE TABLE {table}");
    let (_, ddl): (String, String) =
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await?;
    Ok(ddl)
}

/// The column names of `table`, in order (empty while the table does not exist).
pub async fn columns(pool: &MySqlPool, table: &str) -> Result<Vec<String>> {
    let sql = "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
               WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";
    Ok(sqlx::query_scalar(sql).bind(table).fetch_all(pool).await?)
}

/// One row as text, one entry per requested column (`None` for SQL NULL).
pub type Row = Vec<Option<String>>;

/// The rows of `table` by id, with `columns` as text; an empty list while the table does not exist.
pub async fn rows(pool: &MySqlPool, table: &str, columns: &[&str]) -> Result<Vec<Row>> {
    let list: Vec<String> = columns.iter().map(|c| format!("CAST({c} AS CHAR)")).collect();
    let sql = format!("SELECT {} FROM {table} ORDER BY id", list.join(", "));
    let result = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await;
    let records = db::rows_once_created(result, table)?;
    use sqlx::Row as _;
    let text = |r: &sqlx::mysql::MySqlRow, i| r.try_get::<Option<String>, _>(i);
    records
        .iter()
        .map(|r| (0..columns.len()).map(|i| text(r, i)).collect())
        .collect::<Result<_, _>>()
        .map_err(Into::into)
}

/// A row as `(1, 'alice', NULL)`.
pub fn show_row(row: &[Option<String>]) -> String {
    let values: Vec<String> =
        row.iter().map(|v| v.as_ref().map_or("NULL".into(), |v| format!("'{v}'"))).collect();
    format!("({})", values.join(", "))
}

// ANCHOR: converged
/// Polls until the copy holds exactly the source's rows in `columns`, or ends at once when a
/// task of the sink FAILED, with the root cause of its trace: a failed sink never converges.
pub async fn wait_converged(
    env: &Env,
    pool: &MySqlPool,
    pipeline: &Pipeline,
    columns: &[&str],
    timeout: Duration,
) -> Result<usize> {
    println!("waiting for {} to equal {} in {columns:?}", pipeline.copy, pipeline.table);
    let client = ConnectClient::new(env)?;
    let what = format!("{} equals {} in {columns:?}", pipeline.copy, pipeline.table);
    wait::until(&what, timeout, Duration::from_millis(100), || async {
        if let Some(trace) = failed_trace(&client.status(&pipeline.sink).await?) {
            let cause = root_cause(&trace);
            return Err(wait::fatal(format!("sink {} FAILED: {cause}", pipeline.sink)));
        }
        let source = rows(pool, &pipeline.table, columns).await?;
        let copy = rows(pool, &pipeline.copy, columns).await?;
        Ok((source == copy).then_some(source.len()))
    })
    .await
}
// ANCHOR_END: converged

/// Waits until a task of the sink is FAILED and returns the status as `GET …/status` shows it.
pub async fn wait_sink_failed(
    client: &ConnectClient,
    pipeline: &Pipeline,
    timeout: Duration,
) -> Result<Value> {
    println!("waiting for a task of {} to fail", pipeline.sink);
    let what = format!("a task of {} FAILED", pipeline.sink);
    wait::until(&what, timeout, Duration::from_millis(250), || async {
        let status = client.status(&pipeline.sink).await?;
        Ok(failed_trace(&status).map(|_| status))
    })
    .await
}

/// After `POST …/restart`: waits until no task of the sink is FAILED any more (RESTARTING or
/// RUNNING). The status of the failed run stays visible until the worker restarts the task; a
/// wait that stops at FAILED must not start before.
pub async fn wait_restarted(
    client: &ConnectClient,
    pipeline: &Pipeline,
    timeout: Duration,
) -> Result<()> {
    println!("waiting for {} to restart", pipeline.sink);
    let what = format!("the tasks of {} restarted", pipeline.sink);
    wait::until(&what, timeout, Duration::from_millis(100), || async {
        let status = client.status(&pipeline.sink).await?;
        let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
        Ok((!tasks.is_empty() && failed_trace(&status).is_none()).then_some(()))
    })
    .await
}
