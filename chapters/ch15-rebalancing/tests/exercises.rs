//! The chapter 15 exercises, checked against the real broker (`cargo xtask check ch15`).

// The exercises under test: your file, or with `--features solutions` the reference solutions,
// or with `--features mistakes` the known-wrong answers the audit proves this file rejects.
#[cfg_attr(not(any(feature = "solutions", feature = "mistakes")), path = "../src/exercises.rs")]
#[cfg_attr(
    all(feature = "solutions", not(feature = "mistakes")),
    path = "../solutions/exercises.rs"
)]
#[cfg_attr(feature = "mistakes", path = "../mistakes/exercises.rs")]
mod exercises;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use ch15_rebalancing::{Change, Member, Timeline, timeline::list, wait_settled};
use rdkafka::config::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::{oneshot, watch};
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names, wait};

const PARTITIONS: i32 = 6;

/// Writes records valued `p{partition}-{offset}` into chosen partitions, so that a value says
/// where it lives.
struct Records {
    producer: FutureProducer,
    topic: String,
    next: Vec<i64>,
}

impl Records {
    fn new(env: &Env, topic: &str) -> Records {
        let producer = kafka::producer_config(env).create().unwrap();
        Records { producer, topic: topic.to_string(), next: vec![0; PARTITIONS as usize] }
    }

    /// One record into `partition`; returns its value.
    async fn one(&mut self, partition: i32) -> String {
        let value = format!("p{partition}-{}", self.next[partition as usize]);
        let record = FutureRecord::<str, str>::to(&self.topic).partition(partition).payload(&value);
        self.producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e).unwrap();
        self.next[partition as usize] += 1;
        value
    }

    /// `per_partition` records into every partition.
    async fn fill(&mut self, per_partition: usize) -> Vec<String> {
        let mut values = Vec::new();
        for _ in 0..per_partition {
            for p in 0..PARTITIONS {
                values.push(self.one(p).await);
            }
        }
        values
    }
}

/// `p3-7` -> (3, 7).
fn parse(value: &str) -> (i32, i64) {
    let (p, o) = value.trim_start_matches('p').split_once('-').unwrap();
    (p.parse().unwrap(), o.parse().unwrap())
}

/// What the members did, as the test's `process` callbacks saw it.
#[derive(Default)]
struct Work {
    /// (member, value) in the order they were processed.
    processed: Vec<(String, String)>,
    /// A value whose processing must fail once (a crash).
    fail_on: Option<String>,
    /// (member, value) whose processing failed.
    failed: Vec<(String, String)>,
    /// Members whose call returned, with what it returned.
    finished: Vec<(String, Result<(), String>)>,
}

type Shared = Arc<Mutex<Work>>;

impl Work {
    fn count(&self, member: &str) -> usize {
        self.processed.iter().filter(|(m, _)| m == member).count()
    }

    fn has(&self, value: &str) -> bool {
        self.processed.iter().any(|(_, v)| v == value)
    }

    /// The first value processed a second time: (value, first member, second member).
    fn first_repeat(&self) -> Option<(String, String, String)> {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for (member, value) in &self.processed {
            if let Some(first) = seen.insert(value, member) {
                return Some((value.clone(), first.to_string(), member.clone()));
            }
        }
        None
    }
}

/// A `process` callback for `member`: records each value, and fails once on `fail_on`.
fn recorder(work: &Shared, member: &'static str) -> impl FnMut(&str) -> anyhow::Result<()> + use<> {
    let work = work.clone();
    move |value: &str| {
        let mut work = work.lock().unwrap();
        if work.fail_on.as_deref() == Some(value) {
            work.fail_on = None;
            work.failed.push((member.to_string(), value.to_string()));
            bail!("simulated crash while processing {value}");
        }
        work.processed.push((member.to_string(), value.to_string()));
        Ok(())
    }
}

/// The group's committed offset per partition (None: nothing committed), read by a consumer
/// that never joins the group.
fn committed(env: &Env, group: &str, topic: &str) -> Vec<Option<i64>> {
    kafka::committed_offsets(env, group, topic, PARTITIONS).unwrap()
}

