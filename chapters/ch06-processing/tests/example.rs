//! Runs the chapter's demo against the environment, as the book shows it.

use std::process::Command;

#[test]
fn the_demo_shows_duplicates_without_transactions_and_none_with_them() {
    let output = Command::new(env!("CARGO_BIN_EXE_ch06-processing")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}\n{}", stdout, String::from_utf8_lossy(&output.stderr));
    let verdicts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("verdict:")).collect();
    assert_eq!(verdicts, ["verdict: DUPLICATES", "verdict: exactly once"], "{stdout}");
    assert!(stdout.contains("sees 12 output records") && stdout.contains("sees 10 output records"), "{stdout}");
}

#[test]
fn an_unreachable_broker_fails_within_seconds() {
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_ch06-processing"))
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no answer from Kafka"));
    assert!(started.elapsed().as_secs() < 15);
}
