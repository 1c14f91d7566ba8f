//! A console consumer: prints one record value per line, like `kafka-console-consumer`.
//!
//! Only values go to stdout (so it pipes into `wc -l`, `jq`, `head`); rebalances, commits, lag
//! and the final count go to stderr.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use ch05_consumers::{
    Logged, LoggedConsumer, assign_at, assign_from_timestamp, consumer_config, lag,
    topic_partitions,
};
use clap::Parser;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset};
use tokio::sync::watch;
use workbook_support::{Env, names};

/// Read records from a Kafka topic and print their values, one per line.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The topic to read.
    #[arg(short, long, default_value = "quickstart-events")]
    topic: String,
    /// Join this consumer group: share the partitions with its other members and commit offsets,
    /// so the next run continues where this one stopped. Without it:
    /// a throw-away group, no commits.
    #[arg(short, long)]
    group: Option<String>,
    /// When the group has no committed offset, start at the oldest record instead of the newest
    /// (auto.offset.reset=earliest).
    #[arg(long)]
    from_beginning: bool,
    /// Stop after this many records.
    #[arg(long, value_name = "N")]
    max_messages: Option<usize>,
    /// Stop when no record arrives for this long (ms). Without it, wait for more forever.
    #[arg(long, value_name = "MS")]
    timeout_ms: Option<u64>,
    /// Print `key<TAB>value` instead of just the value.
    #[arg(long)]
    print_key: bool,
    /// Run N members of the group in this process, to watch them split the partitions.
    #[arg(long, default_value_t = 1, value_name = "N")]
    members: usize,
    /// Read only this partition (assign, no group rebalance); with --offset, from that offset.
    #[arg(long)]
    partition: Option<i32>,
    /// With --partition: the offset to start at.
    #[arg(long, requires = "partition")]
    offset: Option<i64>,
    /// Start every partition at the first record at or after this time (ms since 1970).
    #[arg(long, value_name = "MS", conflicts_with = "partition")]
    from_timestamp: Option<i64>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let partitions = topic_partitions(&env, &args.topic).await?;
    // Without --group, use a throw-away group and never commit, as kafka-console-consumer does.
    let (group, commit) = match &args.group {
        Some(group) => (group.clone(), true),
        None => (names::unique("console-consumer"), false),
    };
    let assigned = args.partition.is_some() || args.from_timestamp.is_some();
    if assigned && args.members > 1 {
        bail!("--members needs subscribe mode: drop --partition/--from-timestamp");
    }
    eprintln!(
        "reading {} ({partitions} partition(s)) as group {group}{}",
        args.topic,
        if commit { ", committing after printing" } else { ", not committing" }
    );

    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("interrupted");
            let _ = stop_tx.send(true);
        }
    });

    let mut consumers = Vec::new();
    for n in 1..=args.members {
        let member = if args.members == 1 { "consumer".to_string() } else { format!("member-{n}") };
        let consumer: LoggedConsumer = consumer_config(&env, &group, args.from_beginning, commit)
            .create_with_context(Logged { member })
            .context("creating the consumer")?;
        match (args.partition, args.from_timestamp) {
            (Some(p), _) => {
                if p < 0 || p as usize >= partitions {
                    bail!("{} has partitions 0..{}, not {p}", args.topic, partitions - 1);
                }
                let offset = args.offset.map_or(
                    if args.from_beginning { Offset::Beginning } else { Offset::End },
                    Offset::Offset,
                );
                assign_at(&consumer, &args.topic, p, offset)?;
            }
            (None, Some(ts)) => assign_from_timestamp(&consumer, &args.topic, partitions, ts)?,
            (None, None) => consumer.subscribe(&[&args.topic]).context("subscribing")?,
        }
        consumers.push(consumer);
    }

    let count = AtomicUsize::new(0);
    let runs = consumers.iter().map(|c| consume(c, &args, &count, commit, stop.clone()));
    let per_member = futures::future::try_join_all(runs).await?;

    for consumer in &consumers {
        if commit {
            // Commit what was stored since the last background commit, and wait for the answer.
            match consumer.commit_consumer_state(CommitMode::Sync) {
                Err(KafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) | Ok(()) => {}
                Err(e) => return Err(e).context("committing offsets"),
            }
        }
    }
    if args.members > 1 {
        for (consumer, n) in consumers.iter().zip(&per_member) {
            eprintln!("{} read {n} record(s)", consumer.context().member);
        }
    }
    eprintln!("Processed a total of {} messages", per_member.iter().sum::<usize>());
    if commit && !assigned {
        eprintln!(
            "{:<10} {:>15} {:>15} {:>6}",
            "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"
        );
        let consumer = &consumers[0];
        let lags = tokio::task::block_in_place(|| lag(consumer, &args.topic, partitions))?;
        for l in lags {
            let committed = l.committed.map_or("-".to_string(), |o| o.to_string());
            eprintln!("{:<10} {committed:>15} {:>15} {:>6}", l.partition, l.end, l.lag);
        }
    }
    Ok(())
}

// ANCHOR: consume
/// Prints records until --max-messages, --timeout-ms or Ctrl-C; returns how many it printed.
async fn consume(
    consumer: &LoggedConsumer,
    args: &Args,
    count: &AtomicUsize,
    commit: bool,
    mut stop: watch::Receiver<bool>,
) -> Result<usize> {
    let idle = args.timeout_ms.map(Duration::from_millis).unwrap_or(Duration::MAX);
    let mut printed = 0;
    loop {
        if args.max_messages.is_some_and(|max| count.load(Ordering::SeqCst) >= max) {
            return Ok(printed);
        }
        let message = tokio::select! {
            next = tokio::time::timeout(idle, consumer.recv()) => match next {
                Ok(message) => message.context("reading from Kafka")?,
                Err(_) => {
                    let member = &consumer.context().member;
                    eprintln!("[{member}] no record for {} ms, stopping", idle.as_millis());
                    return Ok(printed);
                }
            },
            _ = stop.changed() => return Ok(printed),
        };
        // Several members share --max-messages: take a ticket first.
        if args.max_messages.is_some_and(|max| count.fetch_add(1, Ordering::SeqCst) >= max) {
            return Ok(printed);
        }
        let value = String::from_utf8_lossy(message.payload().unwrap_or_default());
        let line = match (args.print_key, message.key()) {
            (true, Some(key)) => format!("{}\t{value}", String::from_utf8_lossy(key)),
            (true, None) => format!("null\t{value}"),
            (false, _) => value.into_owned(),
        };
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
            // `| head -3` closed the pipe: stop quietly, like any Unix tool.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(printed);
            }
            return Err(e).context("writing to stdout");
        }
        printed += 1;
        if commit {
            // Processed (printed): only now mark it for the next commit. A crash before this
            // line means the record is read again: at-least-once.
            consumer.store_offset_from_message(&message).context("storing the offset")?;
        }
    }
}
// ANCHOR_END: consume
