//! `cargo xtask bench`: the workbook's performance claims, measured.
//!
//! Every claim is a ratio against Kafka's own perf tools measured in the same run, on the same
//! broker, over the same window, so that a slow or busy machine moves both sides:
//!
//! - the Rust producer (chapter 4's config and records, delivery callbacks) vs
//!   `kafka-producer-perf-test`, acks=all and idempotent: at least 1.5×;
//! - the Rust consumer (chapter 14's config, subscribed like the Java tool) vs
//!   `kafka-consumer-perf-test`: at least 1.2×;
//! - chapter 4's sends kept in flight vs awaiting each send: at least 10×.
//!
//! It also shows chapter 4's `InFlight` (a future per record) and chapter 14's end-to-end latency
//! at a fixed rate. The Rust side is chapter 14's `bench-client`, built with optimizations and run
//! as a process of its own: xtask depends on no chapter, so a learner's broken chapter can fail
//! the bench but never `cargo xtask`. The method is printed by `print_method` and written out on
//! chapter 14's page.

mod client;
mod first_contact;
mod java;
mod stats;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde_json::{Value, json};
use workbook_support::{Env, kafka, names};

use self::client::{Client, number};
use self::stats::{Series, paired_ratios};
use crate::backend;
use crate::layout::Layout;
use crate::state::State;

/// The claims, as ratios (Rust / reference).
const PRODUCER_TARGET: f64 = 1.5;
const CONSUMER_TARGET: f64 = 1.2;
const IN_FLIGHT_TARGET: f64 = 10.0;

/// The value bytes of chapter 4's `bench_records`. kafka-producer-perf-test sends values without
/// keys, so the Rust producer here leaves the keys out too: the same records on both sides. (Keys
/// spread records over every partition at once, which fills smaller batches at the same linger.ms.)
const RECORD_BYTES: usize = 96;

#[derive(Args, Debug)]
pub struct BenchOptions {
    /// Measure a learner's first contact instead: cold `cargo xtask up` from a fresh clone (build,
    /// downloads, start), then warm `up`, next to the running environment on other ports.
    #[arg(long, conflicts_with = "quick")]
    pub first_contact: bool,
    /// A short run that proves the bench works (for CI): 50,000 records, one repetition, a debug
    /// build of the bench client, a 2 s latency run. Targets are shown but do not fail the run.
    #[arg(long)]
    pub quick: bool,
    /// Records measured per throughput run [default: 10,000,000, about 10 s per run on 2 cores; --quick: 50,000].
    #[arg(long)]
    pub records: Option<u64>,
    /// Records each producer sends before its measured window [default: a tenth of --records].
    #[arg(long)]
    pub warmup_records: Option<u64>,
    /// Repetitions of every throughput measurement, alternating which side goes first [default: 3; --quick: 1].
    #[arg(long)]
    pub repeat: Option<usize>,
    /// Partitions of every bench topic.
    #[arg(long, default_value_t = 3)]
    pub partitions: i32,
    /// Producer linger.ms, on both sides.
    #[arg(long, default_value_t = 5)]
    pub linger_ms: u64,
    /// Producer batch.size in bytes, on both sides (librdkafka's default; Java's is 16384).
    #[arg(long, default_value_t = 1_000_000)]
    pub batch_size: u64,
    /// Producer compression, on both sides. (The two tools' values are not equally compressible
    /// text, so with a codec compare Rust runs with each other rather than with Java.)
    #[arg(long, default_value = "none", value_parser = ["none", "gzip", "snappy", "lz4"])]
    pub compression: String,
    /// Records awaited one by one, for the in-flight claim [default: 300; --quick: 30].
    #[arg(long)]
    pub one_by_one: Option<usize>,
    /// Records per second of the end-to-end latency run.
    #[arg(long, default_value_t = 2000)]
    pub latency_rate: u64,
    /// Seconds measured in the latency run, after a warm-up [default: 10; --quick: 2].
    #[arg(long)]
    pub latency_seconds: Option<u64>,
    /// The cargo profile of the bench client [default: release; --quick: dev].
    #[arg(long)]
    pub profile: Option<String>,
}