/// Waits until `check` holds, failing at once if a member returned an error it should not have
/// (the simulated crash aside).
async fn wait_for(
    work: &Shared,
    what: &str,
    timeout: Duration,
    mut check: impl FnMut(&Work) -> bool,
) {
    println!("waiting for {what}");
    let outcome = wait::until(what, timeout, Duration::from_millis(100), || {
        let work = work.lock().unwrap();
        let early = work
            .finished
            .iter()
            .find(|(_, r)| matches!(r, Err(e) if !e.contains("simulated crash")))
            .cloned();
        let done = check(&work);
        async move {
            if let Some((member, Err(e))) = early {
                return Err(wait::fatal(format!("member {member} returned an error: {e}")));
            }
            Ok(done.then_some(()))
        }
    })
    .await;
    if let Err(e) = outcome {
        panic!("{e:#}");
    }
}

/// Runs `commit_on_revoke` as member `name` until `stop`, recording what it returns.
async fn member(
    env: &Env,
    topic: &str,
    group: &str,
    work: &Shared,
    name: &'static str,
    every: usize,
    stop: &Stop,
) {
    let mut process = recorder(work, name);
    let result =
        exercises::commit_on_revoke(env, topic, group, every, &mut process, stop.subscribe()).await;
    work.lock().unwrap().finished.push((name.to_string(), result.map_err(|e| format!("{e:#}"))));
}

type Stop = watch::Sender<bool>;

/// The result `member` returned, if it did.
fn returned(work: &Shared, member: &str) -> Option<Result<(), String>> {
    work.lock().unwrap().finished.iter().find(|(m, _)| m == member).map(|(_, r)| r.clone())
}

/// Every value produced so far.
fn produced(records: &Records) -> Vec<String> {
    (0..PARTITIONS)
        .flat_map(|p| (0..records.next[p as usize]).map(move |o| format!("p{p}-{o}")))
        .collect()
}

