//! A small client for the Kafka Connect REST API.
//!
//! Connect is configured entirely over HTTP: every call here is one documented endpoint,
//! so the chapters can show the `curl` equivalent next to the Rust.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::{Env, db, kafka, names};

/// Every REST call gives up after this long.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A connector plugin installed on the worker (`GET /connector-plugins`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Plugin {
    pub class: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub version: String,
}

/// The Connect REST API of one worker.
#[derive(Debug, Clone)]
pub struct ConnectClient {
    base: String,
    http: reqwest::Client,
}

impl ConnectClient {
    pub fn new(env: &Env) -> Result<ConnectClient> {
        ConnectClient::for_url(&env.connect_url)
    }

    pub fn for_url(url: &str) -> Result<ConnectClient> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(3))
            .build()
            .context("building an HTTP client")?;
        Ok(ConnectClient { base: url.trim_end_matches('/').to_string(), http })
    }

    pub fn url(&self) -> &str {
        &self.base
    }

    /// `GET /connector-plugins`
    pub async fn plugins(&self) -> Result<Vec<Plugin>> {
        let value = self.call(Method::GET, "/connector-plugins", None).await?;
        serde_json::from_value(value).context("reading the plugin list")
    }

    /// `GET /connectors`
    pub async fn connectors(&self) -> Result<Vec<String>> {
        let value = self.call(Method::GET, "/connectors", None).await?;
        serde_json::from_value(value).context("reading the connector list")
    }

    /// `PUT /connectors/{name}/config`: creates the connector, or updates it (idempotent).
    pub async fn put_connector(&self, name: &str, config: &Value) -> Result<Value> {
        self.call(Method::PUT, &format!("/connectors/{name}/config"), Some(config)).await
    }

    /// `GET /connectors/{name}/status`: the connector's and each task's state (and a failed task's trace).
    pub async fn status(&self, name: &str) -> Result<Value> {
        self.call(Method::GET, &format!("/connectors/{name}/status"), None).await
    }

    /// `PUT /connector-plugins/{class}/config/validate`: what is wrong with a config, without creating anything.
    pub async fn validate(&self, class: &str, config: &Value) -> Result<Value> {
        self.call(Method::PUT, &format!("/connector-plugins/{class}/config/validate"), Some(config)).await
    }

    /// `PUT /connectors/{name}/pause`
    pub async fn pause(&self, name: &str) -> Result<()> {
        self.call(Method::PUT, &format!("/connectors/{name}/pause"), None).await.map(drop)
    }

    /// `PUT /connectors/{name}/resume`
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.call(Method::PUT, &format!("/connectors/{name}/resume"), None).await.map(drop)
    }

    /// `POST /connectors/{name}/restart?includeTasks=true`
    pub async fn restart(&self, name: &str) -> Result<()> {
        self.call(Method::POST, &format!("/connectors/{name}/restart?includeTasks=true"), None).await.map(drop)
    }

    /// `DELETE /connectors/{name}`
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.call(Method::DELETE, &format!("/connectors/{name}"), None).await.map(drop)
    }

    /// One REST call. A non-2xx answer becomes an error carrying Connect's own message.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| {
            format!("no answer from Kafka Connect at {url}. Is the environment up? Try `cargo xtask status`")
        })?;
        let status = response.status();
        let text = response.text().await.with_context(|| format!("reading the answer of {method} {url}"))?;
        if !status.is_success() {
            bail!("{method} {path} failed with {status}: {}", error_message(&text));
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).with_context(|| format!("{method} {path} answered with invalid JSON: {text}"))
    }
}

// ANCHOR: wait_running
/// Polls `GET /connectors/{name}/status` until the connector and its task run; a FAILED one ends the wait
/// with its trace (a wrong password fails in seconds, it does not hang).
pub async fn wait_running(client: &ConnectClient, name: &str, timeout: Duration) -> Result<Value> {
    crate::wait::until(&format!("connector {name} RUNNING"), timeout, Duration::from_millis(250), || async {
        let status = client.status(name).await?;
        let states = std::iter::once(&status["connector"]).chain(status["tasks"].as_array().into_iter().flatten());
        for state in states {
            if state["state"] == "FAILED" {
                let trace = state["trace"].as_str().unwrap_or("(no trace)");
                return Err(crate::wait::fatal(format!(
                    "{name} FAILED: {}",
                    trace.lines().take(3).collect::<Vec<_>>().join(" | ")
                )));
            }
        }
        let tasks = status["tasks"].as_array().map_or(0, Vec::len);
        let running = status["connector"]["state"] == "RUNNING"
            && tasks > 0
            && status["tasks"].as_array().into_iter().flatten().all(|t| t["state"] == "RUNNING");
        Ok(running.then_some(status))
    })
    .await
}
// ANCHOR_END: wait_running