impl BenchOptions {
    /// `cargo xtask bench --quick`, as CI runs it.
    pub fn quick() -> BenchOptions {
        BenchOptions {
            first_contact: false,
            quick: true,
            records: None,
            warmup_records: None,
            repeat: None,
            partitions: 3,
            linger_ms: 5,
            batch_size: 1_000_000,
            compression: "none".into(),
            one_by_one: None,
            latency_rate: 2000,
            latency_seconds: None,
            profile: None,
        }
    }
}

/// What one bench run does, with the defaults filled in.
#[derive(Debug, Clone)]
struct Plan {
    quick: bool,
    records: u64,
    warmup: u64,
    repeat: usize,
    partitions: i32,
    producer: java::ProducerSettings,
    one_by_one: usize,
    latency_rate: u64,
    latency_seconds: u64,
    latency_warmup_seconds: u64,
    profile: String,
}

impl Plan {
    fn from(options: &BenchOptions) -> Plan {
        let quick = options.quick;
        let records = options.records.unwrap_or(if quick { 50_000 } else { 10_000_000 }).max(1);
        Plan {
            quick,
            records,
            warmup: options.warmup_records.unwrap_or(records / 10),
            repeat: options.repeat.unwrap_or(if quick { 1 } else { 3 }).max(1),
            partitions: options.partitions,
            producer: java::ProducerSettings {
                linger_ms: options.linger_ms,
                batch_size: options.batch_size,
                compression: options.compression.clone(),
                record_bytes: RECORD_BYTES,
            },
            one_by_one: options.one_by_one.unwrap_or(if quick { 30 } else { 300 }).max(1),
            latency_rate: options.latency_rate.max(1),
            latency_seconds: options.latency_seconds.unwrap_or(if quick { 2 } else { 10 }).max(1),
            latency_warmup_seconds: if quick { 1 } else { 2 },
            profile: options.profile.clone().unwrap_or_else(|| if quick { "dev" } else { "release" }.to_string()),
        }
    }
}

/// Everything one run measured.
#[derive(Debug, Default)]
struct Results {
    java_producer: Series,
    rust_producer: Series,
    rust_producer_futures: Series,
    java_consumer: Series,
    rust_consumer: Series,
    rust_consumer_poll: Series,
    /// CPU seconds (user + system) of each run's whole process, start-up included.
    java_producer_cpu: Series,
    rust_producer_cpu: Series,
    java_consumer_cpu: Series,
    rust_consumer_cpu: Series,
    /// The same consumer runs, clocked from subscribe (the group join included).
    java_consumer_with_join: Series,
    rust_consumer_with_join: Series,
    /// Each run in measuring order, as the tools reported it.
    runs: Vec<Value>,
    one_by_one: f64,
    latency: Value,
}

pub async fn run(options: &BenchOptions) -> Result<()> {
    if options.first_contact {
        return first_contact::run();
    }
    let plan = Plan::from(options);
    let env = backend::ensure_up().await?;
    let state = State::load(&Layout::current().state_file())?.context("the environment is not recorded")?;
    let client = client::build(&plan.profile)?;
    print_method(&plan, &client);
    let load_before = load_average();
    let started = Instant::now();
    let mut topics = Vec::new();
    let measured = measure(&env, &state, &client, &plan, &mut topics).await;
    let names: Vec<&str> = topics.iter().map(String::as_str).collect();
    if let Err(e) = kafka::delete_topics(&env, &names).await {
        eprintln!("warning: could not delete the bench topics {names:?}: {e:#}");
    }
    let results = measured?;
    let load_after = load_average();
    let claims = claims(&results);
    report(&plan, &results, &claims, (load_before, load_after), started.elapsed().as_secs_f64());
    let file = save(&plan, &client, &results, &claims, (load_before, load_after))?;
    println!("results: {}", file.display());
    let missed: Vec<&str> = claims.iter().filter(|c| !c.met()).map(|c| c.claim).collect();
    if missed.is_empty() {
        return Ok(());
    }
    if plan.quick {
        println!("quick mode: {} target(s) missed, not judged (too few records to mean anything)", missed.len());
        return Ok(());
    }
    bail!("target missed: {}", missed.join("; "))
}

