//! Chapter 10 — Sink: from a topic into a MariaDB table (Debezium JDBC sink), and the full round
//! trip `users` → Debezium source → topic → JDBC sink → `users_copy`.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::BaseConsumer;
use serde_json::{Value, json};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use workbook_support::connect::{ConnectClient, failed_trace};
use workbook_support::{Env, db, kafka, wait};

// Chapter 9's source side, reused as it is: the Debezium source, its users table and change topic,
// and its readiness check (a RUNNING source may not have taken its snapshot yet, so it writes
// marker rows with negative ids until one of them comes out of the source).
pub use ch09_source::{
    Cleanup, MARIADB_SOURCE, create_users_table, data_topic, execute, redacted, wait_running,
    wait_users_capturing,
};
pub use workbook_support::connect::root_cause;

pub const JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";

// ANCHOR: sink_config
/// A Debezium JDBC sink that writes the records of `topics` into MariaDB, one table per topic named
/// by `table_format` (`${topic}`, `${source.table}` and friends may appear in it).
pub fn sink_config(env: &Env, topics: &str, table_format: &str) -> Result<Value> {
    // MariaDB as the Connect worker reaches it (CONNECT_DATABASE_URL), the workbook user's login.
    let mariadb = db::Address::for_connect(env)?;
    Ok(json!({
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": topics,
        // The MariaDB JDBC driver's URL, jdbc:mariadb://host:port/mydb (jdbc:mysql://
        // would pick the MySQL dialect).
        "connection.url": mariadb.jdbc_url(),
        "connection.username": mariadb.user,
        "connection.password": mariadb.password,
        // INSERT … ON DUPLICATE KEY UPDATE keyed by the record key: replaying a
        // record rewrites the same row.
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        // A Debezium delete event (op "d") becomes a DELETE, and so does a tombstone (null value).
        "delete.enabled": "true",
        // Create the table on the first record, add columns when the record schema grows.
        "schema.evolution": "basic",
        "collection.name.format": table_format,
    }))
}
// ANCHOR_END: sink_config

/// Chapter 9's Debezium MariaDB source, capturing `mydb.<table>` into `<prefix>.mydb.<table>`.
pub fn source_config(env: &Env, prefix: &str, table: &str) -> Result<Value> {
    ch09_source::source_config(env, prefix, &[table])
}

/// Deletes the marker rows of [`wait_users_capturing`] once the source captures:
/// one more change the sink applies.
pub async fn delete_markers(pool: &MySqlPool, table: &str) -> Result<()> {
    execute(pool, &format!("DELETE FROM {table} WHERE id < 0")).await
}

/// A user row: (id, name, email).
pub type User = (i32, String, String);

/// All rows of a users-shaped table, by id; an empty list while the sink has not created it yet.
pub async fn users(pool: &MySqlPool, table: &str) -> Result<Vec<User>> {
    let sql = format!(
        "SELECT CAST(id AS INT), CAST(name AS CHAR), CAST(email AS CHAR) FROM {table} ORDER BY id"
    );
    let result = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await;
    db::rows_once_created(result, table)
}

// ANCHOR: converge
/// Polls both tables until the copy holds exactly the source's rows; returns them.
pub async fn wait_converged(
    pool: &MySqlPool,
    source: &str,
    copy: &str,
    timeout: Duration,
) -> Result<Vec<User>> {
    let what = format!("{copy} equals {source}");
    wait::until(&what, timeout, Duration::from_millis(50), || async {
        let (a, b) = (users(pool, source).await?, users(pool, copy).await?);
        Ok((a == b).then_some(a))
    })
    .await
}
// ANCHOR_END: converge

// ANCHOR: status
/// Waits until a task of `name` is FAILED and returns its stack trace (as `GET …/status` shows it).
/// The trace is long; [`root_cause`] picks the line a human needs, its innermost `Caused by:`.
/// (Waiting for RUNNING, [`wait_running`] ends the same way at a FAILED task:
/// with the root cause of its trace.)
pub async fn wait_failed(client: &ConnectClient, name: &str, timeout: Duration) -> Result<String> {
    wait::until(
        &format!("a task of {name} FAILED"),
        timeout,
        Duration::from_millis(250),
        || async { Ok(failed_trace(&client.status(name).await?)) },
    )
    .await
}
// ANCHOR_END: status

