//! When a sink connector really reads: its consumer group holds the topic's partitions.

use std::time::Duration;

use anyhow::{Context, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};

use super::{ConnectClient, failed_trace, root_cause};
use crate::{Env, kafka};

// ANCHOR: wait_sink_assigned
/// Waits until sink connector `connector` runs and its consumer group (`connect-<connector>`) has a
/// member that was assigned a partition of `topic`; returns how many partitions of it are assigned.
///
/// A sink task is RUNNING before its consumer has joined the group and been given partitions.
/// Records produced earlier are not lost (a new sink group starts at the earliest offset), but
/// whatever measures the time from a write to its row, or expects the sink to be reading *now*,
/// must wait for the assignment, not for RUNNING. A FAILED connector or task ends the wait at once
/// with its trace.
pub async fn wait_sink_assigned(
    env: &Env,
    connector: &str,
    topic: &str,
    timeout: Duration,
) -> Result<usize> {
    println!("waiting for sink {connector} to be assigned {topic}");
    let client = ConnectClient::new(env)?;
    let group = format!("connect-{connector}");
    let what = format!("{group} assigned a partition of {topic}");
    crate::wait::until(&what, timeout, Duration::from_millis(250), || async {
        if let Some(trace) = failed_trace(&client.status(connector).await?) {
            return Err(crate::wait::fatal(format!(
                "{connector} FAILED: {}\n{trace}",
                root_cause(&trace)
            )));
        }
        let (env, group, topic) = (env.clone(), group.clone(), topic.to_string());
        let assigned =
            tokio::task::spawn_blocking(move || assigned_partitions(&env, &group, &topic))
                .await??;
        Ok((assigned > 0).then_some(assigned))
    })
    .await
}
// ANCHOR_END: wait_sink_assigned

/// How many partitions of `topic` the members of `group` hold, as the group coordinator describes
/// them (classic protocol: each member's assignment is the consumer protocol's `Assignment`
/// struct).
fn assigned_partitions(env: &Env, group: &str, topic: &str) -> Result<usize> {
    let client: BaseConsumer =
        kafka::client_config(env).create().context("creating a Kafka client")?;
    let groups = client
        .fetch_group_list(Some(group), kafka::METADATA_TIMEOUT)
        .context("describing the group")?;
    let Some(info) = groups.groups().iter().find(|g| g.name() == group) else { return Ok(0) };
    if info.state() != "Stable" {
        return Ok(0); // joining or rebalancing: assignments are not final
    }
    let members = info.members().iter().filter_map(|m| m.assignment());
    Ok(members.map(|bytes| partitions_in_assignment(bytes, topic).unwrap_or(0)).sum())
}

/// Parses a consumer protocol `Assignment` (version: i16, [topic: string, [partition: i32]],
/// user_data) and counts the partitions of `topic` in it; `None` when the bytes are not such a
/// struct.
fn partitions_in_assignment(bytes: &[u8], topic: &str) -> Option<usize> {
    let mut at = 0;
    let mut take = |n: usize| {
        let slice = bytes.get(at..at + n)?;
        at += n;
        Some(slice)
    };
    take(2)?; // the version
    let topics = i32::from_be_bytes(take(4)?.try_into().ok()?);
    let mut count = 0;
    for _ in 0..topics.max(0) {
        let length = i16::from_be_bytes(take(2)?.try_into().ok()?);
        let name = take(length.max(0) as usize)?;
        let partitions = i32::from_be_bytes(take(4)?.try_into().ok()?).max(0) as usize;
        take(4 * partitions)?;
        if name == topic.as_bytes() {
            count += partitions;
        }
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_assignment_is_parsed_per_topic() {
        // version 0, two topics: "t" with partitions 0 and 2, "other" with 1; then empty user data.
        let mut bytes = vec![0, 0, 0, 0, 0, 2];
        bytes.extend([0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2]);
        bytes.extend([0, 5, b'o', b't', b'h', b'e', b'r', 0, 0, 0, 1, 0, 0, 0, 1]);
        bytes.extend([0xff, 0xff, 0xff, 0xff]);
        assert_eq!(partitions_in_assignment(&bytes, "t"), Some(2));
        assert_eq!(partitions_in_assignment(&bytes, "other"), Some(1));
        assert_eq!(partitions_in_assignment(&bytes, "none"), Some(0));
        assert_eq!(partitions_in_assignment(&bytes[..9], "t"), None, "cut short");
    }
}
