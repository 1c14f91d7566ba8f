//! Chapter 10 — Sink: from a topic into a MariaDB table (Debezium JDBC sink), and the full round trip
//! `users` → Debezium source → topic → JDBC sink → `users_copy`.

use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use sqlx::mysql::{MySqlConnectOptions, MySqlPool};
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, kafka, wait};

pub const JDBC_SINK: &str = "io.debezium.connector.jdbc.JdbcSinkConnector";
pub const MARIADB_SOURCE: &str = "io.debezium.connector.mariadb.MariaDbConnector";

/// MariaDB as the Connect worker reaches it: (host, port, database, user, password) from `CONNECT_DATABASE_URL`.
pub fn connect_database(env: &Env) -> Result<(String, u16, String, String, String)> {
    let options: MySqlConnectOptions =
        env.connect_database_url.parse().context("CONNECT_DATABASE_URL is not a valid mysql:// URL")?;
    let password = password_of(&env.connect_database_url).context("CONNECT_DATABASE_URL has no password")?;
    let database = options.get_database().unwrap_or("mydb").to_string();
    Ok((options.get_host().to_string(), options.get_port(), database, options.get_username().to_string(), password))
}

fn password_of(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..url.rfind('@')?];
    Some(rest.split_once(':')?.1.to_string())
}

