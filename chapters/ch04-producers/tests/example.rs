//! Runs the chapter's binary against the environment, as the book shows it.

use std::io::Write;
use std::process::{Command, Stdio};

use ch04_producers::{create_topic, delete_topics};
use workbook_support::{Env, example, names};

fn producer() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ch04-producers"))
}

#[tokio::test]
async fn produces_keyed_lines_from_stdin() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch04-example");
    create_topic(&env, &topic, 3).await.unwrap();
    let mut child = producer()
        .args(["--topic", &topic, "--key-separator", ":", "--report"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"alice:1\nbob:2\nalice:3\nno separator\n").unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "stdout is for data only");
    assert!(stderr.contains("3 record(s) delivered"), "{stderr}");
    assert!(stderr.contains("skipped: no key separator"), "{stderr}");
    assert!(stderr.contains(r#"record 0 key="alice" -> partition"#), "{stderr}");
    delete_topics(&env, &[&topic]).await.unwrap();
}

#[tokio::test]
async fn benchmark_runs() {
    let output = producer().args(["--bench", "200"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        stdout.contains("await each send in turn") && stdout.contains("in flight, at most 1000"),
        "{stdout}"
    );
}

#[test]
fn a_missing_topic_is_a_clear_error() {
    let output =
        producer().args(["--topic", "ch04-no-such-topic"]).stdin(Stdio::null()).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("does not exist"), "{stderr}");
}

#[test]
fn an_unreachable_broker_fails_within_seconds() {
    example::run_without_kafka(env!("CARGO_BIN_EXE_ch04-producers"), &[]);
}
