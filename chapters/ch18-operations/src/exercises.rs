//! Chapter 18 exercises. Check them with `cargo xtask check ch18`.
#![allow(unused_variables)]

use std::time::Duration;

use anyhow::Result;
use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use workbook_support::Env;

// ANCHOR: time_lag
/// How far behind in *time* the consumer group `group` is on each partition of `topic`: for
/// each partition (index = partition number), how long ago the oldest record the group has not
/// processed yet was written (now minus that record's timestamp).
///
/// - The group belongs to a running service, and your function is its monitoring: it must not
///   join the group (the service would be rebalanced) and must not change the group's committed
///   offsets, whether the service is running or stopped.
/// - A partition where the group has committed nothing: the group would start at the partition's
///   first stored record, so that record is the oldest one waiting.
/// - A partition where nothing is waiting (the group is at the end, or the partition is empty):
///   `Duration::ZERO`, without waiting for a record.
/// - Give up with an error if a record you expect does not arrive within 15 seconds.
pub async fn time_lag(env: &Env, group: &str, topic: &str) -> Result<Vec<Duration>> {
    todo!("find each partition's oldest waiting record and its age, without joining the group")
}
// ANCHOR_END: time_lag

// ANCHOR: set_retention
/// Sets `topic`'s retention (`retention.ms`) to `retention`, on the running topic, and keeps
/// every other setting made on this topic exactly as it was. Settings the topic takes from the
/// broker or from Kafka's defaults must stay that way (not become settings of the topic).
pub async fn set_retention(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    retention: Duration,
) -> Result<()> {
    todo!("change retention.ms without losing the topic's other settings")
}
// ANCHOR_END: set_retention
