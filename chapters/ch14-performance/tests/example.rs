//! Runs the chapter's binary against the environment, as the book shows it (short runs).

use std::process::Command;

fn run(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_ch14-performance")).args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn latency_prints_percentiles_per_linger() {
    let stdout = run(&[
        "latency",
        "--rate",
        "500",
        "--seconds",
        "1",
        "--warmup-seconds",
        "1",
        "--linger-ms",
        "0,5",
    ]);
    assert!(stdout.contains("p99 ms"), "{stdout}");
    let rows: Vec<&str> =
        stdout.lines().filter(|l| l.trim_start().starts_with(['0', '5'])).collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for row in rows {
        // sent == received: 1000 records each (2 s at 500/s).
        assert!(row.contains(" 1000   1000 "), "{row}");
    }
}

#[test]
fn throughput_prints_records_per_second() {
    let stdout = run(&["throughput", "--records", "2000", "--compression", "none,lz4"]);
    assert!(stdout.contains("records/s") && stdout.contains("lz4"), "{stdout}");
}

#[test]
fn consumers_split_the_work() {
    let stdout = run(&["consumers", "--members", "1,3", "--records", "300", "--work-us", "500"]);
    assert!(stdout.contains("records per member"), "{stdout}");
    assert!(
        stdout.lines().any(|l| l.trim_start().starts_with("3 ") && l.matches(" + ").count() == 2),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_broker_fails_within_seconds() {
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ch14-performance"))
        .args(["latency", "--seconds", "1"])
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no answer from Kafka"));
    assert!(started.elapsed().as_secs() < 15, "took {:?}", started.elapsed());
}
