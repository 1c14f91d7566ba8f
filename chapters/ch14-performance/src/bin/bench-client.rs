//! The Rust side of `cargo xtask bench`: one measurement per run, printed as one JSON line.
//!
//! `cargo xtask bench` builds this optimized, as the Java perf tools run JIT-compiled code
//! (`cargo build --release -p ch14-performance --bin bench-client`), and runs it in turn with
//! Kafka's own `kafka-producer-perf-test` and `kafka-consumer-perf-test`, on the same broker and
//! topics:
//!
//! - `produce`: chapter 4's producer config and records, flat out, with delivery reports as
//!   callbacks (`--reports callback`, the fast way) or as chapter 4's futures (`--reports future`);
//! - `one-by-one`: chapter 4's `send_one_by_one`, the slow way;
//! - `consume`: chapter 14's consumer config plus the prefetch settings of
//!   [`throughput_consumer_config`];
//! - `latency`: chapter 14's `measure_latency`, end to end at a fixed rate.
//!
//! Each clock is defined as the Java tool defines its own, so both sides are measured over the
//! same window (see chapter 14's bench section).
//!
//! Two pieces here are new code that belongs in the chapters' libraries (they live here until
//! then): the delivery-callback producer [`Counting`]/[`send_counted`] (chapter 4) and
//! [`throughput_consumer_config`] (chapter 14).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch04_producers::{
    Acks, Compression, InFlight, ProducerSettings, bench_records, send_one_by_one,
};
use ch14_performance::{FetchKnobs, LatencyRun, consumer_config, measure_latency};
use clap::{Args, Parser, Subcommand, ValueEnum};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, FutureProducer, Producer, ProducerContext, ThreadedProducer,
};
use rdkafka::{ClientConfig, ClientContext, Offset, TopicPartitionList};
use serde_json::json;
use workbook_support::{Env, kafka, names};

#[derive(Parser, Debug)]
#[command(
    about = "The Rust side of `cargo xtask bench`: one measurement, printed as one JSON line"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Leave glibc's malloc thresholds at their defaults (to measure what `keep_freed_memory`
    /// buys).
    #[arg(long, global = true)]
    default_malloc: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Chapter 4's producer, flat out: the clock runs from the send of the first measured record
    /// (after --warmup-records) to the last acknowledgement.
    Produce(ProduceArgs),
    /// Chapter 4's slow way, for comparison: await each send before the next.
    OneByOne(OneByOneArgs),
    /// Read --records records from the beginning of a topic: the clock runs from the moment the
    /// consumer owns its partitions to the moment it has the last record.
    Consume(ConsumeArgs),
    /// Chapter 14's end-to-end latency at a fixed rate (p50/p90/p99/max, in µs).
    Latency(LatencyArgs),
}

/// How the application learns that a record was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Reports {
    /// librdkafka calls back once per record, on its own thread: nothing to allocate or wake.
    Callback,
    /// One future per record (chapter 4's `InFlight`): an allocation, a channel and a wake-up each.
    Future,
}

#[derive(Args, Debug)]
struct ProduceArgs {
    #[arg(long)]
    topic: String,
    /// Records measured.
    #[arg(long)]
    records: u64,
    /// Records sent first and not measured (connections, metadata, producer id, first batches).
    #[arg(long, default_value_t = 0)]
    warmup_records: u64,
    #[arg(long, default_value_t = 5)]
    linger_ms: u64,
    /// Bytes per partition batch (librdkafka's default is 1,000,000; Java's 16,384).
    #[arg(long)]
    batch_size: Option<u64>,
    #[arg(long, value_enum, default_value = "none")]
    compression: Compression,
    #[arg(long, value_enum, default_value = "callback")]
    reports: Reports,
    /// Send the values without their keys, as kafka-producer-perf-test does.
    #[arg(long)]
    no_keys: bool,
    /// With --reports future: records in flight at most (chapter 4's `InFlight`).
    #[arg(long, default_value_t = 100_000)]
    in_flight: usize,
    /// Any other librdkafka property, `name=value` (repeatable).
    #[arg(long = "set", value_parser = property)]
    set: Vec<(String, String)>,
}

#[derive(Args, Debug)]
struct OneByOneArgs {
    #[arg(long)]
    topic: String,
    #[arg(long)]
    records: usize,
}