// ANCHOR: wait_capturing
/// The text every marker row of [`wait_capturing`] carries: readers of a change topic skip the records that
/// contain it (put it in a column that reaches the topic, e.g. a name, and give markers ids real rows never
/// have, e.g. negative ones).
pub const MARKER: &str = "capture-marker";

/// The text of marker `n`: `capture-marker-<n>`.
pub fn marker(n: u32) -> String {
    format!("{MARKER}-{n}")
}

/// Waits until the Debezium source connector `connector` really captures: until a change of its table arrives
/// on `topic`. Returns how many marker rows it wrote (numbered 1..=n).
///
/// **Why RUNNING is not enough.** Connect calls a task RUNNING as soon as it has started. A Debezium source
/// then *begins* its snapshot: it locks, notes the binlog position, copies the rows that exist (op `r`), and
/// only after that streams the binlog from the noted position. A row written before the position is noted
/// arrives as a snapshot read (`r`, not `c`), and a row inserted, updated and deleted before it leaves no event
/// at all. On an idle laptop that window is a second; under load it is many, so "write right after RUNNING"
/// passes at home and fails in CI.
///
/// So this writes a marker row (`marker_sql(n)`, n = 1, 2, …, one each second, through `DATABASE_URL`) until
/// the change event of one of them (any op, `r` or `c`) arrives on `topic`. Once the connector has emitted a
/// record, its snapshot position is fixed: every commit from then on is streamed as a change. A marker row
/// must contain [`marker(n)`](marker) in a column that reaches the topic; its record is recognised by
/// [`MARKER`] in its key or value. Readers of the topic see the markers too and skip them ([`is_marker`]).
/// A connector that captures several tables needs markers in one of them only: they share one snapshot.
///
/// A FAILED connector or task ends the wait at once with its trace; no marker within `timeout` is an error
/// that says how many markers were written and how many records of `topic` were read.
pub async fn wait_capturing(
    env: &Env,
    connector: &str,
    topic: &str,
    timeout: Duration,
    marker_sql: impl Fn(u32) -> String,
) -> Result<u32> {
    println!("waiting for {connector} to capture: a marker row each second until one arrives on {topic}");
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
                        bail!("{connector} FAILED: {}\n{trace}", summary(&trace));
                    }
                }
                // The worker may be slow to answer under load: keep writing markers, report it at the deadline.
                Err(e) => last_error = Some(e),
            }
            written += 1;
            let sql = marker_sql(written);
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.clone()))
                .execute(&pool)
                .await
                .with_context(|| format!("writing marker row {written}: {sql}"))?;
            next_marker = now + Duration::from_secs(1);
        }
        let wait = next_marker.min(deadline).saturating_duration_since(Instant::now());
        match tokio::time::timeout(wait, consumer.recv()).await {
            Ok(Ok(record)) => {
                read += 1;
                if is_marker(record.key(), record.payload()) {
                    break true;
                }
            }
            // The topic appears only with the connector's first record; until then the consumer says so.
            Ok(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::UnknownTopicOrPartition | RDKafkaErrorCode::UnknownTopic,
            ))) => {}
            Ok(Err(e)) => return Err(e).with_context(|| format!("reading {topic}")),
            Err(_) => {} // time for the next marker
        }
    };
    pool.close().await;
    if !found {
        let last = last_error.map(|e| format!(" (last status error: {e:#})")).unwrap_or_default();
        bail!(
            "{connector} not capturing: none of {written} marker rows arrived on {topic} within {} s \
             ({read} records of that topic read){last}",
            timeout.as_secs()
        );
    }
    Ok(written)
}
// ANCHOR_END: wait_capturing

/// Whether a record is a marker of [`wait_capturing`]: its key or value (the bytes on the topic) carries
/// [`MARKER`]. Readers of a change topic skip these.
pub fn is_marker(key: Option<&[u8]>, value: Option<&[u8]>) -> bool {
    let carries = |bytes: Option<&[u8]>| bytes.is_some_and(|b| b.windows(MARKER.len()).any(|w| w == MARKER.as_bytes()));
    carries(key) || carries(value)
}

