//! The chapter 16 exercises, checked against the real broker (`cargo xtask check ch16`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use ch09_source::{
    create_users_table, data_topic, execute, payload, subscribe, wait_users_capturing,
};
use ch16_compaction::{create_topic_with, read_log, write};
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::connect::{ConnectClient, is_marker};
use workbook_support::{Env, db, kafka, names, wait};

/// Compaction within seconds, and tombstones kept for an hour (longer than any test).
const FAST: [(&str, &str); 5] = [
    ("cleanup.policy", "compact"),
    ("segment.ms", "100"),
    ("min.cleanable.dirty.ratio", "0.01"),
    ("min.compaction.lag.ms", "0"),
    ("delete.retention.ms", "3600000"),
];

async fn send(
    producer: &FutureProducer,
    topic: &str,
    partition: i32,
    key: &str,
    value: Option<&str>,
) {
    let mut record = FutureRecord::<str, str>::to(topic).partition(partition).key(key);
    if let Some(value) = value {
        record = record.payload(value);
    }
    if let Err((e, _)) = producer.send(record, Duration::from_secs(30)).await {
        panic!("writing {key} to {topic}-{partition}: {e}");
    }
}

/// A producer that waits up to 30 s for the broker's answer: a busy machine is not a failure.
fn producer(env: &Env) -> FutureProducer {
    kafka::producer_config(env).set("message.timeout.ms", "30000").create().unwrap()
}

const GAPS: &str = "The topic is compacted: its offsets have gaps where the cleaner removed \
                    records, so high - low watermark counts records that are gone; and partition 3 \
                    is empty: there is nothing to wait for there. Read each partition until its \
                    next offset reaches the high watermark read at the start.";

#[tokio::test]
async fn latest_state() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch16-ex-state"));
    create_topic_with(&env, &topic, 4, &FAST).await.unwrap();
    let producer = producer(&env);

    // The history, partition by partition (partition 3 stays empty).
    let history: &[(i32, &str, Option<&str>)] = &[
        (0, "alice", Some("alice-1")),
        (0, "dave", Some("dave-1")),
        (0, "alice", Some("alice-2")),
        (0, "dave", None),
        (0, "dave", Some("dave-2")),
        (0, "alice", Some("alice-3")),
        (1, "bob", Some("bob-1")),
        (1, "erin", Some("erin-1")),
        (1, "bob", None),
        (1, "erin", Some("erin-2")),
        (2, "carol", Some("")),
        (2, "frank", Some("frank-1")),
        (2, "frank", None),
    ];
    for &(partition, key, value) in history {
        send(&producer, &topic, partition, key, value).await;
    }
    for version in ["v1", "v2"] {
        for i in 0..8 {
            for partition in 0..3 {
                send(&producer, &topic, partition, &format!("f{partition}-{i}"), Some(version))
                    .await;
            }
        }
    }
    // A write after segment.ms starts a new segment: what came before becomes cleanable.
    let last_write = Instant::now();
    tokio::time::sleep_until((last_write + Duration::from_millis(300)).into()).await;
    for partition in 0..3 {
        send(&producer, &topic, partition, &format!("roll-{partition}"), Some("r")).await;
    }
    println!("waiting for the log cleaner to compact partitions 0, 1 and 2 (up to 120 s)");
    wait::until(
        "partitions 0-2 compacted",
        Duration::from_secs(120),
        Duration::from_secs(1),
        || async {
            for partition in 0..3 {
                if !common::one_per_key(&common::read_partition(&env, &topic, partition).await?) {
                    return Ok(None);
                }
            }
            Ok(Some(()))
        },
    )
    .await
    .unwrap();
    // No more segments from now on: the records below stay in the active segment, uncompacted,
    // as the newest records of a compacted topic always are until the next cleaning.
    let mut frozen = FAST.to_vec();
    frozen[1] = ("segment.ms", "86400000");
    common::alter_topic(&env, &topic, &frozen).await;
    for (key, value) in [
        ("alice", Some("alice-4")),
        ("alice", Some("alice-5")),
        ("gina", Some("gina-1")),
        ("gina", None),
    ] {
        send(&producer, &topic, 0, key, value).await;
    }

    let mut expected: BTreeMap<String, String> = BTreeMap::new();
    for (key, value) in
        [("alice", "alice-5"), ("dave", "dave-2"), ("erin", "erin-2"), ("carol", "")]
    {
        expected.insert(key.into(), value.into());
    }
    for partition in 0..3 {
        expected.insert(format!("roll-{partition}"), "r".into());
        for i in 0..8 {
            expected.insert(format!("f{partition}-{i}"), "v2".into());
        }
    }

    // This consumer's fetches in the active segment take 2 s each: the broker waits for 1 MiB
    // that never comes (a fetch that starts in an older segment is answered at once).
    let consumer: StreamConsumer = kafka::group_config(&env, &names::unique("ch16-ex-state"))
        // A group of its own that starts at the first record: subscribing works too.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("fetch.min.bytes", "1048576")
        .set("fetch.wait.max.ms", "2000")
        .create()
        .unwrap();
    println!("waiting for latest_state (fetches take 2 s)");
    let outcome =
        tokio::time::timeout(Duration::from_secs(60), exercises::latest_state(&consumer, &topic))
            .await;
    let state = match outcome {
        Err(_) => panic!("latest_state did not return within 60 s. {GAPS}"),
        Ok(Err(e)) => panic!("latest_state failed: {e:#}. {GAPS}"),
        Ok(Ok(state)) => state,
    };
    let missing: Vec<&String> =
        expected.keys().filter(|k| !state.contains_key(*k) && *k != "carol").collect();
    // roll-0, roll-1 and roll-2 are the last records of their partitions, in segments the first
    // fetch does not reach: a reader that stops early misses them.
    if missing.iter().any(|k| k.starts_with("roll-")) || missing.len() > 2 {
        panic!(
            "latest_state returned {} keys, {} are missing ({missing:?}): a poll that returned \
             nothing is not the end of a partition. This consumer's fetches of the newest records \
             take 2 s each (a busy broker looks the same): read until every partition reaches the \
             high watermark it had when you started.",
            state.len(),
            missing.len()
        );
    }
    for deleted in ["bob", "frank", "gina"] {
        if let Some(value) = state.get(deleted) {
            panic!(
                "{deleted} was deleted: its last record is a tombstone (a key with no value), yet \
                 the state has {deleted} = {value:?}. A tombstone deletes its key."
            );
        }
    }
    if !state.contains_key("carol") {
        panic!(
            "carol is missing: her value is the empty string, and the empty string is a value, not \
             a tombstone (a tombstone has no value at all: payload() is None)"
        );
    }
    if let Some(alice) = state.get("alice").filter(|v| *v != "alice-5") {
        panic!(
            "alice = {alice:?}, but her records are alice-3 (compacted part), then alice-4 and \
             alice-5: keep the last value of each key, later records overwrite earlier ones"
        );
    }
    if !state.contains_key("dave") {
        panic!(
            "dave was deleted and then written again (dave-2): a tombstone deletes only what came \
             before it"
        );
    }
    assert_eq!(state, expected, "the latest value of every key that exists");
    cleanup.run().await;
}

