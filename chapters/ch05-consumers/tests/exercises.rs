//! The chapter 5 exercises, checked against the real broker (`cargo xtask check ch05`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

mod common;

use std::time::Duration;

use anyhow::bail;
use workbook_support::{Env, names};

#[tokio::test]
async fn read_partition_from() {
    let env = Env::load().unwrap();
    let topic = common::filled_topic(&env, "ch05-ex-read", 3, 8).await;

    let values = tokio::time::timeout(
        Duration::from_secs(30),
        exercises::read_partition_from(&env, &topic, 1, 3, 4),
    )
    .await
    .expect("read_partition_from did not return within 30 s")
    .unwrap();

    assert_eq!(values, ["p1-3", "p1-4", "p1-5", "p1-6"], "partition 1, offsets 3, 4, 5 and 6, in order");
    common::delete_topic(&env, &topic).await;
}

#[tokio::test]
async fn process_then_commit() {
    let env = Env::load().unwrap();
    let topic = common::filled_topic(&env, "ch05-ex-commit", 1, 10).await;
    let group = names::unique("ch05-ex-commit");

    // First run: processing works for 4 records, then "crashes" on the 5th (p0-4).
    let mut first = Vec::new();
    let result = exercises::process_then_commit(&env, &topic, &group, 10, &mut |value| {
        if value == "p0-4" {
            bail!("simulated crash while processing {value}");
        }
        first.push(value.to_string());
        Ok(())
    })
    .await;
    let error = result.expect_err("processing p0-4 failed, so the function must return that error");
    assert!(format!("{error:#}").contains("simulated crash"), "return the processing error itself, got: {error:#}");
    assert_eq!(first, ["p0-0", "p0-1", "p0-2", "p0-3"]);

    // The restart: same group. It must continue with the record that failed.
    let mut second = Vec::new();
    let processed = exercises::process_then_commit(&env, &topic, &group, 6, &mut |value| {
        second.push(value.to_string());
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(processed, 6);
    match second.first().map(String::as_str) {
        Some("p0-0") => panic!("the restart began at the beginning: nothing was committed (or not before returning)"),
        Some("p0-5") => panic!("the restart skipped p0-4, whose processing failed: it was committed before processing"),
        _ => {}
    }
    assert_eq!(second, ["p0-4", "p0-5", "p0-6", "p0-7", "p0-8", "p0-9"]);
    common::delete_topic(&env, &topic).await;
}
