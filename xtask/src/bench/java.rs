//! The reference: Kafka's own `kafka-producer-perf-test` and `kafka-consumer-perf-test`.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::layout::runtime_templates;
use crate::state::{Backend, State};
use crate::{cli, local, prereqs};

/// The JVM flags Kafka's own `bin/kafka-*-perf-test.sh` give the perf tools: `-Xmx512M` from the
/// script, the rest from `kafka-run-class.sh`'s KAFKA_JVM_PERFORMANCE_OPTS. (`cargo xtask cli`
/// starts tools with a C1-only JIT, which is right for a tool that lives one second, and would
/// handicap the reference here, just as a debug build would handicap the Rust side.)
pub const PERF_TOOL_JVM: &[&str] = &[
    "-Xmx512M",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
];

/// What one Java producer run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProducerRun {
    pub records: u64,
    pub records_per_sec: f64,
    /// The tool's own send → acknowledgement latency percentiles (ms).
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// What one Java consumer run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConsumerRun {
    pub records: u64,
    /// `fetch.nMsg.sec`: records / (partitions assigned → last record).
    pub records_per_sec: f64,
    /// `nMsg.sec`: records / (subscribe → last record), the group join included.
    pub with_join_per_sec: f64,
    pub join_ms: f64,
}

/// The settings both producers get.
#[derive(Debug, Clone)]
pub struct ProducerSettings {
    pub linger_ms: u64,
    pub batch_size: u64,
    pub compression: String,
    pub record_bytes: usize,
}

/// `kafka-producer-perf-test`: `warmup + records` records, flat out (`--throughput -1`), acks=all
/// and idempotent; the steady-state line (after `--warmup-records`) is the measurement.
pub fn produce(
    state: &State,
    bootstrap: &str,
    topic: &str,
    records: u64,
    warmup: u64,
    settings: &ProducerSettings,
) -> Result<ProducerRun> {
    let mut args = vec![
        "--topic".to_string(),
        topic.to_string(),
        "--num-records".to_string(),
        (records + warmup).to_string(),
        "--record-size".to_string(),
        settings.record_bytes.to_string(),
        "--throughput".to_string(),
        "-1".to_string(),
    ];
    if warmup > 0 {
        args.extend(["--warmup-records".to_string(), warmup.to_string()]);
    }
    args.push("--command-property".to_string());
    args.extend(producer_properties(settings));
    let output = run(state, bootstrap, "kafka-producer-perf-test", &args)?;
    parse_producer_perf(&output)
}

/// The producer properties both sides share, as `name=value`.
pub fn producer_properties(settings: &ProducerSettings) -> Vec<String> {
    vec![
        "acks=all".to_string(),
        "enable.idempotence=true".to_string(),
        format!("linger.ms={}", settings.linger_ms),
        format!("batch.size={}", settings.batch_size),
        format!("compression.type={}", settings.compression),
    ]
}

