//! Measures MariaDB-commit → sink-row latency through the whole pipeline
//! (source → topic → JDBC sink).
//!
//! Each change stamps its row with `changed_at = NOW(6)` in the same autocommit statement; the
//! copy table has an extra column `arrived_at DATETIME(6) DEFAULT/ON UPDATE CURRENT_TIMESTAMP(6)`
//! that MariaDB fills when the sink's upsert writes the row. Both clocks are the same server's,
//! so `arrived_at - changed_at` is the end-to-end latency of that change, with no polling error.
//! Inserts measure new rows; later updates of the first rows measure updates.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use ch10_sink::{
    Cleanup, data_topic, ensure_utf8mb4, execute, sink_config, source_config, wait_running,
};
use clap::Parser;
use workbook_support::connect::{ConnectClient, marker, wait_capturing, wait_sink_assigned};
use workbook_support::{Env, db, names, wait};

#[derive(Parser, Debug)]
#[command(
    about = "Commit → sink-row latency of the MariaDB → Kafka → MariaDB pipeline (p50/p90/p99)"
)]
struct Args {
    /// Rows inserted (each one measured unless updated later).
    #[arg(long, default_value_t = 250)]
    inserts: u32,
    /// Updates of the first rows after the inserts (each one measured).
    #[arg(long, default_value_t = 100)]
    updates: u32,
    /// Changes per second the writer aims for (one autocommit statement each).
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// The source's `poll.interval.ms`: how long Debezium waits for more changes before handing a
    /// batch to Connect (Debezium's default: 500).
    #[arg(long, default_value_t = 500)]
    poll_interval_ms: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.updates > args.inserts {
        bail!("--updates may not exceed --inserts (an update changes one inserted row)");
    }
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let client = ConnectClient::new(&env)?;
    ensure_utf8mb4(&pool).await?;
    let mut cleanup = Cleanup::new(&env);
    let table = cleanup.table(names::unique_table("latency"));
    let copy = cleanup.table(format!("{table}_copy"));
    let prefix = names::unique("ch10-latency");
    let source = cleanup.connector(format!("{prefix}-source"));
    let sink = cleanup.connector(format!("{prefix}-sink"));
    cleanup.source_topics(&prefix, "mydb", &[&table]);

    let create = format!(
        "CREATE TABLE {table} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL, \
         changed_at DATETIME(6) NOT NULL) DEFAULT CHARSET = utf8mb4"
    );
    execute(&pool, &create).await?;
    // The copy exists before the sink starts: the sink then only upserts the columns it knows.
    let create_copy = format!(
        "CREATE TABLE {copy} (id INT PRIMARY KEY, name LONGTEXT NOT NULL, \
         changed_at DATETIME(6) NOT NULL, \
         arrived_at DATETIME(6) NOT NULL \
         DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)) \
         DEFAULT CHARSET = utf8mb4"
    );
    execute(&pool, &create_copy).await?;
    let mut source_json = source_config(&env, &prefix, &table)?;
    source_json["poll.interval.ms"] = args.poll_interval_ms.to_string().into();
    let topic = data_topic(&prefix, &table);
    client.put_connector(&source, &source_json).await?;
    client.put_connector(&sink, &sink_config(&env, &topic, &copy)?).await?;
    // Measure only once both ends really work: the source streams (a marker row came out of it;
    // markers have negative ids and are left out below) and the sink's consumer
    // holds the topic's partition.
    wait_capturing(&env, &source, &topic, Duration::from_secs(60), |n| {
        format!("INSERT INTO {table} VALUES (-{n}, '{}', NOW(6))", marker(n))
    })
    .await?;
    wait_running(&client, &sink, Duration::from_secs(60)).await?;
    wait_sink_assigned(&env, &sink, &topic, Duration::from_secs(60)).await?;
    println!(
        "pipeline {source} → {sink} running; writing {} inserts + {} updates at {}/s",
        args.inserts, args.updates, args.rate
    );

    let mut tick = tokio::time::interval(Duration::from_secs(1) / args.rate.max(1));
    for id in 1..=args.inserts {
        tick.tick().await;
        execute(&pool, &format!("INSERT INTO {table} VALUES ({id}, 'v1', NOW(6))")).await?;
    }
    for id in 1..=args.updates {
        tick.tick().await;
        execute(
            &pool,
            &format!("UPDATE {table} SET name = 'v2', changed_at = NOW(6) WHERE id = {id}"),
        )
        .await?;
    }

    let total = i64::from(args.inserts);
    let same = format!(
        "SELECT COUNT(*) FROM {table} s JOIN {copy} c USING (id) \
         WHERE id > 0 AND s.name = c.name AND s.changed_at = c.changed_at"
    );
    wait::until(
        "every change reached the copy",
        Duration::from_secs(120),
        Duration::from_millis(100),
        || async {
            let n: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(same.clone())).fetch_one(&pool).await?;
            Ok((n == total).then_some(()))
        },
    )
    .await?;
    let sql = format!(
        "SELECT name, TIMESTAMPDIFF(MICROSECOND, changed_at, arrived_at) FROM {copy} WHERE id > 0"
    );
    let samples: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(&pool)
        .await
        .context("reading latencies")?;
    let mut all: Vec<i64> = samples.iter().map(|(_, us)| *us).collect();
    let mut inserts: Vec<i64> =
        samples.iter().filter(|(n, _)| n == "v1").map(|(_, us)| *us).collect();
    let mut updates: Vec<i64> =
        samples.iter().filter(|(n, _)| n == "v2").map(|(_, us)| *us).collect();
    println!("\ncommit → row in the copy, milliseconds (MariaDB's clock on both ends)");
    println!(
        "{:<8} {:>6} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "changes", "count", "p50", "p90", "p99", "max", "mean"
    );
    for (label, values) in [("inserts", &mut inserts), ("updates", &mut updates), ("all", &mut all)]
    {
        report(label, values);
    }
    cleanup.run().await;
    Ok(())
}

fn report(label: &str, values: &mut [i64]) {
    if values.is_empty() {
        return;
    }
    values.sort_unstable();
    let at = |q: f64| {
        values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1] as f64
            / 1000.0
    };
    let mean = values.iter().sum::<i64>() as f64 / values.len() as f64 / 1000.0;
    println!(
        "{label:<8} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
        values.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0),
        mean
    );
}
