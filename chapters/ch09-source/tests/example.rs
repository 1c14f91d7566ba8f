//! The chapter's example runs to completion against the real worker and MariaDB.

use workbook_support::example;

fn run(args: &[&str]) -> String {
    example::run(env!("CARGO_BIN_EXE_ch09-source"), args)
}

#[test]
fn captures_snapshot_and_changes() {
    let stdout = run(&["--raw"]);
    assert_eq!(stdout.matches("op=r ").count(), 2, "{stdout}");
    for expected in [
        "op=c key={\"id\":3}",
        "op=u key={\"id\":1}",
        "op=d key={\"id\":2}",
        "tombstone key={\"id\":2}",
    ] {
        assert!(stdout.contains(expected), "missing {expected}: {stdout}");
    }
    assert!(
        stdout.contains("김민수") && stdout.contains("\"database.password\": \"***\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"Envelope\"") || stdout.contains(".Envelope"), "{stdout}");
    assert!(stdout.contains("Deleted connector"), "{stdout}");
}

#[test]
fn flattened_events_are_rows() {
    let stdout = run(&["--flatten"]);
    assert!(stdout.contains("ExtractNewRecordState"), "{stdout}");
    assert!(stdout.contains("key={\"id\":2} payload=null"), "{stdout}");
    assert!(!stdout.contains("op=c"), "no envelope once flattened: {stdout}");
}
