//! `cargo run -p ch02-brokers`: what the cluster says about itself.

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};

use anyhow::Result;
use ch02_brokers::{fetch, ids, is_internal, metadata_controller_samples};
use clap::Parser;
use workbook_support::{Env, kafka};

// Your answers to this chapter's exercises: the table's LEADER column comes from `leader_of`,
// its "(under-replicated)" marks from `under_replicated`.
#[path = "exercises.rs"]
mod exercises;

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
        tokio::task::spawn_blocking(move || {
            metadata_controller_samples(&env, n, kafka::METADATA_TIMEOUT)
        })
        .await??
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
        anyhow::bail!(
            "topic {wanted} does not exist (cargo xtask cli kafka-topics --list shows the topics)"
        );
    }
    let hidden = if args.internal || args.topic.is_some() {
        ""
    } else {
        ", internal topics hidden (--internal)"
    };
    println!("\nTopics ({}{hidden}):", topics.len());
    let width = topics.iter().map(|t| t.name.len()).max().unwrap_or(5).max(5);
    println!("  {:<width$}  PARTITION  LEADER  REPLICAS  ISR", "TOPIC");
    // Exercises not written yet (or that panic) leave a `?` or no mark, and a note below the table.
    let mut notes = BTreeSet::new();
    let lagging = yours("under_replicated", || exercises::under_replicated(&cluster))
        .unwrap_or_else(|note| {
            notes.insert(note);
            Vec::new()
        });
    for topic in topics {
        for p in &topic.partitions {
            let leader =
                match yours("leader_of", || exercises::leader_of(&cluster, &topic.name, p.id)) {
                    Ok(Some(id)) => id.to_string(),
                    Ok(None) => "none".to_string(),
                    Err(note) => {
                        notes.insert(note);
                        "?".to_string()
                    }
                };
            let under = lagging.iter().any(|(name, id)| name == &topic.name && *id == p.id);
            let lagging = if under { "  (under-replicated)" } else { "" };
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
    for note in notes {
        println!("  note: {note}");
    }
    Ok(())
}

/// Runs one of your exercise functions, or says why it gave no answer: it is still a `todo!()`,
/// or it panicked. (The panic message is kept for the note, not printed once per row.)
fn yours<T>(exercise: &str, answer: impl FnOnce() -> T) -> Result<T, String> {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = catch_unwind(AssertUnwindSafe(answer));
    std::panic::set_hook(hook);
    result.map_err(|panic| {
        let message = panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
        let message = message.unwrap_or_default();
        if message.starts_with("not yet implemented") {
            format!(
                "`{exercise}` in chapters/ch02-brokers/src/exercises.rs is still a todo!() \
                 (cargo xtask check ch02)"
            )
        } else {
            format!("`{exercise}` in chapters/ch02-brokers/src/exercises.rs panicked: {message}")
        }
    })
}
