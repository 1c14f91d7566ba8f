//! A console producer: every line of stdin becomes one record, like `kafka-console-producer`.
//!
//! stdout stays empty (nothing but data ever goes there); what the producer does goes to stderr.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch04_producers::{
    InFlight, ProducerSettings, Report, bench_records, create_topic, delete_topics, parse_line,
    producer_config, send_in_flight, send_one_by_one, timed, topic_partitions,
};
use clap::Parser;
use rdkafka::producer::FutureProducer;
use tokio::io::{AsyncBufReadExt, BufReader};
use workbook_support::{Env, names};

/// Send lines of stdin to a Kafka topic, one record per line.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// The topic to write to. It must exist (the workbook's broker does not auto-create topics).
    #[arg(short, long, default_value = "quickstart-events")]
    topic: String,
    /// Split each line into key and value at the first occurrence of this string (e.g. `:`).
    /// Without it, records have no key and the producer spreads them over the partitions.
    #[arg(long)]
    key_separator: Option<String>,
    // --acks, --linger-ms, --batch-size, --compression, --idempotence: chapter 4's typed settings.
    #[command(flatten)]
    settings: ProducerSettings,
    /// The most records awaiting their delivery report at once.
    #[arg(long, default_value_t = 1000)]
    max_in_flight: usize,
    /// Print every record's delivery report (partition and offset) to stderr.
    #[arg(long)]
    report: bool,
    /// Instead of reading stdin: send N records to a fresh topic three ways and time them.
    #[arg(long, value_name = "N")]
    bench: Option<usize>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let settings = args.settings;
    settings.check()?;
    match args.bench {
        Some(n) => bench(&env, &settings, n, args.max_in_flight).await,
        None => console(&env, &settings, &args).await,
    }
}

async fn console(env: &Env, settings: &ProducerSettings, args: &Args) -> Result<()> {
    let partitions = topic_partitions(env, &args.topic).await?;
    let producer: FutureProducer =
        producer_config(env, settings).create().context("creating the producer")?;
    eprintln!(
        "producing to {} ({partitions} partition(s)) at {}: \
         acks={}, linger.ms={}, compression={}, idempotence={}",
        args.topic,
        env.bootstrap_servers,
        settings.acks.as_config(),
        settings.linger_ms,
        settings.compression.as_config(),
        settings.idempotence,
    );
    eprintln!("type one record per line; Ctrl-D ends, Ctrl-C stops");

    let started = Instant::now();
    let mut keys: Vec<Option<String>> = Vec::new();
    let mut reports = Vec::new();
    let mut in_flight = InFlight::new(&producer, args.max_in_flight);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let line = tokio::select! {
            line = lines.next_line() => line.context("reading stdin")?,
            _ = &mut ctrl_c => { eprintln!("interrupted: delivering what was already sent"); None }
        };
        let Some(line) = line else { break };
        let (key, value) = match parse_line(&line, args.key_separator.as_deref()) {
            Ok(parsed) => parsed,
            Err(e) => {
                eprintln!("skipped: {e}");
                continue;
            }
        };
        keys.push(key.map(str::to_string));
        reports.extend(in_flight.send(&args.topic, key, value).await);
    }
    reports.extend(in_flight.finish(Duration::from_secs(30)).await?);
    summarize(&mut reports, &keys, args.report, started.elapsed())
}

fn summarize(
    reports: &mut [Report],
    keys: &[Option<String>],
    each: bool,
    elapsed: Duration,
) -> Result<()> {
    reports.sort_by_key(|r| r.seq);
    let mut failed = 0;
    let mut unacknowledged = 0;
    let mut per_partition: BTreeMap<i32, (i64, i64, usize)> = BTreeMap::new();
    for report in reports.iter() {
        let key = keys.get(report.seq as usize).cloned().flatten();
        let key = key.as_deref().map_or("(none)".to_string(), |k| format!("{k:?}"));
        match &report.result {
            Ok((partition, offset)) if *offset < 0 => {
                // acks=0: the broker sends no answer, so nobody knows the offset
                // (librdkafka reports a negative placeholder). "Delivered" here only
                // means "handed to the socket".
                if each {
                    eprintln!(
                        "record {} key={key} -> partition {partition}, offset unknown (acks=0)",
                        report.seq
                    );
                }
                unacknowledged += 1;
            }
            Ok((partition, offset)) => {
                if each {
                    eprintln!(
                        "record {} key={key} -> partition {partition}, offset {offset}",
                        report.seq
                    );
                }
                let entry = per_partition.entry(*partition).or_insert((*offset, *offset, 0));
                entry.0 = entry.0.min(*offset);
                entry.1 = entry.1.max(*offset);
                entry.2 += 1;
            }
            Err(e) => {
                failed += 1;
                eprintln!("record {} key={key} NOT delivered: {e}", report.seq);
            }
        }
    }
    let delivered = reports.len() - failed - unacknowledged;
    eprintln!("{delivered} record(s) delivered in {:.2} s", elapsed.as_secs_f64());
    if unacknowledged > 0 {
        eprintln!(
            "{unacknowledged} record(s) sent without acknowledgement (acks=0): \
             written or lost, nobody knows"
        );
    }
    for (partition, (first, last, count)) in per_partition {
        eprintln!("  partition {partition}: {count} record(s), offsets {first}..={last}");
    }
    if failed > 0 {
        bail!("{failed} record(s) were not delivered");
    }
    Ok(())
}

async fn bench(
    env: &Env,
    settings: &ProducerSettings,
    n: usize,
    max_in_flight: usize,
) -> Result<()> {
    let records = bench_records(n);
    let topic = names::unique("ch04-bench");
    create_topic(env, &topic, 3).await?;
    eprintln!(
        "benchmark: {n} records of ~100 bytes, 16 keys, to a new 3-partition topic {topic}; \
         acks={}, linger.ms={}, compression={}, idempotence={}",
        settings.acks.as_config(),
        settings.linger_ms,
        settings.compression.as_config(),
        settings.idempotence
    );
    let result = async {
        let producer: FutureProducer =
            producer_config(env, settings).create().context("creating the producer")?;
        // Connect and learn the partition leaders before the clock starts.
        send_one_by_one(&producer, &topic, &records[..1]).await?;
        println!("{:<34} {:>10} {:>14}", "method", "seconds", "records/s");
        for in_flight in [None, Some(max_in_flight)] {
            let (label, (elapsed, rate)) = match in_flight {
                None => (
                    "await each send in turn".to_string(),
                    timed(n, send_one_by_one(&producer, &topic, &records)).await?,
                ),
                Some(max) => (
                    format!("in flight, at most {max}"),
                    timed(n, send_in_flight(&producer, &topic, &records, max)).await?,
                ),
            };
            println!("{label:<34} {:>10.2} {rate:>14.0}", elapsed.as_secs_f64());
        }
        anyhow::Ok(())
    }
    .await;
    delete_topics(env, &[&topic]).await?;
    result
}
