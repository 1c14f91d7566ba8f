//! The chapter 13 exercises. `reliable_producer` runs against a three-broker cluster the test
//! brings up itself (and deletes), because it kills a broker on purpose.

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ch13_reliability::cluster::OwnCluster;
use ch13_reliability::{Watcher, create_reliable_topic, produce_numbered, read_all, verdict};
use nix::sys::signal::Signal;
use rdkafka::producer::FutureProducer;
use workbook_support::kafka::Partition;

fn partition(leader: i32, replicas: &[i32], isr: &[i32]) -> Partition {
    Partition { id: 0, leader, replicas: replicas.to_vec(), isr: isr.to_vec() }
}

#[test]
fn acks_all_can_write() {
    let cases = [
        (partition(1, &[1, 2, 3], &[1, 2, 3]), 2, true, "all three in sync"),
        (partition(2, &[1, 2, 3], &[2, 3]), 2, true, "one broker down: two in sync is enough"),
        (partition(2, &[1, 2, 3], &[2]), 2, false, "one in sync, but min.insync.replicas=2: NOT_ENOUGH_REPLICAS"),
        (partition(2, &[1, 2, 3], &[2]), 1, true, "min.insync.replicas=1 accepts a single copy"),
        (partition(-1, &[1, 2, 3], &[]), 2, false, "no leader: nobody takes the write"),
        (partition(-1, &[1, 2, 3], &[]), 0, false, "no leader, whatever min.insync.replicas says"),
        (partition(3, &[3], &[3]), 2, false, "one replica can never satisfy min.insync.replicas=2"),
        (partition(1, &[1, 2], &[1, 2]), 2, true, "two replicas, both in sync"),
    ];
    for (p, min_isr, expected, why) in cases {
        assert_eq!(
            exercises::acks_all_can_write(&p, min_isr),
            expected,
            "leader {}, replicas {:?}, ISR {:?}, min.insync.replicas={min_isr}: {why}",
            p.leader,
            p.replicas,
            p.isr
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reliable_producer() {
    // The settings first: the failover below may not always be slow enough to expose them.
    let probe = workbook_support::Env::from_sources(|key| Some(format!("127.0.0.1:1/{key}"))).unwrap();
    let config = exercises::reliable_producer(&probe);
    let acks = config.get("acks").or(config.get("request.required.acks"));
    assert!(matches!(acks, Some("all" | "-1")), "acks must be all (every in-sync replica), not {acks:?}");
    assert_eq!(config.get("enable.idempotence"), Some("true"), "retries must not write a record twice");
    let timeout: u64 = config
        .get("message.timeout.ms")
        .or(config.get("delivery.timeout.ms"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(300_000);
    assert!(
        timeout == 0 || timeout >= 30_000,
        "a record may wait for a new leader; a crashed leader is only noticed after broker.session.timeout.ms \
         (9 s), and the election comes on top: message.timeout.ms={timeout} is too short (use 30 s or more)"
    );
    for key in ["retries", "message.send.max.retries"] {
        assert_ne!(config.get(key), Some("0"), "{key}=0 turns every failover into failed records");
    }

    // Then for real: kill the leader under a stream of writes made with this configuration.
    let mut cluster = tokio::task::spawn_blocking(OwnCluster::up).await.unwrap().unwrap();
    let env = cluster.env.clone();
    let topic = "reliable";
    create_reliable_topic(&env, topic).await.unwrap();
    let start = Instant::now();
    let watcher = Watcher::start(&env, topic, start).unwrap();
    let ready = watcher
        .wait_for("a leader with 3 in-sync replicas", Duration::from_secs(30), |p| p.leader >= 0 && p.isr.len() == 3)
        .await
        .unwrap();
    let producer: FutureProducer = exercises::reliable_producer(&env).create().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writing =
        tokio::spawn(produce_numbered(producer, topic.to_string(), Duration::from_millis(10), start, stop.clone()));
    // Write for a second before the crash (the workload, not a wait for a condition).
    tokio::time::sleep(Duration::from_secs(1)).await;
    let leader = ready.partition.leader;
    tokio::task::block_in_place(|| cluster.stop_broker(leader, Signal::SIGKILL)).unwrap();
    watcher.wait_for("a new leader", Duration::from_secs(60), |p| p.leader >= 0 && p.leader != leader).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let acks = writing.await.unwrap();
    let read = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || read_all(&env, topic, Duration::from_secs(30))).await.unwrap().unwrap()
    };
    drop(watcher);
    tokio::task::block_in_place(|| drop(cluster));

    let v = verdict(&acks, &read);
    let failed: Vec<&String> = acks.iter().filter_map(|a| a.result.as_ref().err()).take(3).collect();
    assert!(v.sent > 100, "{v:?}");
    assert_eq!(v.failed, 0, "records failed during the failover (e.g. {failed:?}): {v:?}");
    assert!(v.lost.is_empty(), "acknowledged records are missing from the partition: {v:?}");
    assert!(v.duplicated.is_empty(), "records were written twice: {v:?}");
    assert_eq!(v.read, v.acknowledged, "{v:?}");
}
