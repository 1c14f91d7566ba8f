//! The chapter 2 exercises, checked against cluster states a one-broker workbook cannot show
//! (three brokers, one down, then back) and against the real environment (`cargo xtask check ch02`).

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

use ch02_brokers::{fetch, ids};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::{self, Broker, Cluster, Partition, Topic};
use workbook_support::{Env, names, wait};

fn partition(id: i32, leader: i32, replicas: &[i32], isr: &[i32]) -> Partition {
    Partition { id, leader, replicas: replicas.to_vec(), isr: isr.to_vec() }
}

fn topic(name: &str, partitions: Vec<Partition>) -> Topic {
    Topic { name: name.to_string(), partitions }
}

fn brokers(list: &[i32]) -> Vec<Broker> {
    list.iter()
        .map(|&id| Broker { id, host: "127.0.0.1".to_string(), port: 9090 + 2 * id })
        .collect()
}

/// Three brokers; broker 3 has just stopped (the chapter's run, plus two more topics). As in a real
/// metadata answer, the topics are not in alphabetical order.
fn three_brokers_one_down() -> Cluster {
    Cluster {
        brokers: brokers(&[1, 2]),
        topics: vec![
            topic(
                "orders",
                vec![
                    partition(0, 2, &[2, 3, 1], &[2, 1]),
                    partition(1, 1, &[3, 1, 2], &[1, 2]),
                    partition(2, 1, &[1, 2, 3], &[1, 2]),
                ],
            ),
            // One replica, on the stopped broker: nobody can serve it.
            topic("lonely", vec![partition(0, -1, &[3], &[])]),
            // One replica, alive and in sync: healthy, however many brokers there are.
            topic("audit", vec![partition(0, 1, &[1], &[1])]),
        ],
    }
}

/// The same cluster once broker 3 is back and has caught up. A replica that rejoins the ISR is
/// added at its end, so the ISR lists the replicas in another order; leaders stay where they
/// moved until the next preferred-leader election.
fn broker_three_back() -> Cluster {
    Cluster {
        brokers: brokers(&[1, 2, 3]),
        topics: vec![
            topic(
                "orders",
                vec![
                    partition(0, 2, &[2, 3, 1], &[2, 1, 3]),
                    partition(1, 1, &[3, 1, 2], &[1, 2, 3]),
                    partition(2, 1, &[1, 2, 3], &[1, 2, 3]),
                ],
            ),
            topic("lonely", vec![partition(0, 3, &[3], &[3])]),
            topic("audit", vec![partition(0, 1, &[1], &[1])]),
        ],
    }
}

/// A fresh topic on the real environment (deleted by `cleanup`), with the cluster's metadata
/// once every partition of it has a leader.
async fn real_cluster_with_topic(
    env: &Env,
    cleanup: &mut Cleanup,
    partitions: i32,
) -> (String, Cluster) {
    let topic = names::unique("ch02-ex");
    kafka::create_topic(env, &topic, partitions).await.unwrap();
    cleanup.topic(topic.clone());
    // A new topic's partitions get their leaders within moments; wait until the metadata shows them.
    let cluster = wait::until(
        "the new topic's partitions have leaders",
        Duration::from_secs(15),
        Duration::from_millis(100),
        || async {
            let cluster = fetch(env).await?;
            let ready = cluster.topics.iter().any(|t| {
                t.name == topic
                    && t.partitions.len() == partitions as usize
                    && t.partitions.iter().all(|p| p.leader >= 0)
            });
            Ok(ready.then_some(cluster))
        },
    )
    .await
    .unwrap();
    (topic, cluster)
}

