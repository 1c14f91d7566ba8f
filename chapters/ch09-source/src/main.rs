//! Chapter 09: capture a `users` table into a topic with Debezium, configured by JSON only,
//! and watch the change events of a snapshot, an insert, an update and a delete arrive.

use std::time::{Duration, Instant};

use anyhow::Result;
use ch09_source::{
    Cleanup, Event, create_users_table, data_topic, describe, execute, next_events, redacted,
    source_config, subscribe, unwrap_envelope, wait_running, wait_users_capturing,
};
use clap::Parser;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, names};

#[derive(Parser, Debug)]
#[command(about = "MariaDB → Kafka: a Debezium source connector captures a users table; \
             we change rows and read the events")]
struct Args {
    /// Table to create and capture in mydb (default: a new `users_…` table per run).
    #[arg(long)]
    table: Option<String>,
    /// Flatten the events with the ExtractNewRecordState transform and its defaults (the row only).
    #[arg(long)]
    flatten: bool,
    /// Print one whole record (schema and payload) as Kafka stores it.
    #[arg(long)]
    raw: bool,
    /// Keep the connector, the table and the topics at the end.
    #[arg(long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let client = ConnectClient::new(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let table = cleanup.table(args.table.unwrap_or_else(|| names::unique_table("users")));
    let prefix = names::unique("ch09");
    let name = cleanup.connector(format!("{prefix}-source"));
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    let topic = data_topic(&prefix, &table);

    // ANCHOR: before_snapshot
    create_users_table(&pool, &table).await?;
    execute(
        &pool,
        &format!(
            "INSERT INTO {table} (name, email) \
             VALUES ('alice', 'alice@example.com'), ('bob', 'bob@example.com')"
        ),
    )
    .await?;
    println!("mydb.{table}: 2 rows before the connector exists (they will come from the snapshot)");
    // ANCHOR_END: before_snapshot

    // ANCHOR: create_connector
    let mut config = source_config(&env, &prefix, &[&table])?;
    if args.flatten {
        config = unwrap_envelope(config);
    }
    println!(
        "\nPUT /connectors/{name}/config\n{}",
        serde_json::to_string_pretty(&redacted(&config))?
    );
    let started = Instant::now();
    client.put_connector(&name, &config).await?;
    wait_running(&client, &name, Duration::from_secs(60)).await?;
    println!("\n{name}: connector and task RUNNING after {} ms", started.elapsed().as_millis());
    // RUNNING only means the task started: the snapshot may not have begun. Changes made now could
    // still be swallowed by it, so wait until a marker row comes out of the connector.
    let markers =
        wait_users_capturing(&env, &name, &topic, &table, Duration::from_secs(60)).await?;
    println!(
        "{name}: capturing after {} ms (marker rows written: {markers})",
        started.elapsed().as_millis()
    );
    // ANCHOR_END: create_connector

    let consumer = subscribe(&env, &topic)?;
    let snapshot = next_events(&consumer, 2, Duration::from_secs(60)).await?;
    println!("\nSnapshot → topic {topic}");
    for event in &snapshot {
        println!("  {}", describe(event));
    }

    // ANCHOR: changes
    println!("\nStreaming: three statements, each its own transaction");
    execute(
        &pool,
        &format!("INSERT INTO {table} (name, email) VALUES ('김민수', 'minsu@example.com')"),
    )
    .await?;
    execute(&pool, &format!("UPDATE {table} SET email = 'alice@new.example' WHERE name = 'alice'"))
        .await?;
    execute(&pool, &format!("DELETE FROM {table} WHERE name = 'bob'")).await?;
    let committed = now_ms();
    // A delete yields two records (the delete event and a tombstone) unless the SMT flattens it.
    let expected = if args.flatten { 3 } else { 4 };
    let events = next_events(&consumer, expected, Duration::from_secs(60)).await?;
    for event in &events {
        let lag = match event {
            Event::Change { source_ts_ms, .. } => {
                format!("  (committed at source.ts_ms={source_ts_ms})")
            }
            _ => String::new(),
        };
        println!("  {}{lag}", describe(event));
    }
    println!(
        "  all {} records read {} ms after the last commit",
        events.len(),
        now_ms() - committed
    );
    // ANCHOR_END: changes

    if args.raw {
        print_raw(&env, &topic).await?;
    }
    if args.keep {
        cleanup.keep();
        println!("\nKept connector {name}, table mydb.{table}, topic {topic}");
    } else {
        cleanup.run().await;
        println!("\nDeleted connector {name}, dropped mydb.{table}, deleted topics {prefix}*");
    }
    Ok(())
}

fn now_ms() -> i64 {
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    now.as_millis() as i64
}

/// The first record of the topic exactly as stored (markers skipped): key and value,
/// with their embedded schemas.
async fn print_raw(env: &Env, topic: &str) -> Result<()> {
    use rdkafka::Message;
    use workbook_support::connect::is_marker;
    let consumer = subscribe(env, topic)?;
    let message = loop {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await??;
        if !is_marker(message.key(), message.payload()) {
            break message;
        }
    };
    let value: serde_json::Value = serde_json::from_slice(message.payload().unwrap_or_default())?;
    let size = message.payload().map_or(0, <[u8]>::len);
    println!(
        "\nThe first record as stored ({size} bytes of JSON; schema abridged to its field names):"
    );
    println!("key   = {}", String::from_utf8_lossy(message.key().unwrap_or_default()));
    let mut shown = value.clone();
    if let Some(fields) = value["schema"]["fields"].as_array() {
        let names: Vec<&str> = fields.iter().filter_map(|f| f["field"].as_str()).collect();
        let name = &value["schema"]["name"];
        shown["schema"] = serde_json::json!({ "type": "struct", "name": name, "fields": names });
    }
    println!("value = {}", serde_json::to_string_pretty(&shown)?);
    Ok(())
}