// ANCHOR: wait_sink_assigned
/// Waits until sink connector `connector` runs and its consumer group (`connect-<connector>`) has a member that
/// was assigned a partition of `topic`; returns how many partitions of it are assigned.
///
/// A sink task is RUNNING before its consumer has joined the group and been given partitions. Records produced
/// earlier are not lost (a new sink group starts at the earliest offset), but whatever measures the time from a
/// write to its row, or expects the sink to be reading *now*, must wait for the assignment, not for RUNNING.
/// A FAILED connector or task ends the wait at once with its trace.
pub async fn wait_sink_assigned(env: &Env, connector: &str, topic: &str, timeout: Duration) -> Result<usize> {
    println!("waiting for sink {connector} to be assigned {topic}");
    let client = ConnectClient::new(env)?;
    let group = format!("connect-{connector}");
    let what = format!("{group} assigned a partition of {topic}");
    crate::wait::until(&what, timeout, Duration::from_millis(250), || async {
        if let Some(trace) = failed_trace(&client.status(connector).await?) {
            return Err(crate::wait::fatal(format!("{connector} FAILED: {}\n{trace}", summary(&trace))));
        }
        let (env, group, topic) = (env.clone(), group.clone(), topic.to_string());
        let assigned = tokio::task::spawn_blocking(move || assigned_partitions(&env, &group, &topic)).await??;
        Ok((assigned > 0).then_some(assigned))
    })
    .await
}
// ANCHOR_END: wait_sink_assigned

/// How many partitions of `topic` the members of `group` hold, as the group coordinator describes them
/// (classic protocol: each member's assignment is the consumer protocol's `Assignment` struct).
fn assigned_partitions(env: &Env, group: &str, topic: &str) -> Result<usize> {
    use rdkafka::consumer::BaseConsumer;
    let client: BaseConsumer = kafka::client_config(env).create().context("creating a Kafka client")?;
    let groups = client.fetch_group_list(Some(group), kafka::METADATA_TIMEOUT).context("describing the group")?;
    let Some(info) = groups.groups().iter().find(|g| g.name() == group) else { return Ok(0) };
    if info.state() != "Stable" {
        return Ok(0); // joining or rebalancing: assignments are not final
    }
    let members = info.members().iter().filter_map(|m| m.assignment());
    Ok(members.map(|bytes| partitions_in_assignment(bytes, topic).unwrap_or(0)).sum())
}

/// Parses a consumer protocol `Assignment` (version: i16, [topic: string, [partition: i32]], user_data) and
/// counts the partitions of `topic` in it; `None` when the bytes are not such a struct.
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

/// A reader of `topic` from its first record, in a group of its own that never commits.
fn topic_reader(env: &Env, topic: &str) -> Result<StreamConsumer> {
    let consumer: StreamConsumer = kafka::consumer_config(env, &names::unique("capture-ready"))
        .set("enable.auto.commit", "false")
        .set("topic.metadata.refresh.interval.ms", "500") // the topic appears with the connector's first record
        .create()
        .context("creating a consumer")?;
    consumer.subscribe(&[topic]).with_context(|| format!("subscribing to {topic}"))?;
    Ok(consumer)
}

/// A Java trace in one line: its first line and, when there is one, its innermost `Caused by:` (usually the
/// sentence a human needs, e.g. `Access denied for user …`).
fn summary(trace: &str) -> String {
    let first = trace.lines().next().unwrap_or("(no trace)");
    match trace.lines().rev().find_map(|l| l.trim().strip_prefix("Caused by: ")) {
        Some(cause) => format!("{first} | caused by: {cause}"),
        None => first.to_string(),
    }
}

/// The trace of the connector or of a task, when one is FAILED.
fn failed_trace(status: &Value) -> Option<String> {
    let states = std::iter::once(&status["connector"]).chain(status["tasks"].as_array().into_iter().flatten());
    states.filter(|s| s["state"] == "FAILED").map(|s| s["trace"].as_str().unwrap_or("(no trace)").to_string()).next()
}

/// Connect reports errors as `{"error_code": 400, "message": "..."}`; show the message.
fn error_message(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_message_prefers_connects_message_field() {
        assert_eq!(error_message(r#"{"error_code":404,"message":"Connector x not found"}"#), "Connector x not found");
        assert_eq!(error_message("plain text"), "plain text");
    }

    #[test]
    fn a_marker_is_recognised_in_key_or_value_bytes() {
        let value = format!(r#"{{"schema":{{}},"payload":{{"id":-3,"name":"{}"}}}}"#, marker(3));
        assert!(is_marker(Some(br#"{"id":-3}"#), Some(value.as_bytes())));
        assert!(!is_marker(Some(br#"{"id":3}"#), Some(br#"{"id":3,"name":"ann"}"#)));
        assert!(!is_marker(Some(br#"{"id":-3}"#), None), "a tombstone carries only the key");
    }

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

    #[test]
    fn a_failed_task_gives_its_trace() {
        let status = serde_json::json!({"connector": {"state": "RUNNING"},
            "tasks": [{"id": 0, "state": "FAILED", "trace": "java.lang.Boom\n\tat x"}]});
        assert_eq!(failed_trace(&status).as_deref(), Some("java.lang.Boom\n\tat x"));
        assert_eq!(failed_trace(&serde_json::json!({"connector": {"state": "RUNNING"}, "tasks": []})), None);
    }
}
