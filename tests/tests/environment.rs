//! The environment contract, end to end, against the environment `cargo xtask up` started:
//! every chapter relies on exactly these guarantees. (That Connect lists the plugins the chapters
//! use, `up` waits for and `cargo xtask status` checks: xtask/tests/commands.rs.)

use std::time::Duration;

use anyhow::Result;
use std::collections::BTreeMap;

use rdkafka::Message;
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};
use workbook_support::{Env, db, kafka, names};
use workbook_tests::{CONNECT_CONFIG_TOPIC, host_view_in_connector};

/// The running environment's `.workbook/state.json`.
fn state() -> serde_json::Value {
    let path = workbook_support::env::workbook_dir().join("state.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("the environment is up")).unwrap()
}

#[tokio::test]
async fn a_record_produced_with_rdkafka_is_consumed_back() -> Result<()> {
    let env = Env::load()?;
    let topic = names::unique("env-roundtrip");
    let admin = kafka::admin(&env)?;
    let created =
        admin.create_topics(&[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))], &AdminOptions::new()).await?;
    assert!(created.iter().all(Result::is_ok), "{created:?}");

    let producer: FutureProducer = kafka::producer_config(&env).create()?;
    let delivery = producer
        .send(FutureRecord::to(&topic).key("k").payload("hello, kafka"), Duration::from_secs(10))
        .await
        .map_err(|(e, _)| e)?;
    assert_eq!((delivery.partition, delivery.offset), (0, 0), "the first record of a new topic is at offset 0");

    // A new group on a new topic: it reads from the first record only when told so.
    let consumer: StreamConsumer = kafka::group_config(&env, &names::unique("env-roundtrip-group"))
        .set("auto.offset.reset", "earliest")
        .create()?;
    consumer.subscribe(&[&topic])?;
    let message = tokio::time::timeout(Duration::from_secs(30), consumer.recv()).await??;
    assert_eq!(message.payload_view::<str>(), Some(Ok("hello, kafka")));
    assert_eq!(message.key(), Some(&b"k"[..]));
    Ok(())
}

#[tokio::test]
async fn the_workbook_user_reaches_mydb() -> Result<()> {
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let database: String = sqlx::query_scalar("SELECT DATABASE()").fetch_one(&pool).await?;
    assert_eq!(database, "mydb");
    let table = names::unique_table("env_check");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE TABLE {table} (id INT PRIMARY KEY)"))).execute(&pool).await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}"))).execute(&pool).await?;
    Ok(())
}

#[tokio::test]
async fn the_workbook_user_has_no_rights_outside_mydb() -> Result<()> {
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let err = sqlx::query("CREATE DATABASE not_for_workbook").execute(&pool).await.unwrap_err();
    assert!(err.to_string().contains("Access denied"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_wrong_password_is_refused_with_a_clear_error() -> Result<()> {
    let env = Env::load()?;
    let (before, after) = env.database_url.split_once('@').expect("user:password@host");
    let user = before.rsplit_once(':').expect("scheme://user:password").0;
    let wrong = format!("{user}:not-the-password@{after}");
    let started = std::time::Instant::now();
    let err = db::pool_for_url(&wrong).await.unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("Access denied") && text.contains("password"), "{text}");
    assert!(!text.contains("not-the-password"), "the password is never printed: {text}");
    assert!(started.elapsed() < Duration::from_secs(10), "refused at once, not after a timeout");
    Ok(())
}

#[tokio::test]
async fn root_cannot_log_in_over_tcp_without_a_password() -> Result<()> {
    let env = Env::load()?;
    let address = env.database_url.rsplit_once('@').expect("user:password@host").1;
    for password in ["", "root"] {
        let url = format!("mysql://root:{password}@{address}");
        let err = db::pool_for_url(&url).await.unwrap_err();
        assert!(format!("{err:#}").contains("Access denied"), "root logged in with {password:?}: {err:#}");
    }
    Ok(())
}

#[tokio::test]
async fn mydb_stores_any_unicode_text() -> Result<()> {
    let env = Env::load()?;
    let pool = db::pool(&env).await?;
    let charset: String = sqlx::query_scalar(
        "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'mydb'",
    )
    .fetch_one(&pool)
    .await?;
    assert_eq!(charset, "utf8mb4", "Korean (and emoji) need utf8mb4");
    Ok(())
}

#[tokio::test]
async fn connect_has_a_view_of_its_own_that_reaches_the_same_services() -> Result<()> {
    let env = Env::load()?;
    // Distinct on both backends the workbook starts, so a connector configured with your view
    // fails on your machine too, not only in Docker (see chapters/support/src/env.rs).
    assert_ne!(env.connect_bootstrap_servers, env.bootstrap_servers, "CONNECT_BOOTSTRAP_SERVERS is your view");
    assert_ne!(env.connect_database_url, env.database_url, "CONNECT_DATABASE_URL is your view");
    assert_ne!(env.connect_files_dir, env.files_dir.display().to_string(), "CONNECT_FILES_DIR is your view");
    assert!(env.connect_plugin_path.is_some(), "CONNECT_PLUGIN_PATH is recorded");
    if state()["backend"] != "local" {
        return Ok(()); // Connect's view is inside the Docker network: nothing here reaches it.
    }
    // Local backend: a second listener of each broker, a second MariaDB port, a second name for
    // the files directory; each reaches the same service as your view.
    let seen_by_connect = kafka::fetch_metadata(&env.connect_bootstrap_servers, None, Duration::from_secs(10)).await?;
    let seen_by_you = kafka::fetch_metadata(&env.bootstrap_servers, None, Duration::from_secs(10)).await?;
    let ids = |c: &kafka::Cluster| c.brokers.iter().map(|b| b.id).collect::<Vec<_>>();
    assert_eq!(ids(&seen_by_connect), ids(&seen_by_you));
    let pool = db::pool_for_url(&env.connect_database_url).await?;
    let database: String = sqlx::query_scalar("SELECT DATABASE()").fetch_one(&pool).await?;
    assert_eq!(database, "mydb");
    pool.close().await;
    let (files, connect_files) =
        (env.files_dir.canonicalize()?, std::path::Path::new(&env.connect_files_dir).canonicalize()?);
    assert_eq!(files, connect_files, "one directory, two names");
    Ok(())
}

/// Every connector config the Connect worker stored since this environment came up, as
/// (connector name, config): Connect keeps each `PUT /connectors/…/config` in its config topic,
/// also after the connector is deleted (as a tombstone follows), so this sees the connectors every
/// chapter test and example created and cleaned up.
fn connector_configs_since(env: &Env, since_ms: i64) -> Result<Vec<(String, BTreeMap<String, String>)>> {
    let consumer: BaseConsumer =
        kafka::group_config(env, &names::unique("connector-audit")).set("enable.auto.commit", "false").create()?;
    let (_, high) = consumer.fetch_watermarks(CONNECT_CONFIG_TOPIC, 0, Duration::from_secs(10))?;
    let mut assignment = TopicPartitionList::new();
    assignment.add_partition_offset(CONNECT_CONFIG_TOPIC, 0, Offset::Beginning)?;
    consumer.assign(&assignment)?;
    let mut configs = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut next = 0;
    while next < high {
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "{CONNECT_CONFIG_TOPIC} not read to offset {high} in 60 s"
        );
        let Some(message) = consumer.poll(Duration::from_millis(500)) else { continue };
        let message = message?;
        next = message.offset() + 1;
        let key = message.key().map(|k| String::from_utf8_lossy(k).into_owned()).unwrap_or_default();
        let (Some(name), Some(payload)) = (key.strip_prefix("connector-"), message.payload()) else { continue };
        if message.timestamp().to_millis().is_some_and(|at| at < since_ms) {
            continue;
        }
        let value: serde_json::Value = serde_json::from_slice(payload)?;
        let config: BTreeMap<String, String> = value["properties"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())))
            .collect();
        configs.push((name.to_string(), config));
    }
    Ok(configs)
}

