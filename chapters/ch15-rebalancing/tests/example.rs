//! The chapter's claims, checked against the real broker: what each protocol revokes when a
//! member joins, who computes the assignment, and a static member's restart.

use std::collections::BTreeSet;
use std::time::Duration;

use ch15_rebalancing::{
    Change, Member, Protocol, Timeline, member_config, static_member, wait_settled,
};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, example, kafka, names};

const PARTITIONS: i32 = 6;
const SETTLE: Duration = Duration::from_secs(60);

/// The demo's configuration: `protocol`, and librdkafka's group debug log on.
fn config(env: &Env, group: &str, protocol: Protocol) -> ClientConfig {
    let mut config = member_config(env, group, protocol);
    config.set("debug", "cgrp").set_log_level(RDKafkaLogLevel::Debug);
    config
}

/// What B's join did: the partitions A gave up, the ones B got, and the debug notes.
struct Join {
    revoked_by_a: BTreeSet<i32>,
    owned_by_b: BTreeSet<i32>,
    notes: Vec<String>,
}

async fn join(protocol: Protocol) -> Join {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch15-example"));
    kafka::create_topic(&env, &topic, PARTITIONS).await.unwrap();
    let config = config(&env, &names::unique("ch15-example"), protocol);
    let timeline = Timeline::new(false);

    let a = Member::start(&config, "A", &topic, &timeline).unwrap();
    wait_settled(&timeline, &["A"], PARTITIONS, SETTLE).await.unwrap();
    let mark = timeline.elapsed();
    let b = Member::start(&config, "B", &topic, &timeline).unwrap();
    wait_settled(&timeline, &["A", "B"], PARTITIONS, SETTLE).await.unwrap();

    let events = timeline.events();
    let revoked_by_a = events
        .iter()
        .filter(|e| e.member == "A" && e.at > mark && e.change == Change::Revoked)
        .flat_map(|e| e.partitions.clone())
        .collect();
    let notes =
        events.iter().filter(|e| e.change == Change::Note).map(|e| e.text.clone()).collect();
    let joined = Join { revoked_by_a, owned_by_b: timeline.owned("B"), notes };
    b.stop().await.unwrap();
    a.stop().await.unwrap();
    cleanup.run().await;
    joined
}

#[tokio::test]
async fn eager_revokes_every_partition_and_a_client_assigns() {
    let joined = join(Protocol::Eager).await;
    assert_eq!(joined.revoked_by_a, (0..PARTITIONS).collect(), "eager: A gives up everything");
    assert_eq!(joined.owned_by_b.len(), 3);
    assert!(
        joined.notes.iter().any(|n| n.contains("\"range\" assignor run for 2 member(s)")),
        "{:?}",
        joined.notes
    );
}

#[tokio::test]
async fn cooperative_sticky_revokes_only_what_moves() {
    let joined = join(Protocol::Cooperative).await;
    assert_eq!(
        joined.revoked_by_a, joined.owned_by_b,
        "cooperative: A gives up exactly what B gets"
    );
    assert_eq!(joined.owned_by_b.len(), 3);
    assert!(
        joined.notes.iter().any(|n| n.contains("\"cooperative-sticky\" assignor run")),
        "{:?}",
        joined.notes
    );
}

#[tokio::test]
async fn consumer_protocol_assigns_in_the_broker_incrementally() {
    let joined = join(Protocol::Consumer).await;
    assert_eq!(joined.revoked_by_a, joined.owned_by_b, "KIP-848: A gives up exactly what B gets");
    assert_eq!(joined.owned_by_b.len(), 3);
    assert!(
        joined.notes.iter().all(|n| !n.contains("assignor run")),
        "no client ran an assignor: {:?}",
        joined.notes
    );
    assert!(joined.notes.iter().any(|n| n.contains("target assignment")), "{:?}", joined.notes);
}

#[tokio::test]
async fn a_static_member_restarts_without_a_rebalance() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch15-example-static"));
    kafka::create_topic(&env, &topic, PARTITIONS).await.unwrap();
    let group = names::unique("ch15-example-static");
    let config = |instance: &str| {
        let mut config = config(&env, &group, Protocol::Cooperative);
        static_member(&mut config, instance);
        config
    };
    let timeline = Timeline::new(false);
    let a = Member::start(&config("A"), "A", &topic, &timeline).unwrap();
    let b = Member::start(&config("B"), "B", &topic, &timeline).unwrap();
    wait_settled(&timeline, &["A", "B"], PARTITIONS, SETTLE).await.unwrap();
    let owned = timeline.owned("B");

    let mark = timeline.elapsed();
    b.stop().await.unwrap();
    let b = Member::start(&config("B"), "B", &topic, &timeline).unwrap();
    wait_settled(&timeline, &["A", "B"], PARTITIONS, SETTLE).await.unwrap();
    assert_eq!(timeline.owned("B"), owned, "B got its own partitions back");
    let to_a: Vec<_> = timeline
        .events()
        .into_iter()
        .filter(|e| e.member == "A" && e.at > mark && e.change != Change::Note)
        .collect();
    assert!(to_a.is_empty(), "A saw no rebalance while B restarted: {to_a:?}");
    b.stop().await.unwrap();
    a.stop().await.unwrap();
    cleanup.run().await;
}

#[test]
fn the_demo_tells_the_static_story() {
    let stdout = example::run(env!("CARGO_BIN_EXE_ch15-rebalancing"), &["--scenario", "static"]);
    assert!(stdout.contains("A saw 0 rebalance callback(s) during B's restart"), "{stdout}");
    assert!(stdout.contains("settled: 0 moved"), "{stdout}");
}