/// How each side is measured; printed before every run and written on chapter 14's page.
fn print_method(plan: &Plan, client: &Client) {
    let p = &plan.producer;
    println!(
        "\nMethod: Rust against Kafka's own perf tools, same broker, same run, ratios of medians.\n\
         - Rust: chapter 14's `bench-client` ({} build), one process per run: chapter 4's producer config and\n  \
           records with delivery callbacks (chapter 4's InFlight futures shown too), chapter 14's consumer\n  \
           config polling in batches (one poll() per record shown too), glibc's malloc keeping freed memory.\n\
         - Java: kafka-producer-perf-test and kafka-consumer-perf-test from the broker's jars, with the JVM\n  \
           flags Kafka's own scripts use (C2 JIT, G1, -Xmx512M).\n\
         - Both sides: {} partitions, {}-byte values without keys, acks=all, idempotence, linger.ms={},\n  \
           batch.size={}, compression={}.\n\
         - Producer window: from the send of the first measured record to the last acknowledgement, after\n  \
           {} warm-up records (Java: --warmup-records and its \"steady state\" line). {} records measured.\n\
         - Consumer window: from the moment the consumer owns its partitions (group joined) to the last of\n  \
           {} records, as kafka-consumer-perf-test's fetch.nMsg.sec; both subscribe, each run in a fresh group,\n  \
           to the same topic (the first Rust producer run's).\n\
         - {} repetition(s), alternating which side goes first; spread = (max - min) / median. Also shown:\n  \
           the CPU seconds of each run's process (start-up included), which a busy machine moves less.\n",
        client.profile,
        plan.partitions,
        p.record_bytes,
        p.linger_ms,
        p.batch_size,
        p.compression,
        plan.warmup,
        plan.records,
        plan.records,
        plan.repeat,
    );
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Java,
    /// The bench client with delivery callbacks (the claim).
    Rust,
    /// The bench client with chapter 4's `InFlight` futures (shown, not claimed).
    RustFutures,
    /// The bench client polling one record at a time (shown, not claimed).
    RustPoll,
}

/// Java first in even repetitions, last in odd ones: neither side always gets the warmer page
/// cache or the quieter moment.
fn order(repetition: usize, sides: &[Side]) -> Vec<Side> {
    let mut order = sides.to_vec();
    if !repetition.is_multiple_of(2) {
        order.reverse();
    }
    order
}

