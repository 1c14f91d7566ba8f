//! The chapter's example and its latency tool run to completion against the real environment.

use workbook_support::example::run;

#[test]
fn round_trip_example_converges() {
    let stdout = run(env!("CARGO_BIN_EXE_ch10-sink"), &[]);
    assert!(stdout.contains("\"connection.password\": \"***\""), "{stdout}");
    assert!(stdout.contains("snapshot: ") && stdout.contains("(3 rows)"), "{stdout}");
    assert!(stdout.contains("insert + update + delete: "), "{stdout}");
    assert!(stdout.contains("user1@new.example") && stdout.contains("김민수"), "{stdout}");
    assert!(!stdout.contains("user2@example.com"), "row 2 was deleted: {stdout}");
    assert!(stdout.contains("PRIMARY KEY (`id`)"), "{stdout}");
}

#[test]
fn latency_tool_reports_percentiles() {
    let stdout =
        run(env!("CARGO_BIN_EXE_latency"), &["--inserts", "20", "--updates", "5", "--rate", "200"]);
    assert!(stdout.contains("p50") && stdout.contains("p99"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("all") && l.contains(" 20 ")), "{stdout}");
}