/// A service of `group`, catching up: it continues from the group's committed offset (a new
/// group: the first record), applies each record up to the high watermark, commits and leaves.
async fn catch_up(env: &Env, topic: &str, group: &str, state: &mut BTreeMap<String, String>) {
    let consumer: StreamConsumer = kafka::group_config(env, group)
        // An offset below the log's start is out of range: continue at the first record that is
        // still there, not at the end of the partition.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let (low, high) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)).unwrap();
    let mut partition = TopicPartitionList::new();
    partition.add_partition(topic, 0);
    let committed = consumer.committed_offsets(partition, Duration::from_secs(10)).unwrap();
    let from = match committed.elements().first().map(|e| e.offset()) {
        Some(Offset::Offset(offset)) => offset,
        _ => low,
    };
    if from >= high {
        return;
    }
    consumer.subscribe(&[topic]).unwrap();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .expect("the service read nothing within 30 s")
            .unwrap();
        let key = String::from_utf8_lossy(message.key().unwrap_or_default()).into_owned();
        match message.payload() {
            Some(value) => state.insert(key, String::from_utf8_lossy(value).into_owned()),
            None => state.remove(&key),
        };
        if message.offset() + 1 >= high {
            consumer.commit_message(&message, CommitMode::Sync).unwrap();
            return;
        }
    }
}

