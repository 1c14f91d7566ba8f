//! Chapter 3 exercises: the reference solutions.

use anyhow::{Context, Result, bail};
use rdkafka::admin::{AdminOptions, NewPartitions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use workbook_support::Env;

use ch03_topics::Admin;

// ANCHOR: create_topic_idempotently
pub async fn create_topic_idempotently(
    admin: &Admin,
    topic: &str,
    partitions: i32,
    replication_factor: i32,
) -> Result<()> {
    let new_topic = NewTopic::new(topic, partitions, TopicReplication::Fixed(replication_factor));
    let results = admin
        .create_topics([&new_topic], &AdminOptions::new())
        .await
        .context("sending CreateTopics")?;
    // The request as a whole succeeded; the verdict for our topic is inside.
    match results.into_iter().next() {
        Some(Ok(_)) | Some(Err((_, RDKafkaErrorCode::TopicAlreadyExists))) => Ok(()),
        Some(Err((name, code))) => bail!("creating topic {name} failed: {code}"),
        None => bail!("no result for topic {topic}"),
    }
}
// ANCHOR_END: create_topic_idempotently

// ANCHOR: ensure_partitions
pub async fn ensure_partitions(admin: &Admin, env: &Env, topic: &str, wanted: i32) -> Result<i32> {
    let cluster = ch03_topics::metadata(env, Some(topic)).await?;
    let current =
        cluster.topics.iter().find(|t| t.name == topic).map_or(0, |t| t.partitions.len() as i32);
    if current == 0 {
        bail!("topic {topic} does not exist");
    }
    // Asking for the count it already has, or fewer, is an error (INVALID_PARTITIONS): only grow.
    if current >= wanted {
        return Ok(current);
    }
    let request = NewPartitions::new(topic, wanted as usize);
    let results = admin
        .create_partitions([&request], &AdminOptions::new())
        .await
        .context("sending CreatePartitions")?;
    if let Some(Err((name, code))) = results.into_iter().next() {
        bail!("growing {name} to {wanted} partitions failed: {code}");
    }
    // Accepted by the controller; wait until the brokers' metadata shows the new partitions.
    ch03_topics::wait_for_topic(env, topic, "the new partitions appear", |t| {
        t.is_some_and(|t| ch03_topics::has_leaders(t, wanted as usize))
    })
    .await?;
    Ok(wanted)
}
// ANCHOR_END: ensure_partitions

// ANCHOR: delete_topics_and_wait
pub async fn delete_topics_and_wait(
    admin: &Admin,
    env: &Env,
    topics: &[&str],
) -> Result<Vec<String>> {
    let results =
        admin.delete_topics(topics, &AdminOptions::new()).await.context("sending DeleteTopics")?;
    // One request, one verdict per topic (in the order asked): tell them apart instead of
    // stopping at the first error. UNKNOWN_TOPIC_OR_PARTITION: there was no such topic to delete.
    let mut missing = Vec::new();
    for result in results {
        match result {
            Ok(_) => {}
            Err((name, RDKafkaErrorCode::UnknownTopicOrPartition)) => missing.push(name),
            Err((name, code)) => bail!("deleting {name} failed: {code}"),
        }
    }
    // Accepted by the controller; wait until the metadata no longer lists any of them.
    for topic in topics {
        ch03_topics::wait_for_topic(
            env,
            topic,
            "the deleted topic disappears from the metadata",
            |t| t.is_none(),
        )
        .await?;
    }
    Ok(missing)
}
// ANCHOR_END: delete_topics_and_wait