#[derive(Args, Debug)]
struct ConsumeArgs {
    #[arg(long)]
    topic: String,
    /// Records to read from the beginning (the topic must hold at least this many).
    #[arg(long)]
    records: u64,
    /// Join a consumer group (subscribe), as kafka-consumer-perf-test does, instead of assigning
    /// the partitions directly.
    #[arg(long)]
    subscribe: bool,
    /// Take up to this many records per call into librdkafka (`rd_kafka_consume_batch_queue`)
    /// instead of one `poll` per record, once the partitions are assigned.
    #[arg(long, default_value_t = 0)]
    batch: usize,
    /// Any other librdkafka property, `name=value` (repeatable), e.g. fetch.queue.backoff.ms=1000.
    #[arg(long = "set", value_parser = property)]
    set: Vec<(String, String)>,
}

#[derive(Args, Debug)]
struct LatencyArgs {
    #[arg(long, default_value_t = 2000)]
    rate: u64,
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    #[arg(long, default_value_t = 2)]
    warmup_seconds: u64,
    #[arg(long, default_value_t = 5)]
    linger_ms: u64,
    #[arg(long, default_value_t = 100)]
    record_size: usize,
    #[arg(long, default_value_t = 3)]
    partitions: i32,
}

fn property(text: &str) -> Result<(String, String), String> {
    let (name, value) =
        text.split_once('=').ok_or_else(|| format!("expected name=value, got {text:?}"))?;
    Ok((name.trim().to_string(), value.trim().to_string()))
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    if !cli.default_malloc {
        keep_freed_memory();
    }
    let env = Env::load()?;
    let result = match cli.command {
        Command::Produce(args) => produce(&env, &args).await?,
        Command::OneByOne(args) => one_by_one(&env, &args).await?,
        Command::Consume(args) => {
            let env = env.clone();
            tokio::task::spawn_blocking(move || consume(&env, &args))
                .await
                .context("the consumer panicked")??
        }
        Command::Latency(args) => latency(&env, &args).await?,
    };
    println!("{result}");
    Ok(())
}

// ANCHOR: keep_freed_memory
/// librdkafka reads each fetch response into a buffer of its own (up to `max.partition.fetch.bytes`
/// per partition, 3 MiB here) and frees it once the application has taken every record in it.
/// glibc's `malloc` hands out blocks that large as fresh memory maps (above 128 KiB, adjusted as
/// it goes) and gives them back on `free`, so every fetch paid for new pages: a page fault and a
/// zeroed page per 4 KiB, in the one thread that also parses every record. Raising the threshold
/// to its maximum keeps those buffers in the heap, reused from one fetch to the next; raising the
/// trim threshold keeps the heap from being handed back to the kernel between fetches.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's <malloc.h>: M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3.
        unsafe extern "C" {
            fn mallopt(param: std::ffi::c_int, value: std::ffi::c_int) -> std::ffi::c_int;
        }
        // SAFETY: mallopt only changes two thresholds of the allocator; it is called before any
        // client thread exists.
        unsafe {
            mallopt(-3, 32 * 1024 * 1024);
            mallopt(-1, 256 * 1024 * 1024);
        }
    }
}
// ANCHOR_END: keep_freed_memory