async fn measure(env: &Env, state: &State, client: &Client, plan: &Plan, topics: &mut Vec<String>) -> Result<Results> {
    let mut results = Results::default();
    let (n, repeat) = (plan.records, plan.repeat);
    let mut consumer_topic = None;

    println!("producers: {n} records after {} warm-up, {repeat} repetition(s)", plan.warmup);
    for repetition in 0..repeat {
        for side in order(repetition, &[Side::Java, Side::Rust, Side::RustFutures]) {
            let topic = fresh_topic(env, plan, topics, "bench-produce").await?;
            let cpu_before = children_cpu_seconds();
            let (rate, run) = if side == Side::Java {
                let run = java::produce(state, &env.bootstrap_servers, &topic, n, plan.warmup, &plan.producer)?;
                if run.records != n {
                    bail!("kafka-producer-perf-test measured {} records, not {n}", run.records);
                }
                let json =
                    json!({"records_per_sec": run.records_per_sec, "ack_p50_ms": run.p50_ms, "ack_p99_ms": run.p99_ms});
                (run.records_per_sec, json)
            } else {
                let reports = if side == Side::Rust { "callback" } else { "future" };
                let run = client.run(&rust_produce_args(plan, &topic, reports))?;
                let bytes = number(&run, "bytes_per_record")?;
                if (bytes - RECORD_BYTES as f64).abs() > 0.5 {
                    bail!("chapter 4's bench records have {bytes}-byte values, the bench expects {RECORD_BYTES}");
                }
                (number(&run, "records_per_sec")?, run)
            };
            let (what, series) = match side {
                Side::Java => ("kafka-producer-perf-test", &mut results.java_producer),
                Side::Rust => ("Rust producer, callbacks", &mut results.rust_producer),
                _ => ("chapter 4 InFlight, futures", &mut results.rust_producer_futures),
            };
            progress(what, repetition, repeat, rate);
            series.push(rate);
            let cpu = cpu_since(cpu_before);
            match side {
                Side::Java => results.java_producer_cpu.push(cpu),
                Side::Rust => results.rust_producer_cpu.push(cpu),
                _ => {}
            }
            results.runs.push(json!({"what": what, "repetition": repetition + 1, "result": run}));
            if side == Side::Rust && consumer_topic.is_none() {
                // The first topic the Rust producer filled is the one both consumers read.
                consumer_topic = Some(topic);
            } else {
                // The others go now: ten million records are a gigabyte on disk.
                kafka::delete_topics(env, &[&topic]).await?;
                topics.retain(|t| *t != topic);
            }
        }
    }

    let topic = consumer_topic.context("no producer run")?;
    println!("consumers: {n} records from the beginning of {topic}, {repeat} repetition(s)");
    for repetition in 0..repeat {
        for side in order(repetition, &[Side::Java, Side::Rust, Side::RustPoll]) {
            let cpu_before = children_cpu_seconds();
            if side == Side::Java {
                let run = java::consume(state, &env.bootstrap_servers, &topic, n, &names::unique("bench-java"))?;
                progress("kafka-consumer-perf-test", repetition, repeat, run.records_per_sec);
                results.java_consumer.push(run.records_per_sec);
                results.java_consumer_cpu.push(cpu_since(cpu_before));
                results.java_consumer_with_join.push(run.with_join_per_sec);
                results.runs.push(json!({"what": "kafka-consumer-perf-test", "repetition": repetition + 1,
                    "records": run.records, "records_per_sec": run.records_per_sec,
                    "with_join_per_sec": run.with_join_per_sec, "join_ms": run.join_ms}));
                continue;
            }
            let mut args = strings(&["consume", "--topic", &topic, "--records", &n.to_string(), "--subscribe"]);
            if side == Side::Rust {
                args.extend(strings(&["--batch", "1000"]));
            }
            let run = client.run(&args)?;
            let (rate, seconds, join) =
                (number(&run, "records_per_sec")?, number(&run, "seconds")?, number(&run, "join_seconds")?);
            let what = if side == Side::Rust {
                results.rust_consumer.push(rate);
                results.rust_consumer_cpu.push(cpu_since(cpu_before));
                results.rust_consumer_with_join.push(n as f64 / (seconds + join));
                "Rust consumer, batches"
            } else {
                results.rust_consumer_poll.push(rate);
                "Rust consumer, poll per record"
            };
            progress(what, repetition, repeat, rate);
            results.runs.push(json!({"what": what, "repetition": repetition + 1, "result": run}));
        }
    }

    let topic = fresh_topic(env, plan, topics, "bench-one-by-one").await?;
    let run = client.run(&strings(&["one-by-one", "--topic", &topic, "--records", &plan.one_by_one.to_string()]))?;
    results.one_by_one = number(&run, "records_per_sec")?;
    println!("  chapter 4, awaiting each send: {:>19} records/s", thousands(results.one_by_one));
    results.runs.push(json!({"what": "rust-one-by-one", "result": run}));

    println!(
        "latency: {} records/s for {} s after {} s warm-up (chapter 14's measure_latency)",
        plan.latency_rate, plan.latency_seconds, plan.latency_warmup_seconds
    );
    results.latency = client.run(&strings(&[
        "latency",
        "--rate",
        &plan.latency_rate.to_string(),
        "--seconds",
        &plan.latency_seconds.to_string(),
        "--warmup-seconds",
        &plan.latency_warmup_seconds.to_string(),
        "--linger-ms",
        &plan.producer.linger_ms.to_string(),
        "--record-size",
        &RECORD_BYTES.to_string(),
        "--partitions",
        &plan.partitions.to_string(),
    ]))?;
    Ok(results)
}

fn rust_produce_args(plan: &Plan, topic: &str, reports: &str) -> Vec<String> {
    let p = &plan.producer;
    let mut args = strings(&[
        "produce",
        "--reports",
        reports,
        "--topic",
        topic,
        "--records",
        &plan.records.to_string(),
        "--warmup-records",
        &plan.warmup.to_string(),
        "--linger-ms",
        &p.linger_ms.to_string(),
        "--batch-size",
        &p.batch_size.to_string(),
        "--compression",
        &p.compression,
        "--no-keys",
    ]);
    if reports == "future" {
        // Chapter 4's choice for its own benchmark: 10,000 sends in flight.
        args.extend(strings(&["--in-flight", "10000"]));
    }
    args
}

