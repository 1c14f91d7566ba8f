//! `cargo run -p ch02-brokers`: what the cluster says about itself.

use anyhow::Result;
use ch02_brokers::{fetch, ids, is_internal, metadata_controller_samples};
use clap::Parser;
use workbook_support::{Env, kafka};

/// Prints the cluster's metadata: its brokers, the "controller" the Metadata API reports, and
/// every topic's partitions with their leader, replicas and in-sync replicas (ISR).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Show only this topic.
    #[arg(short, long)]
    topic: Option<String>,
    /// Also show Kafka's internal topics (__consumer_offsets, ...).
    #[arg(long)]
    internal: bool,
    /// How many Metadata requests to send to see which controller id they report.
    #[arg(long, default_value_t = 10)]
    samples: usize,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let cluster = fetch(&env).await?;

    println!("Cluster at {}", env.bootstrap_servers);
    println!("\nBrokers ({}):", cluster.brokers.len());
    for broker in &cluster.brokers {
        println!("  broker {}  {}:{}", broker.id, broker.host, broker.port);
    }

    let samples = {
        let env = env.clone();
        let n = args.samples;
        tokio::task::spawn_blocking(move || metadata_controller_samples(&env, n, kafka::METADATA_TIMEOUT)).await??
    };
    let shown: Vec<String> = samples.iter().map(i32::to_string).collect();
    println!("\n\"Controller\" in {} Metadata answers: {}", samples.len(), shown.join(" "));
    println!("  In KRaft this field is a random live broker, not the active controller.");
    println!("  The active controller is the leader of the metadata quorum:");
    println!("  cargo xtask cli kafka-metadata-quorum describe --status   (LeaderId)");

    let topics: Vec<_> = cluster
        .topics
        .iter()
        .filter(|t| args.topic.as_ref().is_none_or(|wanted| &t.name == wanted))
        .filter(|t| args.internal || args.topic.is_some() || !is_internal(&t.name))
        .collect();
    if let Some(wanted) = &args.topic
        && topics.is_empty()
    {
        anyhow::bail!("topic {wanted} does not exist (cargo xtask cli kafka-topics --list shows the topics)");
    }
    let hidden = if args.internal || args.topic.is_some() { "" } else { ", internal topics hidden (--internal)" };
    println!("\nTopics ({}{hidden}):", topics.len());
    let width = topics.iter().map(|t| t.name.len()).max().unwrap_or(5).max(5);
    println!("  {:<width$}  PARTITION  LEADER  REPLICAS  ISR", "TOPIC");
    for topic in topics {
        for p in &topic.partitions {
            let leader = if p.leader < 0 { "none".to_string() } else { p.leader.to_string() };
            let lagging = if p.isr.len() < p.replicas.len() { "  (under-replicated)" } else { "" };
            println!(
                "  {:<width$}  {:>9}  {:>6}  {:<8}  {}{lagging}",
                topic.name,
                p.id,
                leader,
                ids(&p.replicas),
                ids(&p.isr)
            );
        }
    }
    Ok(())
}