#[tokio::test]
async fn commit_on_revoke() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch15-ex-revoke"));
    kafka::create_topic(&env, &topic, PARTITIONS).await.unwrap();
    let group = names::unique("ch15-ex-revoke");
    let mut records = Records::new(&env, &topic);
    let work = Shared::default();
    let started = Instant::now();

    // Part 1, one member, commit_every = 30. 5 records per partition (offsets 0..4): one batch.
    records.fill(5).await;
    let stop_first = Stop::new(false);
    let first = member(&env, &topic, &group, &work, "A1", 30, &stop_first);
    let driver = async {
        wait_for(&work, "A1 to process the first 30 records", Duration::from_secs(60), |w| {
            w.count("A1") >= 30
        })
        .await;
        check_first_batch(&env, &group, &topic).await;
        // 3 more per partition (offsets 5..7): 48 processed, and the next batch is at 60.
        records.fill(3).await;
        wait_for(&work, "A1 to process 48 records", Duration::from_secs(60), |w| {
            w.count("A1") >= 48
        })
        .await;
        let offsets = committed(&env, &group, &topic);
        assert!(
            offsets.iter().all(|o| *o == Some(5)),
            "after 48 processed records (commit_every = 30) the group's committed offsets are \
             {offsets:?}, not the first batch's 5 everywhere: it commits more often than every \
             commit_every records"
        );
        stop_first.send(true).unwrap();
    };
    let timeout = Duration::from_secs(120);
    tokio::time::timeout(timeout, async { tokio::join!(first, driver) })
        .await
        .expect("part 1 took over 120 s");
    assert_eq!(returned(&work, "A1"), Some(Ok(())), "A1 was stopped and must return Ok(())");
    // Closing the consumer revoked every partition: what A1 processed must be committed now.
    let offsets = committed(&env, &group, &topic);
    assert!(
        offsets.iter().all(|o| *o == Some(8)),
        "A1 processed offsets 0 to 7 of every partition and was stopped, but the group's committed \
         offsets are {offsets:?}, not 8 everywhere. Closing the consumer revokes its partitions: \
         commit what was processed from a partition when it is revoked (pre_rebalance)"
    );

    // Part 2, two members that never reach a batch (commit_every = 1000): only revokes commit.
    let stop = Stop::new(false);
    let (start_b, b_may_start) = oneshot::channel::<()>();
    let a = member(&env, &topic, &group, &work, "A", 1000, &stop);
    let b = async {
        if b_may_start.await.is_ok() {
            member(&env, &topic, &group, &work, "B", 1000, &stop).await;
        }
    };
    let driver = async {
        // 3 more per partition (offsets 8..10) for A, which owns every partition for now.
        records.fill(3).await;
        wait_for(&work, "A to process offsets 8 to 10", Duration::from_secs(60), |w| {
            w.count("A") >= 18
        })
        .await;
        check_no_repeats(&work, "when A started");

        // B joins: a rebalance moves some of A's partitions to B. Records keep arriving until
        // both members are processing.
        start_b.send(()).unwrap();
        println!("waiting for A and B to both process new records (B joined the group)");
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            {
                let w = work.lock().unwrap();
                let new =
                    |member: &str| w.processed.iter().any(|(m, v)| m == member && parse(v).1 >= 11);
                if new("A") && new("B") {
                    break;
                }
                if let Some((member, result)) = w.finished.iter().find(|(m, _)| m != "A1") {
                    panic!("member {member} returned before it was stopped: {result:?}");
                }
            }
            assert!(
                Instant::now() < deadline,
                "A and B did not both get partitions within 90 s of B joining"
            );
            records.fill(1).await;
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        check_no_repeats(&work, "after B joined");
        let so_far = produced(&records);
        wait_for(
            &work,
            "every record produced so far to be processed",
            Duration::from_secs(60),
            |w| so_far.iter().all(|v| w.has(v)),
        )
        .await;

        // A crash: processing the next record of partition 0 fails once, in its owner.
        let boom = format!("p0-{}", records.next[0]);
        work.lock().unwrap().fail_on = Some(boom.clone());
        records.one(0).await;
        let after = records.one(0).await;
        let what = format!("the other member to take partition 0 over and process {after}");
        wait_for(&work, &what, Duration::from_secs(90), |w| w.has(&after)).await;
        let crashed = work.lock().unwrap().failed.first().map(|(m, _)| m.clone());
        let crashed = crashed.expect("nobody processed the failing record");
        match returned(&work, &crashed) {
            Some(Err(e)) if e.contains("simulated crash") => {}
            other => panic!(
                "processing {boom} failed in {crashed}, which must return that error at once; it \
                 returned {other:?}"
            ),
        }
        let survivor = if crashed == "A" { "B" } else { "A" };
        assert!(
            work.lock().unwrap().has(&boom),
            "{boom}, whose processing failed in {crashed}, was never processed again: {survivor} \
             took partition 0 over and began after it. Its offset was committed before it was \
             processed (the consumer's position, which counts what was handed out, or a record \
             marked done before `process` succeeded)"
        );
        check_no_repeats(&work, "after the crash");
        println!(
            "the crash was handled after {:.1} s; stopping {survivor}",
            started.elapsed().as_secs_f64()
        );
        stop.send(true).unwrap();
        survivor
    };
    let timeout = Duration::from_secs(240);
    let ((), (), survivor) = tokio::time::timeout(timeout, async { tokio::join!(a, b, driver) })
        .await
        .expect("part 2 took over 240 s");

    // The survivor closed: closing revokes its partitions, so everything it processed is committed.
    assert_eq!(
        returned(&work, survivor),
        Some(Ok(())),
        "{survivor} was stopped and must return Ok(())"
    );
    let offsets = committed(&env, &group, &topic);
    let ends: Vec<Option<i64>> = records.next.iter().map(|n| Some(*n)).collect();
    assert_eq!(
        offsets, ends,
        "after {survivor} stopped, the group's committed offsets must be every partition's end \
         (everything was processed): closing the consumer revokes its partitions, so commit there \
         too"
    );
    cleanup.run().await;
}

