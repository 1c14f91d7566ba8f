//! `lag`: a consumer group that falls behind its producer, then catches up, watched the way a
//! monitor must watch it: from outside the group, by a client that carries the group's id (the
//! committed offsets are looked up by it) but never subscribes, since a monitor that joined the
//! group would rebalance the service it watches. Each second it prints the lag per partition (high
//! watermark minus committed offset), the group's state, and the trend over a window of samples:
//! lag that keeps growing, not a fixed number of records, is what deserves an alert.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use ch18_operations::lag::{self as group_lag, LagTrend, group_state, observer};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka;
use workbook_support::{Env, names};

pub async fn lag(rate: u32, seconds: u64, keep: bool) -> Result<()> {
    let env = Env::load()?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-lag"));
    let group = names::unique("ch18-billing");
    kafka::create_topic(&env, &topic, 3).await?;
    println!("topic {topic} (3 partitions), group {group}");
    println!("producer: {rate} records/s for {seconds} s; consumer: 15 records/s, then 40/s\n");

    let producing = Arc::new(AtomicBool::new(true));
    let producer = tokio::spawn(produce_steadily(
        env.clone(),
        topic.clone(),
        rate,
        seconds,
        producing.clone(),
    ));
    let consumer =
        tokio::spawn(consume_slowly(env.clone(), topic.clone(), group.clone(), producing.clone()));

    let watcher = observer(&env, &group)?;
    let mut trend = LagTrend::new(4);
    let started = Instant::now();
    println!(
        "{:>4}  {:>5} {:>5} {:>5} {:>6}  {:<20} trend",
        "t", "p0", "p1", "p2", "total", "group"
    );
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let (lags, (state, members)) = tokio::task::block_in_place(|| {
            Ok::<_, anyhow::Error>((
                group_lag::lag(&watcher, &topic, 3)?,
                group_state(&watcher, &group)?,
            ))
        })?;
        let total: i64 = lags.iter().map(|l| l.lag).sum();
        let verdict = trend.observe(total);
        println!(
            "{:>3}s  {:>5} {:>5} {:>5} {:>6}  {:<20} {verdict:?}",
            started.elapsed().as_secs(),
            lags[0].lag,
            lags[1].lag,
            lags[2].lag,
            total,
            format!("{state}, {members} member(s)")
        );
        if !producing.load(Ordering::SeqCst) && total == 0 {
            break;
        }
        if started.elapsed() > Duration::from_secs(seconds + 60) {
            bail!("the consumer did not catch up within {} s", seconds + 60);
        }
    }
    producer.await??;
    consumer.abort();
    let _ = consumer.await;
    // The member left: the group has no members now, but keeps its committed offsets.
    let (state, members) = tokio::task::block_in_place(|| group_state(&watcher, &group))?;
    println!(
        "\nconsumer stopped: group {group} is {state} with {members} member(s); \
         its offsets stay committed"
    );
    if keep {
        println!("kept: cargo xtask cli kafka-consumer-groups --describe --group {group}");
        cleanup.keep();
    } else {
        cleanup.run().await;
    }
    Ok(())
}

/// Writes `rate` keyed records per second for `seconds`, then clears `producing`.
async fn produce_steadily(
    env: Env,
    topic: String,
    rate: u32,
    seconds: u64,
    producing: Arc<AtomicBool>,
) -> Result<()> {
    let producer: FutureProducer = kafka::producer_config(&env).create()?;
    let mut tick = tokio::time::interval(Duration::from_secs(1) / rate.max(1));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut n = 0u64;
    while Instant::now() < end {
        tick.tick().await;
        let key = format!("customer-{}", n % 12);
        let value = format!("order-{n}");
        producer
            .send(FutureRecord::to(&topic).key(&key).payload(&value), Duration::from_secs(10))
            .await
            .map_err(|(e, _)| e)?;
        n += 1;
    }
    producing.store(false, Ordering::SeqCst);
    Ok(())
}

/// A group member that takes 65 ms per record while the producer runs (slower than it writes),
/// then 25 ms; it commits each record after processing it.
async fn consume_slowly(
    env: Env,
    topic: String,
    group: String,
    producing: Arc<AtomicBool>,
) -> Result<()> {
    let consumer: StreamConsumer = kafka::group_config(&env, &group)
        // A new group: start at the first record, which the producer may have written already.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[&topic])?;
    loop {
        let message = consumer.recv().await?;
        // Slower than the producer while it runs (a slow database, say), then faster.
        let pace = if producing.load(Ordering::SeqCst) { 65 } else { 25 };
        tokio::time::sleep(Duration::from_millis(pace)).await;
        consumer.commit_message(&message, CommitMode::Async)?;
    }
}