/// Chapter 4's producer (acks=all, idempotent), flat out.
///
/// The records are chapter 4's `bench_records`: a pool of at most 100,000, generated before the
/// clock starts and sent in turn, so that ten million records do not need 2 GB of strings.
async fn produce(env: &Env, args: &ProduceArgs) -> Result<serde_json::Value> {
    let settings = ProducerSettings {
        acks: Acks::All,
        linger_ms: args.linger_ms,
        batch_size: args.batch_size,
        compression: args.compression,
        idempotence: true,
    };
    let mut config = ch04_producers::producer_config(env, &settings);
    apply(&mut config, &args.set);
    let total = args.warmup_records + args.records;
    let pool = bench_records((total as usize).clamp(1, 100_000));
    let key_bytes = |k: &String| if args.no_keys { 0 } else { k.len() };
    let bytes_per_record =
        pool.iter().map(|(k, v)| key_bytes(k) + v.len()).sum::<usize>() as f64 / pool.len() as f64;
    let records = (0..total).map(|i| {
        let (key, value) = &pool[(i % pool.len() as u64) as usize];
        ((!args.no_keys).then_some(key.as_str()), value.as_str())
    });
    let seconds = match args.reports {
        Reports::Callback => {
            let producer: ThreadedProducer<Counting> =
                config.create_with_context(Counting::default()).context("creating the producer")?;
            tokio::task::block_in_place(|| {
                send_counted(&producer, &args.topic, records, args.warmup_records)
            })?
        }
        Reports::Future => {
            let producer: FutureProducer = config.create().context("creating the producer")?;
            send_with_futures(&producer, &args.topic, records, args.warmup_records, args.in_flight)
                .await?
        }
    };
    Ok(json!({
        "kind": "produce",
        "reports": format!("{:?}", args.reports).to_lowercase(),
        "records": args.records,
        "warmup_records": args.warmup_records,
        "bytes_per_record": bytes_per_record,
        "seconds": seconds,
        "records_per_sec": args.records as f64 / seconds,
    }))
}

// ANCHOR: counting
/// Delivery reports as callbacks: librdkafka calls `delivery` once per record, on the
/// producer's own polling thread, and this context only counts. No future, no channel, no
/// wake-up per record: about half the CPU of a future per record.
///
/// (New code for chapter 4's library, next to `InFlight`.)
#[derive(Default)]
pub struct Counting {
    pub delivered: AtomicU64,
    pub failed: AtomicU64,
    pub first_error: Mutex<Option<KafkaError>>,
}

impl ClientContext for Counting {}

impl ProducerContext for Counting {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_error.lock().unwrap().get_or_insert_with(|| error.clone());
            }
        }
    }
}

/// Sends every record as fast as librdkafka takes them (its queue holds up to
/// `queue.buffering.max.messages`, 100,000 by default), then flushes. Returns the seconds from the
/// send of record `warmup` (the first measured one) to the last acknowledgement.
pub fn send_counted<'a>(
    producer: &ThreadedProducer<Counting>,
    topic: &str,
    records: impl Iterator<Item = (Option<&'a str>, &'a str)>,
    warmup: u64,
) -> Result<f64> {
    let mut started = Instant::now();
    for (i, (key, value)) in records.enumerate() {
        if i as u64 == warmup {
            started = Instant::now();
        }
        let mut record = BaseRecord::to(topic).payload(value);
        if let Some(key) = key {
            record = record.key(key);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                // The local queue is full: give the acknowledgements a moment to free it.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
                    record = returned;
                    std::thread::sleep(Duration::from_micros(500));
                }
                Err((error, _)) => return Err(error).context("enqueueing a record"),
            }
        }
    }
    producer.flush(Duration::from_secs(60)).context("flushing the producer")?;
    let seconds = started.elapsed().as_secs_f64();
    let counts = producer.context();
    if let Some(error) = counts.first_error.lock().unwrap().as_ref() {
        bail!(
            "{} records were not delivered; the first: {error}",
            counts.failed.load(Ordering::Relaxed)
        );
    }
    Ok(seconds)
}
// ANCHOR_END: counting

/// Chapter 4's `InFlight`: a future per record, at most `max_in_flight` outstanding.
async fn send_with_futures<'a>(
    producer: &FutureProducer,
    topic: &str,
    records: impl Iterator<Item = (Option<&'a str>, &'a str)>,
    warmup: u64,
    max_in_flight: usize,
) -> Result<f64> {
    let mut in_flight = InFlight::new(producer, max_in_flight);
    let mut failed = Vec::new();
    let mut started = Instant::now();
    for (i, (key, value)) in records.enumerate() {
        if i as u64 == warmup {
            started = Instant::now();
        }
        let reports = in_flight.send(topic, key, value).await;
        failed.extend(reports.into_iter().filter(|report| report.result.is_err()));
    }
    let reports = in_flight.finish(Duration::from_secs(60)).await?;
    let seconds = started.elapsed().as_secs_f64();
    failed.extend(reports.into_iter().filter(|r| r.result.is_err()));
    if let Some(report) = failed.first() {
        bail!("{} records were not delivered; the first: {:?}", failed.len(), report);
    }
    Ok(seconds)
}

