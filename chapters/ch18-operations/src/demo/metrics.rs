//! `metrics`: what librdkafka measures about itself. With `statistics.interval.ms` set, a
//! producer and a consumer hand their context a snapshot of their counters every second; this
//! prints the few worth a dashboard: records delivered and queued, round trips and batch sizes for
//! the producer, committed offsets and the consumer's own lag per partition for the consumer.

use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use ch18_operations::metrics::{StatsContext, consumer_summary, producer_summary};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka;
use workbook_support::{Env, names};

pub async fn metrics() -> Result<()> {
    let env = Env::load()?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-metrics"));
    kafka::create_topic(&env, &topic, 3).await?;

    // ANCHOR: stats_config
    let stats = StatsContext::default();
    let producer: FutureProducer<StatsContext> = kafka::producer_config(&env)
        // Every second, librdkafka hands the context a snapshot of its counters (as JSON,
        // decoded into rdkafka's `Statistics`).
        .set("statistics.interval.ms", "1000")
        .create_with_context(stats.clone())?;
    // ANCHOR_END: stats_config
    let count = 20_000;
    let value = "x".repeat(100);
    println!("producing {count} records of 100 bytes to {topic} (3 partitions)");
    let sends = (0..count).map(|i| {
        let (producer, value, topic) = (&producer, &value, &topic);
        async move {
            let key = format!("k{}", i % 100);
            let record = FutureRecord::to(topic).key(&key).payload(value);
            producer.send(record, Duration::from_secs(30)).await.map_err(|(e, _)| e)
        }
    });
    futures::future::try_join_all(sends).await?;
    let snapshot = wait_for_stats(&stats, |s| s.txmsgs >= count).await?;
    println!("producer statistics:");
    for line in producer_summary(&snapshot) {
        println!("  {line}");
    }

    let group = names::unique("ch18-metrics");
    let consumer: BaseConsumer<StatsContext> = kafka::group_config(&env, &group)
        .set("auto.offset.reset", "earliest") // the records are written before it joins
        .set("enable.auto.commit", "false")
        .set("statistics.interval.ms", "1000")
        .create_with_context(StatsContext::default())?;
    consumer.subscribe(&[&topic])?;
    let per_partition = 1_500;
    let stats = tokio::task::block_in_place(|| consume_then_watch(&consumer, per_partition))?;
    println!(
        "\nconsumer statistics after processing and committing {per_partition} records \
         of each partition:"
    );
    for line in consumer_summary(&stats) {
        println!("  {line}");
    }
    drop(consumer);
    cleanup.run().await;
    Ok(())
}

/// Waits until the context received statistics that satisfy `ready`.
async fn wait_for_stats(
    context: &StatsContext,
    ready: impl Fn(&Statistics) -> bool,
) -> Result<Statistics> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(stats) = context.latest().filter(|s| ready(s)) {
            return Ok(stats);
        }
        if Instant::now() > deadline {
            bail!("no statistics within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// "Processes" the first `per_partition` records of each partition, commits exactly those,
/// then keeps polling (statistics are delivered by the poll) until a snapshot shows the
/// committed offsets.
fn consume_then_watch(
    consumer: &BaseConsumer<StatsContext>,
    per_partition: i64,
) -> Result<Statistics> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut done = TopicPartitionList::new();
    while done.count() < 3 {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message?;
            if message.offset() + 1 == per_partition {
                done.add_partition_offset(
                    message.topic(),
                    message.partition(),
                    Offset::Offset(per_partition),
                )?;
            }
        }
        if Instant::now() > deadline {
            bail!("did not read {per_partition} records of each partition within 60 s");
        }
    }
    consumer.commit(&done, CommitMode::Sync)?;
    loop {
        // What arrives now is not processed, so it is not committed either.
        let _ = consumer.poll(Duration::from_millis(100));
        let latest = consumer.context().latest();
        let committed = |s: &Statistics| {
            s.topics
                .values()
                .flat_map(|t| t.partitions.values())
                .filter(|p| p.committed_offset == per_partition)
                .count()
        };
        if let Some(stats) = latest.filter(|s| committed(s) == 3) {
            return Ok(stats);
        }
        if Instant::now() > deadline {
            bail!("no statistics with the committed offsets within 60 s");
        }
    }
}