async fn fresh_topic(env: &Env, plan: &Plan, topics: &mut Vec<String>, prefix: &str) -> Result<String> {
    let topic = names::unique(prefix);
    kafka::create_topic(env, &topic, plan.partitions).await?;
    topics.push(topic.clone());
    Ok(topic)
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn progress(what: &str, repetition: usize, repeat: usize, rate: f64) {
    println!("  {}/{repeat} {what:<31} {:>12} records/s", repetition + 1, thousands(rate));
}

/// One claim of the report.
#[derive(Debug, Clone)]
struct Claim {
    claim: &'static str,
    ratio: f64,
    /// The ratios of the paired repetitions (run i against run i).
    paired: Vec<f64>,
    at_least: f64,
}

impl Claim {
    fn met(&self) -> bool {
        self.ratio >= self.at_least
    }
}

fn claims(results: &Results) -> Vec<Claim> {
    let ratio = |rust: &Series, java: &Series| {
        if java.median() > 0.0 { rust.median() / java.median() } else { 0.0 }
    };
    vec![
        Claim {
            claim: "Rust producer vs kafka-producer-perf-test",
            ratio: ratio(&results.rust_producer, &results.java_producer),
            paired: paired_ratios(&results.rust_producer, &results.java_producer),
            at_least: PRODUCER_TARGET,
        },
        Claim {
            claim: "Rust consumer vs kafka-consumer-perf-test",
            ratio: ratio(&results.rust_consumer, &results.java_consumer),
            paired: paired_ratios(&results.rust_consumer, &results.java_consumer),
            at_least: CONSUMER_TARGET,
        },
        Claim {
            claim: "chapter 4: in flight vs awaiting each send",
            ratio: if results.one_by_one > 0.0 {
                results.rust_producer_futures.median() / results.one_by_one
            } else {
                0.0
            },
            paired: Vec::new(),
            at_least: IN_FLIGHT_TARGET,
        },
    ]
}

fn report(plan: &Plan, results: &Results, claims: &[Claim], load: (Option<f64>, Option<f64>), seconds: f64) {
    println!("\n{:<44} {:>12} {:>7}  runs", "records/s", "median", "spread");
    let rows = [
        ("kafka-producer-perf-test (Java)", &results.java_producer),
        ("Rust producer, delivery callbacks", &results.rust_producer),
        ("  chapter 4's InFlight, a future per record", &results.rust_producer_futures),
        ("kafka-consumer-perf-test (Java)", &results.java_consumer),
        ("Rust consumer, batch polling", &results.rust_consumer),
        ("  one poll() per record", &results.rust_consumer_poll),
        ("  Java consumer, group join included", &results.java_consumer_with_join),
        ("  Rust consumer, group join included", &results.rust_consumer_with_join),
    ];
    for (what, series) in rows {
        let runs: Vec<String> = series.runs.iter().map(|r| thousands(*r)).collect();
        println!("{what:<44} {:>12} {:>6.1}%  {}", thousands(series.median()), series.spread() * 100.0, runs.join(" "));
    }
    println!("{:<44} {:>12}", "  chapter 4, awaiting each send", thousands(results.one_by_one));

    if results.java_consumer_cpu.median() > 0.0 {
        println!("\n{:<44} {:>12} {:>7}  runs", "CPU seconds per run (whole process)", "median", "spread");
        let rows = [
            ("kafka-producer-perf-test (Java)", &results.java_producer_cpu),
            ("Rust producer, delivery callbacks", &results.rust_producer_cpu),
            ("kafka-consumer-perf-test (Java)", &results.java_consumer_cpu),
            ("Rust consumer, batch polling", &results.rust_consumer_cpu),
        ];
        for (what, series) in rows {
            let runs: Vec<String> = series.runs.iter().map(|r| format!("{r:.1}")).collect();
            println!("{what:<44} {:>12.1} {:>6.1}%  {}", series.median(), series.spread() * 100.0, runs.join(" "));
        }
    }

    println!("\n{:<44} {:>7} {:>15} {:>7}  verdict", "claim", "ratio", "paired runs", "target");
    for c in claims {
        let paired = match c.paired.iter().copied().reduce(f64::min).zip(c.paired.iter().copied().reduce(f64::max)) {
            Some((lo, hi)) if c.paired.len() > 1 => format!("{lo:.2}-{hi:.2}x"),
            _ => String::new(),
        };
        let verdict = match (c.met(), plan.quick) {
            (true, _) => "met",
            (false, false) => "MISSED",
            (false, true) => "missed (quick: not judged)",
        };
        println!("{:<44} {:>6.2}x {paired:>15} {:>6.1}x  {verdict}", c.claim, c.ratio, c.at_least);
    }

    let l = &results.latency;
    let ms = |field: &str| l[field].as_f64().map_or("-".to_string(), |us| format!("{:.1}", us / 1000.0));
    println!(
        "\nend-to-end latency at {} records/s, linger.ms={}, fetch.min.bytes=1: p50 {} ms, p99 {} ms, max {} ms ({} of {} received)",
        plan.latency_rate,
        plan.producer.linger_ms,
        ms("p50_us"),
        ms("p99_us"),
        ms("max_us"),
        l["received"],
        l["sent"]
    );
    let show = |l: Option<f64>| l.map_or("?".to_string(), |v| format!("{v:.2}"));
    println!(
        "machine: {} cores, load average {} before, {} after; the bench took {seconds:.0} s",
        cores(),
        show(load.0),
        show(load.1)
    );
    if let Some((now, peak)) = environment_memory() {
        println!(
            "environment memory: {} MiB resident now, {} MiB at its peak (target: at most 1024 MiB after the full test suite)",
            now / 1024,
            peak / 1024
        );
    }
}

/// Writes the run as JSON to `.workbook/bench/<unix seconds>.json` and `.workbook/bench/latest.json`.
fn save(
    plan: &Plan,
    client: &Client,
    results: &Results,
    claims: &[Claim],
    load: (Option<f64>, Option<f64>),
) -> Result<std::path::PathBuf> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let series = |s: &Series| json!({"median": s.median(), "spread": s.spread(), "runs": s.runs});
    let p = &plan.producer;
    let document = json!({
        "unix_time": now,
        "quick": plan.quick,
        "machine": {"cores": cores(), "load_before": load.0, "load_after": load.1},
        "method": {
            "rust": format!("chapter 14's bench-client, {} build", client.profile),
            "java": {"jvm": java::PERF_TOOL_JVM},
            "partitions": plan.partitions,
            "record_bytes": p.record_bytes,
            "producer": java::producer_properties(p),
            "records": plan.records,
            "warmup_records": plan.warmup,
            "repetitions": plan.repeat,
            "producer_window": "send of the first measured record -> last acknowledgement (Java: --warmup-records steady state)",
            "consumer_window": "partitions assigned -> last record (Java: fetch.nMsg.sec)",
        },
        "producer": {
            "java": series(&results.java_producer),
            "rust": series(&results.rust_producer),
            "rust_futures": series(&results.rust_producer_futures),
        },
        "consumer": {
            "java": series(&results.java_consumer),
            "rust": series(&results.rust_consumer),
            "rust_poll_per_record": series(&results.rust_consumer_poll),
            "java_with_join": series(&results.java_consumer_with_join),
            "rust_with_join": series(&results.rust_consumer_with_join),
        },
        "cpu_seconds_per_run": {
            "java_producer": series(&results.java_producer_cpu),
            "rust_producer": series(&results.rust_producer_cpu),
            "java_consumer": series(&results.java_consumer_cpu),
            "rust_consumer": series(&results.rust_consumer_cpu),
        },
        "one_by_one_per_sec": results.one_by_one,
        "latency": results.latency,
        "claims": claims.iter().map(|c| json!({
            "claim": c.claim, "ratio": c.ratio, "paired": c.paired, "target": c.at_least, "met": c.met(),
        })).collect::<Vec<_>>(),
        "runs": results.runs,
    });
    let dir = Layout::current().root.join("bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let text = serde_json::to_string_pretty(&document)?;
    let file = dir.join(format!("{now}{}.json", if plan.quick { "-quick" } else { "" }));
    std::fs::write(&file, &text).with_context(|| format!("writing {}", file.display()))?;
    std::fs::write(dir.join("latest.json"), &text)?;
    Ok(file)
}

/// The CPU seconds (user + system) of every child process this one has waited for (Linux:
/// `cutime` and `cstime` of /proc/self/stat, in the kernel's 100 ticks per second). The difference
/// around one run is that run's process, the tool itself and not the broker it talks to. (With the
/// docker backend the Java tools run in the broker's container and are not counted: 0.)
fn children_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // Fields 16 and 17 of proc(5), counted from 1 with pid and name as 1 and 2.
    let ticks: u64 = fields.get(13)?.parse::<u64>().ok()? + fields.get(14)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

fn cpu_since(before: Option<f64>) -> f64 {
    before.zip(children_cpu_seconds()).map_or(0.0, |(before, now)| now - before)
}

/// The 1-minute load average (Linux), to say how busy the machine was.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

fn cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// (now, peak) resident KiB of the environment's processes (local backend).
fn environment_memory() -> Option<(u64, u64)> {
    let state = State::load(&Layout::current().state_file()).ok()??;
    let pids: Vec<u32> = state.components.iter().filter_map(|c| c.pid).collect();
    let now: u64 = pids.iter().filter_map(|pid| crate::process::rss_kib(*pid)).sum();
    let peak: u64 = pids.iter().filter_map(|pid| crate::process::peak_rss_kib(*pid)).sum();
    (now > 0).then_some((now, peak))
}

/// 1234567.8 → "1,234,568".
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(quick: bool) -> BenchOptions {
        BenchOptions { quick, ..BenchOptions::quick() }
    }

    #[test]
    fn a_full_run_measures_steady_state_with_an_optimized_build() {
        let plan = Plan::from(&options(false));
        assert_eq!((plan.records, plan.warmup, plan.repeat), (10_000_000, 1_000_000, 3));
        assert_eq!(plan.profile, "release");
        let quick = Plan::from(&options(true));
        assert_eq!((quick.records, quick.repeat, quick.profile.as_str()), (50_000, 1, "dev"));
    }

    #[test]
    fn repetitions_alternate_which_side_goes_first() {
        let sides = [Side::Java, Side::Rust, Side::RustFutures];
        assert_eq!(order(0, &sides), sides);
        assert_eq!(order(1, &sides), [Side::RustFutures, Side::Rust, Side::Java]);
        assert_eq!(order(2, &sides), order(0, &sides));
    }

    #[test]
    fn the_rust_producer_gets_the_java_producers_settings() {
        let mut o = options(false);
        o.compression = "lz4".into();
        o.batch_size = 16384;
        let args = rust_produce_args(&Plan::from(&o), "t", "callback");
        let joined = args.join(" ");
        assert!(joined.starts_with("produce --reports callback --topic t"), "{joined}");
        assert!(joined.contains("--linger-ms 5 --batch-size 16384 --compression lz4"), "{joined}");
        assert!(joined.contains("--records 10000000 --warmup-records 1000000"), "{joined}");
        assert!(joined.ends_with("--no-keys"), "the Java tool sends no keys: {joined}");
    }

    #[test]
    fn claims_compare_medians() {
        let results = Results {
            java_producer: Series { runs: vec![100.0, 120.0, 110.0] },
            rust_producer: Series { runs: vec![180.0, 150.0, 170.0] },
            rust_producer_futures: Series { runs: vec![100.0] },
            java_consumer: Series { runs: vec![100.0] },
            rust_consumer: Series { runs: vec![110.0] },
            one_by_one: 1.0,
            ..Results::default()
        };
        let claims = claims(&results);
        assert!((claims[0].ratio - 170.0 / 110.0).abs() < 1e-9 && claims[0].met());
        assert_eq!(claims[0].paired, vec![1.8, 1.25, 170.0 / 110.0]);
        assert!(!claims[1].met(), "1.1x is below the 1.2x target");
        assert!(claims[2].met());
    }

    #[test]
    fn the_cpu_of_waited_for_children_grows() {
        let before = children_cpu_seconds();
        if before.is_none() {
            return; // not Linux
        }
        let status =
            std::process::Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]).status();
        assert!(status.unwrap().success());
        assert!(cpu_since(before) >= 0.0);
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(thousands(0.0), "0");
    }
}