/// Chapter 4's `send_one_by_one`: every record waits for the previous one's acknowledgement.
async fn one_by_one(env: &Env, args: &OneByOneArgs) -> Result<serde_json::Value> {
    let producer: FutureProducer =
        ch04_producers::producer_config(env, &ProducerSettings::default())
            .create()
            .context("creating the producer")?;
    let records = bench_records(args.records + 1);
    // One record first, so that connecting and the producer id are not counted.
    send_one_by_one(&producer, &args.topic, &records[..1]).await?;
    let started = Instant::now();
    send_one_by_one(&producer, &args.topic, &records[1..]).await?;
    let seconds = started.elapsed().as_secs_f64();
    Ok(json!({
        "kind": "one-by-one",
        "records": args.records,
        "seconds": seconds,
        "records_per_sec": args.records as f64 / seconds,
    }))
}

// ANCHOR: throughput_consumer
/// Chapter 14's consumer configuration, for a consumer that reads as fast as it can.
///
/// (New code for chapter 14's library, next to `consumer_config`.)
pub fn throughput_consumer_config(env: &Env, group: &str) -> ClientConfig {
    let mut config = consumer_config(env, group, FetchKnobs::default());
    config
        // librdkafka fetches ahead of the application until a partition has this many records
        // waiting in memory (its default, said out loud: a few thousand makes it stop and start).
        .set("queued.min.messages", "100000")
        // ...and when that queue is full, it waits this long before it fetches that partition
        // again. The default, 1000 ms, can leave a fast reader with nothing to read for most of
        // a second (with queued.min.messages=1000 too: one fetch per partition per second);
        // 10 ms keeps the fetches coming.
        .set("fetch.queue.backoff.ms", "10")
        // At most this many bytes per partition in one fetch response (the Java consumer's
        // max.partition.fetch.bytes, kafka-consumer-perf-test's --fetch-size): both 1 MiB.
        .set("max.partition.fetch.bytes", "1048576")
        // Nothing is committed: the benchmark reads and forgets.
        .set("enable.auto.offset.store", "false");
    config
}
// ANCHOR_END: throughput_consumer

/// Reads `records` records from the beginning of the topic, counting key and value bytes as
/// kafka-consumer-perf-test does. The clock starts when the consumer owns its partitions (at
/// `assign`, or at the end of the group join with --subscribe) and stops at the last record:
/// kafka-consumer-perf-test's `fetch.time.ms` window, which leaves out the group join.
fn consume(env: &Env, args: &ConsumeArgs) -> Result<serde_json::Value> {
    let mut config = throughput_consumer_config(env, &names::unique("bench-rust"));
    apply(&mut config, &args.set);
    let consumer: BaseConsumer = config.create().context("creating the consumer")?;
    // As kafka-consumer-perf-test's clock: the client exists, the group join is ahead.
    let created = Instant::now();
    let mut owned = None;
    if args.subscribe {
        consumer.subscribe(&[&args.topic]).context("subscribing")?;
    } else {
        let partitions = kafka::fetch_metadata_blocking(
            &env.bootstrap_servers,
            Some(&args.topic),
            kafka::METADATA_TIMEOUT,
        )?
        .topics
        .into_iter()
        .find(|t| t.name == args.topic)
        .map(|t| t.partitions.len())
        .with_context(|| format!("no topic {}", args.topic))?;
        let mut all = TopicPartitionList::new();
        for p in 0..partitions as i32 {
            all.add_partition_offset(&args.topic, p, Offset::Beginning)?;
        }
        owned = Some(Instant::now());
        consumer.assign(&all).context("assigning the partitions")?;
    }
    let deadline = Instant::now() + Duration::from_secs(60) + Duration::from_micros(args.records);
    let (mut seen, mut bytes, mut first) = (0u64, 0u64, None);
    while seen < args.records {
        if args.batch > 0 && owned.is_some() {
            // The partitions are ours (no rebalance is coming in a one-member group): the rest
            // in batches.
            let (more, more_bytes, batch_first) =
                consume_batches(&consumer, args.records - seen, args.batch, deadline)?;
            (seen, bytes) = (seen + more, bytes + more_bytes);
            first = first.or(batch_first);
            break;
        }
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(message)) => {
                seen += 1;
                bytes += (message.key_len() + message.payload_len()) as u64;
                first.get_or_insert_with(Instant::now);
            }
            Some(Err(e)) => return Err(e).context("consuming"),
            None if Instant::now() > deadline => {
                bail!("read {seen} of {} records before the deadline", args.records)
            }
            None => {}
        }
        if owned.is_none() && consumer.assignment().map(|a| a.count() > 0).unwrap_or(false) {
            // The group join is over (the rebalance ran inside the last poll): the clock starts.
            owned = Some(Instant::now());
        }
    }
    let end = Instant::now();
    let owned = owned.unwrap_or(created);
    let seconds = (end - owned).as_secs_f64();
    Ok(json!({
        "kind": "consume",
        "records": seen,
        "bytes": bytes,
        "seconds": seconds,
        "records_per_sec": seen as f64 / seconds,
        "join_seconds": (owned - created).as_secs_f64(),
        "first_record_seconds": first.map(|f| (f - owned).as_secs_f64()),
    }))
}

