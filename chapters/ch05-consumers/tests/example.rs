//! Runs the chapter's binary against the environment, as the book shows it.

mod common;

use std::process::{Command, Output};

use workbook_support::{Env, names};

fn consumer(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ch05-consumers")).args(args).output().unwrap()
}

fn lines(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).lines().map(str::to_string).collect()
}

#[tokio::test]
async fn groups_resume_and_fan_out() {
    let env = Env::load().unwrap();
    let topic = common::filled_topic(&env, "ch05-example", 2, 3).await;
    let (a, b) = (names::unique("ch05-a"), names::unique("ch05-b"));

    let first =
        lines(&consumer(&["-t", &topic, "-g", &a, "--from-beginning", "--max-messages", "4"]));
    assert_eq!(first.len(), 4);
    // Same group again: it continues after what it committed.
    let rest =
        lines(&consumer(&["-t", &topic, "-g", &a, "--from-beginning", "--timeout-ms", "3000"]));
    assert_eq!(rest.len(), 2, "group {a} read 4 of 6, so 2 remain: {rest:?}");
    // Another group gets every record again: fan-out.
    let mut all =
        lines(&consumer(&["-t", &topic, "-g", &b, "--from-beginning", "--timeout-ms", "3000"]));
    all.sort();
    assert_eq!(all, ["p0-0", "p0-1", "p0-2", "p1-0", "p1-1", "p1-2"]);
    // One partition from an offset.
    let output =
        consumer(&["-t", &topic, "--partition", "1", "--offset", "1", "--max-messages", "2"]);
    assert_eq!(lines(&output), ["p1-1", "p1-2"]);
    // Two members split the two partitions.
    let output = consumer(&[
        "-t",
        &topic,
        "-g",
        &names::unique("ch05-m"),
        "--from-beginning",
        "--members",
        "2",
        "--timeout-ms",
        "5000",
    ]);
    assert_eq!(lines(&output).len(), 6);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("[member-1] rebalance: assigned")
            && stderr.contains("[member-2] rebalance: assigned"),
        "{stderr}"
    );
    common::delete_topic(&env, &topic).await;
}

#[test]
fn a_missing_topic_is_a_clear_error() {
    let output = consumer(&["--topic", "ch05-no-such-topic", "--timeout-ms", "1000"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}
