//! When a Debezium source really captures: RUNNING is not enough (see [`wait_capturing`]).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};

use super::{ConnectClient, failed_trace, root_cause};
use crate::{Env, db, kafka, names};

// ANCHOR: wait_capturing
/// The text every marker row of [`wait_capturing`] carries: readers of a change topic skip the
/// records that contain it (put it in a column that reaches the topic, e.g. a name, and give
/// markers ids real rows never have, e.g. negative ones).
pub const MARKER: &str = "capture-marker";

/// The text of marker `n`: `capture-marker-<n>`.
pub fn marker(n: u32) -> String {
    format!("{MARKER}-{n}")
}

/// Waits until the Debezium source connector `connector` really captures: until a change of its
/// table arrives on `topic`. Returns how many marker rows it wrote (numbered 1..=n).
///
/// **Why RUNNING is not enough.** Connect calls a task RUNNING as soon as it has started. A
/// Debezium source then *begins* its snapshot: it locks, notes the binlog position, copies the rows
/// that exist (op `r`), and only after that streams the binlog from the noted position. A row
/// written before the position is noted arrives as a snapshot read (`r`, not `c`), and a row
/// inserted, updated and deleted before it leaves no event at all. On an idle laptop that window is
/// a second; under load it is many, so "write right after RUNNING" passes at home and fails in CI.
///
/// So this writes a marker row (`marker_sql(n)`, n = 1, 2, …, one each second, through
/// `DATABASE_URL`) until the change event of one of them (any op, `r` or `c`) arrives on `topic`.
/// Once the connector has emitted a record, its snapshot position is fixed: every commit from then
/// on is streamed as a change. A marker row must contain [`marker(n)`](marker) in a column that
/// reaches the topic; its record is recognised by [`MARKER`] in its key or value. Readers of the
/// topic see the markers too and skip them ([`is_marker`]). A connector that captures several
/// tables needs markers in one of them only: they share one snapshot.
///
/// A FAILED connector or task ends the wait at once with its trace; no marker within `timeout` is
/// an error that says how many markers were written and how many records of `topic` were read.
pub async fn wait_capturing(
    env: &Env,
    connector: &str,
    topic: &str,
    timeout: Duration,
    marker_sql: impl Fn(u32) -> String,
) -> Result<u32> {
    println!(
        "waiting for {connector} to capture: a marker row each second until one arrives on {topic}"
    );
    let client = ConnectClient::new(env)?;
    let pool = db::pool(env).await?;
    let consumer = topic_reader(env, topic)?;
    let deadline = Instant::now() + timeout;
    let (mut written, mut read, mut next_marker) = (0, 0, Instant::now());
    let mut last_error = None;
    let found = loop {
        let now = Instant::now();
        if now >= deadline {
            break false;
        }
        if now >= next_marker {
            match client.status(connector).await {
                Ok(status) => {
                    if let Some(trace) = failed_trace(&status) {
                        bail!("{connector} FAILED: {}\n{trace}", root_cause(&trace));
                    }
                }
                // The worker may be slow to answer under load: keep writing markers, report it at
                // the deadline.
                Err(e) => last_error = Some(e),
            }
            written += 1;
            db::execute(&pool, &marker_sql(written))
                .await
                .with_context(|| format!("writing marker row {written}"))?;
            next_marker = now + Duration::from_secs(1);
        }
        // The topic appears only with the connector's first record: until then there is nothing to
        // read.
        let record = kafka::recv_before(&consumer, next_marker.min(deadline)).await;
        if let Some(record) = record.with_context(|| format!("reading {topic}"))? {
            read += 1;
            if is_marker(record.key(), record.payload()) {
                break true;
            }
        } // else: time for the next marker
    };
    pool.close().await;
    if !found {
        let last = last_error.map(|e| format!(" (last status error: {e:#})")).unwrap_or_default();
        bail!(
            "{connector} not capturing: none of {written} marker rows arrived on {topic} within {} \
             s ({read} records of that topic read){last}",
            timeout.as_secs()
        );
    }
    Ok(written)
}
// ANCHOR_END: wait_capturing

/// Whether a record is a marker of [`wait_capturing`]: its key or value (the bytes on the topic)
/// carries [`MARKER`]. Readers of a change topic skip these.
pub fn is_marker(key: Option<&[u8]>, value: Option<&[u8]>) -> bool {
    let carries = |bytes: Option<&[u8]>| {
        bytes.is_some_and(|b| b.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()))
    };
    carries(key) || carries(value)
}

/// A reader of `topic` from its first record, in a group of its own that never commits.
fn topic_reader(env: &Env, topic: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::group_config(env, &names::unique("capture-ready"))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        // the topic appears with the connector's first record
        .set("topic.metadata.refresh.interval.ms", "500")
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_recognised_in_key_or_value_bytes() {
        let value = format!(r#"{{"schema":{{}},"payload":{{"id":-3,"name":"{}"}}}}"#, marker(3));
        assert!(is_marker(Some(br#"{"id":-3}"#), Some(value.as_bytes())));
        assert!(!is_marker(Some(br#"{"id":3}"#), Some(br#"{"id":3,"name":"ann"}"#)));
        assert!(!is_marker(Some(br#"{"id":-3}"#), None), "a tombstone carries only the key");
    }
}
