//! Running totals per account, consumed, computed and produced; crashed mid-batch and restarted,
//! once without transactions and once with them. Counts what a read_committed consumer sees.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use anyhow::{Context, Result};
use ch06_processing::{
    CrashPoint, Job, RunStats, create_topic, delete_topics, read_committed, run_at_least_once,
    run_exactly_once,
};
use clap::{Parser, ValueEnum};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use workbook_support::{Env, kafka, names};

/// Crash a consume-transform-produce job mid-batch, restart it, and count its output.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Which job(s) to run.
    #[arg(long, value_enum, default_value = "both")]
    mode: Mode,
    /// Input records to process (amounts for the accounts alice, bob and carol, in turn).
    #[arg(long, default_value_t = 10)]
    records: usize,
    /// Input records per batch (per transaction, or per offset commit).
    #[arg(long, default_value_t = 5)]
    batch: usize,
    /// Crash the first run after this many output records (0: no crash).
    #[arg(long, default_value_t = 7)]
    crash_after: usize,
    /// Keep the demo's topics instead of deleting them at the end.
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    AtLeastOnce,
    ExactlyOnce,
    Both,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    // Fails within seconds with a clear message when the broker is not there.
    kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await?;
    let modes: &[Mode] = match args.mode {
        Mode::Both => &[Mode::AtLeastOnce, Mode::ExactlyOnce],
        Mode::AtLeastOnce => &[Mode::AtLeastOnce],
        Mode::ExactlyOnce => &[Mode::ExactlyOnce],
    };
    for &mode in modes {
        demo(&env, &args, mode).await?;
    }
    Ok(())
}

async fn demo(env: &Env, args: &Args, mode: Mode) -> Result<()> {
    let label = if mode == Mode::ExactlyOnce { "exactly-once" } else { "at-least-once" };
    let job = Job {
        input: names::unique(&format!("ch06-{label}-in")),
        output: names::unique(&format!("ch06-{label}-totals")),
        group: names::unique(&format!("ch06-{label}")),
        transactional_id: names::unique(&format!("ch06-{label}")),
        batch: args.batch,
    };
    create_topic(env, &job.input, 1).await?;
    create_topic(env, &job.output, 1).await?;
    let expected = write_input(env, &job.input, args.records).await?;

    println!(
        "== {label}: {} input records, batches of {}, {} -> {}",
        args.records, args.batch, job.input, job.output
    );
    let crash = if args.crash_after == 0 {
        CrashPoint::never()
    } else {
        CrashPoint::after(args.crash_after)
    };
    match run(env, &job, &crash, mode).await {
        Ok(stats) => println!(
            "run 1: started at input offset {}, processed {}",
            stats.started_at, stats.processed
        ),
        Err(e) => println!("run 1: {e:#}"),
    }
    let stats = run(env, &job, &CrashPoint::never(), mode).await?;
    println!(
        "run 2: started at input offset {}, processed {}, then idle",
        stats.started_at, stats.processed
    );

    let seen = read_committed(env, &job.output).await?;
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in &seen {
        last.insert(key.clone(), value.clone());
    }
    let totals: Vec<String> = last.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let want: Vec<String> = expected.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!(
        "a read_committed consumer sees {} output records (one per input record: {}); \
         final totals {} (correct: {})",
        seen.len(),
        args.records,
        totals.join(" "),
        want.join(" ")
    );
    let verdict =
        if seen.len() == args.records && totals == want { "exactly once" } else { "DUPLICATES" };
    println!("verdict: {verdict}\n");
    if !args.keep {
        delete_topics(env, &[&job.input, &job.output]).await?;
    }
    Ok(())
}

async fn run(env: &Env, job: &Job, crash: &CrashPoint, mode: Mode) -> Result<RunStats> {
    match mode {
        Mode::ExactlyOnce => run_exactly_once(env, job, crash).await,
        _ => run_at_least_once(env, job, crash).await,
    }
}

/// Writes `n` amounts (1, 2, 3, ...) for alice, bob, carol in turn; returns the correct totals.
async fn write_input(env: &Env, topic: &str, n: usize) -> Result<BTreeMap<String, i64>> {
    let producer: FutureProducer = kafka::producer_config(env).create()?;
    let mut totals: HashMap<String, i64> = HashMap::new();
    for i in 0..n {
        let key = ["alice", "bob", "carol"][i % 3];
        let amount = (i + 1) as i64;
        *totals.entry(key.to_string()).or_default() += amount;
        producer
            .send(
                FutureRecord::to(topic).key(key).payload(&amount.to_string()),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .context("writing the input")?;
    }
    producer.flush(Duration::from_secs(10))?;
    Ok(totals.into_iter().collect())
}
