//! The chapter 18 exercises, checked against the real broker (`cargo xtask check ch18`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ch18_operations::configs::{Setting, describe_topic, describe_until, value_of};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

const MINUTE: i64 = 60_000;

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// The group's committed offsets on `partitions` partitions (None: nothing committed).
fn committed(env: &Env, group: &str, topic: &str, partitions: i32) -> Vec<Option<i64>> {
    kafka::committed_offsets(env, group, topic, partitions).unwrap()
}

/// Counts the partition assignments a member receives: 1 after its first, more after each
/// rebalance.
struct CountingContext {
    assignments: Arc<AtomicUsize>,
}

impl ClientContext for CountingContext {}

impl ConsumerContext for CountingContext {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            self.assignments.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// Minutes, for messages.
fn minutes(age: Duration) -> String {
    format!("{:.1} min", age.as_secs_f64() / 60.0)
}

fn near(age: Duration, minutes_ago: i64) -> bool {
    // A busy machine may take a while between writing the records and measuring: 90 s of slack.
    (age.as_millis() as i64 - minutes_ago * MINUTE).abs() < 90_000
}

/// Calls `time_lag` with a deadline.
async fn run_time_lag(env: &Env, group: &str, topic: &str, when: &str) -> Vec<Duration> {
    println!("waiting for time_lag ({when})");
    match tokio::time::timeout(Duration::from_secs(60), exercises::time_lag(env, group, topic))
        .await
    {
        Err(_) => panic!(
            "time_lag did not return within 60 s ({when}). Partitions 2 and 3 have nothing \
             waiting: answer zero for them without waiting for a record"
        ),
        Ok(Err(e)) => panic!("time_lag failed ({when}): {e:#}"),
        Ok(Ok(ages)) => ages,
    }
}

/// Checks the ages of the four partitions.
fn check_ages(ages: &[Duration], when: &str) {
    assert_eq!(ages.len(), 4, "one age per partition of the topic ({when}): {ages:?}");
    let shown: Vec<String> = ages.iter().map(|a| minutes(*a)).collect();
    let p0 = ages[0];
    if near(p0, 50) {
        panic!(
            "partition 0 ({when}): the group committed offset 2, so its oldest waiting record is \
             the one at offset 2, written 30 min ago; you measured the first record still stored \
             (offset 0, 50 min ago), which the group processed long ago. Got {shown:?}"
        );
    }
    if near(p0, 40) {
        panic!(
            "partition 0 ({when}): you measured the record at offset 1 (40 min ago), which the \
             group has already processed: a committed offset is the next record to process, not \
             the last one processed. Got {shown:?}"
        );
    }
    if near(p0, 10) {
        panic!(
            "partition 0 ({when}): you measured the newest record (10 min ago). Time lag is the \
             age of the oldest record still waiting (offset 2, the committed offset: 30 min ago). \
             Got {shown:?}"
        );
    }
    assert!(
        near(p0, 30),
        "partition 0 ({when}): expected about 30 min (the record at the committed offset 2), got \
         {shown:?}"
    );
    if ages[1] == Duration::ZERO {
        panic!(
            "partition 1 ({when}): the group has committed nothing there, yet you answered zero. \
             It would start at the first stored record, so all three records wait, the oldest \
             written 25 min ago. Got {shown:?}"
        );
    }
    assert!(
        near(ages[1], 25),
        "partition 1 ({when}): expected about 25 min (its first stored record), got {shown:?}"
    );
    assert_eq!(
        ages[2],
        Duration::ZERO,
        "partition 2 ({when}): the group is at its end, nothing waits: {shown:?}"
    );
    assert_eq!(
        ages[3],
        Duration::ZERO,
        "partition 3 ({when}): it is empty, nothing waits: {shown:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_lag() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-ex-time-lag"));
    kafka::create_topic(&env, &topic, 4).await.unwrap();

    // Records written minutes ago (the producer sets each record's timestamp):
    // p0 at -50, -40, -30, -20, -10 min; p1 at -25, -15, -5 min; p2 at -45, -35 min; p3 empty.
    let producer: FutureProducer = kafka::producer_config(&env).create().unwrap();
    let now = now_ms();
    for (partition, ages) in
        [(0, vec![50, 40, 30, 20, 10]), (1, vec![25, 15, 5]), (2, vec![45, 35])]
    {
        for (i, age) in ages.into_iter().enumerate() {
            let value = format!("p{partition}-{i}");
            let record = FutureRecord::<str, str>::to(&topic)
                .partition(partition)
                .payload(&value)
                .timestamp(now - age * MINUTE);
            producer.send(record, Duration::from_secs(10)).await.unwrap();
        }
    }

    // The service's group processed p0 up to offset 2 and all of p2; nothing of p1.
    let group = names::unique("ch18-ex-service");
    let client: BaseConsumer = kafka::client_config(&env)
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut progress = TopicPartitionList::new();
    progress.add_partition_offset(&topic, 0, Offset::Offset(2)).unwrap();
    progress.add_partition_offset(&topic, 2, Offset::Offset(2)).unwrap();
    client.commit(&progress, CommitMode::Sync).unwrap();
    let before = committed(&env, &group, &topic, 4);
    assert_eq!(before, [Some(2), None, Some(2), None]);

    // While the service is stopped (its group is empty), the monitor must leave its offsets alone.
    let ages = run_time_lag(&env, &group, &topic, "service stopped").await;
    check_ages(&ages, "service stopped");
    assert_eq!(
        committed(&env, &group, &topic, 4),
        before,
        "the group's committed offsets changed while the service was stopped: your client \
         committed what it read (enable.auto.commit is on unless you turn it off), so the service \
         will skip records it never processed when it starts again"
    );

