//! `partitions`: keyed records written before and after a topic gets a third partition. The
//! producer places a key with `hash(key) % partitions`, so a new partition count sends most keys
//! to another partition (per-key order is broken across the change), and a producer that was
//! already running keeps the old count until its next metadata refresh, while a new one uses the
//! new count at once.

use std::time::Duration;

use anyhow::Result;
use ch18_operations::partitions::{add_partitions, produce_keyed};
use rdkafka::producer::FutureProducer;
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka;
use workbook_support::{Env, names};

pub async fn partitions() -> Result<()> {
    let env = Env::load()?;
    let admin = kafka::admin(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-keys"));
    kafka::create_topic(&env, &topic, 2).await?;
    let keys = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

    let old: FutureProducer = kafka::producer_config(&env).create()?;
    let before = produce_keyed(&old, &topic, &keys, "v1").await?;
    println!("{topic}: 2 partitions, one record per key (v1)");
    add_partitions(&admin, &topic, 3).await?;
    // The broker's metadata shows the new partition a moment after the controller answered.
    workbook_support::wait::until(
        "3 partitions in the metadata",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async { Ok((kafka::topic_partitions(&env, &topic).await? == 3).then_some(())) },
    )
    .await?;
    println!("added a partition: now 3\n");
    // The producer that was already running still has the old metadata (2 partitions) until
    // its next refresh (topic.metadata.refresh.interval.ms, 5 minutes by default) ...
    let stale = produce_keyed(&old, &topic, &keys, "v2").await?;
    // ... a producer started now sees 3 partitions at once.
    let fresh: FutureProducer = kafka::producer_config(&env).create()?;
    let after = produce_keyed(&fresh, &topic, &keys, "v3").await?;

    println!(
        "{:<7} {:>16} {:>22} {:>18}",
        "key", "v1 (2 partitions)", "v2 (running producer)", "v3 (new producer)"
    );
    let mut moved = 0;
    for (i, key) in keys.iter().enumerate() {
        let note = if after[i] != before[i] { "  <- moved" } else { "" };
        moved += usize::from(after[i] != before[i]);
        println!("{key:<7} {:>16} {:>22} {:>18}{note}", before[i], stale[i], after[i]);
    }
    println!(
        "\n{moved} of {} keys now go to another partition than their earlier records",
        keys.len()
    );
    cleanup.run().await;
    Ok(())
}
