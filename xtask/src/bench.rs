//! `cargo xtask bench`: the workbook's performance claims, measured.
//!
//! Every number is a ratio against a reference measured in the same run on the same broker,
//! so a slow or busy machine moves both sides and the ratio stays meaningful:
//!
//! - chapter 4's producer (many sends in flight) vs Kafka's own `kafka-producer-perf-test`;
//! - awaiting each send in turn vs keeping sends in flight (why chapter 4 insists on it);
//! - a Rust consumer vs Kafka's own `kafka-consumer-perf-test`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch04_producers::{ProducerSettings, bench_records, producer_config, send_in_flight, send_one_by_one};
use clap::Args;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;
use workbook_support::{Env, kafka, names};

use crate::backend;
use crate::layout::Layout;
use crate::state::State;

#[derive(Args, Debug)]
pub struct BenchOptions {
    /// Records per throughput run (about 100 bytes each).
    #[arg(long, default_value_t = 200_000)]
    pub records: usize,
    /// Records for the one-send-at-a-time run (slow by design: a few ms each).
    #[arg(long, default_value_t = 1_000)]
    pub one_by_one: usize,
}

/// One measured line of the report.
struct Measured {
    what: &'static str,
    records_per_second: f64,
}

/// Targets, as ratios: (what, measured ratio, target, higher is better).
struct Target {
    claim: &'static str,
    ratio: f64,
    at_least: f64,
}

pub async fn run(options: &BenchOptions) -> Result<()> {
    let env = backend::ensure_up().await?;
    let state = State::load(&Layout::current().state_file())?.context("the environment is not recorded")?;
    let topic = names::unique("bench");
    kafka::create_topic(&env, &topic, 3).await?;
    let result = measure(&env, &state, &topic, options).await;
    kafka::delete_topics(&env, &[&topic]).await?;
    let (measured, targets) = result?;
    report(&measured, &targets, options);
    Ok(())
}

async fn measure(
    env: &Env,
    state: &State,
    topic: &str,
    options: &BenchOptions,
) -> Result<(Vec<Measured>, Vec<Target>)> {
    let n = options.records;
    println!("Producing {n} records of ~100 bytes to {topic} (3 partitions, acks=all, idempotent, linger.ms=5)");
    let java_producer = java_producer_rate(state, topic, n)?;
    let producer: FutureProducer = producer_config(env, &ProducerSettings::default()).create()?;
    let records = bench_records(n);
    let rust_producer = rate(n, send_in_flight(&producer, topic, &records, 10_000)).await?;
    let slow = &records[..options.one_by_one.min(n)];
    let one_by_one = rate(slow.len(), send_one_by_one(&producer, topic, slow)).await?;

    // The topic now holds 2n + one_by_one records; both consumers read the first n.
    println!("Consuming {n} records from the beginning");
    let java_consumer = java_consumer_rate(state, topic, n)?;
    let rust_consumer = rust_consumer_rate(env, topic, n).await?;

    let measured = vec![
        Measured { what: "kafka-producer-perf-test (Java, reference)", records_per_second: java_producer },
        Measured { what: "chapter 4 producer, 10k sends in flight", records_per_second: rust_producer },
        Measured { what: "chapter 4 producer, awaiting each send", records_per_second: one_by_one },
        Measured { what: "kafka-consumer-perf-test (Java, reference)", records_per_second: java_consumer },
        Measured { what: "Rust consumer (rdkafka BaseConsumer)", records_per_second: rust_consumer },
    ];
    let targets = vec![
        Target { claim: "Rust producer vs Java perf tool", ratio: rust_producer / java_producer, at_least: 0.8 },
        Target { claim: "in flight vs awaiting each send", ratio: rust_producer / one_by_one, at_least: 10.0 },
        Target { claim: "Rust consumer vs Java perf tool", ratio: rust_consumer / java_consumer, at_least: 0.8 },
    ];
    Ok((measured, targets))
}

