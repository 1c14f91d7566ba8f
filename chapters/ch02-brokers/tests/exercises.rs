//! The chapter 2 exercises, checked against the real environment (`cargo xtask check ch02`)
//! and against cluster states a one-broker workbook cannot show (three brokers, one down).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(all(feature = "solutions", not(feature = "mistakes")), path = "../solutions/exercises.rs")]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use ch02_brokers::{fetch};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::kafka::{self, Broker, Cluster, Partition, Topic};
use workbook_support::{Env, names};

fn partition(id: i32, leader: i32, replicas: &[i32], isr: &[i32]) -> Partition {
    Partition { id, leader, replicas: replicas.to_vec(), isr: isr.to_vec() }
}

/// Three brokers; broker 3 has just died. What `fetch_cluster` returned in this chapter's run.
fn three_brokers_one_down() -> Cluster {
    let broker = |id, port| Broker { id, host: "127.0.0.1".to_string(), port };
    Cluster {
        brokers: vec![broker(1, 9092), broker(2, 9094)],
        topics: vec![
            Topic {
                name: "orders".to_string(),
                partitions: vec![
                    partition(0, 2, &[2, 3, 1], &[2, 1]),
                    partition(1, 1, &[3, 1, 2], &[1, 2]),
                    partition(2, 1, &[1, 2, 3], &[1, 2, 3]),
                ],
            },
            // One replica, on the dead broker: nobody can serve it.
            Topic { name: "lonely".to_string(), partitions: vec![partition(0, -1, &[3], &[])] },
            // One replica, alive and in sync: healthy, however many brokers there are.
            Topic { name: "audit".to_string(), partitions: vec![partition(0, 2, &[2], &[2])] },
        ],
    }
}

/// A fresh topic on the real environment, with its metadata.
async fn real_cluster_with_topic(env: &Env, partitions: i32) -> (String, Cluster) {
    let topic = names::unique("ch02-ex");
    let admin = kafka::admin(env).unwrap();
    let new_topic = NewTopic::new(&topic, partitions, TopicReplication::Fixed(-1));
    let results = admin.create_topics([&new_topic], &AdminOptions::new()).await.unwrap();
    assert!(results[0].is_ok(), "creating {topic}: {:?}", results[0]);
    // A new topic's partitions get their leaders within moments; wait until the metadata shows them.
    let cluster = workbook_support::wait::until(
        "the new topic has leaders",
        std::time::Duration::from_secs(15),
        std::time::Duration::from_millis(100),
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

async fn delete(env: &Env, topic: &str) {
    let _ = kafka::admin(env).unwrap().delete_topics(&[topic], &AdminOptions::new()).await;
}

#[tokio::test]
async fn leader_of() {
    let env = Env::load().unwrap();
    let (topic, cluster) = real_cluster_with_topic(&env, 3).await;
    let broker_ids: Vec<i32> = cluster.brokers.iter().map(|b| b.id).collect();
    for p in 0..3 {
        let leader = exercises::leader_of(&cluster, &topic, p);
        assert!(
            leader.is_some_and(|id| broker_ids.contains(&id)),
            "partition {p} of {topic} is led by one of the brokers {broker_ids:?}, you said {leader:?}"
        );
    }
    assert_eq!(exercises::leader_of(&cluster, &topic, 3), None, "{topic} has no partition 3");
    assert_eq!(exercises::leader_of(&cluster, "no-such-topic", 0), None, "unknown topic");
    delete(&env, &topic).await;

    let down = three_brokers_one_down();
    assert_eq!(exercises::leader_of(&down, "orders", 0), Some(2));
    assert_eq!(
        exercises::leader_of(&down, "orders", 1),
        Some(1),
        "the leader is not always the first replica: broker 3 died and broker 1 took over"
    );
    assert_eq!(exercises::leader_of(&down, "orders", 2), Some(1));
    assert_eq!(exercises::leader_of(&down, "lonely", 0), None, "leader -1 means no leader");
}

#[tokio::test]
async fn under_replicated() {
    let env = Env::load().unwrap();
    let (topic, cluster) = real_cluster_with_topic(&env, 2).await;
    let found = exercises::under_replicated(&cluster);
    assert!(
        !found.iter().any(|(t, _)| t == &topic),
        "a freshly created topic has all its replicas in sync, but you reported {found:?}"
    );
    delete(&env, &topic).await;

    let down = three_brokers_one_down();
    assert_eq!(
        exercises::under_replicated(&down),
        vec![("lonely".to_string(), 0), ("orders".to_string(), 0), ("orders".to_string(), 1)],
        "expected exactly: lonely/0 (offline), orders/0 and orders/1 (broker 3 fell out of their ISR), sorted"
    );
    let healthy = Cluster { brokers: down.brokers.clone(), topics: vec![down.topics[2].clone()] };
    assert_eq!(
        exercises::under_replicated(&healthy),
        Vec::<(String, i32)>::new(),
        "one replica, in sync: not under-replicated"
    );
}
