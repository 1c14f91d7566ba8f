//! The chapter 5 exercises, checked against the real broker (`cargo xtask check ch05`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

mod common;

use std::time::Duration;

use anyhow::bail;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::{Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

/// A consumer of `group` that never joins it: used to commit and read the group's offsets.
fn group_client(env: &Env, group: &str) -> StreamConsumer {
    kafka::group_config(env, group).set("enable.auto.commit", "false").create().unwrap()
}

#[tokio::test]
async fn read_partition_from() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    // Partitions 0, 1 and 2 hold p0-0..p0-7, p1-0..p1-7, p2-0..p2-7 at offsets 0..7.
    let topic = common::filled_topic(&env, "ch05-ex-read", 3, 8).await;
    cleanup.topic(topic.clone());

    // The service's group has been running: it committed partition 1 up to offset 6.
    let group = names::unique("ch05-ex-service");
    let client = group_client(&env, &group);
    let mut progress = TopicPartitionList::new();
    for (partition, offset) in [(0, 8), (1, 6), (2, 8)] {
        progress.add_partition_offset(&topic, partition, Offset::Offset(offset)).unwrap();
    }
    client.commit(&progress, CommitMode::Sync).unwrap();
    let before = kafka::committed_offsets(&env, &group, &topic, 3).unwrap();

    let consumer = group_client(&env, &group);
    println!("waiting for read_partition_from: partition 1 from offset 3");
    let outcome = tokio::time::timeout(
        Duration::from_secs(40),
        exercises::read_partition_from(&consumer, &topic, 1, 3),
    )
    .await;
    assert_eq!(
        consumer.subscription().unwrap().count(),
        0,
        "the consumer subscribed to the topic: that joins the service's group, which rebalances, hands out the \
         partitions as it likes and starts them at its committed offsets. Choose the partition and offset yourself."
    );
    let values = match outcome {
        Err(_) => {
            panic!("read_partition_from did not return within 40 s (partition 1 from offset 3)")
        }
        Ok(Err(e)) => panic!(
            "read_partition_from failed: {e:#}. Partition 1 holds offsets 0 to 7, so its end offset is 8: the offset \
             the next record will get, not the offset of a record you can wait for"
        ),
        Ok(Ok(values)) => values,
    };
    if let Some(stranger) = values.iter().find(|v| !v.starts_with("p1-")) {
        panic!("{stranger:?} is from another partition than 1: {values:?}");
    }
    match values.first().map(String::as_str) {
        Some("p1-6") => panic!(
            "it started at p1-6, the group's committed offset, instead of offset 3: put the starting offset in \
             the assignment (or seek), or the group's committed offset decides: {values:?}"
        ),
        Some("p1-0") => {
            panic!("it started at the beginning of the partition instead of offset 3: {values:?}")
        }
        _ => {}
    }
    assert_eq!(
        values,
        ["p1-3", "p1-4", "p1-5", "p1-6", "p1-7"],
        "partition 1 from offset 3 to its end (offset 8), in order"
    );
    assert_eq!(
        kafka::committed_offsets(&env, &group, &topic, 3).unwrap(),
        before,
        "the service group's committed offsets changed: do not commit"
    );

    // Offset 8 is where partition 1 ends: nothing to read, and nothing to wait for.
    let consumer = group_client(&env, &group);
    println!("waiting for read_partition_from: partition 1 from offset 8, its end");
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        exercises::read_partition_from(&consumer, &topic, 1, 8),
    )
    .await;
    match outcome {
        Ok(Ok(values)) => {
            assert!(values.is_empty(), "offset 8 is the end of partition 1, yet it read {values:?}")
        }
        Ok(Err(e)) => panic!(
            "read_partition_from from offset 8, the end of partition 1, failed: {e:#}. There is nothing to read \
             there: return no values at once instead of waiting for a record"
        ),
        Err(_) => panic!(
            "read_partition_from from offset 8, the end of partition 1, did not return within 20 s: there is \
             nothing to read there, return no values at once"
        ),
    }
    cleanup.run().await;
}

/// Runs `process_then_commit` with a deadline, recording the values it processed.
async fn run_processing(
    env: &Env,
    topic: &str,
    group: &str,
    max: usize,
    fail_on: Option<&str>,
) -> (anyhow::Result<usize>, Vec<String>) {
    let mut seen = Vec::new();
    println!("waiting for process_then_commit (up to {max} records)");
    let outcome = tokio::time::timeout(
        Duration::from_secs(40),
        exercises::process_then_commit(env, topic, group, max, &mut |value| {
            if Some(value) == fail_on {
                bail!("simulated crash while processing {value}");
            }
            seen.push(value.to_string());
            Ok(())
        }),
    )
    .await
    .expect("process_then_commit did not return within 40 s");
    (outcome, seen)
}

#[tokio::test]
async fn process_then_commit() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = common::filled_topic(&env, "ch05-ex-commit", 1, 10).await;
    cleanup.topic(topic.clone());
    let group = names::unique("ch05-ex-commit");

    // First run: processing works for 4 records, then "crashes" on the 5th (p0-4).
    let (result, first) = run_processing(&env, &topic, &group, 10, Some("p0-4")).await;
    let error = result.expect_err("processing p0-4 failed, so the function must return that error");
    assert!(
        format!("{error:#}").contains("simulated crash"),
        "return the processing error itself, got: {error:#}"
    );
    assert_eq!(first, ["p0-0", "p0-1", "p0-2", "p0-3"]);

    // The restart: same group. It must continue with the record that failed.
    let (result, second) = run_processing(&env, &topic, &group, 6, None).await;
    match second.first().map(String::as_str) {
        Some("p0-0") => panic!(
            "the restart began at p0-0, repeating everything: nothing was committed before the failure returned \
             (commit each record once it is processed, not at the end)"
        ),
        Some("p0-3") => panic!(
            "the restart began at p0-3, which was already processed: a committed offset is the next record to \
             read (the processed record's offset + 1), not the record just read"
        ),
        Some("p0-5") => panic!(
            "the restart skipped p0-4, whose processing failed: it was committed before it was processed \
             (a commit before `process`, or auto-commit, which commits what was handed out)"
        ),
        // Auto-commit may have committed every record the first run was handed (all ten were
        // fetched at once): the restart then finds nothing left to read.
        None if result.is_err() => panic!(
            "the restart found nothing to read although p0-4 failed and p0-5.. were never processed: they were \
             committed before they were processed (a commit before `process`, or auto-commit, which commits what \
             was handed out); the restart said: {:#}",
            result.unwrap_err()
        ),
        _ => {}
    }
    assert_eq!(result.unwrap(), 6);
    assert_eq!(second, ["p0-4", "p0-5", "p0-6", "p0-7", "p0-8", "p0-9"]);
    cleanup.run().await;
}
