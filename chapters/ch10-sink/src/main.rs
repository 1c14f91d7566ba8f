//! Chapter 10: the round trip `users` → Debezium source → topic → JDBC sink → `users_copy`,
//! configured by JSON only.

use std::time::{Duration, Instant};

use anyhow::Result;
use ch10_sink::{
    Cleanup, create_users_table, data_topic, delete_markers, ensure_utf8mb4, execute, redacted,
    sink_config, source_config, users, wait_converged, wait_running, wait_users_capturing,
};
use clap::Parser;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, names};

#[derive(Parser, Debug)]
#[command(
    about = "MariaDB → Kafka → MariaDB: a source and a JDBC sink keep users_copy equal to users"
)]
struct Args {
    /// Rows in the users table before the connectors start (they arrive through the snapshot).
    #[arg(long, default_value_t = 3)]
    rows: u32,
    /// Table to create and copy (default: a new `users_…` table per run);
    /// the copy is `<table>_copy`.
    #[arg(long)]
    table: Option<String>,
    /// Keep the connectors, tables and topics at the end.
    #[arg(long)]
    keep: bool,
}

const DEADLINE: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    // The sink creates its table with the database's character set:
    // make it one that holds any text.
    ensure_utf8mb4(&pool).await?;
    let client = ConnectClient::new(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let table = cleanup.table(args.table.unwrap_or_else(|| names::unique_table("users")));
    let copy = cleanup.table(format!("{table}_copy"));
    let prefix = names::unique("ch10");
    let source = cleanup.connector(format!("{prefix}-source"));
    let sink = cleanup.connector(format!("{prefix}-sink"));
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    let topic = data_topic(&prefix, &table);

    create_users_table(&pool, &table).await?;
    for i in 1..=args.rows {
        execute(
            &pool,
            &format!("INSERT INTO {table} (name, email) VALUES ('user{i}', 'user{i}@example.com')"),
        )
        .await?;
    }
    println!("mydb.{table}: {} rows", args.rows);

    // ANCHOR: round_trip
    let source_json = source_config(&env, &prefix, &table)?;
    let sink_json = sink_config(&env, &topic, &copy)?;
    println!(
        "\nPUT /connectors/{sink}/config\n{}",
        serde_json::to_string_pretty(&redacted(&sink_json))?
    );
    let started = Instant::now();
    client.put_connector(&source, &source_json).await?;
    client.put_connector(&sink, &sink_json).await?;
    // RUNNING is not enough for the source: wait until its marker rows come out of it (chapter 9).
    wait_users_capturing(&env, &source, &topic, &table, DEADLINE).await?;
    wait_running(&client, &sink, DEADLINE).await?;
    // The markers did their job; the sink deletes them from the copy too.
    delete_markers(&pool, &table).await?;
    let rows = wait_converged(&pool, &table, &copy, DEADLINE).await?;
    println!(
        "\nsnapshot: {copy} equals {table} ({} rows) {} ms after the connectors were created",
        rows.len(),
        ms(started)
    );

    let changed = Instant::now();
    execute(
        &pool,
        &format!("INSERT INTO {table} (name, email) VALUES ('김민수', 'minsu@example.com')"),
    )
    .await?;
    execute(&pool, &format!("UPDATE {table} SET email = 'user1@new.example' WHERE id = 1")).await?;
    execute(&pool, &format!("DELETE FROM {table} WHERE id = 2")).await?;
    let rows = wait_converged(&pool, &table, &copy, DEADLINE).await?;
    println!(
        "insert + update + delete: {copy} equals {table} again {} ms after the last commit",
        ms(changed)
    );
    // ANCHOR_END: round_trip
    println!("\nSELECT * FROM {copy}");
    for (id, name, email) in &rows {
        println!("  {id:>3}  {name:<8} {email}");
    }

    // ANCHOR: show_create
    let (_, ddl): (String, String) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SHOW CREATE TABLE {copy}")))
            .fetch_one(&pool)
            .await?;
    println!("\nThe table the sink created:\n{ddl}");
    // ANCHOR_END: show_create
    let left = users(&pool, &copy).await?.len();
    if args.keep {
        cleanup.keep();
        println!("\nKept connectors {source} and {sink}, tables {table} and {copy} ({left} rows)");
    } else {
        cleanup.run().await;
        println!(
            "\nDeleted connectors {source} and {sink}, tables {table} and {copy}, topics {prefix}*"
        );
    }
    Ok(())
}

fn ms(since: Instant) -> u128 {
    since.elapsed().as_millis()
}
