//! The chapter 6 exercises, checked against the real broker (`cargo xtask check ch06`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::HashMap;
use std::time::Duration;

use ch06_processing::{CrashPoint, Job, TXN_TIMEOUT, create_topic, read_committed};
use rdkafka::error::KafkaResult;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

/// One transaction holding one record with `value`, committed.
fn commit_one(producer: &FutureProducer, topic: &str, value: &str) -> KafkaResult<()> {
    producer.begin_transaction()?;
    producer.send_result(FutureRecord::<str, str>::to(topic).payload(value)).map_err(|(e, _)| e)?;
    producer.commit_transaction(TXN_TIMEOUT)
}

/// Calls `transactional_producer`, failing the test with a clear message if it fails.
fn instance(env: &Env, job: &str, partition: i32) -> FutureProducer {
    exercises::transactional_producer(env, job, partition)
        .unwrap_or_else(|e| panic!("transactional_producer({job:?}, {partition}) failed: {e:#}"))
}

#[tokio::test]
async fn transactional_producer() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = names::unique("ch06-ex-fence");
    cleanup.topic(topic.clone());
    create_topic(&env, &topic, 1).await.unwrap();
    let (job, other_job) = (names::unique("ch06-ex-job"), names::unique("ch06-ex-other-job"));

    println!("waiting for transactional_producer: job {job}, partition 0");
    let first = instance(&env, &job, 0);
    commit_one(&first, &topic, "partition 0").unwrap_or_else(|e| {
        panic!(
            "the producer is not ready for transactions: {e}. It must be transactional, and registered with the \
             transaction coordinator before it is returned"
        )
    });

    // The job's instance for partition 1, and another job's instance for partition 0, start.
    println!(
        "waiting for transactional_producer: job {job}, partition 1, and job {other_job}, partition 0"
    );
    let neighbour = instance(&env, &job, 1);
    let stranger = instance(&env, &other_job, 0);
    commit_one(&first, &topic, "partition 0, with neighbours").unwrap_or_else(|e| {
        panic!(
            "the instance for partition 0 can no longer commit once the instance for partition 1, or another job's \
             instance for partition 0, has started: {e}. Each instance needs a transactional id of its own, or \
             starting one fences the other"
        )
    });
    commit_one(&neighbour, &topic, "partition 1").unwrap();
    commit_one(&stranger, &topic, "other job").unwrap();

    // The old instance of partition 0 has a transaction open when its job instance restarts
    // (the old one hangs, e.g. paused by GC, and is presumed dead): it is now a zombie.
    first.begin_transaction().unwrap();
    first
        .send_result(FutureRecord::<str, str>::to(&topic).payload("zombie, left open"))
        .map_err(|(e, _)| e)
        .unwrap();
    first.flush(TXN_TIMEOUT).unwrap();
    println!("waiting for transactional_producer: job {job}, partition 0 restarts");
    let restarted = instance(&env, &job, 0);
    // The zombie wakes up and finishes its transaction.
    let zombie = first
        .send_result(FutureRecord::<str, str>::to(&topic).payload("zombie, later"))
        .map_err(|(e, _)| e)
        .and_then(|_| first.commit_transaction(TXN_TIMEOUT));
    assert!(
        zombie.is_err(),
        "the old instance of partition 0 could still commit after the instance restarted: it was not fenced. The \
         restarted instance must use the same transactional id as before"
    );
    commit_one(&restarted, &topic, "partition 0, restarted").unwrap();

    println!("waiting for a read_committed consumer to read the topic");
    let values: Vec<String> =
        read_committed(&env, &topic).await.unwrap().into_iter().map(|(_, v)| v).collect();
    assert!(
        !values.iter().any(|v| v.starts_with("zombie")),
        "a read_committed consumer sees the zombie's records: {values:?}"
    );
    assert_eq!(
        values,
        [
            "partition 0",
            "partition 0, with neighbours",
            "partition 1",
            "other job",
            "partition 0, restarted"
        ],
        "a read_committed consumer must see the committed records (and only them); if some are missing, the \
         zombie's open transaction was not aborted when the instance restarted"
    );
    drop((first, neighbour, stranger, restarted));
    cleanup.run().await;
}

/// How a scenario of `uppercase_exactly_once` crashes, and what that tests.
struct Scenario {
    what: &'static str,
    crash: fn() -> CrashPoint,
}

