//! Chapter 16 exercises. Check them with `cargo xtask check ch16`.
#![allow(unused_variables)]

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use rdkafka::consumer::StreamConsumer;
use serde_json::Value;
use workbook_support::Env;

// ANCHOR: latest_state
/// Rebuilds a service's state from the compacted topic `topic`: returns every key that exists
/// now, with its latest value.
///
/// - Keys and values are UTF-8 text. A record without a value is a tombstone: its key was
///   deleted (and may be written again later). A record whose value is the empty string is not a
///   tombstone: that key exists, with an empty value.
/// - Read every partition of `topic` from its first record up to its high watermark as it is
///   when you are called; records written after that may be left out. A partition may be empty.
/// - `consumer` has a `group.id` and auto-commit off: use it without changing the group's
///   offsets. Its fetches may be slow: a poll that returns nothing is not the end of a partition.
/// - Give up with an error if a record you expect does not arrive within 15 seconds.
pub async fn latest_state(
    consumer: &StreamConsumer,
    topic: &str,
) -> Result<BTreeMap<String, String>> {
    todo!("read each partition up to where it ends now, and keep what each key says last")
}
// ANCHOR_END: latest_state

// ANCHOR: changelog_config
/// The topic configs, as (name, value) pairs, of a changelog topic: a table kept as a stream, from
/// which a new service rebuilds its state at any time (as `latest_state` does).
///
/// - The latest value of every key stays as long as the topic exists, however old it is.
/// - A deleted key (its tombstone) eventually disappears from the topic altogether.
/// - A service that was down for up to `max_downtime`, and then continues from its committed
///   offset, still learns of every key deleted meanwhile.
/// - The test runs on this workbook's broker and cannot wait for days: a new segment starts at the
///   first write 1 s or more after the current one began, the broker cleans a partition as soon as
///   1% of it is dirty, and a record may be compacted as soon as it is in a closed segment.
pub fn changelog_config(max_downtime: Duration) -> Vec<(String, String)> {
    todo!("choose the cleanup policy, and how long the broker must keep a tombstone")
}
// ANCHOR_END: changelog_config

// ANCHOR: flat_changelog_source
/// The Debezium MariaDB source config (a JSON object) that captures `mydb.<table>` (a users table:
/// `id`, `name`, `email`) into `<prefix>.mydb.<table>` as a changelog a service reads as rows:
///
/// - every record's value is the row itself, flat (`{"id": 1, "name": …, "email": …}` inside the
///   JsonConverter's `{"schema": …, "payload": …}`), not Debezium's before/after envelope;
/// - a DELETE leaves a tombstone on the topic: the row's key with no value at all, so that
///   compaction can forget the row (whatever else comes before it for that row);
/// - Connect creates the topic compacted.
///
/// Chapter 9's `ch09_source::source_config` is a good start.
pub fn flat_changelog_source(env: &Env, prefix: &str, table: &str) -> Result<Value> {
    todo!("flatten the rows, and make sure a delete still ends as a real tombstone")
}
// ANCHOR_END: flat_changelog_source
