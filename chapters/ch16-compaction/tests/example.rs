//! Runs the chapter's demos against the environment, as the book shows them.

use workbook_support::example;

fn demo(args: &[&str]) -> String {
    example::run(env!("CARGO_BIN_EXE_ch16-compaction"), args)
}

#[test]
fn retention_error_is_loud_and_earliest_is_silent() {
    let out = demo(&["retention"]);
    assert!(out.contains("low watermark now 7"), "{out}");
    assert!(out.contains("first poll: error: Message consumption error: AutoOffsetReset"), "{out}");
    assert!(out.contains("first poll: e-7 at offset 7"), "{out}");
    assert!(out.contains("offsets 4, 5, 6 were never read"), "{out}");
}

#[test]
fn the_cleaner_compacts_and_then_drops_the_tombstone() {
    let out = demo(&["compact"]);
    let (before, after) = out.split_once("compacted ").expect(&out);
    assert!(before.contains("offset   4  bob      (tombstone: no value)"), "{out}");
    let (compacted, later) = after.split_once("3. The tombstone").expect(&out);
    // After the first cleaning: one record per key, the tombstone kept, the offsets unchanged.
    for line in [
        "offset   4  bob ",
        "offset   5  dave   = \"\"",
        "offset   6  alice  = ",
        "offset   7  erin",
    ] {
        assert!(compacted.contains(line), "{line:?} missing after compaction:\n{out}");
    }
    assert!(!compacted.contains("offset   0  alice"), "{out}");
    assert!(compacted.contains("low watermark 0"), "compaction does not move it:\n{out}");
    // Later, the tombstone is gone too.
    let (_, last) = later.split_once("tombstone was removed").expect(&out);
    let records = last.lines().filter(|l| l.trim_start().starts_with("offset"));
    assert!(!records.clone().any(|l| l.contains(" bob ")), "{out}");
    assert!(records.clone().any(|l| l.contains(" erin ")), "{out}");
}

#[test]
fn a_delete_reaches_a_stopped_sink_as_a_tombstone_and_a_new_sink_never_sees_the_row() {
    let out = demo(&["cdc"]);
    assert!(
        out.contains(
            r#"key {"id":2}  op=d  before={"email":"bob@example.com","id":2,"name":"bob"}"#
        ),
        "{out}"
    );
    assert!(out.contains(r#"key {"id":2}  tombstone (no value)"#), "{out}");
    let (_, compacted) = out.split_once("4. INSERT dave").expect(&out);
    assert!(!compacted.contains("op=d"), "the delete event is compacted away:\n{out}");
    let rows = concat!(
        r#"[(1, "alice", "alice@newest.example"), (3, "carol", "carol@example.com"), "#,
        r#"(4, "dave", "dave@example.com")]"#
    );
    assert_eq!(out.matches(rows).count(), 2, "both copies end with alice, carol and dave:\n{out}");
}
