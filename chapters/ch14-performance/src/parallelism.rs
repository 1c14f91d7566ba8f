//! Consumer parallelism: members of one group sharing the partitions of a topic.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::FutureProducer;
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::create_topic;
use workbook_support::{Env, names, wait};

use crate::knobs::{FetchKnobs, ProducerSettings, consumer_config, producer_config};
use crate::throughput::produce_flat_out;

/// What a consumer-parallelism run measured.
#[derive(Debug, Clone)]
pub struct Parallel {
    pub elapsed: Duration,
    /// Records each member processed.
    pub per_member: Vec<usize>,
}

// ANCHOR: member
/// One member of the group, on its own thread: poll, "process" each record for `work`, repeat
/// until `stop`. `assigned` shows how many partitions it owns right now; `done` counts records.
fn member(
    consumer: BaseConsumer,
    work: Duration,
    assigned: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
) -> Result<usize> {
    let mut processed = 0;
    while !stop.load(Ordering::Relaxed) {
        let message = consumer.poll(Duration::from_millis(50));
        assigned.store(consumer.assignment().map(|a| a.count()).unwrap_or(0), Ordering::Relaxed);
        if let Some(message) = message {
            message.context("consuming")?;
            // Stands for a database write or an HTTP call: time spent waiting, not computing.
            // (CPU-bound work would stop scaling at this machine's 2 cores.)
            std::thread::sleep(work);
            processed += 1;
            done.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(processed)
}
// ANCHOR_END: member

// ANCHOR: measure_parallel
/// `members` consumers in one group on a fresh `partitions`-partition topic. Once every member
/// owns a partition, `total` records are produced flat out; the clock runs from the first send to
/// the moment the group has processed them all, spending `work` on each.
pub async fn measure_parallel(
    env: &Env,
    members: usize,
    partitions: i32,
    total: u64,
    work: Duration,
    fetch: FetchKnobs,
) -> Result<Parallel> {
    let mut cleanup = Cleanup::new(env);
    let topic = cleanup.topic(names::unique("ch14-parallel"));
    create_topic(env, &topic, partitions).await?;
    let group = names::unique("ch14-parallel");
    let (done, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let mut threads = Vec::new();
    let mut assigned = Vec::new();
    for _ in 0..members {
        let consumer: BaseConsumer =
            consumer_config(env, &group, fetch).create().context("creating a group member")?;
        consumer.subscribe(&[&topic]).context("subscribing")?;
        let owns = Arc::new(AtomicUsize::new(0));
        assigned.push(owns.clone());
        let (done, stop) = (done.clone(), stop.clone());
        threads.push(std::thread::spawn(move || member(consumer, work, owns, done, stop)));
    }
    let result = async {
        // Wait for the group to settle: every partition owned, every member (up to the number of
        // partitions) owning at least one. Otherwise the first member would start alone.
        let busy = members.min(partitions as usize);
        wait::until(
            "the group to assign every partition",
            Duration::from_secs(60),
            Duration::from_millis(100),
            || {
                let owned: Vec<usize> =
                    assigned.iter().map(|a| a.load(Ordering::Relaxed)).collect();
                let settled = owned.iter().sum::<usize>() == partitions as usize
                    && owned.iter().filter(|&&n| n > 0).count() == busy;
                async move { Ok(settled.then_some(())) }
            },
        )
        .await?;
        let producer: FutureProducer = producer_config(env, &ProducerSettings::default())
            .create()
            .context("creating the producer")?;
        let started = Instant::now();
        produce_flat_out(&producer, &topic, total, 200, 10_000).await?;
        let limit = Duration::from_secs(30) + work * total as u32;
        wait::until("the group to process every record", limit, Duration::from_millis(10), || {
            let finished = done.load(Ordering::Relaxed) >= total as usize;
            async move { Ok(finished.then_some(())) }
        })
        .await?;
        anyhow::Ok(started.elapsed())
    }
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut per_member = Vec::new();
    for thread in threads {
        per_member.push(thread.join().map_err(|_| anyhow::anyhow!("a member panicked"))??);
    }
    cleanup.run().await;
    Ok(Parallel { elapsed: result?, per_member })
}
// ANCHOR_END: measure_parallel