#[tokio::test]
async fn changelog_config() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let max_downtime = Duration::from_secs(60);
    let down_for = Duration::from_secs(45);
    let configs = exercises::changelog_config(max_downtime);
    let pairs: Vec<(&str, &str)> = configs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let topic = cleanup.topic(names::unique("ch16-ex-changelog"));
    if let Err(e) = create_topic_with(&env, &topic, 1, &pairs).await {
        panic!("the broker refused a topic with these configs {configs:?}: {e:#}");
    }
    let applied = common::topic_configs(&env, &topic).await;
    let setting = |name: &str| applied.get(name).cloned().unwrap_or_default();
    let producer = producer(&env);

    // The table as it was, and a service that has read all of it.
    for (key, value) in
        [("founder", "since day one"), ("gone", "about to be deleted"), ("carol", "c-1")]
    {
        write(&producer, &topic, key, Some(value)).await.unwrap();
    }
    let group = names::unique("ch16-ex-service");
    let mut state = BTreeMap::new();
    catch_up(&env, &topic, &group, &mut state).await;
    assert_eq!(state.len(), 3, "the service read the three first records: {state:?}");

    // The service is down. `gone` is deleted, and the writes go on: a key updated twice a second.
    println!(
        "waiting {} s: the service is down while `gone` is deleted and writes go on",
        down_for.as_secs()
    );
    write(&producer, &topic, "gone", None).await.unwrap();
    let back_at = Instant::now() + down_for;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let (mut clock_writes, mut first_clock) = (0, None);
    while Instant::now() < back_at {
        tick.tick().await;
        clock_writes += 1;
        let offset =
            write(&producer, &topic, "clock", Some(&clock_writes.to_string())).await.unwrap();
        first_clock.get_or_insert(offset);
    }

    // The service comes back, within max_downtime, and continues where it stopped.
    catch_up(&env, &topic, &group, &mut state).await;
    let retention: u128 = setting("delete.retention.ms").parse().unwrap_or(0);
    if state.contains_key("gone") {
        let seconds = if retention * 1000 == max_downtime.as_millis() {
            " That is max_downtime in seconds: delete.retention.ms is in milliseconds."
        } else {
            ""
        };
        panic!(
            "the service, down for {} s (max_downtime is {} s), came back and never learned that \
             `gone` was deleted: its tombstone had been removed (delete.retention.ms = {retention} \
             ms).{seconds} A tombstone stays delete.retention.ms after its first cleaning and goes \
             at the next one; a service that comes back later keeps the deleted key forever.",
            down_for.as_secs(),
            max_downtime.as_secs()
        );
    }

    // Compacted at all? The oldest versions of `clock` must have gone by now.
    let first_clock = first_clock.unwrap();
    println!("waiting for the oldest versions of `clock` to be compacted away (up to 30 s)");
    let compacted =
        wait::until("compacted", Duration::from_secs(30), Duration::from_secs(1), || async {
            let log = read_log(&env, &topic).await?;
            Ok((!log.entries.iter().any(|e| e.offset == first_clock)).then_some(log))
        })
        .await;
    let log = match compacted {
        Ok(log) => log,
        Err(_) => panic!(
            "the topic was never compacted: the first of {clock_writes} versions of `clock` is \
             still there (cleanup.policy={}, segment.ms={}, min.cleanable.dirty.ratio={}). Only \
             cleanup.policy=compact keeps the latest record of each key; with delete, nothing is \
             compacted and whole segments go after retention.ms, the only record of a key with \
             them.",
            setting("cleanup.policy"),
            setting("segment.ms"),
            setting("min.cleanable.dirty.ratio")
        ),
    };
    let policy = setting("cleanup.policy");
    let founder_kept = log.entries.iter().any(|e| e.key == "founder");
    if !founder_kept || policy.contains("delete") {
        panic!(
            "{}cleanup.policy={policy} with retention.ms={}: compact,delete also deletes whole \
             segments older than retention.ms, whatever keys they hold. A changelog must keep \
             every key however old: compact only.",
            if founder_kept { "" } else { "`founder`, written once at the start, is gone. " },
            setting("retention.ms")
        );
    }
    if retention < max_downtime.as_millis() {
        panic!(
            "delete.retention.ms = {retention} ms is less than max_downtime ({} ms): a service \
             down that long would never learn that a key was deleted, its tombstone removed before \
             it came back.",
            max_downtime.as_millis()
        );
    }
    let configs: HashMap<&str, &str> = pairs.iter().copied().collect();
    assert!(configs.contains_key("cleanup.policy"), "set cleanup.policy yourself: {configs:?}");
    cleanup.run().await;
}

/// The key of a change record as JSON (`{"id": 2}`), and its value's payload (None: a tombstone).
type Change = (serde_json::Value, Option<Vec<u8>>);

