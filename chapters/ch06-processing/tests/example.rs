//! Runs the chapter's demo against the environment, as the book shows it.

use workbook_support::example;

#[test]
fn the_demo_shows_duplicates_without_transactions_and_none_with_them() {
    let stdout = example::run(env!("CARGO_BIN_EXE_ch06-processing"), &[]);
    let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("verdict:")).collect();
    assert_eq!(verdicts, ["verdict: DUPLICATES", "verdict: exactly once"], "{stdout}");
    assert!(
        stdout.contains("sees 12 output records") && stdout.contains("sees 10 output records"),
        "{stdout}"
    );
}

#[test]
fn an_unreachable_broker_fails_within_seconds() {
    example::run_without_kafka(env!("CARGO_BIN_EXE_ch06-processing"), &[]);
}