// ANCHOR: sink_config
/// A Debezium JDBC sink that writes the records of `topics` into MariaDB, one table per topic named by
/// `table_format` (`${topic}`, `${source.table}` and friends may appear in it).
pub fn sink_config(env: &Env, topics: &str, table_format: &str) -> Result<Value> {
    let (host, port, database, user, password) = connect_database(env)?;
    Ok(json!({
        "connector.class": JDBC_SINK,
        "tasks.max": "1",
        "topics": topics,
        // The MariaDB JDBC driver's URL (jdbc:mysql:// would pick the MySQL dialect), as the worker sees MariaDB.
        "connection.url": format!("jdbc:mariadb://{host}:{port}/{database}"),
        "connection.username": user,
        "connection.password": password,
        // INSERT … ON DUPLICATE KEY UPDATE keyed by the record key: replaying a record rewrites the same row.
        "insert.mode": "upsert",
        "primary.key.mode": "record_key",
        // A Debezium delete event (op "d") becomes a DELETE; its tombstone is then skipped.
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

/// Chapter 9's readiness check: a RUNNING source may not have taken its snapshot yet, so this writes marker rows
/// (negative ids) into the users-shaped `table` until one of them comes out of the source on `topic`.
pub use ch09_source::wait_users_capturing;

/// Deletes the marker rows of [`wait_users_capturing`] once the source captures: one more change the sink applies.
pub async fn delete_markers(pool: &MySqlPool, table: &str) -> Result<()> {
    execute(pool, &format!("DELETE FROM {table} WHERE id < 0")).await
}

pub fn data_topic(prefix: &str, table: &str) -> String {
    format!("{prefix}.mydb.{table}")
}

pub async fn execute(pool: &MySqlPool, sql: &str) -> Result<()> {
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(pool)
        .await
        .with_context(|| format!("running {sql}"))?;
    Ok(())
}

/// The demo's `users` table: a primary key (the record key the sink upserts by), utf8mb4 text.
pub async fn create_users_table(pool: &MySqlPool, table: &str) -> Result<()> {
    execute(
        pool,
        &format!(
            "CREATE TABLE {table} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, \
             email VARCHAR(255) NOT NULL) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci"
        ),
    )
    .await
}

/// A user row: (id, name, email).
pub type User = (i32, String, String);

/// All rows of a users-shaped table, by id; an empty list while the sink has not created it yet.
pub async fn users(pool: &MySqlPool, table: &str) -> Result<Vec<User>> {
    let sql = format!("SELECT CAST(id AS INT), CAST(name AS CHAR), CAST(email AS CHAR) FROM {table} ORDER BY id");
    match sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await {
        Ok(rows) => Ok(rows),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42S02") => Ok(Vec::new()), // no such table
        Err(e) => Err(e).with_context(|| format!("reading {table}")),
    }
}

// ANCHOR: converge
/// Polls both tables until the copy holds exactly the source's rows; returns them.
pub async fn wait_converged(pool: &MySqlPool, source: &str, copy: &str, timeout: Duration) -> Result<Vec<User>> {
    let what = format!("{copy} equals {source}");
    wait::until(&what, timeout, Duration::from_millis(50), || async {
        let (a, b) = (users(pool, source).await?, users(pool, copy).await?);
        Ok((a == b).then_some(a))
    })
    .await
}
// ANCHOR_END: converge

// ANCHOR: status
/// Waits for the connector and its tasks to run; a FAILED task ends the wait with the root cause of its trace.
pub async fn wait_running(client: &ConnectClient, name: &str, timeout: Duration) -> Result<()> {
    wait::until(&format!("connector {name} RUNNING"), timeout, Duration::from_millis(250), || async {
        let status = client.status(name).await?;
        if let Some(trace) = failed_trace(&status) {
            return Err(wait::fatal(format!("{name} FAILED: {}", explain_failure(&trace))));
        }
        let tasks = status["tasks"].as_array().cloned().unwrap_or_default();
        let running = status["connector"]["state"] == "RUNNING" && !tasks.is_empty();
        Ok((running && tasks.iter().all(|t| t["state"] == "RUNNING")).then_some(()))
    })
    .await
}

/// Waits until a task of `name` is FAILED and returns its stack trace (as `GET …/status` shows it).
pub async fn wait_failed(client: &ConnectClient, name: &str, timeout: Duration) -> Result<String> {
    wait::until(&format!("a task of {name} FAILED"), timeout, Duration::from_millis(250), || async {
        Ok(failed_trace(&client.status(name).await?))
    })
    .await
}

fn failed_trace(status: &Value) -> Option<String> {
    let states = std::iter::once(&status["connector"]).chain(status["tasks"].as_array().into_iter().flatten());
    states.filter(|s| s["state"] == "FAILED").find_map(|s| s["trace"].as_str().map(str::to_string))
}

/// The innermost `Caused by:` line of a Java stack trace (the first line when there is none): usually the
/// sentence a human needs, e.g. `java.sql.SQLException: Access denied for user …`.
pub fn root_cause(trace: &str) -> String {
    let first = trace.lines().next().unwrap_or_default();
    let cause = trace.lines().rev().find_map(|l| l.trim().strip_prefix("Caused by: ")).unwrap_or(first);
    cause.to_string()
}
// ANCHOR_END: status

// Deleting what an example or test made lives once, in the support crate.
pub use workbook_support::cleanup::Cleanup;

/// The config with its passwords hidden, safe to print.
pub fn redacted(config: &Value) -> Value {
    let mut shown = config.clone();
    for key in ["database.password", "connection.password"] {
        if let Some(v) = shown.get_mut(key) {
            *v = Value::String("***".to_string());
        }
    }
    shown
}

/// Creates a one-partition topic (the broker does not auto-create topics).
pub async fn create_topic(env: &Env, topic: &str) -> Result<()> {
    use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
    let admin = kafka::admin(env)?;
    let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    for result in admin.create_topics(&[NewTopic::new(topic, 1, TopicReplication::Fixed(1))], &options).await? {
        result.map_err(|(topic, code)| anyhow::anyhow!("creating topic {topic}: {code}"))?;
    }
    Ok(())
}

// ANCHOR: produce
/// Sends one record whose key and value are JSON documents (`None` value = a tombstone), and waits for the ack.
pub async fn produce_json(env: &Env, topic: &str, key: &Value, value: Option<&Value>) -> Result<()> {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = kafka::producer_config(env).create().context("creating a producer")?;
    let key = serde_json::to_vec(key)?;
    let value = value.map(serde_json::to_vec).transpose()?;
    let mut record = FutureRecord::to(topic).key(&key);
    if let Some(value) = &value {
        record = record.payload(value);
    }
    producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e).context("producing a record")?;
    Ok(())
}
// ANCHOR_END: produce

/// Waits until the consumer group of sink connector `connector` (`connect-<name>`) has committed every record
/// of `topic` (one partition): the sink has processed the whole topic.
pub async fn wait_caught_up(env: &Env, connector: &str, topic: &str, timeout: Duration) -> Result<i64> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::{Offset, TopicPartitionList};
    let group = format!("connect-{connector}");
    // Only asks the group coordinator for committed offsets; it never joins the group.
    let consumer: BaseConsumer = kafka::client_config(env).set("group.id", &group).create()?;
    wait::until(&format!("{group} caught up on {topic}"), timeout, Duration::from_millis(200), || {
        let result = (|| -> Result<Option<i64>> {
            let (_, end) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(5))?;
            let mut partitions = TopicPartitionList::new();
            partitions.add_partition(topic, 0);
            let committed = consumer.committed_offsets(partitions, Duration::from_secs(5))?;
            let at = match committed.find_partition(topic, 0).map(|p| p.offset()) {
                Some(Offset::Offset(at)) => at,
                _ => -1,
            };
            Ok((at >= end).then_some(end))
        })();
        async move { result }
    })
    .await
}

// ANCHOR: utf8mb4
/// Makes `utf8mb4` the default character set of the database, if it is not already. The JDBC sink creates its
/// tables without a character set, so they inherit the database's; a server started with built-in defaults
/// has latin1, and the first Korean name then fails the task with `Incorrect string value`.
pub async fn ensure_utf8mb4(pool: &MySqlPool) -> Result<()> {
    let charset: String = sqlx::query_scalar("SELECT @@character_set_database").fetch_one(pool).await?;
    if charset != "utf8mb4" {
        execute(pool, "ALTER DATABASE mydb CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci").await?;
    }
    Ok(())
}
// ANCHOR_END: utf8mb4

// ANCHOR: preflight
/// What a failed sink task's trace means, in one sentence. The JDBC sink reports a refused login only as
/// Hibernate's "Unable to determine Dialect without JDBC metadata" (the driver's "Access denied" goes to the
/// worker's log), so say it plainly.
pub fn explain_failure(trace: &str) -> String {
    if trace.contains("Unable to determine Dialect without JDBC metadata") {
        return "the sink could not open a database connection: check connection.url, connection.username and \
                connection.password (the worker log has the driver's own message)"
            .to_string();
    }
    root_cause(trace)
}

/// The validate endpoint does not try the sink's database login; this does, before the connector exists:
/// it logs in from here with the config's URL, user and password (valid when the worker runs on this machine).
pub async fn check_sink_login(config: &Value) -> Result<()> {
    let text = |key: &str| config[key].as_str().with_context(|| format!("the config has no {key}")).map(str::to_string);
    let url = text("connection.url")?;
    let address = url.strip_prefix("jdbc:mariadb://").with_context(|| format!("{url} is not a jdbc:mariadb:// URL"))?;
    let (host_port, database) = address.split_once('/').unwrap_or((address, ""));
    let (host, port) = host_port.split_once(':').unwrap_or((host_port, "3306"));
    let options = MySqlConnectOptions::new()
        .host(host)
        .port(port.parse().context("the port in connection.url")?)
        .username(&text("connection.username")?)
        .password(&text("connection.password")?)
        .database(database.split('?').next().unwrap_or_default());
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
