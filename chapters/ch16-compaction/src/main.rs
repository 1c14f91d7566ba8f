//! Compacted topics and tombstones, on the real broker: `compact` builds a compacted topic and
//! waits for the log cleaner, `retention` shows a group whose committed offset was deleted, and
//! `cdc` follows a MariaDB DELETE to a tombstone and to a DELETE in the sink's copy.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use ch09_source::{create_users_table, data_topic, execute, wait_users_capturing};
use ch16_compaction::cdc::{
    self, change_line, compacted_source_config, deleting_sink_config, wait_same_rows,
};
use ch16_compaction::retention::{Resumed, delete_records_before, read_and_commit, resume};
use ch16_compaction::{
    Log, create_topic_with, demo_compaction, describe, read_log, wait_for_log, write,
};
use clap::{Parser, Subcommand};
use rdkafka::producer::FutureProducer;
use workbook_support::cleanup::Cleanup;
use workbook_support::connect::{ConnectClient, is_marker, wait_sink_assigned};
use workbook_support::{Env, db, kafka, names};

/// Compacted topics and tombstones, for real: the latest state per key, deletes end to end.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    #[command(subcommand)]
    demo: Demo,
    /// Keep what the demo created (topics, connectors, tables) to look at it with the CLI tools.
    #[arg(long, global = true)]
    keep: bool,
}

#[derive(Subcommand, Debug)]
enum Demo {
    /// Write a history of keyed records to a compacted topic and watch the broker compact it,
    /// then drop a tombstone once `delete.retention.ms` has passed (about 30 s).
    Compact,
    /// A group comes back after retention deleted its committed offset: with
    /// auto.offset.reset=error it fails, with earliest it skips the gap without an error (seconds).
    Retention,
    /// A MariaDB DELETE → a delete event and a tombstone on a compacted topic → a DELETE in the
    /// JDBC sink's copy, also for a sink that was stopped while compaction ran (under a minute).
    Cdc,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let mut cleanup = Cleanup::new(&env);
    let outcome = match args.demo {
        Demo::Compact => compact(&env, &mut cleanup).await,
        Demo::Retention => retention(&env, &mut cleanup).await,
        Demo::Cdc => cdc(&env, &mut cleanup).await,
    };
    if args.keep {
        println!("\nKept (--keep): {}", cleanup.describe());
        cleanup.keep();
    } else {
        cleanup.run().await;
    }
    outcome
}

fn show(log: &Log) {
    for entry in &log.entries {
        println!("   {}", describe(entry));
    }
    println!(
        "   low watermark {}, high watermark {}: {} records",
        log.low,
        log.high,
        log.entries.len()
    );
}

/// True when no key appears twice: everything but the latest record of each key is gone.
fn one_record_per_key(log: &Log) -> bool {
    log.entries.iter().all(|e| log.of(&e.key).len() == 1)
}

