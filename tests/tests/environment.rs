//! The environment contract, end to end, against the environment `cargo xtask up` started:
//! every chapter relies on exactly these guarantees.

use std::time::Duration;

use anyhow::Result;
use rdkafka::Message;
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use workbook_support::connect::ConnectClient;
use workbook_support::{Env, db, kafka, names};
use workbook_tests::{run, xtask};

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

    let consumer: StreamConsumer = kafka::consumer_config(&env, &names::unique("env-roundtrip-group")).create()?;
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
async fn connect_lists_the_source_sink_and_filestream_plugins() -> Result<()> {
    let env = Env::load()?;
    let plugins = ConnectClient::new(&env)?.plugins().await?;
    let classes: Vec<&str> = plugins.iter().map(|p| p.class.as_str()).collect();
    for expected in [
        "io.debezium.connector.mariadb.MariaDbConnector",
        "io.debezium.connector.jdbc.JdbcSinkConnector",
        "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
    ] {
        assert!(classes.contains(&expected), "{expected} missing from {classes:?}");
    }
    Ok(())
}

#[test]
fn status_reports_every_component_healthy() {
    let (ok, output) = run(xtask(&["status"]));
    assert!(ok, "{output}");
    for component in ["kafka-1", "connect", "mariadb"] {
        let row = output
            .lines()
            .find(|l| l.starts_with(component))
            .unwrap_or_else(|| panic!("no {component} row:\n{output}"));
        assert!(row.contains(" yes "), "{component} is not healthy: {row}");
    }
    assert!(output.contains("controller 1"), "{output}");
}

#[test]
fn up_while_up_starts_nothing_twice() {
    let (ok, output) = run(xtask(&["up"]));
    assert!(ok, "{output}");
    assert!(output.contains("already up"), "{output}");
}

#[test]
fn the_kafka_cli_tools_run_against_the_environment() {
    let (ok, output) = run(xtask(&["cli", "kafka-metadata-quorum", "describe", "--status"]));
    assert!(ok, "{output}");
    assert!(output.contains("LeaderId:"), "{output}");
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
