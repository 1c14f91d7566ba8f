//! The chapter 4 exercises, checked against the real broker (`cargo xtask check ch04`).

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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, Ordering};
use std::time::Duration;

use ch04_producers::{ProducerSettings, producer_config};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names, wait};

/// Creates `topic` with `partitions` partitions and the given topic settings.
async fn create_topic(env: &Env, topic: &str, partitions: i32, settings: &[(&str, &str)]) {
    let mut new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(-1));
    for (key, value) in settings {
        new_topic = new_topic.set(key, value);
    }
    let options = AdminOptions::new().request_timeout(Some(kafka::ADMIN_TIMEOUT));
    let results = kafka::admin(env).unwrap().create_topics(&[new_topic], &options).await.unwrap();
    for result in results {
        result.unwrap_or_else(|(name, code)| panic!("creating topic {name}: {code}"));
    }
}

/// A fresh topic, deleted when `cleanup` is.
async fn fresh_topic(
    env: &Env,
    cleanup: &mut Cleanup,
    prefix: &str,
    partitions: i32,
    settings: &[(&str, &str)],
) -> String {
    let topic = names::unique(prefix);
    cleanup.topic(topic.clone());
    create_topic(env, &topic, partitions, settings).await;
    topic
}

/// A stored record: its key (None: no key) and its value.
type Stored = (Option<String>, String);

/// Reads `count` records from all `partitions` of `topic`: (partition, offset) -> (key, value).
async fn read_back(
    env: &Env,
    topic: &str,
    partitions: i32,
    count: usize,
) -> HashMap<(i32, i64), Stored> {
    let consumer: StreamConsumer =
        kafka::group_config(env, &names::unique("ch04-readback")).create().unwrap();
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment.add_partition_offset(topic, p, Offset::Beginning).unwrap();
    }
    consumer.assign(&assignment).unwrap();
    let mut seen = HashMap::new();
    println!("waiting for the {count} records to read back");
    while seen.len() < count {
        let message = tokio::time::timeout(Duration::from_secs(15), consumer.recv())
            .await
            .unwrap_or_else(|_| {
                panic!("reading the records back: only {} of {count} within 15 s", seen.len())
            })
            .unwrap();
        let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned());
        let value =
            message.payload().map(|v| String::from_utf8_lossy(v).into_owned()).unwrap_or_default();
        seen.insert((message.partition(), message.offset()), (key, value));
    }
    seen
}

/// Watches, on a thread of its own, how many records the producer holds that are not yet
/// delivered (waiting in a batch, on the wire, or with a report not yet handed out), and
/// remembers the most it ever saw at once.
struct InFlightWatch {
    most: Arc<AtomicI32>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl InFlightWatch {
    fn start(producer: &FutureProducer) -> InFlightWatch {
        let (most, stop) = (Arc::new(AtomicI32::new(0)), Arc::new(AtomicBool::new(false)));
        let (producer, seen, stopped) = (producer.clone(), most.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                seen.fetch_max(producer.in_flight_count(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        });
        InFlightWatch { most, stop, thread }
    }

    /// The most records seen in flight at once.
    fn finish(self) -> i32 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.most.load(Ordering::Relaxed)
    }
}

#[tokio::test]
async fn produce_keyed_in_order() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = fresh_topic(&env, &mut cleanup, "ch04-ex-keyed", 3, &[]).await;
    // A slow round trip that does not depend on how busy the machine is: every batch waits a
    // whole second for more records before it goes out. Records sent together share that second;
    // a record awaited alone pays all of it, so 60 of them would take a minute.
    let settings = ProducerSettings { linger_ms: 1000, ..ProducerSettings::default() };
    let producer: FutureProducer = producer_config(&env, &settings).create().unwrap();
    // Six keys, ten records each, interleaved: user-0 #0, user-1 #0, ..., user-5 #9.
    let records: Vec<(String, String)> = (0..60)
        .map(|i| (format!("user-{}", i % 6), format!("user-{} event {}", i % 6, i / 6)))
        .collect();