/// `kafka-consumer-perf-test`: `records` records from the beginning of `topic`, in a fresh group.
pub fn consume(state: &State, bootstrap: &str, topic: &str, records: u64, group: &str) -> Result<ConsumerRun> {
    let args: Vec<String> =
        ["--topic", topic, "--num-records", &records.to_string(), "--group", group, "--timeout", "60000"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let output = run(state, bootstrap, "kafka-consumer-perf-test", &args)?;
    if output.contains("WARNING: Exiting before consuming the expected number") {
        bail!("kafka-consumer-perf-test timed out before reading {records} records:\n{output}");
    }
    parse_consumer_perf(&output)
}

fn run(state: &State, bootstrap: &str, tool: &str, args: &[String]) -> Result<String> {
    let mut full = vec!["--bootstrap-server".to_string(), bootstrap.to_string()];
    full.extend_from_slice(args);
    if state.backend == Backend::Docker {
        // In the broker's container, Kafka's own scripts start the tool, with the flags above.
        return cli::capture(state, tool, &full);
    }
    let started = Instant::now();
    let output = crate::command::output(command(tool, &full)?)?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if stdout.trim().is_empty() {
        bail!("{tool} printed nothing in {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(stdout)
}

/// `java <Kafka's perf-tool flags> -cp <the broker's jars> <main class> <args>`.
fn command(tool: &str, args: &[String]) -> Result<Command> {
    let tool = cli::find(tool)?;
    let java = prereqs::java()?;
    let runtime = local::jars::ensure(false)?;
    let mut command = Command::new(java);
    command
        .args(PERF_TOOL_JVM)
        .arg(format!("-Dlog4j2.configurationFile={}", runtime_templates().join("tools-log4j2.yaml").display()))
        .arg("-cp")
        .arg(&runtime.classpath)
        .arg(tool.main_class)
        .args(args);
    Ok(command)
}

/// The summary of `kafka-producer-perf-test`: the `steady state` line when there is one, else the
/// last total line, e.g. `2000000 records sent, 612345.678901 records/sec (59.40 MB/sec), 21.03 ms
/// avg latency, 80.00 ms max latency, 15 ms 50th, 58 ms 95th, 74 ms 99th, 78 ms 99.9th.`
pub fn parse_producer_perf(output: &str) -> Result<ProducerRun> {
    let totals: Vec<&str> = output.lines().filter(|l| l.contains(" records sent, ") && l.contains("50th")).collect();
    let line = totals
        .iter()
        .find(|l| l.contains("steady state"))
        .or(totals.last())
        .context("no summary line from kafka-producer-perf-test")?;
    let records = line.split_whitespace().next().and_then(|n| n.parse().ok()).context("no record count")?;
    let rate = number_before(line, " records/sec").context("no records/sec")?;
    let p50 = number_before(line, " ms 50th").unwrap_or(f64::NAN);
    let p99 = number_before(line, " ms 99th").unwrap_or(f64::NAN);
    Ok(ProducerRun { records, records_per_sec: rate, p50_ms: p50, p99_ms: p99 })
}

/// The number right before `marker` in `line` (`…, 1234.5 records/sec` → 1234.5).
fn number_before(line: &str, marker: &str) -> Option<f64> {
    let before = &line[..line.find(marker)?];
    before.rsplit([' ', ',', '(']).find(|s| !s.is_empty())?.parse().ok()
}

/// `kafka-consumer-perf-test`'s CSV: a header, then one line of values, read by column name.
pub fn parse_consumer_perf(output: &str) -> Result<ConsumerRun> {
    let mut lines = output.lines().filter(|l| l.contains(','));
    let header: Vec<&str> =
        lines.next().context("no header from kafka-consumer-perf-test")?.split(',').map(str::trim).collect();
    let values_line = lines.next().context("no values from kafka-consumer-perf-test")?;
    let values: Vec<&str> = values_line.split(',').map(str::trim).collect();
    let column = |name: &str| -> Result<f64> {
        let at = header.iter().position(|c| *c == name).with_context(|| format!("no {name} column"))?;
        let value = values.get(at).with_context(|| format!("no {name} value in {values_line:?}"))?;
        value.parse().with_context(|| format!("reading {name} from {values_line:?}"))
    };
    Ok(ConsumerRun {
        records: column("data.consumed.in.nMsg")? as u64,
        records_per_sec: column("fetch.nMsg.sec")?,
        with_join_per_sec: column("nMsg.sec")?,
        join_ms: column("rebalance.time.ms")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_producer_perf_steady_state_line() {
        let output = "Warmup first 100000 records. Steady state results will print after the complete test summary.\n\
            512345 records sent, 102469.0 records/sec (9.77 MB/sec), 20.1 ms avg latency, 391.0 ms max latency.\n\
            1100000 records sent, 448796.409629 records/sec (43.66 MB/sec), 20.58 ms avg latency, 391.00 ms max latency, 15 ms 50th, 58 ms 95th, 74 ms 99th, 78 ms 99.9th.\n\
            1000000 steady state records sent, 648088.139987 records/sec (63.04 MB/sec), 21.22 ms avg latency, 80.00 ms max latency, 16 ms 50th, 58 ms 95th, 73 ms 99th, 78 ms 99.9th.\n";
        let run = parse_producer_perf(output).unwrap();
        assert_eq!(run, ProducerRun { records: 1_000_000, records_per_sec: 648088.139987, p50_ms: 16.0, p99_ms: 73.0 });
    }

    #[test]
    fn reads_the_producer_perf_total_without_warmup() {
        let output = "100 records sent, 20.0 records/sec (0.00 MB/sec), 1.0 ms avg latency, 2.0 ms max latency.\n\
            200000 records sent, 123456.7 records/sec (11.77 MB/sec), 12.34 ms avg latency, 300.00 ms max latency, 4 ms 50th, 6 ms 95th, 17 ms 99th, 23 ms 99.9th.\n";
        let run = parse_producer_perf(output).unwrap();
        assert_eq!((run.records, run.records_per_sec, run.p99_ms), (200_000, 123456.7, 17.0));
        assert!(parse_producer_perf("Exception in thread main\n").is_err());
    }

    #[test]
    fn reads_the_consumer_perf_columns_by_name() {
        let output = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n\
            2026-12-02 05:21:34:271, 2026-12-02 05:21:36:085, 107.0023, 58.9869, 1100000, 606394.7078, 480, 1334, 80.2116, 824587.7061\n";
        let run = parse_consumer_perf(output).unwrap();
        assert_eq!(
            run,
            ConsumerRun {
                records: 1_100_000,
                records_per_sec: 824587.7061,
                with_join_per_sec: 606394.7078,
                join_ms: 480.0
            }
        );
        assert!(parse_consumer_perf("start.time, end.time\n").is_err());
    }

    #[test]
    fn both_producers_get_the_same_properties() {
        let settings =
            ProducerSettings { linger_ms: 5, batch_size: 1_000_000, compression: "lz4".into(), record_bytes: 102 };
        assert_eq!(
            producer_properties(&settings),
            ["acks=all", "enable.idempotence=true", "linger.ms=5", "batch.size=1000000", "compression.type=lz4"]
        );
    }
}