/// Creates a one-partition topic (the broker does not auto-create topics).
pub async fn create_topic(env: &Env, topic: &str) -> Result<()> {
    kafka::create_topic(env, topic, 1).await
}

// ANCHOR: produce
/// Sends one record whose key and value are JSON documents (`None` value = a tombstone),
/// and waits for the ack.
pub async fn produce_json(
    env: &Env,
    topic: &str,
    key: &Value,
    value: Option<&Value>,
) -> Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer =
        kafka::producer_config(env).create().context("creating a producer")?;
    let key = serde_json::to_vec(key)?;
    let value = value.map(serde_json::to_vec).transpose()?;
    let mut record = FutureRecord::to(topic).key(&key);
    if let Some(value) = &value {
        record = record.payload(value);
    }
    producer
        .send(record, Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)
        .context("producing a record")?;
    Ok(())
}
// ANCHOR_END: produce

/// Waits until the consumer group of sink connector `connector` (`connect-<name>`)
/// has committed every record of `topic` (one partition): the sink has processed the whole topic.
pub async fn wait_caught_up(
    env: &Env,
    connector: &str,
    topic: &str,
    timeout: Duration,
) -> Result<i64> {
    let group = format!("connect-{connector}");
    // Only asks the group coordinator for committed offsets; it never joins the group.
    let consumer: BaseConsumer = kafka::group_config(env, &group).create()?;
    wait::until(
        &format!("{group} caught up on {topic}"),
        timeout,
        Duration::from_millis(200),
        || {
            // Chapter 5's lag: the group's committed offset against the end of the partition.
            let partition = ch05_consumers::lag(&consumer, topic, 1).map(|lags| lags[0].clone());
            async move {
                let partition = partition?;
                Ok(partition
                    .committed
                    .is_some_and(|at| at >= partition.end)
                    .then_some(partition.end))
            }
        },
    )
    .await
}

// ANCHOR: utf8mb4
/// Makes `utf8mb4` the default character set of the database, if it is not already.
/// The JDBC sink creates its tables without a character set, so they inherit the database's;
/// a server started with built-in defaults has latin1, and the first Korean name then fails the
/// task with `Incorrect string value`.
pub async fn ensure_utf8mb4(pool: &MySqlPool) -> Result<()> {
    let charset: String =
        sqlx::query_scalar("SELECT @@character_set_database").fetch_one(pool).await?;
    if charset != "utf8mb4" {
        execute(pool, "ALTER DATABASE mydb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            .await?;
    }
    Ok(())
}
// ANCHOR_END: utf8mb4

// ANCHOR: preflight
/// What a failed sink task's trace means, in one sentence. The JDBC sink reports a refused login
/// only as Hibernate's "Unable to determine Dialect without JDBC metadata" (the driver's "Access
/// denied" goes to the worker's log), so say it plainly.
pub fn explain_failure(trace: &str) -> String {
    if trace.contains("Unable to determine Dialect without JDBC metadata") {
        return "the sink could not open a database connection: check connection.url, \
                connection.username and connection.password \
                (the worker log has the driver's own message)"
            .to_string();
    }
    root_cause(trace)
}

/// The validate endpoint does not try the sink's database login; this does, before the
/// connector exists: it logs in from here with the config's URL, user and password (valid when
/// the worker runs on this machine).
pub async fn check_sink_login(config: &Value) -> Result<()> {
    let text = |key: &str| {
        config[key].as_str().with_context(|| format!("the config has no {key}")).map(str::to_string)
    };
    let url = text("connection.url")?;
    // A JDBC URL is `jdbc:` followed by a URL: `jdbc:mariadb://host:port/database`.
    let address = url.strip_prefix("jdbc:").and_then(|rest| reqwest::Url::parse(rest).ok());
    let address = address.with_context(|| format!("{url} is not a jdbc:mariadb:// URL"))?;
    let options = MySqlConnectOptions::new()
        .host(address.host_str().unwrap_or_default())
        .port(address.port().unwrap_or(3306))
        .username(&text("connection.username")?)
        .password(&text("connection.password")?)
        .database(address.path().trim_start_matches('/'));
    let login = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await;
    match login {
        Ok(pool) => {
            pool.close().await;
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context(format!("the sink's login to {url} fails"))),
    }
}
// ANCHOR_END: preflight