    println!("waiting for produce_keyed_in_order: 60 records, every batch lingers 1 s");
    let watch = InFlightWatch::start(&producer);
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        exercises::produce_keyed_in_order(&producer, &topic, &records),
    )
    .await;
    let most_in_flight = watch.finish();
    let placed = match outcome {
        Err(_) => panic!(
            "produce_keyed_in_order did not return within 20 s, and at most {most_in_flight} record(s) were in \
             flight at once: it waits for each delivery before sending the next record, so every record pays a \
             whole linger.ms (1 s here) and round trip alone"
        ),
        Ok(result) => result.unwrap_or_else(|e| panic!("produce_keyed_in_order failed: {e:#}")),
    };
    // Awaiting each delivery shows 1, sometimes 2 (the next send can start while the previous
    // report is still being handed out); sending everything first shows all 60.
    assert!(
        most_in_flight >= 10,
        "at most {most_in_flight} record(s) were in flight at once: send every record before awaiting any delivery"
    );
    assert_eq!(
        placed.len(),
        records.len(),
        "one (partition, offset) per record, in the order of `records`"
    );

    // What is really at each reported position?
    let stored = read_back(&env, &topic, 3, records.len()).await;
    for ((key, value), position) in records.iter().zip(&placed) {
        let Some((stored_key, stored_value)) = stored.get(position) else {
            panic!("the report for {value:?} says {position:?}, but the topic has no record there")
        };
        assert_eq!(
            stored_value, value,
            "the report for {value:?} says {position:?}, but that is where {stored_value:?} is: return the \
             reports in the order of `records`, not in the order the deliveries complete"
        );
        assert_eq!(
            stored_key.as_deref(),
            Some(key.as_str()),
            "{value:?} is stored without its key {key:?}: a key's records are bound to one partition (and keep \
             their order) only if every record carries the key"
        );
    }
    let mut partition_of: HashMap<&str, i32> = HashMap::new();
    let mut last_offset: HashMap<&str, i64> = HashMap::new();
    for ((key, value), (partition, offset)) in records.iter().zip(&placed) {
        let first = *partition_of.entry(key).or_insert(*partition);
        assert_eq!(
            *partition, first,
            "{value:?}: all records of key {key} must land in one partition"
        );
        if let Some(previous) = last_offset.insert(key, *offset) {
            assert!(
                *offset > previous,
                "{value:?}: key {key}'s records must keep their order (offset {offset} after {previous})"
            );
        }
    }

    // A record the broker refuses (larger than this topic's max.message.bytes) must fail the call.
    let small =
        fresh_topic(&env, &mut cleanup, "ch04-ex-refused", 1, &[("max.message.bytes", "1024")])
            .await;
    let refused: Vec<(String, String)> = vec![
        ("user-1".into(), "fits".into()),
        ("user-1".into(), "too large: ".to_string() + &"x".repeat(4000)),
        ("user-1".into(), "fits too".into()),
    ];
    println!("waiting for produce_keyed_in_order: a record the broker refuses as too large");
    let outcome = tokio::time::timeout(
        Duration::from_secs(20),
        exercises::produce_keyed_in_order(&producer, &small, &refused),
    )
    .await
    .expect("produce_keyed_in_order did not return within 20 s (a record too large for the topic)");
    if let Ok(placed) = outcome {
        panic!(
            "the broker refused a record (too large for the topic), yet produce_keyed_in_order returned \
             Ok({placed:?}): a failed delivery must fail the call, or the caller believes it was written"
        );
    }
    cleanup.run().await;
}

/// Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2), as the Java producer hashes keys.
fn java_partition(key: &[u8], partitions: u32) -> i32 {
    let (m, r) = (0x5bd1_e995_u32, 24);
    let mut h = 0x9747_b28c_u32 ^ key.len() as u32;
    let chunks = key.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(m);
        k ^= k >> r;
        k = k.wrapping_mul(m);
        h = h.wrapping_mul(m);
        h ^= k;
    }
    if tail.len() >= 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(m);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(m);
    h ^= h >> 15;
    ((h & 0x7fff_ffff) % partitions) as i32
}

