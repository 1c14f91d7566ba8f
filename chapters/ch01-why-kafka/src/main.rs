//! `cargo run -p ch01-why-kafka`: one record through a real broker and back.

use anyhow::Result;
use ch01_why_kafka::{ensure_topic, round_trip};
use clap::Parser;
use jiff::Timestamp;
use workbook_support::{Env, kafka};

/// Sends one record to a topic and reads the same record back, printing where it landed
/// (partition, offset, timestamp) and how long the round trip took.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The topic to use; created (with --partitions) if it does not exist yet.
    #[arg(short, long, default_value = "quickstart-events")]
    topic: String,
    /// Partitions for the topic, if this run creates it (an existing topic keeps its own).
    #[arg(short, long, default_value_t = 1)]
    partitions: i32,
    /// The record's key.
    #[arg(short, long, default_value = "ch01")]
    key: String,
    /// The record's value; a greeting with the current time when omitted.
    #[arg(short, long)]
    message: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    // Ask for the cluster's metadata first: an unreachable broker is a clear error in seconds.
    let cluster =
        kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await?;
    println!("Kafka at {} ({} broker(s))", env.bootstrap_servers, cluster.brokers.len());

    let admin = kafka::admin(&env)?;
    let created = ensure_topic(&admin, &args.topic, args.partitions).await?;
    if created {
        println!("topic      {} created ({} partition(s))", args.topic, args.partitions);
    } else {
        println!("topic      {} already exists", args.topic);
    }

    // `{:.3}`: the time in UTC to the millisecond, e.g. 2026-01-31T12:34:56.789Z.
    let value = args.message.unwrap_or_else(|| format!("hello, Kafka ({:.3})", Timestamp::now()));
    let trip = round_trip(&env, &args.topic, &args.key, &value).await?;

    let sent = &trip.sent;
    println!("produced   key={:?} value={value:?}", args.key);
    println!("landed     partition {}, offset {}", sent.partition, sent.offset);
    if let Some(ms) = sent.timestamp_ms {
        let at = Timestamp::from_millisecond(ms)?;
        println!("timestamp  {at:.3} ({}, {ms} ms since the epoch)", sent.timestamp_kind);
    }
    let got = &trip.received;
    println!(
        "read back  partition {}, offset {}: key={:?} value={:?}",
        got.landed.partition,
        got.landed.offset,
        got.key.as_deref().unwrap_or(""),
        got.value.as_deref().unwrap_or("")
    );
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    println!(
        "round trip {:.1} ms (produce until acknowledged: {:.1} ms, then read back: {:.1} ms)",
        ms(trip.produce + trip.fetch),
        ms(trip.produce),
        ms(trip.fetch)
    );
    Ok(())
}