async fn compact(env: &Env, cleanup: &mut Cleanup) -> Result<()> {
    let topic = cleanup.topic(names::unique("ch16-users"));
    let configs = demo_compaction();
    create_topic_with(env, &topic, 1, &configs).await?;
    let shown: Vec<String> = configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("Created {topic}, 1 partition:\n   {}", shown.join(" "));
    let producer: FutureProducer = kafka::producer_config(env).create()?;

    println!("\n1. The history: every change of a user is a record keyed by the user");
    let history = [
        ("alice", Some("alice@old.example")),
        ("bob", Some("bob@example.com")),
        ("carol", Some("carol@example.com")),
        ("alice", Some("alice@new.example")),
        ("bob", None),      // bob is deleted: a tombstone
        ("dave", Some("")), // dave has no email yet: an empty value is still a value
        ("alice", Some("alice@newest.example")),
    ];
    for (key, value) in history {
        write(&producer, &topic, key, value).await?;
    }
    let last_write = Instant::now();
    show(&read_log(env, &topic).await?);

    // The active segment began at the latest with the last record: once segment.ms has passed
    // since then, the next write starts a new segment, and the history becomes cleanable.
    tokio::time::sleep_until((last_write + Duration::from_millis(200)).into()).await;
    let offset = write(&producer, &topic, "erin", Some("erin@example.com")).await?;
    println!(
        "\n2. One more write (erin, offset {offset}) after segment.ms: a new active segment begins"
    );
    println!("   offsets 0-6 are now in a closed segment, which the log cleaner may compact");
    let (log, took) = wait_for_log(
        env,
        &topic,
        "the log cleaner to compact",
        Duration::from_secs(120),
        one_record_per_key,
    )
    .await?;
    println!(
        "   compacted {:.1} s after the roll: the latest record of each key is left",
        took.as_secs_f64()
    );
    show(&log);
    println!("   The offsets did not change: a reader sees gaps. bob's tombstone is still there,");
    println!("   for readers that were behind and still hold bob: they must learn he is gone.");

    println!(
        "\n3. The tombstone goes delete.retention.ms (5 s) after its first cleaning, at the next"
    );
    println!("   cleaning. Writes go on meanwhile: dave sets a new email each second");
    println!("waiting for a cleaning that drops bob's tombstone (up to 120 s)");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (mut n, started) = (0, Instant::now());
    let log = loop {
        tick.tick().await;
        n += 1;
        write(&producer, &topic, "dave", Some(&format!("dave-{n}@example.com"))).await?;
        let log = read_log(env, &topic).await?;
        if log.of("bob").is_empty() {
            break log;
        }
        if Instant::now() > deadline {
            bail!("bob's tombstone was still there after 120 s");
        }
    };
    println!(
        "   bob's tombstone was removed {:.1} s later ({n} writes of dave)",
        started.elapsed().as_secs_f64()
    );
    show(&log);
    println!(
        "   bob is gone for good: a service reading this topic from the beginning never meets him."
    );
    Ok(())
}

async fn retention(env: &Env, cleanup: &mut Cleanup) -> Result<()> {
    let topic = cleanup.topic(names::unique("ch16-events"));
    create_topic_with(env, &topic, 1, &[]).await?;
    println!("Created {topic}, 1 partition, cleanup.policy=delete (the default)");
    let producer: FutureProducer = kafka::producer_config(env).create()?;
    for i in 0..10 {
        write(&producer, &topic, &format!("k{i}"), Some(&format!("e-{i}"))).await?;
    }
    println!("\n1. Ten records, e-0 to e-9 at offsets 0 to 9");

    let group = names::unique("ch16-billing");
    let read = read_and_commit(env, &topic, &group, 4).await?;
    let last = read.last().map_or(-1, |(offset, _)| *offset);
    println!(
        "\n2. Group {group} reads {} records (offsets 0-{last}), commits offset {}, and goes down",
        read.len(),
        last + 1
    );

    let low = delete_records_before(env, &topic, 7).await?;
    println!("\n3. Retention deletes the oldest records: everything before offset 7");
    println!(
        "   low watermark now {low}; the group's committed offset {} is no longer in the log",
        last + 1
    );

    println!("\n4. The group comes back with auto.offset.reset=error");
    match resume(env, &topic, &group, "error").await? {
        Resumed::Failed(error) => println!("   first poll: error: {error}"),
        Resumed::Read { offset, value } => {
            bail!("expected an error, read {value} at offset {offset}")
        }
    }
    println!("   Loud: someone has to decide what the missing records mean before it goes on.");

    println!("\n5. The group comes back with auto.offset.reset=earliest");
    match resume(env, &topic, &group, "earliest").await? {
        Resumed::Read { offset, value } => {
            println!("   first poll: {value} at offset {offset}");
            let skipped: Vec<String> = (last + 1..offset).map(|o| o.to_string()).collect();
            println!(
                "   No error: offsets {} were never read, and the code was not told.",
                skipped.join(", ")
            );
        }
        Resumed::Failed(error) => bail!("expected a record, got an error: {error}"),
    }
    Ok(())
}