/// After 30 processed records the first batch must be committed: offset 5 everywhere.
async fn check_first_batch(env: &Env, group: &str, topic: &str) {
    println!("waiting for the first batch's commit (offset 5 in every partition)");
    let outcome = wait::until(
        "the first batch's commit",
        Duration::from_secs(20),
        Duration::from_millis(200),
        || {
            let offsets = committed(env, group, topic);
            // Offset 4 everywhere is a mistake the check below names: stop waiting for 5.
            let settled =
                offsets.iter().all(|o| *o == Some(5)) || offsets.iter().all(|o| *o == Some(4));
            async move { Ok(settled.then_some(())) }
        },
    )
    .await;
    let offsets = committed(env, group, topic);
    if outcome.is_ok() && offsets.iter().all(|o| *o == Some(5)) {
        return;
    }
    if offsets.iter().all(|o| *o == Some(4)) {
        panic!(
            "after 30 processed records the committed offsets are 4 in every partition, the last \
             record processed: a committed offset is the next record to read (the last processed \
             offset + 1)"
        );
    }
    panic!(
        "A1 processed 30 records (offsets 0 to 4 of every partition, commit_every = 30), but the \
         group's committed offsets are {offsets:?} instead of 5 everywhere: commit everything \
         processed after every commit_every records"
    );
}

/// Fails if a record was processed twice, saying what the repeat shows.
fn check_no_repeats(work: &Shared, when: &str) {
    let w = work.lock().unwrap();
    let Some((value, first, second)) = w.first_repeat() else { return };
    let (partition, offset) = parse(&value);
    // When B joined, A had processed offsets 8..10 of every partition, and nothing was
    // committed after offset 8 (A1's close).
    let cause = match offset {
        10 => "the committed offset was the last record processed: a committed offset is the next \
               record to read (the last processed offset + 1)"
            .to_string(),
        8 | 9 => format!(
            "{first} processed p{partition}-8 to p{partition}-10 but did not commit them when \
             partition {partition} was revoked, so its next owner began at the last commit (offset \
             8). Commit what was processed from a partition when it is revoked (pre_rebalance)"
        ),
        _ => "a partition's next owner began before the first record its last owner had not \
              processed"
            .to_string(),
    };
    panic!("{when}, {value} was processed twice (by {first}, then by {second}): {cause}");
}

// -- deploy_safe_config --------------------------------------------------------------------

/// How long the test keeps an instance down, as a deploy would.
const RESTART: Duration = Duration::from_secs(12);

fn start(config: &ClientConfig, name: &str, topic: &str, timeline: &Timeline) -> Member {
    Member::start(config, name, topic, timeline)
        .unwrap_or_else(|e| panic!("starting {name} with your configuration failed: {e:#}"))
}

/// Callbacks `member` got after `since` (the debug notes aside).
fn callbacks(timeline: &Timeline, member: &str, since: Duration) -> Vec<String> {
    timeline
        .events()
        .into_iter()
        .filter(|e| e.member == member && e.at > since && e.change != Change::Note)
        .map(|e| format!("{} {:?} {}", e.member, e.change, list(e.partitions)).to_lowercase())
        .collect()
}

/// Why the others saw a rebalance while svc-1 restarted, read from the two configurations.
fn diagnose(first: &ClientConfig, second: &ClientConfig, seen: &str) -> String {
    let what = format!("while svc-1 restarted, the others got rebalance callbacks ({seen})");
    let (Some(id1), Some(id2)) = (first.get("group.instance.id"), second.get("group.instance.id"))
    else {
        return format!(
            "{what}: there is no group.instance.id, so svc-1 is a dynamic member: when it stops it \
             leaves the group, the coordinator gives its partitions to the others at once, and \
             takes them back when it returns"
        );
    };
    if id1 != id2 {
        return format!(
            "{what}: group.instance.id differs between two starts of svc-1 ({id1}, then {id2}), so \
             the restarted instance is a new member. The id must name the instance, the same at \
             every start"
        );
    }
    let consumer_protocol = first.get("group.protocol") == Some("consumer");
    let session: u128 =
        first.get("session.timeout.ms").and_then(|s| s.parse().ok()).unwrap_or(45_000);
    if !consumer_protocol && session <= RESTART.as_millis() + 5_000 {
        return format!(
            "{what}: session.timeout.ms ({session} ms) is not longer than a restart ({} ms) with \
             room to spare: the coordinator declared svc-1 dead while it was down and moved its \
             partitions",
            RESTART.as_millis()
        );
    }
    format!("{what}: a restart of a static member within its session timeout must move nothing")
}

