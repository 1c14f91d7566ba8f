//! A small client for the Kafka Connect REST API.
//!
//! Connect is configured entirely over HTTP: every call here is one documented endpoint,
//! so the chapters can show the `curl` equivalent next to the Rust. What "ready" means for a
//! connector lives next to it: a source that really captures ([`wait_capturing`]), a sink that
//! really reads ([`wait_sink_assigned`]).

use std::time::Duration;

use anyhow::{Context, Result, bail};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::Env;

mod capture;
mod sink;

pub use capture::{MARKER, is_marker, marker, wait_capturing};
pub use sink::wait_sink_assigned;

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
    /// The worker of the running environment; an error naming the fix when the environment was
    /// started without one.
    pub fn new(env: &Env) -> Result<ConnectClient> {
        let url = env.connect_url.as_deref().with_context(|| {
            format!(
                "this environment has no Kafka Connect worker ({} is not set: it was started with \
                 `cargo xtask up --no-connect`). `cargo xtask down`, then `cargo xtask up` starts \
                 one (down keeps the topics and tables)",
                crate::env::CONNECT_URL
            )
        })?;
        ConnectClient::for_url(url)
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

    /// `GET /connectors/{name}/status`: the connector's and each task's state (and a failed task's
    /// trace).
    pub async fn status(&self, name: &str) -> Result<Value> {
        self.call(Method::GET, &format!("/connectors/{name}/status"), None).await
    }

    /// `PUT /connector-plugins/{class}/config/validate`: what is wrong with a config, without
    /// creating anything.
    pub async fn validate(&self, class: &str, config: &Value) -> Result<Value> {
        self.call(Method::PUT, &format!("/connector-plugins/{class}/config/validate"), Some(config))
            .await
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
        self.call(Method::POST, &format!("/connectors/{name}/restart?includeTasks=true"), None)
            .await
            .map(drop)
    }

    /// `DELETE /connectors/{name}`
    pub async fn delete(&self, name: &str) -> Result<()> {
        self.call(Method::DELETE, &format!("/connectors/{name}"), None).await.map(drop)
    }

    /// One REST call. A non-2xx answer becomes an error carrying Connect's own message.
    ///
    /// `409 Conflict` is retried for up to [`CONFLICT_PATIENCE`]: the worker answers it while a
    /// rebalance is in progress or its config topic is behind a change just made ("stale
    /// configuration"), and the same request succeeds moments later. Any other answer is final.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let deadline = tokio::time::Instant::now() + CONFLICT_PATIENCE;
        loop {
            match self.call_once(method.clone(), path, body).await? {
                Answer::Conflict(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Answer::Conflict(message) => {
                    bail!(
                        "{method} {path} failed with 409 Conflict for {CONFLICT_PATIENCE:?}: \
                         {message}"
                    )
                }
                Answer::Done(value) => return Ok(value),
            }
        }
    }

    async fn call_once(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.with_context(|| {
            format!(
                "no answer from Kafka Connect at {url}. Is the environment up? Try `cargo \
                     xtask status`"
            )
        })?;
        let status = response.status();
        let text = response
            .text()
            .await
            .with_context(|| format!("reading the answer of {method} {url}"))?;
        if status == StatusCode::CONFLICT {
            return Ok(Answer::Conflict(error_message(&text)));
        }
        if !status.is_success() {
            bail!("{method} {path} failed with {status}: {}", error_message(&text));
        }
        if status == StatusCode::NO_CONTENT || text.trim().is_empty() {
            return Ok(Answer::Done(Value::Null));
        }
        serde_json::from_str(&text)
            .map(Answer::Done)
            .with_context(|| format!("{method} {path} answered with invalid JSON: {text}"))
    }
}

/// How long a `409 Conflict` (a rebalance, a config change not yet read back) is waited out.
pub const CONFLICT_PATIENCE: Duration = Duration::from_secs(30);

/// What one REST call got back.
enum Answer {
    Done(Value),
    /// `409 Conflict`: the worker is busy with a rebalance or a config change; ask again.
    Conflict(String),
}