async fn cdc(env: &Env, cleanup: &mut Cleanup) -> Result<()> {
    let client = ConnectClient::new(env)?;
    let pool = db::pool(env).await?;
    let prefix = names::unique("ch16");
    let table = cleanup.table(names::unique_table("ch16_users"));
    let copy_a = cleanup.table(format!("{table}_copy_a"));
    let copy_b = cleanup.table(format!("{table}_copy_b"));
    let topic = data_topic(&prefix, &table);
    let source = cleanup.connector(format!("{prefix}-source"));
    let sink_a = cleanup.connector(format!("{prefix}-sink-a"));
    let sink_b = cleanup.connector(format!("{prefix}-sink-b"));
    cleanup.source_topics(&prefix, ch09_source::DATABASE, &[&table]);

    create_users_table(&pool, &table).await?;
    client.put_connector(&source, &compacted_source_config(env, &prefix, &table)?).await?;
    println!("Created table mydb.{table} and source {source}; its topic is compacted:\n   {topic}");
    wait_users_capturing(env, &source, &topic, &table, Duration::from_secs(120)).await?;
    client.put_connector(&sink_a, &deleting_sink_config(env, &topic, &copy_a)?).await?;
    wait_sink_assigned(env, &sink_a, &topic, Duration::from_secs(120)).await?;
    println!("Sink {sink_a} copies the topic into {copy_a}");

    println!("\n1. Three users, and two updates of alice");
    for sql in [
        format!("INSERT INTO {table} (id, name, email) VALUES (1, 'alice', 'alice@old.example')"),
        format!("INSERT INTO {table} (id, name, email) VALUES (2, 'bob', 'bob@example.com')"),
        format!("INSERT INTO {table} (id, name, email) VALUES (3, 'carol', 'carol@example.com')"),
        format!("UPDATE {table} SET email = 'alice@new.example' WHERE id = 1"),
        format!("UPDATE {table} SET email = 'alice@newest.example' WHERE id = 1"),
    ] {
        execute(&pool, &sql).await?;
    }
    let rows = wait_same_rows(&pool, &table, &copy_a, Duration::from_secs(120)).await?;
    println!("   {copy_a}: {rows:?}");

    cdc::stop(&client, &sink_a).await?;
    println!("\n2. {sink_a} is stopped (PUT /connectors/{sink_a}/stop): it is down");

    execute(&pool, &format!("DELETE FROM {table} WHERE id = 2")).await?;
    println!("\n3. DELETE FROM {table} WHERE id = 2");
    let (log, _) = wait_for_log(
        env,
        &topic,
        "bob's delete event and tombstone",
        Duration::from_secs(60),
        |log| log.entries.last().is_some_and(|e| e.value.is_none()),
    )
    .await?;
    show_changes(&log);

    // A later write after segment.ms starts a new segment: the history above becomes cleanable.
    execute(
        &pool,
        &format!("INSERT INTO {table} (id, name, email) VALUES (4, 'dave', 'dave@example.com')"),
    )
    .await?;
    println!(
        "\n4. INSERT dave: a write after segment.ms starts a new segment; the rest may be compacted"
    );
    let (log, took) = wait_for_log(
        env,
        &topic,
        "the log cleaner to compact the topic",
        Duration::from_secs(120),
        one_record_per_key,
    )
    .await?;
    println!(
        "   compacted after {:.1} s: one record per key, bob's tombstone kept",
        took.as_secs_f64()
    );
    show_changes(&log);

    client.resume(&sink_a).await?;
    println!("\n5. {sink_a} resumes at its committed offset: of bob, only the tombstone is left");
    let rows = wait_same_rows(&pool, &table, &copy_a, Duration::from_secs(120)).await?;
    println!("   {copy_a}: {rows:?}");
    println!("   bob's row was deleted from the tombstone alone.");

    client.put_connector(&sink_b, &deleting_sink_config(env, &topic, &copy_b)?).await?;
    println!(
        "\n6. A new sink, {sink_b}, reads the compacted topic from the beginning into {copy_b}"
    );
    let rows = wait_same_rows(&pool, &table, &copy_b, Duration::from_secs(120)).await?;
    println!("   {copy_b}: {rows:?}");
    println!("   It never saw bob's INSERT: compaction removed it, and the table is right anyway.");
    Ok(())
}

/// The change events of `log`, one line each (the marker rows of the readiness check counted only).
fn show_changes(log: &Log) {
    let mut markers = 0;
    for entry in &log.entries {
        if is_marker(Some(entry.key.as_bytes()), entry.value.as_deref().map(str::as_bytes)) {
            markers += 1;
            continue;
        }
        println!(
            "   offset {:>3}  {}",
            entry.offset,
            change_line(&entry.key, entry.value.as_deref())
        );
    }
    println!("   ({markers} records of marker rows not shown; high watermark {})", log.high);
}
