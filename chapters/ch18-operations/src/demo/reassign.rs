//! `reassign`: Kafka does not move existing replicas to a broker added later; an operator
//! reassigns them. On a three-broker cluster of its own, with a topic whose replicas all sit on
//! brokers 1 and 2, this asks `kafka-reassign-partitions` what it would propose, then moves two
//! partitions onto broker 3 with a JSON plan and a replication throttle, polls `--verify` until
//! the move is done, and reads every record back from the new replicas.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use ch18_operations::cluster::OwnCluster;
use ch18_operations::reassign::{create_pinned_topic, describe, reassignment_json};
use ch18_operations::tools;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::kafka;
use workbook_support::{Env, names};

pub async fn reassign() -> Result<()> {
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
