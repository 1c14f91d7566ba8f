//! `cargo run -p ch18-operations -- <task>`: the operator's tasks of chapter 18, one per
//! subcommand, each printing what it does and what the cluster answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch18_operations::cluster::OwnCluster;
use ch18_operations::configs::{describe_until, replace_topic_configs, value_of};
use ch18_operations::lag::{self as group_lag, LagTrend, group_state, observer};
use ch18_operations::metrics::{StatsContext, consumer_summary, producer_summary};
use ch18_operations::partitions::{add_partitions, produce_keyed};
use ch18_operations::reassign::{create_pinned_topic, describe, reassignment_json};
use ch18_operations::secure::{self, ALICE, ClientErrors, SecureBroker, sasl_client_config};
use ch18_operations::tools;
use clap::{Parser, Subcommand};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{BaseProducer, FutureProducer, FutureRecord, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use workbook_support::cleanup::Cleanup;
use workbook_support::kafka::{self, ADMIN_TIMEOUT};
use workbook_support::{Env, names};

/// Operating Kafka: watch consumer lag, change topic configs live, add partitions, move replicas
/// between brokers, read client statistics, and log in with SASL/SCRAM under ACLs.
///
/// `lag`, `configs`, `partitions` and `metrics` use the workbook's broker (with topics of their
/// own, deleted at the end). `reassign` starts a three-broker cluster of its own and `security` a
/// SASL/SCRAM broker of its own, both in temporary directories, stopped and deleted at the end.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// A group that falls behind and catches up: its lag per partition, its state, the trend.
    Lag {
        /// Records per second the producer writes while the consumer is slow.
        #[arg(long, default_value_t = 30)]
        rate: u32,
        /// Seconds the producer writes.
        #[arg(long, default_value_t = 8)]
        seconds: u64,
        /// Keep the topic (and the group) for `cargo xtask cli kafka-consumer-groups`.
        #[arg(long)]
        keep: bool,
    },
    /// A topic's settings and where they come from; what AlterConfigs does to the ones you omit.
    Configs,
    /// Keyed records before and after a topic gets more partitions.
    Partitions,
    /// Replicas moved from brokers 1 and 2 to broker 3 with kafka-reassign-partitions.
    Reassign,
    /// A producer's and a consumer's own statistics (statistics.interval.ms).
    Metrics,
    /// A broker with SASL/SCRAM and SASL/PLAIN listeners and ACLs: a user, what it may do, and the
    /// clients that log in.
    Security,
}

#[tokio::main]
async fn main() -> Result<()> {
    match Args::parse().task {
        Task::Lag { rate, seconds, keep } => lag(rate, seconds, keep).await,
        Task::Configs => configs().await,
        Task::Partitions => partitions().await,
        Task::Reassign => reassign().await,
        Task::Metrics => metrics().await,
        Task::Security => tokio::task::spawn_blocking(security).await?,
    }
}

// ---------------------------------------------------------------------------------------------
// lag