/// Every connector created since `up` was configured with Connect's view of the services only
/// (`CONNECT_BOOTSTRAP_SERVERS`, `CONNECT_DATABASE_URL`, `CONNECT_FILES_DIR`), never with the
/// addresses your programs use. `cargo xtask ci` runs this test once more after every other test
/// and the exercise audit, so it covers every connector the whole run created.
#[test]
fn every_connector_created_since_up_used_connects_view_only() -> Result<()> {
    let env = Env::load()?;
    let since = state()["started_at_ms"].as_i64().unwrap_or(0);
    let configs = connector_configs_since(&env, since)?;
    let mut wrong = Vec::new();
    for (name, config) in &configs {
        for problem in host_view_in_connector(&env, config) {
            wrong.push(format!("{name}: {problem}"));
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "{} place(s) in the {} connector config(s) stored since up name your view of a service instead of Connect's:\n  {}",
        wrong.len(),
        configs.len(),
        wrong.join("\n  ")
    );
    Ok(())
}

/// A test the checker stopped at its deadline never ran its own cleanup; the checker removes what
/// its process made (the names carry its pid) and nothing else.
#[tokio::test]
async fn what_a_stopped_test_process_made_is_found_by_its_pid_and_removed() -> Result<()> {
    let env = Env::load()?;
    let pid = 4_000_000 + std::process::id() % 100_000; // no running process has it
    let topic = format!("leftover-{}-{pid}-0", 1_800_000_000);
    let table = format!("leftover_{}_{pid}_1", 1_800_000_000);
    let bystander = names::unique("not-a-leftover");
    let mut ours = workbook_support::cleanup::Cleanup::new(&env);
    ours.topic(&bystander);
    kafka::create_topic(&env, &topic, 1).await?;
    kafka::create_topic(&env, &bystander, 1).await?;
    let pool = db::pool(&env).await?;
    db::execute(&pool, &format!("CREATE TABLE {table} (id INT PRIMARY KEY)")).await?;

    let leftovers = workbook_support::cleanup::Cleanup::left_by_process(&env, pid).await;
    let found = leftovers.describe();
    assert_eq!(leftovers.len(), 2, "{found}");
    assert!(found.contains(&topic) && found.contains(&table) && !found.contains(&bystander), "{found}");
    leftovers.run().await;

    let cluster = kafka::fetch_metadata(&env.bootstrap_servers, None, kafka::METADATA_TIMEOUT).await?;
    assert!(!cluster.topics.iter().any(|t| t.name == topic), "the leftover topic is deleted");
    assert!(cluster.topics.iter().any(|t| t.name == bystander), "another process's topic stays");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?",
    )
    .bind(&table)
    .fetch_all(&pool)
    .await?;
    assert!(tables.is_empty(), "the leftover table is dropped: {tables:?}");
    Ok(())
}
