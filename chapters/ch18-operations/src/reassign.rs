//! Moving partition replicas to other brokers (partition reassignment, KIP-455).

use anyhow::{Result, anyhow};
use rdkafka::admin::{AdminOptions, NewTopic, TopicReplication};
use workbook_support::kafka::{ADMIN_TIMEOUT, Partition};

use crate::configs::Admin;

// ANCHOR: pinned_topic
/// Creates `topic` with each partition's replicas on the brokers listed, the first one being
/// its preferred leader: `&[&[1, 2], &[2, 1]]` is two partitions, both on brokers 1 and 2.
pub async fn create_pinned_topic(admin: &Admin, topic: &str, replicas: &[&[i32]]) -> Result<()> {
    let new_topic =
        NewTopic::new(topic, replicas.len() as i32, TopicReplication::Variable(replicas));
    let options = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
    for result in admin.create_topics(&[new_topic], &options).await? {
        result.map_err(|(name, code)| anyhow!("creating {name}: {code}"))?;
    }
    Ok(())
}
// ANCHOR_END: pinned_topic

// ANCHOR: plan
/// The JSON `kafka-reassign-partitions --execute` reads: for each partition, its new replica
/// list (the first broker is the new preferred leader).
pub fn reassignment_json(topic: &str, moves: &[(i32, &[i32])]) -> String {
    let partitions: Vec<serde_json::Value> = moves
        .iter()
        .map(|(partition, replicas)| {
            serde_json::json!({"topic": topic, "partition": partition, "replicas": replicas})
        })
        .collect();
    serde_json::json!({"version": 1, "partitions": partitions}).to_string()
}
// ANCHOR_END: plan

/// `p0 leader 1 replicas [1, 2] isr [1, 2]`, one line per partition.
pub fn describe(partitions: &[Partition]) -> Vec<String> {
    partitions
        .iter()
        .map(|p| {
            format!(
                "partition {}: leader {} replicas {:?} isr {:?}",
                p.id, p.leader, p.replicas, p.isr
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_is_the_json_the_tool_reads() {
        let json = reassignment_json("t", &[(0, &[3, 2])]);
        assert_eq!(
            json,
            r#"{"partitions":[{"partition":0,"replicas":[3,2],"topic":"t"}],"version":1}"#
        );
    }
}
