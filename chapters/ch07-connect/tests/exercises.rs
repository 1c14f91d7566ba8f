//! Checks for the chapter 07 exercises: each config is submitted to the real Connect worker.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch07_connect::{Cleanup, START_TIMEOUT, validate, wait_for_lines, wait_for_state};
use rdkafka::Message;
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::Value;
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, kafka, names};

#[tokio::test]
async fn file_source_connector() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lines.txt");
    let lines = ["first line", "{\"looks\": \"like json\"}", "안녕하세요 카프카"];
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let topic = names::unique("ch07-ex-source");
    let name = names::unique("ch07-ex-source");

    let config = exercises::file_source_connector(&file, &topic);
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.push(name.to_string());
    cleanup.topics.push(topic.to_string());
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    wait_for_state(&client, &name, "RUNNING", START_TIMEOUT).await.expect("the connector and its task run");

    // Read the topic and compare the records with the file, byte for byte.
    let consumer: StreamConsumer = kafka::consumer_config(&env, &names::unique("ch07-ex-check")).create().unwrap();
    consumer.subscribe(&[&topic]).unwrap();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(45), async {
        while got.len() < lines.len() {
            let message = consumer.recv().await.expect("reading the topic");
            got.push(String::from_utf8_lossy(message.payload().unwrap_or_default()).into_owned());
        }
    })
    .await;
    assert!(read.is_ok(), "only {} of {} lines reached topic {topic}: {got:?}", got.len(), lines.len());
    assert_eq!(got, lines, "each record must be the line exactly as written (plain strings, no JSON envelope)");
}

#[tokio::test]
async fn file_sink_connector() {
    let env = Env::load().unwrap();
    let client = ConnectClient::new(&env).unwrap();
    let topics = [names::unique("ch07-ex-sink-a"), names::unique("ch07-ex-sink-b")];
    let name = names::unique("ch07-ex-sink");
    // Registered before anything can panic, so a failing attempt leaves no topic or connector behind.
    let mut cleanup = Cleanup::new(&env);
    cleanup.connectors.push(name.to_string());
    for topic in &topics {
        cleanup.topics.push(topic.to_string());
    }
    let admin = kafka::admin(&env).unwrap();
    let new: Vec<NewTopic> = topics.iter().map(|t| NewTopic::new(t, 1, TopicReplication::Fixed(1))).collect();
    for result in admin.create_topics(&new, &AdminOptions::new()).await.unwrap() {
        result.expect("creating a test topic");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out.txt");
    let topic_refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    let mut config = exercises::file_sink_connector(&file, &topic_refs);

    let mut with_name = config.clone();
    with_name["name"] = Value::String(name.clone());
    let invalid = validate(&client, &with_name).await.expect("the validate endpoint answers");
    assert!(invalid.is_empty(), "the worker's validate endpoint rejects the config: {invalid:?}");

    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    for (topic, text) in [(&topics[0], "from topic a"), (&topics[1], "from topic b")] {
        producer.send(FutureRecord::<(), str>::to(topic).payload(text), Duration::from_secs(10)).await.unwrap();
    }
    config.as_object_mut().unwrap().remove("name");
    client.put_connector(&name, &config).await.expect("the worker accepts the config");
    wait_for_state(&client, &name, "RUNNING", START_TIMEOUT).await.expect("the connector and its task run");
    let mut lines = wait_for_lines(&file, 2, Duration::from_secs(45)).await.expect("records from both topics");
    lines.sort();
    assert_eq!(lines, ["from topic a", "from topic b"], "one plain line per record, from every topic");
}
