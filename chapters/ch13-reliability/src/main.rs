//! `cargo run -p ch13-reliability`: kill the partition leader under a stream of writes, count
//! what was lost, then lose a second broker and bring both back.
//! `cargo run -p ch13-reliability -- lost-acks`: acks=1 loses acknowledged records, acks=all
//! does not.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch04_producers::{Acks, ProducerSettings};
use ch13_reliability::cluster::{Exit, OwnCluster};
use ch13_reliability::lost_acks::{Outcome, acknowledged_then_lost};
use ch13_reliability::{
    Watcher, create_reliable_topic, describe, failover_producer, longest_silence, produce_numbered,
    read_all, slowest, try_write, verdict, watermarks,
};
use clap::{Parser, Subcommand};

/// Starts a three-broker cluster of its own (in a temp dir, next to the workbook's environment,
/// which it does not touch), creates a topic with 3 replicas and min.insync.replicas=2, writes
/// numbered records without pause, kills the partition leader, and checks afterwards that every
/// acknowledged record is in the partition exactly once. Then it stops a second broker (acks=all
/// writes are refused, reads go on), restarts both and watches the ISR grow back. The cluster is
/// deleted at the end (`cargo xtask down --purge`), also on errors and Ctrl-C.
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    demo: Option<Demo>,
    /// The topic to create on the chapter's cluster.
    #[arg(short, long, default_value = "payments")]
    topic: String,
    /// Records per second the producer writes.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// How long to write before killing the leader, in ms.
    #[arg(long, default_value_t = 2000)]
    before_ms: u64,
    /// How long to keep writing once a new leader took over, in ms.
    #[arg(long, default_value_t = 3000)]
    after_ms: u64,
    /// How the first broker dies: `kill` (SIGKILL, a crash) or `term` (SIGTERM, a clean shutdown).
    #[arg(long, default_value = "kill", value_parser = ["kill", "term"])]
    signal: String,
    /// The producer's acks: `all` (wait for every in-sync replica), `1` (the leader alone) or `0`.
    #[arg(long, value_enum, default_value = "all")]
    acks: Acks,
    /// Idempotent producer (needs --acks all).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    idempotence: bool,
    /// How long the producer keeps retrying a record before reporting it failed, in ms.
    #[arg(long, default_value_t = 60_000)]
    delivery_timeout_ms: u64,
}

#[derive(Subcommand, Debug)]
enum Demo {
    /// Acknowledged, then lost: freeze the followers, write with acks=1, kill the leader, resume
    /// the followers, and count what the new leader has. Then the same with acks=all.
    LostAcks(LostAcksArgs),
}

