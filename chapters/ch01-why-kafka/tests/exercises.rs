//! The chapter 1 exercises, checked against the real environment (`cargo xtask check ch01`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch01_why_kafka::{Fetched, ensure_topic, produce, producer, read_at};
use rdkafka::consumer::{BaseConsumer, Consumer};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

/// A new topic with `partitions` partitions, deleted by `cleanup` at the end.
async fn fresh_topic(env: &Env, cleanup: &mut Cleanup, prefix: &str, partitions: i32) -> String {
    let topic = names::unique(prefix);
    let admin = kafka::admin(env).unwrap();
    assert!(
        ensure_topic(&admin, &topic, partitions).await.unwrap(),
        "the test topic {topic} should be new"
    );
    cleanup.topic(topic.clone());
    topic
}

/// The record the broker holds at `partition`/`offset` right now, or `None` if the partition
/// does not reach that offset (yet).
async fn stored_at(env: &Env, topic: &str, partition: i32, offset: i64) -> Option<Fetched> {
    let (probe, name) = (env.clone(), topic.to_string());
    let (low, end) = tokio::task::spawn_blocking(move || {
        let client: BaseConsumer = kafka::client_config(&probe).create().unwrap();
        client.fetch_watermarks(&name, partition, Duration::from_secs(10)).unwrap()
    })
    .await
    .unwrap();
    if offset < low || offset >= end {
        return None;
    }
    Some(read_at(env, topic, partition, offset).await.unwrap())
}

#[tokio::test]
async fn produce_and_locate() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = fresh_topic(&env, &mut cleanup, "ch01-locate", 4).await;
    // Other records first, so that a made-up place holds somebody else's record.
    let earlier = producer(&env).unwrap();
    for n in 0..8 {
        produce(&earlier, &topic, &format!("earlier-{n}"), &format!("earlier record {n}"))
            .await
            .unwrap();
    }

    for n in 0..12 {
        let value = format!("record {n}");
        let (partition, offset) =
            exercises::produce_and_locate(&env, &topic, &value).await.unwrap();
        assert!(
            (0..4).contains(&partition),
            "partition {partition} does not exist: the topic has 4 (0..=3)"
        );
        // Checked at once: when your function returns, the broker must hold the record there.
        let Some(stored) = stored_at(&env, &topic, partition, offset).await else {
            panic!(
                "right after your function returned, partition {partition} holds no record at offset {offset}: \
                 {partition}/{offset} is not where your record landed. Only the delivery report knows: wait for \
                 it, and return both the partition and the offset it names"
            )
        };
        assert!(
            stored.value.as_deref() == Some(value.as_str()),
            "partition {partition}, offset {offset} holds {:?}, not your {value:?}: {partition}/{offset} is not \
             where your record landed. Without a key the client picks the partition; only the delivery report \
             says which one, and at which offset",
            stored.value
        );
        assert!(
            stored.key.is_none(),
            "your record {value:?} has a key ({:?}); it must have none, not even an empty one. A key decides the \
             partition (every record with that key goes to the same one); without one the client spreads records",
            stored.key
        );
    }
    cleanup.run().await;
}

/// Calls the exercise, saying what the test waits for (a wrong answer can take its 10 s).
async fn call_next_record(
    env: &Env,
    topic: &str,
    group: &str,
    call: &str,
) -> anyhow::Result<String> {
    println!("waiting for next_record: group {group}, {call}");
    exercises::next_record(env, topic, group).await
}

/// What to say when the group's position moved past records it never returned.
fn skipped(what: &str) -> String {
    format!(
        "{what}, but the topic still holds \"second\" and \"third\", which the group never returned: its committed \
         offset went past them. Commit exactly the record you return: with enable.auto.commit left on, the consumer \
         also commits records it fetched in advance and never handed to you (here, when it is closed)"
    )
}

#[tokio::test]
async fn next_record() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = fresh_topic(&env, &mut cleanup, "ch01-next", 1).await;
    let producer = producer(&env).unwrap();
    for value in ["first", "second", "third"] {
        produce(&producer, &topic, "k", value).await.unwrap();
    }
    let (reader, other) = (names::unique("ch01-next-reader"), names::unique("ch01-next-other"));

    match call_next_record(&env, &topic, &reader, "its first call").await {
        Ok(got) => {
            assert_eq!(got, "first", "a brand-new group should start with the topic's first record")
        }
        Err(e) => panic!(
            "a brand-new group got no record ({e:#}), but the topic holds 3. Where does a group that has never \
             committed an offset start reading, and which consumer setting decides it (auto.offset.reset)?"
        ),
    }

    let second =
        call_next_record(&env, &topic, &reader, "its second call").await.unwrap_or_else(|e| {
            panic!("{}", skipped(&format!("the group's second call failed ({e:#})")))
        });
    assert_ne!(
        second, "first",
        "the group read \"first\" again on its second call: it does not know it has read it. Did you commit before \
         returning? And a committed offset is the next record the group will read: the record's offset + 1, not \
         its own offset"
    );
    assert_eq!(
        second,
        "second",
        "{}",
        skipped(&format!("the group's second call returned {second:?}"))
    );

    let got = call_next_record(&env, &topic, &other, "another group's first call").await.unwrap();
    assert_eq!(
        got, "first",
        "another group must start at the beginning too: reading does not remove records, and every group keeps \
         its own position. Did you use the `group` you were given?"
    );

    let third = call_next_record(&env, &topic, &reader, "its third call").await.unwrap();
    assert_eq!(
        third, "third",
        "the first group's third call: the other group's reading must not move its position"
    );
    cleanup.run().await;
}