/// A colleague's producer configuration, tuned for speed with every unsafe shortcut.
fn colleague_config(env: &Env) -> ClientConfig {
    let mut config = kafka::producer_config(env);
    config
        .set("client.id", "orders-service")
        .set("message.timeout.ms", "8000")
        .set("linger.ms", "20")
        .set("compression.type", "lz4")
        .set("acks", "1")
        .set("enable.idempotence", "false")
        .set("max.in.flight.requests.per.connection", "10")
        .set("retries", "0")
        .set("partitioner", "consistent_random");
    config
}

/// The colleague's settings that have nothing to do with safety, and must survive.
const KEPT: [&str; 6] = [
    "bootstrap.servers",
    "client.id",
    "message.timeout.ms",
    "linger.ms",
    "compression.type",
    "socket.timeout.ms",
];

/// Two names for one librdkafka setting: with both in a config, which one wins is down to chance.
const ALIASES: [(&str, &str); 3] = [
    ("max.in.flight", "max.in.flight.requests.per.connection"),
    ("retries", "message.send.max.retries"),
    ("acks", "request.required.acks"),
];

/// Remembers the producer id the broker gave this producer, from librdkafka's statistics
/// (-1 while it has none; a producer without idempotence never gets one).
struct ProducerId(Arc<AtomicI64>);

impl ClientContext for ProducerId {
    fn stats(&self, statistics: Statistics) {
        if let Some(eos) = statistics.eos {
            self.0.store(eos.producer_id, Ordering::Relaxed);
        }
    }
}

#[tokio::test]
async fn safe_producer_config() {
    let env = Env::load().unwrap();
    let base = colleague_config(&env);
    let config = exercises::safe_producer_config(&base);

    for key in KEPT {
        assert_eq!(
            config.get(key),
            base.get(key),
            "{key}: keep the colleague's settings that have nothing to do with safety (start from a copy of `base`)"
        );
    }
    for (one, other) in ALIASES {
        if let (Some(a), Some(b)) = (config.get(one), config.get(other))
            && a != b
        {
            panic!(
                "{one}={a} and {other}={b}: two names of one setting, so which one wins is chance. Set one name only."
            );
        }
    }

    // librdkafka checks that the settings agree with each other when it creates the producer.
    let producer_id = Arc::new(AtomicI64::new(-1));
    let mut watched = config.clone();
    watched.set("statistics.interval.ms", "100");
    let producer: FutureProducer<ProducerId> = watched
        .create_with_context(ProducerId(producer_id.clone()))
        .unwrap_or_else(|e| panic!("librdkafka refused this configuration: {e}"));

    // It must really deliver, and put keys where a Java producer would.
    let mut cleanup = Cleanup::new(&env);
    let topic = fresh_topic(&env, &mut cleanup, "ch04-ex-safe", 6, &[]).await;
    for key in ["user-1", "user-42", "order-7", "k"] {
        let delivery = producer
            .send(
                FutureRecord::to(&topic).key(key).payload("v"),
                Timeout::After(Duration::from_secs(15)),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap_or_else(|e| panic!("sending a record with key {key:?}: {e}"));
        assert!(
            delivery.offset >= 0,
            "no offset for key {key:?}: with acks=0 nobody knows whether it was written"
        );
        assert_eq!(
            delivery.partition,
            java_partition(key.as_bytes(), 6),
            "key {key:?} went to a different partition than Java's murmur2 picks"
        );
    }

    // Idempotence, seen from the broker: it hands the producer an id, which numbers its batches.
    println!("waiting for the producer's statistics to show a producer id");
    let id = wait::until(
        "the broker gives the producer an id",
        Duration::from_secs(10),
        Duration::from_millis(100),
        || {
            let id = producer_id.load(Ordering::Relaxed);
            async move { Ok((id >= 0).then_some(id)) }
        },
    )
    .await;
    assert!(
        id.is_ok(),
        "the producer never got a producer id from the broker: idempotence is off, so a retry after a lost \
         answer writes the batch twice, and a retried batch can overtake a later one"
    );
    producer.flush(Duration::from_secs(10)).unwrap();
    cleanup.run().await;
}
