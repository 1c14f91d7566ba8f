//! `cargo run -p ch18-operations -- <task>`: the operator's tasks of chapter 18, one per
//! subcommand, each printing what it does and what the cluster answers. Each task's code is a
//! file of `src/demo/`, named after its subcommand.

use anyhow::Result;
use clap::{Parser, Subcommand};

mod demo;

/// Operating Kafka: watch consumer lag, change topic configs live, add partitions, move replicas
/// between brokers, read client statistics, and log in with SASL/SCRAM under ACLs.
///
/// `lag`, `configs`, `partitions` and `metrics` use the workbook's broker (with topics of their
/// own, deleted at the end). `reassign` starts a three-broker cluster of its own and `security` a
/// SASL/SCRAM broker of its own, both in temporary directories, stopped and deleted at the end.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// A group that falls behind and catches up: its lag per partition, its state, the trend.
    Lag {
        /// Records per second the producer writes while the consumer is slow.
        #[arg(long, default_value_t = 30)]
        rate: u32,
        /// Seconds the producer writes.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Keep the topic (and the group) for `cargo xtask cli kafka-consumer-groups`.
        #[arg(long)]
        keep: bool,
    },
    /// A topic's settings and where they come from; what AlterConfigs does to the ones you omit.
    Configs,
    /// Keyed records before and after a topic gets more partitions.
    Partitions,
    /// Replicas moved from brokers 1 and 2 to broker 3 with kafka-reassign-partitions.
    Reassign,
    /// A producer's and a consumer's own statistics (statistics.interval.ms).
    Metrics,
    /// A broker with SASL/SCRAM and SASL/PLAIN listeners and ACLs: a user, what it may do, and the
    /// clients that log in.
    Security,
}

#[tokio::main]
async fn main() -> Result<()> {
    match Args::parse().task {
        Task::Lag { rate, seconds, keep } => demo::lag::lag(rate, seconds, keep).await,
        Task::Configs => demo::configs::configs().await,
        Task::Partitions => demo::partitions::partitions().await,
        Task::Reassign => demo::reassign::reassign().await,
        Task::Metrics => demo::metrics::metrics().await,
        Task::Security => tokio::task::spawn_blocking(demo::security::security).await?,
    }
}
