//! The chapter's example runs to completion against the environment.

use rdkafka::admin::AdminOptions;
use workbook_support::{Env, example, kafka, names};

#[tokio::test]
async fn the_example_makes_a_round_trip() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch01-example");
    let args = ["--topic", &topic, "--partitions", "2", "--message", "hello from the test"];
    let stdout = example::run(env!("CARGO_BIN_EXE_ch01-why-kafka"), &args);
    assert!(stdout.contains(&format!("topic      {topic} created (2 partition(s))")), "{stdout}");
    assert!(stdout.contains("landed     partition "), "{stdout}");
    assert!(stdout.contains(r#"value="hello from the test""#), "{stdout}");
    assert!(stdout.contains("round trip "), "{stdout}");
    let admin = kafka::admin(&env).unwrap();
    let _ = admin.delete_topics(&[&topic], &AdminOptions::new()).await;
}

#[test]
fn an_unreachable_broker_is_a_clear_error() {
    example::run_without_kafka(env!("CARGO_BIN_EXE_ch01-why-kafka"), &[]);
}
