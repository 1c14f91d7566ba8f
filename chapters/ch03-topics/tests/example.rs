//! The chapter's example runs to completion against the environment.

use workbook_support::{example, names};

#[test]
fn the_example_runs_a_topic_through_its_life() {
    let topic = names::unique("ch03-example");
    let args = ["--topic", &topic, "--partitions", "2", "--grow-to", "3"];
    let stdout = example::run(env!("CARGO_BIN_EXE_ch03-topics"), &args);
    for expected in [
        format!("1. create   {topic}: 2 partitions"),
        format!("{topic} listed: true"),
        format!("{topic}: 2 partition(s), configs: cleanup.policy=delete, retention.ms=86400000"),
        "4. alter    partitions 2 -> 3".to_string(),
        format!("{topic}: 3 partition(s)"),
        "InvalidPartitions".to_string(),
        "gone from the metadata".to_string(),
    ] {
        assert!(stdout.contains(&expected), "missing {expected:?} in:\n{stdout}");
    }
}