#[derive(clap::Args, Debug)]
struct LostAcksArgs {
    /// Records written while every replica fetches (both runs keep them).
    #[arg(long, default_value_t = 100)]
    replicated: u64,
    /// Records written while the followers are frozen.
    #[arg(long, default_value_t = 100)]
    unreplicated: u64,
    /// Only one run, with these acks (default: acks=1, then acks=all, on the same cluster).
    #[arg(long, value_enum)]
    acks: Option<Acks>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.demo.is_none() && args.idempotence && args.acks != Acks::All {
        bail!(
            "the idempotent producer needs --acks all (pass --idempotence false to use --acks {})",
            args.acks.as_config()
        );
    }
    println!(
        "Starting a 3-broker cluster of this chapter's own \
         (cargo xtask up --brokers 3 --no-connect)"
    );
    let started = Instant::now();
    let mut cluster = tokio::task::spawn_blocking(OwnCluster::up).await??;
    println!("  in {} (deleted at the end)", cluster.dir().display());
    println!(
        "  ready in {:.1} s: {}",
        started.elapsed().as_secs_f64(),
        cluster.env.bootstrap_servers
    );
    let run = async {
        match &args.demo {
            None => scenario(&mut cluster, &args).await,
            Some(Demo::LostAcks(demo)) => lost_acks(&mut cluster, demo).await,
        }
    };
    let outcome = tokio::select! {
        outcome = run => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    println!("\nStopping the chapter's cluster (cargo xtask down --purge)");
    tokio::task::block_in_place(|| drop(cluster));
    outcome
}

async fn scenario(cluster: &mut OwnCluster, args: &Args) -> Result<()> {
    let env = cluster.env.clone();
    let topic = args.topic.as_str();
    create_reliable_topic(&env, topic).await?;
    println!("Created topic {topic}: 1 partition, replication factor 3, min.insync.replicas=2\n");

    let t0 = Instant::now();
    println!("Timeline (seconds since the topic was created):");
    let watcher = Watcher::start(&env, topic, t0)?;
    let ready = watcher
        .wait_for(
            "the new topic has a leader and 3 in-sync replicas",
            Duration::from_secs(30),
            |p| p.leader >= 0 && p.isr.len() == 3,
        )
        .await?;

    // 1. Kill the leader while writing.
    let settings = ProducerSettings {
        acks: args.acks,
        idempotence: args.idempotence,
        ..ProducerSettings::default()
    };
    let producer =
        failover_producer(&env, &settings, Duration::from_millis(args.delivery_timeout_ms))?;
    let stop = Arc::new(AtomicBool::new(false));
    let every = Duration::from_secs(1) / args.rate.max(1);
    let writing =
        tokio::spawn(produce_numbered(producer, topic.to_string(), every, t0, stop.clone()));
    println!(
        "  {:>6.2} s  producer: writing {} records/s, acks={}, idempotence={}",
        t0.elapsed().as_secs_f64(),
        args.rate,
        args.acks.as_config(),
        args.idempotence
    );
    // The workload: write for a while before the failure (pacing, not waiting for a condition).
    tokio::time::sleep(Duration::from_millis(args.before_ms)).await;

    let leader = ready.partition.leader;
    let exit = if args.signal == "kill" { Exit::Crash } else { Exit::Shutdown };
    let killed_at = t0.elapsed();
    println!(
        "  {:>6.2} s  {} sent to broker {leader}, the leader",
        killed_at.as_secs_f64(),
        exit.signal()
    );
    tokio::task::block_in_place(|| cluster.stop_broker(leader, exit))?;
    println!("  {:>6.2} s  broker {leader} is gone", t0.elapsed().as_secs_f64());
    let moved = watcher
        .wait_for("another broker leads the partition", Duration::from_secs(60), |p| {
            p.leader >= 0 && p.leader != leader
        })
        .await?;
    let shrunk = watcher
        .wait_for("the ISR no longer lists the dead broker", Duration::from_secs(60), |p| {
            !p.isr.contains(&leader)
        })
        .await?;
    tokio::time::sleep(Duration::from_millis(args.after_ms)).await;
    stop.store(true, Ordering::Relaxed);
    println!(
        "  {:>6.2} s  producer: stopped; waiting for the last delivery reports",
        t0.elapsed().as_secs_f64()
    );
    let acks = writing.await.context("the producer task panicked")?;

    println!("\nFailover");
    let leaderless = moved.at.saturating_sub(killed_at);
    println!(
        "  metadata named a new leader (broker {}) {:.2} s after the kill",
        moved.partition.leader,
        secs(leaderless)
    );
    println!(
        "  ISR without broker {leader}: {:.2} s after the kill",
        secs(shrunk.at.saturating_sub(killed_at))
    );
    if let Some((from, to)) = longest_silence(&acks) {
        println!(
            "  longest stretch without an acknowledgment: {:.2} s (from {:.2} s to {:.2} s)",
            secs(to - from),
            secs(from),
            secs(to)
        );
    }
    if let Some((seq, latency)) = slowest(&acks) {
        println!("  slowest record: #{seq}, acknowledged {:.2} s after it was sent", secs(latency));
    }

    let read = tokio::task::spawn_blocking({
        let (env, topic) = (env.clone(), topic.to_string());
        move || read_all(&env, &topic, Duration::from_secs(30))
    })
    .await??;
    let v = verdict(&acks, &read);
    println!("\nRecords");
    println!("  sent {}, acknowledged {}, failed {}", v.sent, v.acknowledged, v.failed);
    println!("  read back from the partition: {}", v.read);
    println!("  acknowledged but missing (lost): {}{}", v.lost.len(), sample(&v.lost));
    println!(
        "  in the partition twice (duplicated): {}{}",
        v.duplicated.len(),
        sample(&v.duplicated)
    );
    println!(
        "  failed but written anyway: {}{}",
        v.failed_but_written.len(),
        sample(&v.failed_but_written)
    );

    // 2. Lose a second broker: only one replica left in sync.
    let now = watcher.latest().context("no metadata seen")?.partition;
    let second = now
        .isr
        .iter()
        .copied()
        .find(|id| *id != now.leader)
        .context("no follower left in the ISR")?;
    println!("\nA second broker: stopping broker {second} (SIGTERM)");
    tokio::task::block_in_place(|| cluster.stop_broker(second, Exit::Shutdown))?;
    println!("  {:>6.2} s  broker {second} has shut down", t0.elapsed().as_secs_f64());
    let alone = watcher
        .wait_for("the ISR is down to one broker", Duration::from_secs(60), |p| {
            p.leader >= 0 && p.isr.len() == 1
        })
        .await?;
    println!("  one in-sync replica left: {}", describe(&alone.partition));
    match try_write(&env, topic, Acks::All).await {
        Ok(offset) => println!("  acks=all write: accepted at offset {offset} (unexpected!)"),
        Err(error) => println!("  acks=all write: refused: {error}"),
    }
    match try_write(&env, topic, Acks::One).await {
        Ok(offset) => {
            println!("  acks=1 write:   accepted at offset {offset}, stored on one broker only")
        }
        Err(error) => println!("  acks=1 write:   refused: {error}"),
    }
    let (_, high) = blocking_watermarks(&env, topic).await?;
    println!("  high watermark: {high} (consumers read offsets below it)");
    let survivor_reads = tokio::task::spawn_blocking({
        let (env, topic) = (env.clone(), topic.to_string());
        move || read_all(&env, &topic, Duration::from_secs(30))
    })
    .await??;
    println!("  read with one broker left: {} records", survivor_reads.len());

    // 3. Bring both back; the ISR grows back as they catch up.
    println!("\nRestarting broker {second}, then broker {leader}");
    let restart_at = t0.elapsed();
    for id in [second, leader] {
        tokio::task::block_in_place(|| cluster.restart_broker(id))?;
        println!("  {:>6.2} s  broker {id} started again", t0.elapsed().as_secs_f64());
    }
    let whole = watcher
        .wait_for("all three replicas back in the ISR", Duration::from_secs(90), |p| {
            p.leader >= 0 && p.isr.len() == 3
        })
        .await?;
    println!(
        "  ISR complete again {:.2} s after the restarts",
        secs(whole.at.saturating_sub(restart_at))
    );
    let (_, high) = blocking_watermarks(&env, topic).await?;
    println!("  high watermark: {high}");
    match try_write(&env, topic, Acks::All).await {
        Ok(offset) => println!("  acks=all write: accepted at offset {offset}"),
        Err(error) => println!("  acks=all write: refused: {error}"),
    }
    drop(watcher);
    if !v.lost.is_empty() || !v.duplicated.is_empty() {
        println!(
            "\nWith acks={} and idempotence={}, records were lost or duplicated.",
            args.acks.as_config(),
            args.idempotence
        );
    }
    Ok(())
}

/// acks=1, then acks=all (or one of them): the same failure, and what each lost.
async fn lost_acks(cluster: &mut OwnCluster, demo: &LostAcksArgs) -> Result<()> {
    let runs = match demo.acks {
        Some(acks) => vec![acks],
        None => vec![Acks::One, Acks::All],
    };
    let mut outcomes = Vec::new();
    for acks in runs {
        let topic = format!("acks-{}", acks.as_config());
        println!("\nacks={} (seconds since the topic was created):", acks.as_config());
        let outcome =
            acknowledged_then_lost(cluster, &topic, acks, demo.replicated, demo.unreplicated)
                .await?;
        let v = &outcome.verdict;
        println!("  sent {}, acknowledged {}, failed {}", v.sent, v.acknowledged, v.failed);
        println!("  read back from the partition: {}", v.read);
        println!("  acknowledged but missing (lost): {}{}", v.lost.len(), span(&v.lost));
        println!("  failed but written anyway: {}", v.failed_but_written.len());
        let marker = if outcome.marker_kept {
            "kept (a follower's waiting fetch carried it off)"
        } else {
            "lost"
        };
        println!("  the marker record: {marker}");
        if let Some(offset) = outcome.truncated_to {
            println!(
                "  broker {}'s log on its return: truncated to offset {offset}",
                outcome.old_leader
            );
        }
        outcomes.push(outcome);
    }
    println!();
    for o in &outcomes {
        println!("{}", summary(o));
    }
    Ok(())
}

/// `acks=1    200 acknowledged, 100 readable, 100 lost (broker 2 killed, broker 3 took over;
/// 14.4 s)`.
fn summary(o: &Outcome) -> String {
    let v = &o.verdict;
    format!(
        "acks={:<4} {} acknowledged, {} readable, {} lost \
         (broker {} killed, broker {} took over; {:.1} s)",
        o.acks.as_config(),
        v.acknowledged,
        v.read,
        v.lost.len(),
        o.old_leader,
        o.new_leader,
        secs(o.took)
    )
}

async fn blocking_watermarks(env: &workbook_support::Env, topic: &str) -> Result<(i64, i64)> {
    let (env, topic) = (env.clone(), topic.to_string());
    tokio::task::spawn_blocking(move || watermarks(&env, &topic)).await?
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// ` (#100 to #199)` for a non-empty list of consecutive numbers, else [`sample`].
fn span(seqs: &[u64]) -> String {
    match (seqs.first(), seqs.last()) {
        (Some(first), Some(last)) if last - first + 1 == seqs.len() as u64 && first != last => {
            format!(" (#{first} to #{last})")
        }
        _ => sample(seqs),
    }
}

/// ` (e.g. 17, 18, 19)` for a non-empty list.
fn sample(seqs: &[u64]) -> String {
    if seqs.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = seqs.iter().take(5).map(u64::to_string).collect();
    format!(" (e.g. {})", shown.join(", "))
}
