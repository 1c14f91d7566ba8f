//! Measures Kafka on this machine: end-to-end latency at a fixed rate, producer throughput, and
//! what consumer parallelism buys. Every run uses a fresh topic and deletes it afterwards.
//!
//! Knobs that take several values (`--linger-ms 0,5,50`) run once per combination, each on its
//! own topic, so one command prints a comparison table.

use std::time::Duration;

use anyhow::{Context, Result};
use ch14_performance::{
    Acks, Compression, FetchKnobs, LatencyRun, ProducerSettings, measure_latency, measure_parallel,
    measure_throughput, producer_config,
};
use clap::{Args, Parser, Subcommand};
use workbook_support::{Env, kafka};

/// Measure throughput and end-to-end latency against the workbook's broker.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// End-to-end latency: send at a fixed rate, consume, report percentiles of (received −
    /// intended send time).
    Latency(LatencyArgs),
    /// Producer throughput: send N records as fast as the producer takes them.
    Throughput(ThroughputArgs),
    /// Consumer parallelism: 1 vs N members of one group, each spending --work-us per record.
    Consumers(ConsumersArgs),
}

/// The producer knobs; each takes a comma-separated list of values to compare.
#[derive(Args, Debug)]
struct ProducerArgs {
    /// How long (ms) a batch may wait for more records before it is sent.
    #[arg(long, value_delimiter = ',', default_value = "5")]
    linger_ms: Vec<u64>,
    /// The most bytes one partition's batch may hold (omit for librdkafka's 1,000,000).
    #[arg(long, value_delimiter = ',')]
    batch_size: Vec<u64>,
    /// Batch compression (zstd needs rdkafka's `zstd` feature, which this build leaves off).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "none")]
    compression: Vec<Compression>,
    /// How many replicas must have a record: all (with the idempotent producer), 1 or 0.
    #[arg(long, value_enum, default_value = "all")]
    acks: Acks,
    /// Bytes per record value (about).
    #[arg(long, default_value_t = 200)]
    record_size: usize,
    /// Partitions of each fresh topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Run every combination this many times (numbers on a shared machine move; compare runs).
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

impl ProducerArgs {
    /// Every combination of the listed values, as chapter 4's producer settings.
    fn combinations(&self) -> Vec<ProducerSettings> {
        let batch_sizes: Vec<Option<u64>> = if self.batch_size.is_empty() {
            vec![None]
        } else {
            self.batch_size.iter().copied().map(Some).collect()
        };
        let mut all = Vec::new();
        for &compression in &self.compression {
            for &batch_size in &batch_sizes {
                for &linger_ms in &self.linger_ms {
                    let settings = ProducerSettings {
                        acks: self.acks,
                        linger_ms,
                        batch_size,
                        compression,
                        // The idempotent producer needs acks=all; with it, retries neither
                        // duplicate nor reorder records (chapter 4).
                        idempotence: self.acks == Acks::All,
                    };
                    all.extend(std::iter::repeat_n(settings, self.repeat));
                }
            }
        }
        all
    }
}

#[derive(Args, Debug)]
struct LatencyArgs {
    /// Records per second, sent at evenly spaced intended times.
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    /// Seconds measured (after the warm-up).
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Seconds of warm-up first: sent and received, not measured (connections, metadata, producer
    /// id).
    #[arg(long, default_value_t = 1)]
    warmup_seconds: u64,
    /// Consumer: the broker holds a fetch until it has this many bytes... (comma-separated list)
    #[arg(long, value_delimiter = ',', default_value = "1")]
    fetch_min_bytes: Vec<u64>,
    /// ...or until this many ms have passed.
    #[arg(long, default_value_t = 500)]
    fetch_wait_max_ms: u64,
    #[command(flatten)]
    producer: ProducerArgs,
}

#[derive(Args, Debug)]
struct ThroughputArgs {
    /// Records per run.
    #[arg(long, default_value_t = 200_000)]
    records: u64,
    #[command(flatten)]
    producer: ProducerArgs,
}

#[derive(Args, Debug)]
struct ConsumersArgs {
    /// Group sizes to compare (comma-separated).
    #[arg(long, value_delimiter = ',', default_value = "1,3")]
    members: Vec<usize>,
    /// Partitions of each fresh topic.
    #[arg(long, default_value_t = 3)]
    partitions: i32,
    /// Records per run.
    #[arg(long, default_value_t = 3000)]
    records: u64,
    /// Simulated processing per record, in µs (time spent waiting, like a database write).
    #[arg(long, default_value_t = 1000)]
    work_us: u64,
    /// Run every group size this many times.
    #[arg(long, default_value_t = 1)]
    repeat: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let env = Env::load()?;
    kafka::probe(&env).await?; // Kafka at …, or a clear error within seconds
    match cli.command {
        Command::Latency(args) => latency(&env, &args).await,
        Command::Throughput(args) => throughput(&env, &args).await,
        Command::Consumers(args) => consumers(&env, &args).await,
    }
}

fn batch_label(batch_size: Option<u64>) -> String {
    batch_size.map_or("default".to_string(), |b| b.to_string())
}

async fn latency(env: &Env, args: &LatencyArgs) -> Result<()> {
    let p = &args.producer;
    let run = LatencyRun {
        rate: args.rate,
        warmup: Duration::from_secs(args.warmup_seconds),
        measure: Duration::from_secs(args.seconds),
        record_size: p.record_size,
        partitions: p.partitions,
    };
    println!(
        "end-to-end latency: {} records/s for {} s after {} s warm-up, ~{} B records, {} \
         partitions, acks={}",
        args.rate,
        args.seconds,
        args.warmup_seconds,
        p.record_size,
        p.partitions,
        p.acks.as_config()
    );
    println!(
        "{:>9} {:>10} {:>11} {:>9} {:>6} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "linger.ms",
        "batch.size",
        "compression",
        "fetch.min",
        "sent",
        "recv",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms"
    );
    for &fetch_min_bytes in &args.fetch_min_bytes {
        let fetch = FetchKnobs { fetch_min_bytes, fetch_wait_max_ms: args.fetch_wait_max_ms };
        for settings in p.combinations() {
            let result = measure_latency(env, &producer_config(env, &settings), fetch, &run)
                .await
                .with_context(|| format!("measuring with {settings:?}"))?;
            let ms = |us: u64| format!("{:.1}", us as f64 / 1000.0);
            let (p50, p90, p99, max) = match result.latency {
                Some(s) => (ms(s.p50), ms(s.p90), ms(s.p99), ms(s.max)),
                None => ("-".into(), "-".into(), "-".into(), "-".into()),
            };
            println!(
                "{:>9} {:>10} {:>11} {:>9} {:>6} {:>6} {p50:>8} {p90:>8} {p99:>8} {max:>8}",
                settings.linger_ms,
                batch_label(settings.batch_size),
                settings.compression.as_config(),
                fetch_min_bytes,
                result.sent,
                result.received
            );
        }
    }
    Ok(())
}

async fn throughput(env: &Env, args: &ThroughputArgs) -> Result<()> {
    let p = &args.producer;
    println!(
        "producer throughput: {} records of ~{} B per run, {} partitions, acks={}, as fast as the \
         producer takes them",
        args.records,
        p.record_size,
        p.partitions,
        p.acks.as_config()
    );
    println!(
        "{:>9} {:>10} {:>11} {:>8} {:>10} {:>7}",
        "linger.ms", "batch.size", "compression", "seconds", "records/s", "MB/s"
    );
    for settings in p.combinations() {
        let measured = measure_throughput(
            env,
            &producer_config(env, &settings),
            args.records,
            p.record_size,
            p.partitions,
        )
        .await
        .with_context(|| format!("measuring with {settings:?}"))?;
        println!(
            "{:>9} {:>10} {:>11} {:>8.2} {:>10.0} {:>7.1}",
            settings.linger_ms,
            batch_label(settings.batch_size),
            settings.compression.as_config(),
            measured.elapsed.as_secs_f64(),
            measured.records_per_second(),
            measured.megabytes_per_second()
        );
    }
    Ok(())
}

async fn consumers(env: &Env, args: &ConsumersArgs) -> Result<()> {
    let work = Duration::from_micros(args.work_us);
    println!(
        "consumer parallelism: {} records on {} partitions, {} µs of (waiting) work per record",
        args.records, args.partitions, args.work_us
    );
    println!("{:>7} {:>8} {:>10}  records per member", "members", "seconds", "records/s");
    for &members in &args.members {
        for _ in 0..args.repeat {
            let run = measure_parallel(
                env,
                members,
                args.partitions,
                args.records,
                work,
                FetchKnobs::default(),
            )
            .await
            .with_context(|| format!("measuring {members} member(s)"))?;
            let per_member: Vec<String> = run.per_member.iter().map(usize::to_string).collect();
            println!(
                "{members:>7} {:>8.2} {:>10.0}  {}",
                run.elapsed.as_secs_f64(),
                args.records as f64 / run.elapsed.as_secs_f64(),
                per_member.join(" + ")
            );
        }
    }
    Ok(())
}
