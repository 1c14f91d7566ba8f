//! The chapter's example runs to completion against the environment.

use std::process::Command;

use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::{Env, example, kafka, names};

#[tokio::test]
async fn the_example_prints_the_cluster() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch02-example");
    let admin = kafka::admin(&env).unwrap();
    let new_topic = NewTopic::new(&topic, 2, TopicReplication::Fixed(-1));
    admin.create_topics([&new_topic], &AdminOptions::new()).await.unwrap()[0].as_ref().unwrap();

    let stdout =
        example::run(env!("CARGO_BIN_EXE_ch02-brokers"), &["--topic", &topic, "--samples", "3"]);
    assert!(stdout.contains("Brokers ("), "{stdout}");
    assert!(stdout.contains("\"Controller\" in 3 Metadata answers:"), "{stdout}");
    assert_eq!(
        stdout.lines().filter(|l| l.trim_start().starts_with(&topic)).count(),
        2,
        "{stdout}"
    );
    let _ = admin.delete_topics(&[&topic], &AdminOptions::new()).await;

    let missing = Command::new(env!("CARGO_BIN_EXE_ch02-brokers"))
        .args(["--topic", "ch02-no-such-topic", "--samples", "1"])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr)
            .contains("topic ch02-no-such-topic does not exist")
    );
}