// ANCHOR: wait_running
/// Polls `GET /connectors/{name}/status` until the connector and its tasks run; a FAILED one ends
/// the wait with the root cause of its trace (a wrong password fails in seconds, it does not hang).
pub async fn wait_running(client: &ConnectClient, name: &str, timeout: Duration) -> Result<Value> {
    crate::wait::until(
        &format!("connector {name} RUNNING"),
        timeout,
        Duration::from_millis(250),
        || async {
            let status = client.status(name).await?;
            if let Some(trace) = failed_trace(&status) {
                return Err(crate::wait::fatal(format!("{name} FAILED: {}", root_cause(&trace))));
            }
            let tasks = status["tasks"].as_array().map(Vec::as_slice).unwrap_or_default();
            let running = status["connector"]["state"] == "RUNNING"
                && !tasks.is_empty()
                && tasks.iter().all(|t| t["state"] == "RUNNING");
            Ok(running.then_some(status))
        },
    )
    .await
}

/// The Java stack trace of the connector or of a task, when one is FAILED (from `GET …/status`).
pub fn failed_trace(status: &Value) -> Option<String> {
    let states = std::iter::once(&status["connector"])
        .chain(status["tasks"].as_array().into_iter().flatten());
    states
        .filter(|s| s["state"] == "FAILED")
        .map(|s| s["trace"].as_str().unwrap_or("(no trace)").to_string())
        .next()
}

/// The innermost `Caused by:` line of a Java stack trace (the first line when there is none):
/// usually the sentence a human needs, e.g. `java.sql.SQLException: Access denied for user …`.
pub fn root_cause(trace: &str) -> String {
    let first = trace.lines().next().unwrap_or_default();
    trace
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Caused by: "))
        .unwrap_or(first)
        .to_string()
}
// ANCHOR_END: wait_running

/// A connector config with every password replaced by `***`, safe to print (`database.password`,
/// `connection.password`, any setting whose name ends in `password`).
pub fn redacted(config: &Value) -> Value {
    let mut shown = config.clone();
    if let Some(settings) = shown.as_object_mut() {
        for (key, value) in settings.iter_mut() {
            if key.ends_with("password") {
                *value = Value::String("***".to_string());
            }
        }
    }
    shown
}

/// Adds the settings of `settings` to the connector config `config` (both JSON objects), a
/// setting of `settings` replacing the one of the same name: a base config (the connection, the
/// converters) plus what one connector adds to it.
pub fn merge(config: &mut Value, settings: &Value) {
    if let (Some(config), Some(settings)) = (config.as_object_mut(), settings.as_object()) {
        config.extend(settings.clone());
    }
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
    fn merge_adds_settings_and_replaces_those_of_the_same_name() {
        let mut config = serde_json::json!({"tasks.max": "1", "topics": "a"});
        merge(&mut config, &serde_json::json!({"topics": "b", "insert.mode": "upsert"}));
        assert_eq!(
            config,
            serde_json::json!({"tasks.max": "1", "topics": "b", "insert.mode": "upsert"})
        );
    }

    #[test]
    fn error_message_prefers_connects_message_field() {
        assert_eq!(
            error_message(r#"{"error_code":404,"message":"Connector x not found"}"#),
            "Connector x not found"
        );
        assert_eq!(error_message("plain text"), "plain text");
    }

    #[test]
    fn a_failed_task_gives_its_trace() {
        let status = serde_json::json!({"connector": {"state": "RUNNING"},
            "tasks": [{"id": 0, "state": "FAILED", "trace": "java.lang.Boom\n\tat x"}]});
        assert_eq!(failed_trace(&status).as_deref(), Some("java.lang.Boom\n\tat x"));
        assert_eq!(
            failed_trace(&serde_json::json!({"connector": {"state": "RUNNING"}, "tasks": []})),
            None
        );
    }

    #[test]
    fn the_root_cause_is_the_innermost_caused_by() {
        let trace = "org.apache.kafka.connect.errors.ConnectException: Boom\n\tat x\nCaused by: \
                     java.sql.SQLException: outer\n\tat y\nCaused by: java.sql.SQLException: \
                     Access denied\n";
        assert_eq!(root_cause(trace), "java.sql.SQLException: Access denied");
        assert_eq!(root_cause("java.lang.Boom\n\tat x"), "java.lang.Boom");
    }

    #[test]
    fn redacted_hides_every_password_and_nothing_else() {
        let config = serde_json::json!({"database.password": "pw", "connection.password": "pw",
            "schema.history.internal.consumer.sasl.password": "pw", "database.user": "cdc"});
        let shown = redacted(&config);
        assert_eq!(shown["database.password"], "***");
        assert_eq!(shown["connection.password"], "***");
        assert_eq!(shown["schema.history.internal.consumer.sasl.password"], "***");
        assert_eq!(shown["database.user"], "cdc");
        assert_eq!(config["database.password"], "pw", "the config itself is untouched");
    }
}
