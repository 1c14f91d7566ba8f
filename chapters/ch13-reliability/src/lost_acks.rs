//! Acknowledged, then lost: what `acks=1` risks, made to happen on purpose.
//!
//! With `acks=1` the leader acknowledges a record once it is in its own log. If the leader dies
//! before any follower has copied it, a follower becomes leader without it, and the record is gone
//! from every broker. That window is normally milliseconds wide; freezing the followers first
//! (`cargo xtask broker pause`) holds it open, so the loss happens every time. The same steps with
//! `acks=all` lose nothing: the leader never acknowledges what its in-sync followers do not have.

use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use ch04_producers::{Acks, ProducerSettings};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::Env;
use workbook_support::kafka::{self, Partition};

use crate::cluster::{Exit, OwnCluster};
use crate::{Ack, Verdict, create_reliable_topic, describe, read_all, try_write, verdict};

/// How long a produce request may wait for the in-sync replicas before the leader answers
/// `REQUEST_TIMED_OUT` (an `acks=all` write while the followers are frozen ends this way).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the controller may take to elect a new leader: a session timeout (9 s) after a new
/// controller takes over, on a loaded machine.
const ELECTION_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the restarted broker may take to start, register, catch up and rejoin the ISR.
const REJOIN_TIMEOUT: Duration = Duration::from_secs(90);

/// What one run found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The producer's `acks`.
    pub acks: Acks,
    /// The leader that was killed, and the broker that took over.
    pub old_leader: i32,
    pub new_leader: i32,
    /// The producer's delivery reports compared with what the partition holds at the end.
    pub verdict: Verdict,
    /// The first error of the records written while the followers were frozen, if any failed.
    pub first_error: Option<String>,
    /// Whether the marker record, written right after the followers froze, is in the partition at
    /// the end (it is when a follower's fetch was waiting at the leader and carried it off).
    pub marker_kept: bool,
    /// Where the old leader cut its log when it came back (as the broker's own log says).
    pub truncated_to: Option<i64>,
    /// From the topic's creation to the final read.
    pub took: Duration,
}

// ANCHOR: lost_acks
/// On `topic` (replication factor 3, `min.insync.replicas=2`), with a producer using `acks`:
/// writes `replicated` records and waits until every replica has them; freezes both followers;
/// writes `unreplicated` more; kills the leader; resumes the followers; waits for a new leader and
/// for the old one to come back in sync; and reads the partition.
pub async fn acknowledged_then_lost(
    cluster: &mut OwnCluster,
    topic: &str,
    acks: Acks,
    replicated: u64,
    unreplicated: u64,
) -> Result<Outcome> {
    let t0 = Instant::now();
    let at = || format!("{:>6.2} s", t0.elapsed().as_secs_f64());
    let env = cluster.env.clone();
    create_reliable_topic(&env, topic).await?;
    println!("{}  created {topic}: replication factor 3, min.insync.replicas=2", at());
    let p = wait_partition(&env, topic, "3 in-sync replicas", Duration::from_secs(30), t0, |p| {
        p.isr.len() == 3
    })
    .await?;
    let leader = p.leader;
    let followers: Vec<i32> = p.replicas.iter().copied().filter(|id| *id != leader).collect();

    // The producer and the watermark queries talk to the leader only: the followers will be frozen,
    // and a client that waits for an answer from a frozen broker waits until its own timeout.
    let leader_only = talking_to(&env, leader).await?;
    // No retries: each record's fate is the broker's first answer.
    let settings = ProducerSettings { acks, idempotence: false, ..ProducerSettings::default() };
    let producer: FutureProducer = ch04_producers::producer_config(&leader_only, &settings)
        .set("request.timeout.ms", REQUEST_TIMEOUT.as_millis().to_string())
        .set("message.timeout.ms", (REQUEST_TIMEOUT * 2).as_millis().to_string())
        .set("message.send.max.retries", "0")
        .create()
        .context("creating the producer")?;
    let first = send_numbered(&producer, topic, 0..replicated, t0).await;
    let high = wait_high_watermark(&leader_only, topic, replicated as i64).await?;
    println!(
        "{}  {} records acknowledged (acks={}); high watermark {high}: all 3 replicas have them",
        at(),
        ok(&first),
        acks.as_config()
    );

    for id in &followers {
        cluster.pause_broker(*id)?;
    }
    println!("{}  brokers {} paused: the followers stop fetching", at(), list(&followers));
    // A follower's last fetch may still be waiting at the leader (up to
    // replica.fetch.wait.max.ms, 500 ms, for new data). The next record appended answers it, and
    // the answer waits in the frozen follower's socket until it resumes: that record reaches the
    // follower after all. One marker record takes that ride, so that the numbered records after
    // it find no fetch waiting.
    let marker =
        try_write(&leader_only, topic, Acks::One).await.context("writing the marker record")?;
    println!(
        "{}  marker record acknowledged at offset {marker} (acks=1): it answers a waiting fetch",
        at()
    );
    let second = send_numbered(&producer, topic, replicated..replicated + unreplicated, t0).await;
    drop(producer);
    let first_error = second.iter().find_map(|a| a.result.clone().err());
    let (_, high) = watermarks_at(&leader_only, topic).await?;
    println!(
        "{}  {} more records (acks={}): {} acknowledged, {} failed{}; high watermark still {high}",
        at(),
        second.len(),
        acks.as_config(),
        ok(&second),
        second.len() - ok(&second),
        first_error.as_ref().map(|e| format!(" ({e})")).unwrap_or_default()
    );

    cluster.stop_broker(leader, Exit::Crash)?;
    println!("{}  broker {leader}, the leader, killed (SIGKILL)", at());
    for id in &followers {
        cluster.resume_broker(*id)?;
    }
    println!("{}  brokers {} resumed", at(), list(&followers));
    let elected = wait_partition(&env, topic, "a new leader", ELECTION_TIMEOUT, t0, |p| {
        p.leader >= 0 && p.leader != leader
    })
    .await?;

    cluster.restart_broker(leader)?;
    println!("{}  broker {leader} started again", at());
    wait_partition(&env, topic, "all 3 replicas in sync again", REJOIN_TIMEOUT, t0, |p| {
        p.isr.len() == 3
    })
    .await?;
    let read = {
        let (env, topic) = (env.clone(), topic.to_string());
        tokio::task::spawn_blocking(move || read_all(&env, &topic, Duration::from_secs(30)))
            .await??
    };
    let all: Vec<Ack> = first.into_iter().chain(second).collect();
    let marker_kept = read.iter().any(|value| value.starts_with("probe"));
    Ok(Outcome {
        acks,
        old_leader: leader,
        new_leader: elected.leader,
        verdict: verdict(&all, &read),
        first_error,
        marker_kept,
        truncated_to: truncated_to(cluster.dir(), leader, topic),
        took: t0.elapsed(),
    })
}
// ANCHOR_END: lost_acks