#[tokio::test]
async fn leader_of() {
    let down = three_brokers_one_down();
    assert_eq!(exercises::leader_of(&down, "orders", 0), Some(2), "orders/0 is led by broker 2");
    assert_eq!(
        exercises::leader_of(&down, "orders", 1),
        Some(1),
        "orders/1 (replicas 3,1,2) is led by broker 1: the leader is not always the first replica. Broker 3 \
         stopped and broker 1 took over; the metadata names the leader"
    );
    assert_eq!(
        exercises::leader_of(&down, "audit", 0),
        Some(1),
        "audit/0 is led by broker 1, but orders has a partition 0 too (led by broker 2): look the partition up in \
         the topic you were asked about"
    );
    assert_eq!(
        exercises::leader_of(&down, "lonely", 0),
        None,
        "lonely/0 has leader -1: -1 means no leader (its only replica is on the stopped broker), not a broker \
         id. Nobody can serve it: None"
    );
    assert_eq!(exercises::leader_of(&down, "orders", 3), None, "orders has no partition 3");
    assert_eq!(
        exercises::leader_of(&down, "no-such-topic", 0),
        None,
        "there is no topic no-such-topic"
    );
    let back = broker_three_back();
    assert_eq!(
        exercises::leader_of(&back, "lonely", 0),
        Some(3),
        "broker 3 is back and leads lonely/0 again"
    );
    assert_eq!(exercises::leader_of(&back, "orders", 1), Some(1), "orders/1 stays with broker 1");

    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let (topic, cluster) = real_cluster_with_topic(&env, &mut cleanup, 3).await;
    let broker_ids: Vec<i32> = cluster.brokers.iter().map(|b| b.id).collect();
    for p in 0..3 {
        let leader = exercises::leader_of(&cluster, &topic, p);
        assert!(
            leader.is_some_and(|id| broker_ids.contains(&id)),
            "partition {p} of {topic} is led by one of the brokers {broker_ids:?}, you said {leader:?}"
        );
    }
    assert_eq!(exercises::leader_of(&cluster, &topic, 3), None, "{topic} has no partition 3");
    cleanup.run().await;
}

#[tokio::test]
async fn under_replicated() {
    let one_replica = Cluster {
        brokers: brokers(&[1, 2, 3]),
        topics: vec![topic("audit", vec![partition(0, 1, &[1], &[1])])],
    };
    assert_eq!(
        exercises::under_replicated(&one_replica),
        Vec::<(String, i32)>::new(),
        "audit/0 has 1 replica and it is in sync: not under-replicated, even on 3 brokers. Compare the ISR with the \
         partition's own replicas, not with the number of brokers, nor with min.insync.replicas"
    );

    let back = broker_three_back();
    assert_eq!(
        exercises::under_replicated(&back),
        Vec::<(String, i32)>::new(),
        "broker 3 is back and in sync everywhere: orders/0 has replicas 2,3,1 and ISR 2,1,3, the same brokers in \
         another order (a replica that rejoins goes to the end of the ISR). Nothing is under-replicated: what \
         counts is which replicas are in sync, not the order they are listed in"
    );

    let down = three_brokers_one_down();
    let found = exercises::under_replicated(&down);
    for t in &down.topics {
        for p in &t.partitions {
            let lagging = p.isr.len() < p.replicas.len();
            let reported = found.contains(&(t.name.clone(), p.id));
            let place = format!(
                "{}/{} (leader {}, replicas {}, ISR {})",
                t.name,
                p.id,
                p.leader,
                ids(&p.replicas),
                ids(&p.isr)
            );
            if p.isr.is_empty() {
                assert!(
                    reported,
                    "{place} is offline: no replica in sync, no leader. That is the worst case of under-replication: \
                     report it. You reported {found:?}"
                );
            } else if lagging {
                assert!(
                    reported,
                    "{place} is under-replicated: a replica fell out of the ISR. Writes with acks=all still succeed \
                     while the ISR is at least min.insync.replicas (2 here), but one more lost broker and they stop. \
                     You reported {found:?}"
                );
            } else {
                assert!(!reported, "{place}: every replica is in sync, but you reported it");
            }
        }
    }
    let expected: Vec<(String, i32)> = [("lonely", 0), ("orders", 0), ("orders", 1), ("orders", 2)]
        .iter()
        .map(|(t, p)| (t.to_string(), *p))
        .collect();
    assert_eq!(
        found, expected,
        "each under-replicated partition once, sorted by topic, then partition"
    );

    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let (topic, cluster) = real_cluster_with_topic(&env, &mut cleanup, 2).await;
    let found = exercises::under_replicated(&cluster);
    assert!(
        !found.iter().any(|(t, _)| t == &topic),
        "a freshly created topic has all its replicas in sync, but you reported {found:?}"
    );
    cleanup.run().await;
}