async fn rate(n: usize, work: impl Future<Output = Result<()>>) -> Result<f64> {
    let started = Instant::now();
    work.await?;
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// `kafka-producer-perf-test`: its last line says `… records sent, 123456.7 records/sec (…)`.
fn java_producer_rate(state: &State, topic: &str, n: usize) -> Result<f64> {
    let args = ["--topic", topic, "--num-records", &n.to_string(), "--record-size", "100", "--throughput", "-1"];
    let output = run_tool(state, "kafka-producer-perf-test", &args)?;
    parse_producer_perf(&output)
}

/// `kafka-consumer-perf-test`: a CSV header, then one line whose 6th column is records/s.
fn java_consumer_rate(state: &State, topic: &str, n: usize) -> Result<f64> {
    let group = names::unique("bench-java");
    let args = ["--topic", topic, "--num-records", &n.to_string(), "--group", &group, "--timeout", "60000"];
    let output = run_tool(state, "kafka-consumer-perf-test", &args)?;
    parse_consumer_perf(&output)
}

fn run_tool(state: &State, tool: &str, args: &[&str]) -> Result<String> {
    let env = Env::load()?;
    let mut full = vec!["--bootstrap-server".to_string(), env.bootstrap_servers];
    full.extend(args.iter().map(|a| a.to_string()));
    crate::cli::capture(state, tool, &full)
}

/// Reads `n` records from the start of `topic` with librdkafka's defaults, as fast as it can.
async fn rust_consumer_rate(env: &Env, topic: &str, n: usize) -> Result<f64> {
    let (env, topic) = (env.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = kafka::consumer_config(&env, &names::unique("bench-rust")).create()?;
        consumer.subscribe(&[&topic])?;
        let started = Instant::now();
        let deadline = started + Duration::from_secs(120);
        let mut seen = 0;
        while seen < n {
            if Instant::now() > deadline {
                bail!("read only {seen} of {n} records in 120 s");
            }
            if let Some(message) = consumer.poll(Duration::from_millis(100)) {
                message?;
                seen += 1;
            }
        }
        Ok(n as f64 / started.elapsed().as_secs_f64())
    })
    .await?
}

pub fn parse_producer_perf(output: &str) -> Result<f64> {
    let last = output
        .lines()
        .rev()
        .find(|l| l.contains("records sent"))
        .context("no summary line from kafka-producer-perf-test")?;
    let before = last.split(" records/sec").next().context("no records/sec")?;
    let number = before.rsplit(", ").next().unwrap_or(before).trim();
    number.parse().with_context(|| format!("reading records/sec from {last:?}"))
}

pub fn parse_consumer_perf(output: &str) -> Result<f64> {
    let mut lines = output.lines().filter(|l| l.contains(','));
    let header = lines.next().context("no header from kafka-consumer-perf-test")?;
    let column = header.split(',').position(|c| c.trim() == "nMsg.sec").context("no nMsg.sec column")?;
    let values = lines.next().context("no values from kafka-consumer-perf-test")?;
    let value = values.split(',').nth(column).context("short values line")?.trim();
    value.parse().with_context(|| format!("reading nMsg.sec from {values:?}"))
}

fn report(measured: &[Measured], targets: &[Target], options: &BenchOptions) {
    println!("\n{:<46} {:>14}", "measured", "records/s");
    for m in measured {
        println!("{:<46} {:>14.0}", m.what, m.records_per_second);
    }
    println!("\n{:<36} {:>8} {:>8}  verdict", "claim", "ratio", "target");
    for t in targets {
        let verdict = if t.ratio >= t.at_least { "met" } else { "MISSED" };
        println!("{:<36} {:>7.2}x {:>7.1}x  {verdict}", t.claim, t.ratio, t.at_least);
    }
    if let Ok(Some(state)) = State::load(&Layout::current().state_file()) {
        let peak: u64 = state.components.iter().filter_map(|c| crate::process::peak_rss_kib(c.pid?)).sum();
        if peak > 0 {
            println!("\nenvironment memory high-water mark: {} MiB (target ≤ 1536 MiB)", peak / 1024);
        }
    }
    println!("({} records per throughput run, {} awaited one by one)", options.records, options.one_by_one);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_producer_perf_summary() {
        let output = "100 records sent, 20.0 records/sec\n200000 records sent, 123456.7 records/sec (11.77 MB/sec), 12.34 ms avg latency, 300.00 ms max latency.\n";
        assert_eq!(parse_producer_perf(output).unwrap(), 123456.7);
    }

    #[test]
    fn reads_the_consumer_perf_columns() {
        let output = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n2026-11-27 00:01:02:003, 2026-11-27 00:01:03:004, 19.0735, 19.05, 200000, 199800.2, 300, 701, 27.2, 285306.7\n";
        assert_eq!(parse_consumer_perf(output).unwrap(), 199800.2);
    }
}