/// Batch polling: `rd_kafka_consume_batch_queue` hands over up to `batch` records per call, where
/// `poll` takes one (rust-rdkafka 0.39 has no safe wrapper for it). It halves the consumer's CPU
/// per record, and on two cores that doubles what it reads per second.
fn consume_batches(
    consumer: &BaseConsumer,
    records: u64,
    batch: usize,
    deadline: Instant,
) -> Result<(u64, u64, Option<Instant>)> {
    use rdkafka::bindings as rd;
    let (mut seen, mut bytes, mut first) = (0u64, 0u64, None);
    let mut messages: Vec<*mut rd::rd_kafka_message_t> = vec![std::ptr::null_mut(); batch];
    // SAFETY: the queue comes from `consumer`, which outlives it, and is destroyed once; each
    // message returned is read while alive and destroyed exactly once.
    unsafe {
        let queue = rd::rd_kafka_queue_get_consumer(consumer.client().native_ptr());
        if queue.is_null() {
            bail!("the consumer has no consumer queue");
        }
        let mut result = Ok(());
        while seen < records {
            let n = rd::rd_kafka_consume_batch_queue(queue, 100, messages.as_mut_ptr(), batch);
            if n < 0 {
                result = Err(anyhow::anyhow!("rd_kafka_consume_batch_queue failed"));
                break;
            }
            let mut error = None;
            for &message in &messages[..n as usize] {
                if (*message).err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    seen += 1;
                    bytes += ((*message).key_len + (*message).len) as u64;
                } else {
                    error.get_or_insert((*message).err);
                }
                rd::rd_kafka_message_destroy(message);
            }
            if n > 0 {
                first.get_or_insert_with(Instant::now);
            }
            if let Some(e) = error {
                result = Err(anyhow::anyhow!("consuming: {e:?}"));
                break;
            }
            if n == 0 && Instant::now() > deadline {
                result =
                    Err(anyhow::anyhow!("read {seen} of {records} records before the deadline"));
                break;
            }
        }
        rd::rd_kafka_queue_destroy(queue);
        result?;
    }
    Ok((seen, bytes, first))
}

/// Chapter 14's `measure_latency` on a fresh topic, with chapter 4's producer settings.
async fn latency(env: &Env, args: &LatencyArgs) -> Result<serde_json::Value> {
    let settings = ProducerSettings { linger_ms: args.linger_ms, ..Default::default() };
    let run = LatencyRun {
        rate: args.rate,
        warmup: Duration::from_secs(args.warmup_seconds),
        measure: Duration::from_secs(args.seconds),
        record_size: args.record_size,
        partitions: args.partitions,
    };
    let result = measure_latency(
        env,
        &ch04_producers::producer_config(env, &settings),
        FetchKnobs::default(),
        &run,
    )
    .await?;
    let summary = result.latency.context("no record arrived")?;
    Ok(json!({
        "kind": "latency",
        "rate": args.rate,
        "seconds": args.seconds,
        "linger_ms": args.linger_ms,
        "sent": result.sent,
        "received": result.received,
        "p50_us": summary.p50,
        "p90_us": summary.p90,
        "p99_us": summary.p99,
        "max_us": summary.max,
    }))
}

fn apply(config: &mut ClientConfig, properties: &[(String, String)]) {
    for (name, value) in properties {
        config.set(name, value);
    }
}