#[tokio::test]
async fn deploy_safe_config() {
    let env = Env::load().unwrap();
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch15-ex-deploy"));
    kafka::create_topic(&env, &topic, PARTITIONS).await.unwrap();
    let group = names::unique("ch15-ex-deploy");
    let config = |instance: &str| exercises::deploy_safe_config(&env, &group, instance, RESTART);
    // Every callback of every member, printed as it happens (read it when this test fails).
    let timeline = Timeline::new(true);

    let svc0 = start(&config("svc-0"), "svc-0", &topic, &timeline);
    let first_svc1 = config("svc-1");
    let svc1 = start(&first_svc1, "svc-1", &topic, &timeline);
    println!("waiting for svc-0 and svc-1 to share the {PARTITIONS} partitions");
    if let Err(e) =
        wait_settled(&timeline, &["svc-0", "svc-1"], PARTITIONS, Duration::from_secs(60)).await
    {
        panic!("{e:#}");
    }

    // Scale out: svc-2 joins.
    let joined = timeline.elapsed();
    let svc2 = start(&config("svc-2"), "svc-2", &topic, &timeline);
    println!("waiting for svc-2 to join and get its share");
    if let Err(e) =
        wait_settled(&timeline, &["svc-0", "svc-1", "svc-2"], PARTITIONS, Duration::from_secs(60))
            .await
    {
        panic!("{e:#}");
    }
    for member in ["svc-0", "svc-1"] {
        let revoked: BTreeSet<i32> = timeline
            .events()
            .iter()
            .filter(|e| {
                e.member == member
                    && e.at > joined
                    && matches!(e.change, Change::Revoked | Change::Lost)
            })
            .flat_map(|e| e.partitions.clone())
            .collect();
        let kept: BTreeSet<i32> = timeline.owned(member).intersection(&revoked).copied().collect();
        assert!(
            kept.is_empty(),
            "when svc-2 joined, {member} gave up {} and then got {} back: an eager assignor \
             revokes every partition in every rebalance, so the whole group stops while it \
             rebalances. Choose an assignor that revokes only the partitions that move",
            list(revoked.iter().copied()),
            list(kept.iter().copied())
        );
    }

    // A deploy restarts svc-1.
    let own = timeline.owned("svc-1");
    let restarted = timeline.elapsed();
    svc1.stop().await.unwrap();
    println!("waiting {} s: svc-1 is down, as in a deploy; nothing may move", RESTART.as_secs());
    let others = |timeline: &Timeline| {
        let mut seen = callbacks(timeline, "svc-0", restarted);
        seen.extend(callbacks(timeline, "svc-2", restarted));
        seen
    };
    let down_until = Instant::now() + RESTART;
    while Instant::now() < down_until {
        let seen = others(&timeline);
        if !seen.is_empty() {
            panic!("{}", diagnose(&first_svc1, &first_svc1, &seen.join(", ")));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let second_svc1 = config("svc-1");
    let svc1 = start(&second_svc1, "svc-1", &topic, &timeline);
    println!("waiting for svc-1 to get its partitions back");
    let back =
        wait_settled(&timeline, &["svc-0", "svc-1", "svc-2"], PARTITIONS, Duration::from_secs(60))
            .await;
    let seen = others(&timeline);
    if !seen.is_empty() {
        panic!("{}", diagnose(&first_svc1, &second_svc1, &seen.join(", ")));
    }
    if let Err(e) = back {
        panic!("{e:#}; {}", diagnose(&first_svc1, &second_svc1, "none yet"));
    }
    assert_eq!(
        timeline.owned("svc-1"),
        own,
        "svc-1 came back with other partitions than it had: {}",
        diagnose(&first_svc1, &second_svc1, "none")
    );
    for member in [svc0, svc1, svc2] {
        member.stop().await.unwrap();
    }
    cleanup.run().await;
}