/// Reads `topic` until a record of row `last_id` arrives; the markers of the readiness check are
/// skipped.
async fn changes_until(consumer: &StreamConsumer, last_id: i64) -> Vec<Change> {
    let mut changes: Vec<Change> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let message = match tokio::time::timeout(left, consumer.recv()).await {
            Ok(Ok(message)) => message,
            Ok(Err(e)) => panic!("reading the topic: {e}"),
            Err(_) => panic!(
                "row {last_id}'s INSERT did not reach the topic within 60 s; read so far: {:?}",
                changes.iter().map(|(k, v)| (k, v.as_ref().map(|v| v.len()))).collect::<Vec<_>>()
            ),
        };
        if is_marker(message.key(), message.payload()) {
            continue;
        }
        let key = payload(message.key().unwrap_or(b"null")).unwrap_or_default();
        let done = key["id"] == last_id;
        changes.push((key, message.payload().map(<[u8]>::to_vec)));
        if done {
            return changes;
        }
    }
}

#[tokio::test]
async fn flat_changelog_source() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let client = ConnectClient::new(&env).unwrap();
    let pool = db::pool(&env).await.unwrap();
    let prefix = names::unique("ch16-ex-flat");
    let table = cleanup.table(names::unique_table("ch16_flat"));
    let name = cleanup.connector(format!("{prefix}-source"));
    cleanup.source_topics(&prefix, "mydb", &[&table]);
    create_users_table(&pool, &table).await.unwrap();

    let config = exercises::flat_changelog_source(&env, &prefix, &table).unwrap();
    if let Err(e) = client.put_connector(&name, &config).await {
        panic!("Connect refused the connector: {e:#}");
    }
    let topic = data_topic(&prefix, &table);
    wait_users_capturing(&env, &name, &topic, &table, Duration::from_secs(120)).await.unwrap();
    let consumer = subscribe(&env, &topic).unwrap();
    for sql in [
        format!("INSERT INTO {table} (id, name, email) VALUES (1, 'alice', 'alice@example.com')"),
        format!("INSERT INTO {table} (id, name, email) VALUES (2, 'bob', 'bob@example.com')"),
        format!("UPDATE {table} SET email = 'alice@new.example' WHERE id = 1"),
        format!("DELETE FROM {table} WHERE id = 2"),
        // Written after the DELETE: every record of row 2 comes before this one.
        format!("INSERT INTO {table} (id, name, email) VALUES (3, 'carol', 'carol@example.com')"),
    ] {
        execute(&pool, &sql).await.unwrap();
    }
    println!("waiting for the changes of rows 1, 2 and 3 on {topic}");
    let changes = changes_until(&consumer, 3).await;

    for (key, value) in &changes {
        let Some(value) = value else { continue };
        let row = payload(value).unwrap_or_default();
        if row.get("before").is_some() || row.get("after").is_some() || row.get("op").is_some() {
            panic!(
                "the record of {key} is still Debezium's before/after envelope, not a flat row: is \
                 ExtractNewRecordState configured and listed in `transforms`? {row}"
            );
        }
    }
    let bob: Vec<&Option<Vec<u8>>> =
        changes.iter().filter(|(key, _)| key["id"] == 2).map(|(_, value)| value).collect();
    match bob.last() {
        None => panic!(
            "the INSERT and the DELETE of row 2 left nothing on the topic: \
             delete.tombstone.handling.mode=drop drops deletes and tombstones alike"
        ),
        Some(None) => {} // a tombstone: the key, no value at all
        Some(Some(bytes)) if payload(bytes).is_ok_and(|p| p.is_null()) => panic!(
            "the DELETE of row 2 arrived as {}: a value of {} bytes, not a tombstone, so \
             compaction keeps it forever. That is ExtractNewRecordState's default delete handling \
             (`tombstone`): it drops Debezium's real tombstone and turns the delete into a null \
             value with a schema, which the JsonConverter writes as an envelope around null.",
            String::from_utf8_lossy(bytes),
            bytes.len()
        ),
        Some(Some(bytes)) => panic!(
            "the DELETE of row 2 left no tombstone after its last record ({}): Debezium writes one \
             after a delete event only with tombstones.on.delete=true (its default), and \
             ExtractNewRecordState passes it on only with \
             delete.tombstone.handling.mode=rewrite-with-tombstone. Without one, compaction keeps \
             the deleted row forever.",
            String::from_utf8_lossy(bytes)
        ),
    }
    let policy = common::topic_configs(&env, &topic).await.remove("cleanup.policy");
    assert_eq!(
        policy.as_deref(),
        Some("compact"),
        "{topic} is not compacted: Connect created it with cleanup.policy={policy:?}. Topic \
         configs for the topics Connect creates go in topic.creation.default.<config>"
    );
    cleanup.run().await;
}
