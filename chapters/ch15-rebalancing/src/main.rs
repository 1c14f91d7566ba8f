//! Watch a consumer group rebalance: members join, leave and restart, and every rebalance
//! callback of every member is printed on one timeline.

use std::time::Duration;

use anyhow::{Context, Result};
use ch15_rebalancing::{
    Change, Member, Protocol, Timeline, member_config, static_member, wait_settled,
};
use clap::{Parser, ValueEnum};
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::StreamConsumer;
use workbook_support::cleanup::Cleanup;
use workbook_support::{Env, kafka, names};

/// Two members of one group share a 6-partition topic; watch the partitions move.
#[derive(Parser, Debug)]
#[command(version, about, long_about = None)]
struct Args {
    /// Which story to run.
    #[arg(long, value_enum, default_value = "all")]
    scenario: Scenario,
    /// Partitions of the demo topic.
    #[arg(long, default_value_t = 6)]
    partitions: i32,
    /// Once A and B share the partitions, wait for Enter before going on, to look at the group
    /// with `cargo xtask cli kafka-consumer-groups --describe --members --verbose --group ...`.
    #[arg(long)]
    hold: bool,
    /// Keep the demo topic (it is deleted at the end otherwise).
    #[arg(long)]
    keep: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Classic protocol, range assignor: B joins, then leaves.
    Eager,
    /// Classic protocol, cooperative-sticky: B joins, then leaves.
    Cooperative,
    /// Static members (group.instance.id): B restarts.
    Static,
    /// KIP-848 (group.protocol=consumer): B joins, then leaves.
    Consumer,
    /// All four, one after the other.
    All,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let env = Env::load()?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch15-demo"));
    kafka::create_topic(&env, &topic, args.partitions).await?;
    println!("topic {topic}: {} partitions", args.partitions);

    let story = Story { env: env.clone(), topic, partitions: args.partitions, hold: args.hold };
    let all = args.scenario == Scenario::All;
    if all || args.scenario == Scenario::Eager {
        story.join_and_leave(Protocol::Eager).await?;
    }
    if all || args.scenario == Scenario::Cooperative {
        story.join_and_leave(Protocol::Cooperative).await?;
    }
    if all || args.scenario == Scenario::Static {
        story.restart_static().await?;
    }
    if all || args.scenario == Scenario::Consumer {
        story.consumer_protocol_refuses_classic_settings();
        story.join_and_leave(Protocol::Consumer).await?;
    }
    if args.keep {
        cleanup.keep();
    } else {
        cleanup.run().await;
    }
    Ok(())
}

struct Story {
    env: Env,
    topic: String,
    partitions: i32,
    hold: bool,
}

/// Generous: a rebalance takes a few heartbeats, and the machine may be busy.
const SETTLE: Duration = Duration::from_secs(60);

impl Story {
    fn config(&self, group: &str, protocol: Protocol) -> ClientConfig {
        let mut config = member_config(&self.env, group, protocol);
        // librdkafka's group debug log says who computed the assignment (the Watch context
        // keeps just those lines).
        config.set("debug", "cgrp").set_log_level(RDKafkaLogLevel::Debug);
        config
    }

    /// A joins and gets everything; B joins; B leaves.
    async fn join_and_leave(&self, protocol: Protocol) -> Result<()> {
        let group = names::unique(&format!("ch15-{protocol:?}").to_lowercase());
        let config = self.config(&group, protocol);
        println!("\n== {protocol:?}: {} ==", describe(&config));
        println!("group {group}");
        let timeline = Timeline::new(true);
        let n = self.partitions;

        timeline.say("A starts");
        let a = Member::start(&config, "A", &self.topic, &timeline)?;
        wait_settled(&timeline, &["A"], n, SETTLE).await?;

        let joined = timeline.elapsed();
        timeline.say("B starts");
        let b = Member::start(&config, "B", &self.topic, &timeline)?;
        wait_settled(&timeline, &["A", "B"], n, SETTLE).await?;
        summary(&timeline, n, joined);
        self.hold(&group).await?;

        let left = timeline.elapsed();
        timeline.say("B stops");
        b.stop().await?;
        wait_settled(&timeline, &["A"], n, SETTLE).await?;
        summary(&timeline, n, left);

        timeline.say("A stops");
        a.stop().await?;
        Ok(())
    }

