//! The chapter 3 exercises, checked against the real environment (`cargo xtask check ch03`).
//!
//! Every check of the cluster's metadata runs right after your function returns, with a new
//! client: what you promise to have waited for must already be visible.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use ch03_topics::{Admin, create_topic, has_leaders, metadata, wait_for_topic};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

/// How many partitions the cluster's metadata lists for `topic` right now (0: not listed).
async fn partitions_now(env: &Env, topic: &str) -> usize {
    let cluster = metadata(env, None).await.unwrap();
    cluster.topics.iter().find(|t| t.name == topic).map_or(0, |t| t.partitions.len())
}

/// Creates `topic` (deleted by `cleanup`) and waits until all its partitions have leaders.
async fn topic_with(admin: &Admin, env: &Env, cleanup: &mut Cleanup, topic: &str, partitions: i32) {
    cleanup.topic(topic.to_string());
    create_topic(admin, topic, partitions, 1, &[]).await.unwrap();
    wait_for_topic(env, topic, "the test topic's partitions have leaders", |t| {
        t.is_some_and(|t| has_leaders(t, partitions as usize))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn create_topic_idempotently() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = names::unique("ch03-idem");
    cleanup.topic(topic.clone());

    exercises::create_topic_idempotently(&admin, &topic, 3, 1)
        .await
        .unwrap_or_else(|e| panic!("the first call should create {topic}: {e:#}"));
    println!("waiting for {topic} to have leaders");
    wait_for_topic(&env, &topic, "the new topic's 3 partitions have leaders", |t| {
        t.is_some_and(|t| has_leaders(t, 3))
    })
    .await
    .unwrap();
    for (partitions, call) in [(3, "second"), (5, "third")] {
        if let Err(e) = exercises::create_topic_idempotently(&admin, &topic, partitions, 1).await {
            panic!(
                "the {call} call failed ({e:#}), but {topic} exists, which is what the caller wanted: \
                 TOPIC_ALREADY_EXISTS is a success here"
            );
        }
    }
    assert_eq!(
        partitions_now(&env, &topic).await,
        3,
        "an existing topic is left as it is: {topic} was created with 3 partitions"
    );

    let brokers = metadata(&env, None).await.unwrap().brokers.len() as i32;
    let impossible = names::unique("ch03-idem-rf");
    cleanup.topic(impossible.clone());
    let result = exercises::create_topic_idempotently(&admin, &impossible, 1, brokers + 1).await;
    assert!(
        result.is_err(),
        "replication factor {} on {brokers} broker(s) cannot work and the broker refused it, yet your call \
         succeeded: the request went through, the refusal is in the per-topic result. Read it",
        brokers + 1
    );
    assert_eq!(partitions_now(&env, &impossible).await, 0, "the refused topic must not exist");
    cleanup.run().await;
}

#[tokio::test]
async fn ensure_partitions() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = names::unique("ch03-grow");
    topic_with(&admin, &env, &mut cleanup, &topic, 2).await;

    println!("waiting for ensure_partitions({topic}, 4)");
    let grown = exercises::ensure_partitions(&admin, &env, &topic, 4)
        .await
        .unwrap_or_else(|e| panic!("growing {topic} from 2 to 4 partitions failed: {e:#}"));
    let now = partitions_now(&env, &topic).await;
    assert_eq!(
        now, 4,
        "right after your function returned, the metadata shows {now} partitions: return only once it shows 4"
    );
    assert_eq!(grown, 4, "{topic} has 4 partitions now: return that");

    match exercises::ensure_partitions(&admin, &env, &topic, 4).await {
        Err(e) => panic!(
            "ensure_partitions(4) on a topic that has 4 partitions failed ({e:#}), but there was nothing to do. \
             CreatePartitions takes the new total and refuses one that is not an increase (INVALID_PARTITIONS): \
             look before you ask"
        ),
        Ok(n) => assert_eq!(n, 4, "{topic} has 4 partitions"),
    }
    match exercises::ensure_partitions(&admin, &env, &topic, 3).await {
        Err(e) => panic!(
            "ensure_partitions(3) on a topic that has 4 partitions failed ({e:#}), but 4 is at least 3: nothing to \
             do. Asking the broker for 3 is asking it to shrink the topic, which Kafka refuses \
             (INVALID_PARTITIONS): look before you ask"
        ),
        Ok(n) => assert_eq!(
            n, 4,
            "{topic} still has 4 partitions (they can never be removed): return how many it has, not how many \
             were wanted"
        ),
    }
    assert_eq!(partitions_now(&env, &topic).await, 4, "{topic} must keep its 4 partitions");

    let missing = names::unique("ch03-grow-missing");
    cleanup.topic(missing.clone());
    let result = exercises::ensure_partitions(&admin, &env, &missing, 2).await;
    assert!(
        result.is_err(),
        "{missing} does not exist, yet ensure_partitions returned {result:?}: a topic that does not exist is an \
         error (auto-creation is off). The metadata does not list it, and CreatePartitions' per-topic result \
         says so too"
    );
    assert_eq!(partitions_now(&env, &missing).await, 0, "{missing} must not have been created");
    cleanup.run().await;
}

#[tokio::test]
async fn delete_topics_and_wait() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let (first, never, second) = (
        names::unique("ch03-delete"),
        names::unique("ch03-delete-never"),
        names::unique("ch03-delete"),
    );
    topic_with(&admin, &env, &mut cleanup, &first, 3).await;
    topic_with(&admin, &env, &mut cleanup, &second, 1).await;

    println!("waiting for delete_topics_and_wait([{first}, {never}, {second}])");
    let reported =
        exercises::delete_topics_and_wait(&admin, &env, &[&first, &never, &second]).await.unwrap_or_else(|e| {
            panic!(
                "deleting [{first}, {never}, {second}] failed ({e:#}), but {never} simply never existed: that is \
                 not an error here. Delete the others, and report it"
            )
        });
    for topic in [&first, &second] {
        assert_eq!(
            partitions_now(&env, topic).await,
            0,
            "right after your function returned, the metadata still lists {topic}: the controller accepts a \
             deletion before the brokers show it; wait until they do"
        );
    }
    assert_eq!(
        reported,
        vec![never.clone()],
        "{never} never existed, {first} and {second} did: DeleteTopics' answer has a result per topic. Report the \
         topics that were not there, in the order given"
    );

    let again =
        exercises::delete_topics_and_wait(&admin, &env, &[&first]).await.unwrap_or_else(|e| {
            panic!("deleting {first} a second time failed ({e:#}): it is gone, report it")
        });
    assert_eq!(
        again,
        vec![first.clone()],
        "{first} was deleted a moment ago: this time it is not there"
    );
    cleanup.run().await;
}
