//! `cargo run -p ch03-topics`: a topic's whole life with the AdminClient.

use anyhow::{Result, bail};
use ch03_topics::{
    Description, add_partitions, create_topic, delete_topic, describe_topic, has_leaders,
    list_topics, wait_for_topic,
};
use clap::Parser;
use workbook_support::{Env, kafka};

/// Creates a topic, lists the topics, describes it, grows its partition count and deletes it
/// again, with the AdminClient: what `kafka-topics --create/--list/--describe/--alter/--delete` do.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The topic to create (it must not exist yet).
    #[arg(short, long, default_value = "ch03-demo")]
    topic: String,
    /// Partitions to create it with: the unit of parallelism and of ordering.
    #[arg(short, long, default_value_t = 3)]
    partitions: i32,
    /// Copies of each partition, on different brokers (at most the number of brokers).
    #[arg(short, long, default_value_t = 1)]
    replication_factor: i32,
    /// Partition count to grow to afterwards (partitions can only be added).
    #[arg(short, long, default_value_t = 6)]
    grow_to: i32,
    /// Keep the topic at the end instead of deleting it (to look at it on disk).
    #[arg(short, long)]
    keep: bool,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let admin = kafka::admin(&env)?;
    let topic = args.topic.as_str();

    if list_topics(&env).await?.iter().any(|t| t == topic) {
        bail!(
            "topic {topic} already exists (a run with --keep?). Delete it with \
             `cargo xtask cli kafka-topics --delete --topic {topic}`, or pass another --topic"
        );
    }

    // Topic-level settings override the broker's defaults for this topic only.
    let configs = [("retention.ms", "86400000"), ("cleanup.policy", "delete")];
    println!(
        "1. create   {topic}: {} partitions, replication factor {}, retention.ms=86400000 (1 day)",
        args.partitions, args.replication_factor
    );
    create_topic(&admin, topic, args.partitions, args.replication_factor, &configs).await?;
    let partitions = args.partitions as usize;
    wait_for_topic(&env, topic, "every partition has a leader", |t| {
        t.is_some_and(|t| has_leaders(t, partitions))
    })
    .await?;

    let names = list_topics(&env).await?;
    let listed = names.iter().any(|name| name == topic);
    println!("2. list     {} topics (internal ones hidden); {topic} listed: {listed}", names.len());

    println!("3. describe");
    print_description(&describe_topic(&admin, &env, topic).await?);

    if args.grow_to > args.partitions {
        println!("4. alter    partitions {} -> {}", args.partitions, args.grow_to);
        add_partitions(&admin, topic, args.grow_to as usize).await?;
        let grown = args.grow_to as usize;
        wait_for_topic(&env, topic, "the new partitions have leaders", |t| {
            t.is_some_and(|t| has_leaders(t, grown))
        })
        .await?;
        print_description(&describe_topic(&admin, &env, topic).await?);
        println!("   shrinking back to {} is refused:", args.partitions);
        match add_partitions(&admin, topic, args.partitions as usize).await {
            Ok(()) => bail!("the broker accepted fewer partitions, which Kafka never does"),
            Err(e) => println!("   {e:#}"),
        }
    }

    if args.keep {
        println!(
            "5. keep     {topic} (delete it later with \
             `cargo xtask cli kafka-topics --delete --topic {topic}`)"
        );
    } else {
        println!("5. delete   {topic}");
        delete_topic(&admin, topic).await?;
        wait_for_topic(&env, topic, "the topic is gone", |t| t.is_none()).await?;
        println!("   gone from the metadata");
    }
    Ok(())
}

fn print_description(description: &Description) {
    let topic = &description.topic;
    let overrides: Vec<String> =
        description.overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "   {}: {} partition(s), configs: {}",
        topic.name,
        topic.partitions.len(),
        overrides.join(", ")
    );
    for p in &topic.partitions {
        let list = |ids: &[i32]| ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
        println!(
            "     partition {}  leader {}  replicas {}  isr {}",
            p.id,
            p.leader,
            list(&p.replicas),
            list(&p.isr)
        );
    }
}