/// Sends records `"<seq>"` for every `seq` in `seqs` without waiting in between, then waits for
/// every delivery report.
async fn send_numbered(
    producer: &FutureProducer,
    topic: &str,
    seqs: Range<u64>,
    start: Instant,
) -> Vec<Ack> {
    let mut pending = Vec::new();
    for seq in seqs {
        let payload = seq.to_string();
        let sent_at = start.elapsed();
        let delivery = producer
            .send_result(FutureRecord::<(), _>::to(topic).payload(&payload))
            .map_err(|(error, _)| error.to_string());
        pending.push((seq, sent_at, delivery));
    }
    let mut acks = Vec::with_capacity(pending.len());
    for (seq, sent_at, delivery) in pending {
        let result = match delivery {
            Ok(future) => match future.await {
                Ok(Ok(delivered)) => Ok(delivered.offset),
                Ok(Err((error, _))) => Err(error.to_string()),
                Err(_) => Err("the producer was dropped".to_string()),
            },
            Err(error) => Err(error),
        };
        acks.push(Ack { seq, sent_at, done_at: start.elapsed(), result });
    }
    acks
}

/// The environment with one broker as its only bootstrap address.
async fn talking_to(env: &Env, id: i32) -> Result<Env> {
    let cluster =
        kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await?;
    let broker = cluster
        .brokers
        .iter()
        .find(|b| b.id == id)
        .with_context(|| format!("no broker {id} in the metadata"))?;
    let mut only = env.clone();
    only.bootstrap_servers = format!("{}:{}", broker.host, broker.port);
    Ok(only)
}

/// Polls partition 0's metadata until `ready` holds (and it has a leader), printing every change
/// seen on the way.
async fn wait_partition(
    env: &Env,
    topic: &str,
    what: &str,
    timeout: Duration,
    start: Instant,
    ready: impl Fn(&Partition) -> bool,
) -> Result<Partition> {
    let last: Mutex<Option<Partition>> = Mutex::new(None);
    workbook_support::wait::until(what, timeout, Duration::from_millis(200), || async {
        let cluster =
            kafka::fetch_metadata(&env.bootstrap_servers, Some(topic), Duration::from_secs(2))
                .await?;
        let seen = cluster
            .topics
            .into_iter()
            .next()
            .and_then(|t| t.partitions.into_iter().find(|p| p.id == 0));
        if let Some(p) = &seen {
            let mut last = last.lock().unwrap();
            if last.as_ref() != Some(p) {
                println!("{:>6.2} s  metadata: {}", start.elapsed().as_secs_f64(), describe(p));
                *last = Some(p.clone());
            }
        }
        Ok(seen.filter(|p| p.leader >= 0 && ready(p)))
    })
    .await
}

/// Waits until the leader's high watermark reaches `target`: every in-sync replica has the
/// records below it.
async fn wait_high_watermark(leader_only: &Env, topic: &str, target: i64) -> Result<i64> {
    let what = format!("the high watermark reaches {target}");
    workbook_support::wait::until(
        &what,
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let (_, high) = watermarks_at(leader_only, topic).await?;
            Ok((high >= target).then_some(high))
        },
    )
    .await
}

/// The partition's first offset and high watermark, asked of the brokers in `env` only.
async fn watermarks_at(env: &Env, topic: &str) -> Result<(i64, i64)> {
    let (env, topic) = (env.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer =
            kafka::client_config(&env).create().context("creating a client")?;
        consumer
            .fetch_watermarks(&topic, 0, Duration::from_secs(5))
            .context("asking the leader for the watermarks")
    })
    .await?
}

/// The offset broker `id` truncated `topic`'s partition 0 to when it became a follower again, as
/// its log reports it (`cargo xtask logs kafka-<id>`: a file, or a container's output):
/// `Truncating partition acks-1-0 with TruncationState(offset=101, completed=true) due to leader
/// epoch and offset …`.
fn truncated_to(dir: &Path, id: i32, topic: &str) -> Option<i64> {
    let log = workbook_support::xtask::run(dir, &["logs", &format!("kafka-{id}")]).ok()?;
    let needle = format!("Truncating partition {topic}-0 with TruncationState(offset=");
    log.lines().filter(|line| line.contains("due to leader epoch")).find_map(|line| {
        let rest = &line[line.find(&needle)? + needle.len()..];
        rest[..rest.find(',')?].parse().ok()
    })
}

fn ok(acks: &[Ack]) -> usize {
    acks.iter().filter(|a| a.result.is_ok()).count()
}

fn list(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(" and ")
}