const SCENARIOS: [Scenario; 3] = [
    Scenario {
        what: "a crash just after transaction 2 committed (before anything else happened)",
        crash: || CrashPoint::after_commit(2),
    },
    Scenario {
        what: "a crash just before transaction 2 commits",
        crash: || CrashPoint::before_commit(2),
    },
    Scenario {
        what: "a crash after the 6th output record (in the middle of the second batch of 4)",
        crash: || CrashPoint::after(6),
    },
];

/// Runs the job once with `crash`, then again without, and returns what a read_committed
/// consumer sees in the output.
async fn crash_and_restart(
    env: &Env,
    cleanup: &mut Cleanup,
    scenario: &Scenario,
) -> Vec<(String, String)> {
    let job = Job {
        input: names::unique("ch06-ex-in"),
        output: names::unique("ch06-ex-out"),
        group: names::unique("ch06-ex"),
        transactional_id: names::unique("ch06-ex"),
        batch: 4,
    };
    cleanup.topic(job.input.clone());
    cleanup.topic(job.output.clone());
    create_topic(env, &job.input, 1).await.unwrap();
    create_topic(env, &job.output, 1).await.unwrap();
    let producer: FutureProducer = kafka::producer_config(env).create().unwrap();
    for (key, value) in input() {
        producer
            .send(FutureRecord::to(&job.input).key(&key).payload(&value), Duration::from_secs(10))
            .await
            .unwrap();
    }
    producer.flush(Duration::from_secs(10)).unwrap();

    println!("waiting for run 1 of uppercase_exactly_once, with {}", scenario.what);
    let crashed = tokio::time::timeout(
        Duration::from_secs(60),
        exercises::uppercase_exactly_once(env, &job, &(scenario.crash)()),
    )
    .await
    .unwrap_or_else(|_| panic!("run 1 ({}) took more than 60 s", scenario.what));
    match crashed {
        Ok(n) => panic!(
            "run 1 returned Ok({n}) instead of stopping with {}: call crash.after_send(&producer)? after each \
             output record and commit with crash.commit_transaction(&producer)?",
            scenario.what
        ),
        Err(e) => assert!(
            format!("{e:#}").contains("simulated crash"),
            "run 1 failed, but not by the crash: {e:#}"
        ),
    }

    // Run 2: same job, no crash. It must finish the work, without repeating what was committed.
    println!("waiting for run 2 of uppercase_exactly_once, after {}", scenario.what);
    let processed = tokio::time::timeout(
        Duration::from_secs(60),
        exercises::uppercase_exactly_once(env, &job, &CrashPoint::never()),
    )
    .await
    .unwrap_or_else(|_| panic!("run 2 (after {}) took more than 60 s", scenario.what))
    .unwrap_or_else(|e| panic!("run 2 (after {}) failed: {e:#}", scenario.what));
    println!("run 2 processed {processed} input record(s)");

    println!("waiting for a read_committed consumer to read the output");
    read_committed(env, &job.output).await.unwrap()
}

/// 12 input records over 3 keys.
fn input() -> Vec<(String, String)> {
    (0..12).map(|i| (format!("k{}", i % 3), format!("word-{i}"))).collect()
}

#[tokio::test]
async fn uppercase_exactly_once() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let expected: Vec<(String, String)> =
        input().into_iter().map(|(k, v)| (k, v.to_uppercase())).collect();
    for scenario in &SCENARIOS {
        let seen = crash_and_restart(&env, &mut cleanup, scenario).await;
        let mut times: HashMap<&str, usize> = HashMap::new();
        for (_, value) in &seen {
            *times.entry(value).or_default() += 1;
        }
        for (_, value) in &expected {
            match times.get(value.as_str()).copied().unwrap_or(0) {
                1 => {}
                0 => panic!(
                    "after {}, {value} never appeared for a read_committed consumer: its input was marked as \
                     processed although its output was never committed. The input offsets must be committed in \
                     the transaction, with the outputs (not by the consumer, before or after it, nor by \
                     auto-commit). Output: {seen:?}",
                    scenario.what
                ),
                n => panic!(
                    "after {}, a read_committed consumer saw {value} {n} times: the restart processed input again \
                     whose output had already been committed. The input offsets must be committed in the \
                     transaction, with the outputs (send_offsets_to_transaction), not on their own. Output: \
                     {seen:?}",
                    scenario.what
                ),
            }
        }
        assert_eq!(
            seen, expected,
            "after {}: each input's output exactly once, in order",
            scenario.what
        );
    }
    cleanup.run().await;
}