async fn lag(rate: u32, seconds: u64, keep: bool) -> Result<()> {
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

// ---------------------------------------------------------------------------------------------
// configs

async fn configs() -> Result<()> {
    let env = Env::load()?;
    let admin = kafka::admin(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-configs"));
    let new_topic = NewTopic::new(&topic, 1, TopicReplication::Fixed(-1))
        .set("cleanup.policy", "compact,delete")
        .set("max.message.bytes", "2097152");
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    admin
        .create_topics(&[new_topic], &options)
        .await?
        .remove(0)
        .map_err(|(_, code)| anyhow::anyhow!("{code}"))?;
    println!("created {topic} with cleanup.policy=compact,delete and max.message.bytes=2097152\n");

    let watched = [
        "cleanup.policy",
        "max.message.bytes",
        "retention.ms",
        "min.insync.replicas",
        "segment.bytes",
    ];
    let created = describe_until(&admin, &topic, "the new topic's settings", |s| {
        value_of(s, "cleanup.policy") == Some("compact,delete")
    })
    .await?;
    println!("its settings (a few of {}):", created.len());
    print_settings(&created, &watched);

    println!("\nalter_configs with retention.ms=259200000 (3 days) only:");
    replace_topic_configs(&admin, &topic, &[("retention.ms", "259200000")]).await?;
    let after = describe_until(&admin, &topic, "the new retention", |s| {
        value_of(s, "retention.ms") == Some("259200000")
    })
    .await?;
    print_settings(&after, &watched);
    for name in ["cleanup.policy", "max.message.bytes"] {
        if after.iter().any(|s| s.name == name && s.source == "Default") {
            println!("LOST: {name} is back to Kafka's default; it was not in the request");
        }
    }
    cleanup.run().await;
    Ok(())
}

fn print_settings(settings: &[ch18_operations::configs::Setting], names: &[&str]) {
    for s in settings.iter().filter(|s| names.contains(&s.name.as_str())) {
        println!("  {:<20} {:<16} ({})", s.name, s.value.as_deref().unwrap_or("-"), s.source);
    }
}

// ---------------------------------------------------------------------------------------------
// partitions

async fn partitions() -> Result<()> {
    let env = Env::load()?;
    let admin = kafka::admin(&env)?;
    let mut cleanup = Cleanup::new(&env);
    let topic = cleanup.topic(names::unique("ch18-keys"));
    kafka::create_topic(&env, &topic, 2).await?;
    let keys = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

    let old: FutureProducer = kafka::producer_config(&env).create()?;
    let before = produce_keyed(&old, &topic, &keys, "v1").await?;
    println!("{topic}: 2 partitions, one record per key (v1)");
    add_partitions(&admin, &topic, 3).await?;
    // The broker's metadata shows the new partition a moment after the controller answered.
    workbook_support::wait::until(
        "3 partitions in the metadata",
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async { Ok((kafka::topic_partitions(&env, &topic).await? == 3).then_some(())) },
    )
    .await?;
    println!("added a partition: now 3\n");
    // The producer that was already running still has the old metadata (2 partitions) until
    // its next refresh (topic.metadata.refresh.interval.ms, 5 minutes by default) ...
    let stale = produce_keyed(&old, &topic, &keys, "v2").await?;
    // ... a producer started now sees 3 partitions at once.
    let fresh: FutureProducer = kafka::producer_config(&env).create()?;
    let after = produce_keyed(&fresh, &topic, &keys, "v3").await?;

    println!(
        "{:<7} {:>16} {:>22} {:>18}",
        "key", "v1 (2 partitions)", "v2 (running producer)", "v3 (new producer)"
    );
    let mut moved = 0;
    for (i, key) in keys.iter().enumerate() {
        let note = if after[i] != before[i] { "  <- moved" } else { "" };
        moved += usize::from(after[i] != before[i]);
        println!("{key:<7} {:>16} {:>22} {:>18}{note}", before[i], stale[i], after[i]);
    }
    println!(
        "\n{moved} of {} keys now go to another partition than their earlier records",
        keys.len()
    );
    cleanup.run().await;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// reassign

async fn reassign() -> Result<()> {
    let kafka_tools = tools::Kafka::locate()?;
    let started = Instant::now();
    let cluster = tokio::task::spawn_blocking(OwnCluster::up).await??;
    println!(
        "3 brokers ready in {:.0} s: {}\n",
        started.elapsed().as_secs_f64(),
        cluster.env.bootstrap_servers
    );
    let outcome = tokio::select! {
        outcome = reassign_on(&cluster, &kafka_tools) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    println!("\nstopping the chapter's cluster (cargo xtask down --purge)");
    tokio::task::block_in_place(|| drop(cluster));
    outcome
}

async fn reassign_on(cluster: &OwnCluster, kafka_tools: &tools::Kafka) -> Result<()> {
    let env = &cluster.env;
    let bootstrap = env.bootstrap_servers.as_str();
    let admin = kafka::admin(env)?;
    let topic = "orders";
    create_pinned_topic(&admin, topic, &[&[1, 2], &[2, 1], &[1, 2]]).await?;
    println!(
        "created {topic}: 3 partitions, 2 replicas each, all on brokers 1 and 2 (broker 3 is new)"
    );
    let producer: FutureProducer = kafka::producer_config(env).set("linger.ms", "20").create()?;
    let value = "x".repeat(400);
    let count = 10_000;
    let sends = (0..count).map(|i| {
        let (producer, value) = (&producer, &value);
        async move {
            let key = format!("order-{i}");
            let record = FutureRecord::to(topic).key(&key).payload(value).partition(i % 3);
            producer.send(record, Duration::from_secs(10)).await.map_err(|(e, _)| e)
        }
    });
    futures::future::try_join_all(sends).await?;
    println!("wrote {count} records of 400 bytes\n");
    print_replicas(env, topic).await?;

    // What would Kafka propose for spreading the topic over all three brokers?
    let topics_file = tools::write_file(
        cluster.dir(),
        "topics.json",
        &format!(r#"{{"topics":[{{"topic":"{topic}"}}],"version":1}}"#),
    )?;
    let topics_arg = topics_file.display().to_string();
    println!();
    tokio::task::block_in_place(|| {
        let generate = ["--bootstrap-server", bootstrap, "--topics-to-move-json-file", &topics_arg];
        kafka_tools.run_ok(
            "kafka-reassign-partitions",
            &[&generate[..], &["--broker-list", "1,2,3", "--generate"]].concat(),
        )
    })?;

    // Move partition 0 from [1, 2] to [3, 2] and partition 2 from [1, 2] to [3, 1]: broker 3
    // copies both from their leaders, then broker 1 (resp. 2) drops its copy.
    let plan = reassignment_json(topic, &[(0, &[3, 2]), (2, &[3, 1])]);
    let plan_file = tools::write_file(cluster.dir(), "reassignment.json", &plan)?;
    let plan_arg = plan_file.display().to_string();
    println!("\nthe plan ({}):\n{plan}\n", plan_file.display());
    // The throttle caps replication traffic (bytes/s) so a real move does not starve clients.
    let args = ["--bootstrap-server", bootstrap, "--reassignment-json-file", &plan_arg];
    let run = |extra: &[&str]| {
        kafka_tools.run_ok("kafka-reassign-partitions", &[&args[..], extra].concat())
    };
    tokio::task::block_in_place(|| run(&["--execute", "--throttle", "200000"]))?;
    println!();
    tokio::task::block_in_place(|| {
        kafka_tools.run_ok(
            "kafka-topics",
            &["--bootstrap-server", bootstrap, "--describe", "--topic", topic],
        )
    })?;
    println!("\nwaiting for the reassignment to complete (--verify every 2 s)");
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let output = tokio::task::block_in_place(|| {
            kafka_tools.run("kafka-reassign-partitions", &[&args[..], &["--verify"]].concat())
        })?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !text.contains("still in progress") {
            print!("{text}");
            break;
        }
        println!("  still in progress");
        if Instant::now() > deadline {
            bail!("the reassignment did not complete within 180 s:\n{text}");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    println!();
    print_replicas(env, topic).await?;
    let read = count_records(env, topic, count as usize).await?;
    println!("\nread back {read} of {count} records from the new replicas");
    Ok(())
}

async fn print_replicas(env: &Env, topic: &str) -> Result<()> {
    let timeout = Duration::from_secs(10);
    let cluster = kafka::fetch_metadata(&env.bootstrap_servers, Some(topic), timeout).await?;
    let partitions = &cluster.topics.first().context("no such topic")?.partitions;
    for line in describe(partitions) {
        println!("  {line}");
    }
    Ok(())
}

/// Reads `topic` from the beginning (no group commits) until `expected` records arrived.
async fn count_records(env: &Env, topic: &str, expected: usize) -> Result<usize> {
    let consumer: StreamConsumer = kafka::group_config(env, &names::unique("ch18-count"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()?;
    consumer.subscribe(&[topic])?;
    let mut read = 0;
    while read < expected {
        let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv())
            .await
            .with_context(|| format!("only {read} of {expected} records within 30 s"))??;
        if message.payload().is_some() {
            read += 1;
        }
    }
    Ok(read)
}

// ---------------------------------------------------------------------------------------------
// metrics

async fn metrics() -> Result<()> {
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

// ---------------------------------------------------------------------------------------------
// security

fn security() -> Result<()> {
    let listeners = "SCRAM and PLAIN listeners";
    println!("starting a broker of our own: {listeners}, StandardAuthorizer, super user admin");
    let broker = SecureBroker::start()?;
    let bootstrap = broker.bootstrap.clone();
    let kafka_tools = broker.kafka.clone();
    let login = |user: &str, password: &str| {
        broker.login_file(user, password).map(|p| p.display().to_string())
    };
    let (admin, alice, wrong) =
        (login("admin", secure::ADMIN.1)?, login(ALICE.0, ALICE.1)?, login("mallory", "guess")?);
    let as_user = |file: &str, tool: &str, args: &[&str]| {
        let mut full = vec!["--bootstrap-server", bootstrap.as_str(), "--command-config", file];
        full.extend_from_slice(args);
        kafka_tools.run(tool, &full)
    };
    let show = |output: std::process::Output| {
        print!("{}", String::from_utf8_lossy(&output.stdout));
        // The tools log errors with their stack traces; the exception's own line says it all.
        for line in String::from_utf8_lossy(&output.stderr).lines() {
            if line.starts_with("org.apache.kafka.common.errors.") {
                println!("{line}");
            }
        }
        println!();
    };

    println!("\n1. admin creates the user alice (SCRAM credentials) and the topic payments");
    show(as_user(
        &admin,
        "kafka-configs",
        &[
            "--alter",
            "--entity-type",
            "users",
            "--entity-name",
            "alice",
            "--add-config",
            "SCRAM-SHA-256=[iterations=8192,password=alice-secret]",
        ],
    )?);
    show(as_user(
        &admin,
        "kafka-topics",
        &["--create", "--topic", "payments", "--partitions", "1"],
    )?);

    println!("2. a wrong password");
    show(produce_as(&kafka_tools, &bootstrap, &wrong, "hello")?);
    println!("3. alice, before any ACL");
    show(produce_as(&kafka_tools, &bootstrap, &alice, "hello")?);

    println!("4. admin allows alice to write to payments, then to read it in group billing");
    let allow_alice = |operation: &str, resource: &[&str]| {
        let mut args = vec!["--add", "--allow-principal", "User:alice", "--operation", operation];
        args.extend_from_slice(resource);
        as_user(&admin, "kafka-acls", &args)
    };
    // Reading in a group needs Read on the topic and Read on the group (to commit offsets).
    let alice_reads_in = |group: &str| {
        let args = ["--topic", "payments", "--group", group, "--from-beginning"];
        let stop = ["--max-messages", "1", "--timeout-ms", "20000"];
        as_user(&alice, "kafka-console-consumer", &[&args[..], &stop].concat())
    };
    show(allow_alice("Write", &["--topic", "payments"])?);
    show(allow_alice("Read", &["--topic", "payments", "--group", "billing"])?);
    show(produce_as(&kafka_tools, &bootstrap, &alice, "paid 42")?);
    show(alice_reads_in("billing")?);
    println!("5. but not to read it in another group");
    show(alice_reads_in("audit")?);

    println!("6. the ACLs now in the cluster metadata");
    show(as_user(&admin, "kafka-acls", &["--list"])?);

    println!("7. a Rust client as alice");
    rust_client(&broker)?;
    println!("\nstopping the secure broker");
    Ok(())
}

/// `echo VALUE | kafka-console-producer --topic payments` as the user of `login_file`.
fn produce_as(
    kafka_tools: &tools::Kafka,
    bootstrap: &str,
    login_file: &str,
    value: &str,
) -> Result<std::process::Output> {
    use std::io::Write;
    let args =
        ["--bootstrap-server", bootstrap, "--command-config", login_file, "--topic", "payments"];
    println!("> echo '{value}' | kafka-console-producer.sh {}", args.join(" "));
    let mut child = kafka_tools
        .java("org.apache.kafka.tools.ConsoleProducer", "tools-log4j2.yaml")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    writeln!(child.stdin.take().context("stdin")?, "{value}")?;
    Ok(child.wait_with_output()?)
}

/// alice from Rust. SCRAM needs a librdkafka built with OpenSSL; PLAIN, on the broker's second
/// listener, is in every build. Either way the broker sees User:alice, and the same ACLs apply.
fn rust_client(broker: &SecureBroker) -> Result<()> {
    let features = secure::librdkafka_features()?;
    println!(
        "librdkafka {} built with: {}",
        rdkafka::util::get_rdkafka_version().1,
        features.join(",")
    );
    println!("with SCRAM-SHA-256 on {}:", broker.bootstrap);
    let scram = sasl_client_config(&broker.bootstrap, "SCRAM-SHA-256", ALICE.0, ALICE.1);
    match scram.create::<BaseProducer>() {
        Err(e) => say(&format!("creating the client fails: {e}")),
        Ok(_) => say("this librdkafka has SCRAM (the ssl feature); PLAIN works as well"),
    }

    let plain = &broker.plain_bootstrap;
    println!("with PLAIN on {plain}, a wrong password:");
    let refusal = login_refusal(&sasl_client_config(plain, "PLAIN", ALICE.0, "guess"))?;
    say(&format!("the client's error callback: {refusal}"));

    println!("with PLAIN, the right password:");
    let alice = sasl_client_config(plain, "PLAIN", ALICE.0, ALICE.1);
    let (partition, offset) = write_as(&alice, "payments", "paid 7")?;
    say(&format!("wrote payments-{partition}@{offset}"));
    let read = read_as(&alice, "payments", "billing", |m| m.payload() == Some(b"paid 7"))?;
    say(&format!("read {read} in group billing"));
    // No ACL names refunds (which does not exist either: a user without Describe cannot tell).
    match write_as(&alice, "refunds", "refund 7") {
        Ok((partition, offset)) => say(&format!("wrote refunds-{partition}@{offset}")),
        Err(e) => say(&format!("writing to refunds: {e}")),
    }
    match read_as(&alice, "payments", "audit", |_| true) {
        Ok(read) => say(&format!("read {read} in group audit")),
        Err(e) => say(&format!("reading in group audit: {e}")),
    }
    Ok(())
}

/// Prints `text` indented by two spaces, wrapped at 100 columns (the next lines by four).
fn say(text: &str) {
    let mut line = String::from(" ");
    for word in text.split(' ') {
        if line.chars().count() + 1 + word.chars().count() > 100 && !line.trim().is_empty() {
            println!("{line}");
            line = String::from("   ");
        }
        line.push(' ');
        line.push_str(word);
    }
    println!("{line}");
}

/// What librdkafka reports when the broker refuses a client's login. The client does not fail:
/// it logs in again after a pause, and a request only times out in the end; the refusal itself
/// reaches the client context's error callback.
fn login_refusal(config: &ClientConfig) -> Result<String> {
    let errors = ClientErrors::default();
    // A FutureProducer polls its client on a thread of its own: that thread runs the callbacks.
    let producer: FutureProducer<ClientErrors> = config.create_with_context(errors.clone())?;
    // Any request makes librdkafka connect, and so log in.
    let _ = producer.client().fetch_metadata(Some("payments"), Duration::from_secs(1));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(error) = errors.first() {
            return Ok(error);
        }
        if Instant::now() > deadline {
            bail!("no login error reported within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes one record; returns its partition and offset, or the broker's refusal.
fn write_as(config: &ClientConfig, topic: &str, value: &str) -> Result<(i32, i64)> {
    let producer: FutureProducer = config.clone().set("message.timeout.ms", "15000").create()?;
    let record = FutureRecord::to(topic).key("rust").payload(value);
    let delivery = tokio::runtime::Handle::current()
        .block_on(producer.send(record, Duration::from_secs(15)))
        .map_err(|(e, _)| e)?;
    Ok((delivery.partition, delivery.offset))
}

/// Reads `topic` as a member of `group` until a record satisfies `wanted`; returns it as
/// `topic-partition@offset: value`, or the first error the consumer gets.
fn read_as(
    config: &ClientConfig,
    topic: &str,
    group: &str,
    wanted: impl Fn(&BorrowedMessage) -> bool,
) -> Result<String> {
    let consumer: BaseConsumer =
        config.clone().set("group.id", group).set("auto.offset.reset", "earliest").create()?;
    consumer.subscribe(&[topic])?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(message) = consumer.poll(Duration::from_millis(100)) {
            let message = message?;
            if wanted(&message) {
                let value = String::from_utf8_lossy(message.payload().unwrap_or_default());
                return Ok(format!(
                    "{}-{}@{}: {value}",
                    message.topic(),
                    message.partition(),
                    message.offset()
                ));
            }
        }
        if Instant::now() > deadline {
            bail!("nothing read from {topic} in group {group} within 30 s");
        }
    }
}
