//! The chapter's example runs to completion against the environment.

use std::process::Command;

#[test]
fn the_example_runs_the_outbox_and_the_dual_write() {
    let output = Command::new(env!("CARGO_BIN_EXE_ch11-order-service"))
        .args(["--orders", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the example failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("migration 3 applied: add order status"), "{stdout}");
    assert!(stdout.contains("HTTP API listening on http://127.0.0.1:"), "{stdout}");
    assert_eq!(stdout.matches("201 Created").count(), 2, "{stdout}");
    assert_eq!(stdout.matches("eventType=OrderCreated").count(), 2, "{stdout}");
    assert!(stdout.contains("neither was written"), "{stdout}");
    assert!(stdout.contains("orders committed: 2, events on"), "{stdout}");
    assert!(stdout.contains(": 1 (no second event within 3 s"), "{stdout}");
    assert!(stdout.contains("Deleted connector"), "{stdout}");
}

#[test]
fn an_unreachable_broker_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_ch11-order-service"))
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no answer from Kafka at 127.0.0.1:1"), "{stderr}");
}
