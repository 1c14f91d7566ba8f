//! Runs the chapter's binary against the environment, as the book shows it (short runs).

use workbook_support::example;

const PROGRAM: &str = env!("CARGO_BIN_EXE_ch14-performance");

fn run(args: &[&str]) -> String {
    example::run(PROGRAM, args)
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
    example::run_without_kafka(PROGRAM, &["latency", "--seconds", "1"]);
}