    /// Two static members; B restarts, as in a deploy.
    async fn restart_static(&self) -> Result<()> {
        let group = names::unique("ch15-static");
        let config = |instance: &str| {
            let mut config = self.config(&group, Protocol::Cooperative);
            static_member(&mut config, instance);
            config
        };
        println!("\n== Static: {}, group.instance.id=<member> ==", describe(&config("A")));
        println!("group {group}");
        let timeline = Timeline::new(true);
        let n = self.partitions;

        timeline.say("A starts (group.instance.id=A)");
        let a = Member::start(&config("A"), "A", &self.topic, &timeline)?;
        wait_settled(&timeline, &["A"], n, SETTLE).await?;
        timeline.say("B starts (group.instance.id=B)");
        let b = Member::start(&config("B"), "B", &self.topic, &timeline)?;
        wait_settled(&timeline, &["A", "B"], n, SETTLE).await?;

        let restarted = timeline.elapsed();
        timeline.say("B stops (a static member does not leave the group)");
        b.stop().await?;
        timeline.say("B starts again, same group.instance.id");
        let b = Member::start(&config("B"), "B", &self.topic, &timeline)?;
        wait_settled(&timeline, &["A", "B"], n, SETTLE).await?;
        let to_a: Vec<_> = timeline
            .events()
            .into_iter()
            .filter(|e| e.member == "A" && e.at > restarted && e.change != Change::Note)
            .collect();
        timeline.say(&format!("A saw {} rebalance callback(s) during B's restart", to_a.len()));
        summary(&timeline, n, restarted);
        self.hold(&group).await?;
        timeline.say("A and B stop");
        b.stop().await?;
        a.stop().await?;
        Ok(())
    }

    /// librdkafka refuses classic settings under the consumer protocol, at creation.
    fn consumer_protocol_refuses_classic_settings(&self) {
        let mut config = member_config(&self.env, "ch15-refused", Protocol::Consumer);
        config.set("partition.assignment.strategy", "cooperative-sticky");
        match config.create::<StreamConsumer>() {
            Ok(_) => println!(
                "\n(librdkafka accepted partition.assignment.strategy with group.protocol=consumer)"
            ),
            Err(e) => println!("\ngroup.protocol=consumer + partition.assignment.strategy: {e}"),
        }
    }

    async fn hold(&self, group: &str) -> Result<()> {
        if !self.hold {
            return Ok(());
        }
        println!(
            "holding: cargo xtask cli kafka-consumer-groups --describe --members --verbose --group \
             {group}"
        );
        println!("press Enter to go on");
        let mut line = String::new();
        tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line))
            .await?
            .context("reading stdin")?;
        Ok(())
    }
}

/// The settings that decide how this group rebalances.
fn describe(config: &ClientConfig) -> String {
    ["group.protocol", "partition.assignment.strategy", "group.remote.assignor"]
        .iter()
        .filter_map(|key| config.get(key).map(|value| format!("{key}={value}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the rebalance since `since` cost: partitions revoked, moved, left without an owner.
fn summary(timeline: &Timeline, partitions: i32, since: Duration) {
    let (before, after) = (timeline.owners(since), timeline.owners(timeline.elapsed()));
    let moved = (0..partitions).filter(|p| before.get(p) != after.get(p)).count();
    let idle: Vec<String> = timeline
        .unowned(partitions, since)
        .iter()
        .enumerate()
        .filter(|(_, d)| d.as_millis() >= 5)
        .map(|(p, d)| format!("{p} ({:.2}s)", d.as_secs_f64()))
        .collect();
    let idle = if idle.is_empty() { "none".to_string() } else { idle.join(", ") };
    let revoked = timeline.revoked_since(since);
    timeline.say(&format!("settled: {moved} moved, {revoked} revoked; without an owner: {idle}"));
}
