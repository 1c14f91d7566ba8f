//! The chapter's example runs to completion against the environment.

use std::process::Command;

use rdkafka::admin::AdminOptions;
use workbook_support::{Env, kafka, names};

#[tokio::test]
async fn the_example_makes_a_round_trip() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch01-example");
    let output = Command::new(env!("CARGO_BIN_EXE_ch01-why-kafka"))
        .args(["--topic", &topic, "--partitions", "2", "--message", "hello from the test"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the example failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("topic      {topic} created (2 partition(s))")), "{stdout}");
    assert!(stdout.contains("landed     partition "), "{stdout}");
    assert!(stdout.contains(r#"value="hello from the test""#), "{stdout}");
    assert!(stdout.contains("round trip "), "{stdout}");
    let admin = kafka::admin(&env).unwrap();
    let _ = admin.delete_topics(&[&topic], &AdminOptions::new()).await;
}

#[test]
fn an_unreachable_broker_is_a_clear_error() {
    let output = Command::new(env!("CARGO_BIN_EXE_ch01-why-kafka"))
        .env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(stderr.contains("no answer from Kafka at 127.0.0.1:1"), "{stderr}");
}