    // The service is running: a member of the group that owns every partition.
    let assignments = Arc::new(AtomicUsize::new(0));
    let service: StreamConsumer<CountingContext> = kafka::group_config(&env, &group)
        // Where the group has no committed offset (p1, p3): from the first record.
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create_with_context(CountingContext { assignments: assignments.clone() })
        .unwrap();
    service.subscribe(&[&topic]).unwrap();
    let service = Arc::new(service);
    let polling = {
        let service = service.clone();
        tokio::spawn(async move {
            loop {
                let _ = service.recv().await;
            }
        })
    };
    println!("waiting for the service's member to get its partitions");
    workbook_support::wait::until(
        "the service's first assignment",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || {
            let n = assignments.load(Ordering::SeqCst);
            async move { Ok((n >= 1).then_some(())) }
        },
    )
    .await
    .unwrap();
    let ages = run_time_lag(&env, &group, &topic, "service running").await;
    assert_eq!(
        assignments.load(Ordering::SeqCst),
        1,
        "you joined the service's group: its running member was rebalanced (its partitions revoked \
         and assigned again) because your client subscribed. Read committed offsets and records \
         without subscribing"
    );
    check_ages(&ages, "service running");
    polling.abort();
    drop(service);
    cleanup.run().await;
}

/// The topic's settings once `retention.ms` is no longer `previous` (a change is visible on the
/// broker a moment after the controller answered), or as they are after 30 s.
async fn settings_once_changed(
    admin: &rdkafka::admin::AdminClient<rdkafka::client::DefaultClientContext>,
    topic: &str,
    previous: &str,
) -> Vec<Setting> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let settings = describe_topic(admin, topic).await.unwrap();
        if value_of(&settings, "retention.ms") != Some(previous) || Instant::now() > deadline {
            return settings;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A producer whose own size limit is above a 1.5 MB record (librdkafka's default is 1 MB).
fn big_record_producer(env: &Env) -> FutureProducer {
    kafka::producer_config(env).set("message.max.bytes", "4000000").create().unwrap()
}

#[tokio::test]
async fn set_retention() {
    let env = Env::load().unwrap();
    let admin = kafka::admin(&env).unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-ex-retention"));
    // The topic's own settings: a changelog of large rows, kept one hour so far.
    let overrides = [
        ("cleanup.policy", "compact,delete"),
        ("max.message.bytes", "2097152"),
        ("min.compaction.lag.ms", "60000"),
        ("retention.ms", "3600000"),
    ];
    let mut new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(-1));
    for (name, value) in overrides {
        new_topic = new_topic.set(name, value);
    }
    let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
    admin.create_topics(&[new_topic], &options).await.unwrap().remove(0).unwrap();
    // The broker applies the new topic's metadata a moment after the controller answered.
    println!("waiting for the new topic's settings");
    let before = describe_until(&admin, &topic, "the new topic's settings", |s| {
        overrides.iter().all(|(name, value)| value_of(s, name) == Some(*value))
    })
    .await
    .unwrap();

    let mut previous = "3600000";
    for (retention, expected) in [
        (Duration::from_secs(2 * 24 * 3600), "172800000"),
        (Duration::from_millis(5_400_000), "5400000"),
    ] {
        println!("waiting for set_retention({topic}, {retention:?})");
        tokio::time::timeout(
            Duration::from_secs(30),
            exercises::set_retention(&admin, &topic, retention),
        )
        .await
        .expect("set_retention did not return within 30 s")
        .expect("set_retention failed");
        println!("waiting for the broker to show the change");
        let after = settings_once_changed(&admin, &topic, previous).await;
        previous = expected;
        let value = |name: &str| after.iter().find(|s| s.name == name).cloned().unwrap();
        let retention_ms = value("retention.ms");
        assert!(
            retention_ms.source == "DynamicTopic",
            "retention.ms is not a setting of the topic after set_retention: {retention_ms:?}"
        );
        if retention_ms.value.as_deref() == Some(&expected[..expected.len() - 3]) {
            panic!(
                "retention.ms is {:?}: that is the retention in seconds, but retention.ms is in \
                 milliseconds ({expected})",
                retention_ms.value
            );
        }
        assert_eq!(
            retention_ms.value.as_deref(),
            Some(expected),
            "retention.ms after set_retention({retention:?})"
        );
        for (name, kept) in overrides.iter().filter(|(name, _)| *name != "retention.ms") {
            let now = value(name);
            assert!(
                now.source == "DynamicTopic" && now.value.as_deref() == Some(*kept),
                "{name}={kept} was lost: it is now {} ({}). AlterConfigs replaces the topic's \
                 whole set of settings, so whatever you do not send goes back to its default",
                now.value.as_deref().unwrap_or("-"),
                now.source
            );
        }
        for setting in &after {
            let Some(was) = before.iter().find(|s| s.name == setting.name) else { continue };
            if setting.source == "DynamicTopic"
                && was.source != "DynamicTopic"
                && setting.name != "retention.ms"
            {
                panic!(
                    "set_retention pinned {}={} as a setting of the topic, but it came from {} \
                     before: copy only the topic's own settings (source DynamicTopic). Pinned, it \
                     no longer follows the broker's configuration when that changes",
                    setting.name,
                    setting.value.as_deref().unwrap_or("-"),
                    was.source
                );
            }
        }
    }

    // What the kept max.message.bytes means: the topic still takes a 1.5 MB record.
    let big = "x".repeat(1_500_000);
    let sent = big_record_producer(&env)
        .send(
            FutureRecord::<str, str>::to(&topic).key("row").payload(&big),
            Duration::from_secs(20),
        )
        .await;
    assert!(
        sent.is_ok(),
        "the topic now rejects a 1.5 MB record it accepted before (max.message.bytes was lost): \
         {:?}",
        sent.err()
    );
    cleanup.run().await;
}
