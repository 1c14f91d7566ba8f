//! The chapter 3 exercises, checked against the real environment (`cargo xtask check ch03`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use ch03_topics::{create_topic, delete_topic, has_leaders, metadata, wait_for_topic};
use workbook_support::{Env, kafka, names};

/// How many partitions the cluster's metadata lists for `topic` right now (0: not listed).
async fn partitions_now(env: &Env, topic: &str) -> usize {
    let cluster = metadata(env, None).await.unwrap();
    cluster.topics.iter().find(|t| t.name == topic).map_or(0, |t| t.partitions.len())
}

#[tokio::test]
async fn create_topic_idempotently() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let topic = names::unique("ch03-idem");

    exercises::create_topic_idempotently(&admin, &topic, 3, 1).await.expect("the first call creates the topic");
    wait_for_topic(&env, &topic, "the topic appears", |t| t.is_some_and(|t| has_leaders(t, 3))).await.unwrap();
    exercises::create_topic_idempotently(&admin, &topic, 3, 1)
        .await
        .expect("the second call must succeed too: the topic exists, which is what we wanted");
    assert_eq!(partitions_now(&env, &topic).await, 3, "the topic should have the 3 partitions asked for");

    let brokers = metadata(&env, None).await.unwrap().brokers.len() as i32;
    let impossible = names::unique("ch03-idem-rf");
    let result = exercises::create_topic_idempotently(&admin, &impossible, 1, brokers + 1).await;
    assert!(
        result.is_err(),
        "replication factor {} on {brokers} broker(s) cannot work: the broker refuses it, and so must you",
        brokers + 1
    );
    assert_eq!(partitions_now(&env, &impossible).await, 0, "the refused topic must not exist");
    delete_topic(&admin, &topic).await.unwrap();
}

#[tokio::test]
async fn ensure_partitions() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let topic = names::unique("ch03-grow");
    create_topic(&admin, &topic, 2, 1, &[]).await.unwrap();
    wait_for_topic(&env, &topic, "the topic appears", |t| t.is_some_and(|t| has_leaders(t, 2))).await.unwrap();

    assert_eq!(exercises::ensure_partitions(&admin, &env, &topic, 4).await.unwrap(), 4, "2 -> 4");
    assert_eq!(partitions_now(&env, &topic).await, 4, "when you return, the metadata must show 4 partitions");
    assert_eq!(
        exercises::ensure_partitions(&admin, &env, &topic, 4).await.expect("already 4: nothing to do, not an error"),
        4
    );
    assert_eq!(
        exercises::ensure_partitions(&admin, &env, &topic, 3).await.expect("4 is at least 3: nothing to do"),
        4,
        "the topic keeps its 4 partitions (they can never be removed)"
    );
    assert_eq!(partitions_now(&env, &topic).await, 4);
    assert!(
        exercises::ensure_partitions(&admin, &env, &names::unique("ch03-grow-missing"), 2).await.is_err(),
        "a topic that does not exist is an error (auto-creation is off)"
    );
    delete_topic(&admin, &topic).await.unwrap();
}

#[tokio::test]
async fn delete_topic_and_wait() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let topic = names::unique("ch03-delete");
    create_topic(&admin, &topic, 3, 1, &[]).await.unwrap();
    wait_for_topic(&env, &topic, "the topic appears", |t| t.is_some_and(|t| has_leaders(t, 3))).await.unwrap();

    exercises::delete_topic_and_wait(&admin, &env, &topic).await.unwrap();
    assert_eq!(partitions_now(&env, &topic).await, 0, "when you return, the metadata must no longer list the topic");
    assert!(
        exercises::delete_topic_and_wait(&admin, &env, &topic).await.is_err(),
        "deleting a topic that does not exist (any more) is an error"
    );
    // Gone for real: the name can be used again at once.
    create_topic(&admin, &topic, 1, 1, &[]).await.expect("re-creating the deleted topic's name");
    delete_topic(&admin, &topic).await.unwrap();
}
