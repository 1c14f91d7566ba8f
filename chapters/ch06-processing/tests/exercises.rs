//! The chapter 6 exercises, checked against the real broker (`cargo xtask check ch06`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::time::Duration;

use ch06_processing::{CrashPoint, Job, TXN_TIMEOUT, create_topic, delete_topics, read_committed};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use workbook_support::{Env, kafka, names};

#[tokio::test]
async fn transactional_producer() {
    let env = Env::load().unwrap();
    let topic = names::unique("ch06-ex-fence");
    create_topic(&env, &topic, 1).await.unwrap();
    let id = names::unique("ch06-ex-fence");

    let first = exercises::transactional_producer(&env, &id).unwrap();
    first.begin_transaction().expect("the producer must be ready for begin_transaction (did you init it?)");
    first
        .send_result(FutureRecord::<str, str>::to(&topic).payload("from the first instance"))
        .map_err(|(e, _)| e)
        .unwrap();
    first.commit_transaction(TXN_TIMEOUT).unwrap();

    // The job restarts while the old instance is still alive (a "zombie", e.g. paused by GC).
    let second = exercises::transactional_producer(&env, &id).unwrap();
    let zombie_result = first.begin_transaction().and_then(|()| {
        first.send_result(FutureRecord::<str, str>::to(&topic).payload("from the zombie")).map_err(|(e, _)| e)?;
        first.commit_transaction(TXN_TIMEOUT)
    });
    assert!(zombie_result.is_err(), "the old instance could still commit: it was not fenced (is the id the same?)");

    second.begin_transaction().unwrap();
    second
        .send_result(FutureRecord::<str, str>::to(&topic).payload("from the second instance"))
        .map_err(|(e, _)| e)
        .unwrap();
    second.commit_transaction(TXN_TIMEOUT).unwrap();

    let values: Vec<String> = read_committed(&env, &topic).await.unwrap().into_iter().map(|(_, v)| v).collect();
    assert_eq!(values, ["from the first instance", "from the second instance"]);
    drop((first, second));
    delete_topics(&env, &[&topic]).await.unwrap();
}

#[tokio::test]
async fn uppercase_exactly_once() {
    let env = Env::load().unwrap();
    let job = Job {
        input: names::unique("ch06-ex-in"),
        output: names::unique("ch06-ex-out"),
        group: names::unique("ch06-ex"),
        transactional_id: names::unique("ch06-ex"),
        batch: 4,
    };
    create_topic(&env, &job.input, 1).await.unwrap();
    create_topic(&env, &job.output, 1).await.unwrap();
    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    let input: Vec<(String, String)> = (0..12).map(|i| (format!("k{}", i % 3), format!("word-{i}"))).collect();
    for (key, value) in &input {
        producer.send(FutureRecord::to(&job.input).key(key).payload(value), Duration::from_secs(10)).await.unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    // Run 1 "crashes" after its 6th output record: in the middle of the second batch of 4.
    let crashed = tokio::time::timeout(
        Duration::from_secs(60),
        exercises::uppercase_exactly_once(&env, &job, &CrashPoint::after(6)),
    )
    .await
    .expect("run 1 took more than 60 s");
    let error = crashed.expect_err("run 1 must stop with the simulated crash (call crash.after_send(&producer)?)");
    assert!(format!("{error:#}").contains("simulated crash"), "{error:#}");

    // Run 2: same job, no crash. It must finish the work, without repeating what was committed.
    tokio::time::timeout(
        Duration::from_secs(60),
        exercises::uppercase_exactly_once(&env, &job, &CrashPoint::never()),
    )
    .await
    .expect("run 2 took more than 60 s")
    .unwrap();

    let expected: Vec<(String, String)> = input.iter().map(|(k, v)| (k.clone(), v.to_uppercase())).collect();
    let seen = read_committed(&env, &job.output).await.unwrap();
    assert_eq!(
        seen.len(),
        expected.len(),
        "a read_committed consumer must see each output exactly once; it saw {seen:?}"
    );
    assert_eq!(seen, expected);
    delete_topics(&env, &[&job.input, &job.output]).await.unwrap();
}
