//! The chapter's example runs to completion against the environment.

use workbook_support::example;

#[test]
fn the_example_runs_the_outbox_and_the_dual_write() {
    let stdout = example::run(env!("CARGO_BIN_EXE_ch11-order-service"), &["--orders", "2"]);
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
    example::run_without_kafka(env!("CARGO_BIN_EXE_ch11-order-service"), &[]);
}
