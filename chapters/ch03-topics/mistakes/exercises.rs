//! Chapter 3: known-wrong answers, the mistakes this chapter's exercises must catch.
//!
//! Each exercise below dispatches on the mistake the audit names (see `workbook_support::mistakes`)
//! and otherwise runs the reference solution. `cargo xtask check --audit` proves that every
//! mistake listed in `exercises.toml` fails its test with a message that names it.

#[path = "../solutions/exercises.rs"]
mod solution;

use anyhow::{Context, Result, bail};
use ch03_topics::Admin;
use rdkafka::admin::{AdminOptions, NewPartitions, NewTopic, TopicReplication};
use workbook_support::{Env, mistakes};

pub async fn create_topic_idempotently(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<()> {
    match mistakes::chosen().as_deref() {
        None => {
            solution::create_topic_idempotently(admin, topic, partitions, replication_factor).await
        }
        Some("already_exists_is_an_error") => {
            already_exists_is_an_error(admin, topic, partitions, replication_factor).await
        }
        Some("only_checks_the_request") => {
            only_checks_the_request(admin, topic, partitions, replication_factor).await
        }
        Some(other) => mistakes::unknown("create_topic_idempotently", other),
    }
}

/// Mistake: calls the chapter's `create_topic` as it is. Every per-topic error fails the call,
/// TOPIC_ALREADY_EXISTS too, so the second call fails although the topic is there as wanted.
async fn already_exists_is_an_error(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<()> {
    ch03_topics::create_topic(admin, topic, partitions, replication_factor, &[]).await
}

/// Mistake: `create_topics(…).await?` and done. That only fails when the request fails (no
/// broker, a timeout); the broker's refusal of this topic sits unread in the per-topic result.
async fn only_checks_the_request(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<()> {
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication_factor));
    admin
        .create_topics([&new_topic], &AdminOptions::new())
        .await
        .context("sending CreateTopics")?;
    Ok(())
}

pub async fn ensure_partitions(admin: &Admin, env: &Env, topic: &str, wanted: i32) -> Result<i32> {
    match mistakes::chosen().as_deref() {
        None => solution::ensure_partitions(admin, env, topic, wanted).await,
        Some("asks_even_when_big_enough") => {
            asks_even_when_big_enough(admin, env, topic, wanted).await
        }
        Some("returns_wanted") => returns_wanted(admin, env, topic, wanted).await,
        Some("ignores_the_per_topic_result") => {
            ignores_the_per_topic_result(admin, env, topic, wanted).await
        }
        Some(other) => mistakes::unknown("ensure_partitions", other),
    }
}

async fn partition_count(env: &Env, topic: &str) -> Result<i32> {
    let cluster = ch03_topics::metadata(env, Some(topic)).await?;
    Ok(cluster.topics.iter().find(|t| t.name == topic).map_or(0, |t| t.partitions.len() as i32))
}

async fn wait_for_partitions(env: &Env, topic: &str, wanted: i32) -> Result<()> {
    ch03_topics::wait_for_topic(env, topic, "the new partitions appear", |t| {
        t.is_some_and(|t| ch03_topics::has_leaders(t, wanted as usize))
    })
    .await
}

/// Mistake: asks for `wanted` partitions without looking first. CreatePartitions takes the new
/// total, and the broker refuses a total that is not an increase (INVALID_PARTITIONS): the call
/// fails for a topic that already has enough, and for one that has more (it would mean shrinking).
async fn asks_even_when_big_enough(
    admin: &Admin,
    env: &Env,
    topic: &str,
    wanted: i32,
) -> Result<i32> {
    ch03_topics::add_partitions(admin, topic, wanted as usize).await?;
    wait_for_partitions(env, topic, wanted).await?;
    Ok(wanted)
}

/// Mistake: looks first and never shrinks, but returns `wanted` instead of the count the topic
/// really has: a topic with 4 partitions "has 3" after ensure_partitions(3).
async fn returns_wanted(admin: &Admin, env: &Env, topic: &str, wanted: i32) -> Result<i32> {
    let current = partition_count(env, topic).await?;
    if current == 0 {
        bail!("topic {topic} does not exist");
    }
    if current < wanted {
        ch03_topics::add_partitions(admin, topic, wanted as usize).await?;
        wait_for_partitions(env, topic, wanted).await?;
    }
    Ok(wanted)
}

/// Mistake: does not treat "not in the metadata" as special and never reads CreatePartitions'
/// per-topic result, so growing a topic that does not exist "succeeds".
async fn ignores_the_per_topic_result(
    admin: &Admin,
    env: &Env,
    topic: &str,
    wanted: i32,
) -> Result<i32> {
    let current = partition_count(env, topic).await?;
    if current >= wanted {
        return Ok(current);
    }
    let request = NewPartitions::new(topic, wanted as usize);
    admin
        .create_partitions([&request], &AdminOptions::new())
        .await
        .context("sending CreatePartitions")?;
    Ok(wanted)
}

pub async fn delete_topics_and_wait(
    admin: &Admin,
    env: &Env,
    topics: &[&str],
) -> Result<Vec<String>> {
    match mistakes::chosen().as_deref() {
        None => solution::delete_topics_and_wait(admin, env, topics).await,
        Some("missing_is_an_error") => missing_is_an_error(admin, env, topics).await,
        Some("ignores_the_results") => ignores_the_results(admin, env, topics).await,
        Some(other) => mistakes::unknown("delete_topics_and_wait", other),
    }
}

async fn wait_until_gone(env: &Env, topics: &[&str]) -> Result<()> {
    for topic in topics {
        ch03_topics::wait_for_topic(env, topic, "the deleted topic disappears", |t| t.is_none())
            .await?;
    }
    Ok(())
}

/// Mistake: deletes one topic at a time with the chapter's `delete_topic`, which fails on every
/// per-topic error: a topic that is already gone stops everything with UNKNOWN_TOPIC_OR_PARTITION.
async fn missing_is_an_error(admin: &Admin, env: &Env, topics: &[&str]) -> Result<Vec<String>> {
    for topic in topics {
        ch03_topics::delete_topic(admin, topic).await?;
    }
    wait_until_gone(env, topics).await?;
    Ok(Vec::new())
}

/// Mistake: sends the request, waits, and never reads the per-topic results: it cannot tell the
/// caller which topics were not there (nor notice a real failure).
async fn ignores_the_results(admin: &Admin, env: &Env, topics: &[&str]) -> Result<Vec<String>> {
    admin.delete_topics(topics, &AdminOptions::new()).await.context("sending DeleteTopics")?;
    wait_until_gone(env, topics).await?;
    Ok(Vec::new())
}
