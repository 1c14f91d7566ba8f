//! Chapter 07 — Kafka Connect: pipelines without code.
//!
//! A *connector* is a configuration (JSON) naming a plugin class; the *worker* (a JVM process)
//! turns it into *tasks* that copy data between Kafka and something else. Everything here talks to
//! the worker's REST API through [`ConnectClient`]; no line of this crate touches a record itself.

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use workbook_support::connect::ConnectClient;
use workbook_support::wait;

/// The FileStream plugins shipped with Apache Kafka (the `connect-file` jar).
pub const FILE_SOURCE: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
pub const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// How long a connector may take to get all its tasks running (a task starts in about a second).
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

// ANCHOR: connector_file
/// A connector as the REST API takes it (`POST /connectors`): a name and a
/// flat map of string settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Connector {
    pub name: String,
    pub config: Map<String, Value>,
}

impl Connector {
    /// Reads a connector file, the same JSON you would send with `curl -d @file-source.json`.
    pub fn from_file(path: &Path) -> Result<Connector> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a connector file", path.display()))
    }

    /// Overrides one setting (connector files are templates: the paths and topic change per run).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Connector {
        self.config.insert(key.to_string(), Value::String(value.into()));
        self
    }

    /// `PUT /connectors/{name}/config`: creates the connector (or updates it: PUT is idempotent).
    pub async fn create(&self, client: &ConnectClient) -> Result<()> {
        let config = Value::Object(self.config.clone());
        client
            .put_connector(&self.name, &config)
            .await
            .with_context(|| format!("creating connector {}", self.name))?;
        Ok(())
    }
}
// ANCHOR_END: connector_file

// ANCHOR: status
/// `GET /connectors/{name}/status`: the connector's state and each task's, with the Java stack
/// trace of a failed one. States: UNASSIGNED, RUNNING, PAUSED, STOPPED, FAILED, RESTARTING.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub name: String,
    pub connector: State,
    pub tasks: Vec<TaskState>,
    #[serde(rename = "type", default)]
    pub kind: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct State {
    pub state: String,
    pub worker_id: String,
    pub trace: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TaskState {
    pub id: u32,
    pub state: String,
    pub worker_id: String,
    pub trace: Option<String>,
}

pub async fn status(client: &ConnectClient, name: &str) -> Result<Status> {
    serde_json::from_value(client.status(name).await?).context("reading a connector status")
}

/// Polls the status until the connector and all its tasks are in `wanted` (e.g. "RUNNING").
/// A FAILED connector or task ends the wait at once, with the first lines of its trace:
/// waiting longer would not help.
pub async fn wait_for_state(
    client: &ConnectClient,
    name: &str,
    wanted: &str,
    timeout: Duration,
) -> Result<Status> {
    let what = format!("connector {name} and its tasks {wanted}");
    wait::until(&what, timeout, Duration::from_millis(250), || async {
        let status = status(client, name).await?;
        if let Some(failure) = failure(&status) {
            return Err(wait::fatal(failure));
        }
        let all = status.connector.state == wanted
            && !status.tasks.is_empty()
            && status.tasks.iter().all(|t| t.state == wanted);
        Ok(all.then_some(status))
    })
    .await
}

/// "connector x task 0 FAILED: <first lines of the trace>", if anything failed.
pub fn failure(status: &Status) -> Option<String> {
    let short = |trace: &Option<String>| {
        trace.as_deref().unwrap_or("(no trace)").lines().take(3).collect::<Vec<_>>().join("\n    ")
    };
    if status.connector.state == "FAILED" {
        return Some(format!(
            "connector {} FAILED: {}",
            status.name,
            short(&status.connector.trace)
        ));
    }
    let task = status.tasks.iter().find(|t| t.state == "FAILED")?;
    Some(format!("connector {} task {} FAILED: {}", status.name, task.id, short(&task.trace)))
}
// ANCHOR_END: status

// ANCHOR: validate
/// One setting the worker rejected, from `PUT /connector-plugins/{class}/config/validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub setting: String,
    pub errors: Vec<String>,
}

/// Asks the plugin itself to check `config` (it must name `connector.class`); nothing is created.
/// Returns the settings with errors, empty when the config is valid.
pub async fn validate(client: &ConnectClient, config: &Value) -> Result<Vec<Invalid>> {
    let class = config
        .get("connector.class")
        .and_then(Value::as_str)
        .context("the config has no connector.class")?;
    let answer = client.validate(class, config).await?;
    Ok(invalid_settings(&answer))
}

/// The answer lists every setting the plugin knows, each with `value.errors`;
/// keep those with errors.
pub fn invalid_settings(answer: &Value) -> Vec<Invalid> {
    let configs = answer.get("configs").and_then(Value::as_array).cloned().unwrap_or_default();
    configs
        .iter()
        .filter_map(|c| {
            let value = c.get("value")?;
            let errors: Vec<String> = value
                .get("errors")?
                .as_array()?
                .iter()
                .filter_map(|e| e.as_str().map(str::to_string))
                .collect();
            let setting = value.get("name")?.as_str()?.to_string();
            (!errors.is_empty()).then_some(Invalid { setting, errors })
        })
        .collect()
}
// ANCHOR_END: validate

// ANCHOR: file_configs
/// FileStream source: each line appended to `file` becomes one record on `topic`. The worker reads
/// the file itself, so the path must exist on the worker's machine.
pub fn file_source(name: &str, file: &Path, topic: &str) -> Connector {
    let config = json!({
        "connector.class": FILE_SOURCE,
        "tasks.max": "1",
        "file": file.display().to_string(),
        "topic": topic,
        // The broker does not auto-create topics here: ask Connect to create the topic (KIP-158).
        "topic.creation.default.replication.factor": "1",
        "topic.creation.default.partitions": "1",
        // Lines are plain text: store them as plain strings, not as JSON with a schema.
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    Connector { name: name.to_string(), config: config.as_object().cloned().unwrap_or_default() }
}

/// FileStream sink: every record of `topic` is appended to `file` as one line.
pub fn file_sink(name: &str, file: &Path, topic: &str) -> Connector {
    let config = json!({
        "connector.class": FILE_SINK,
        "tasks.max": "1",
        "topics": topic, // a sink reads topics: plural, comma-separated (or topics.regex)
        "file": file.display().to_string(),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.storage.StringConverter",
    });
    Connector { name: name.to_string(), config: config.as_object().cloned().unwrap_or_default() }
}
// ANCHOR_END: file_configs

/// The lines of a file, or none if it does not exist yet (the sink creates it on its first record).
pub fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// Waits until `file` holds at least `lines` lines (written by a sink task) and returns them.
pub async fn wait_for_lines(file: &Path, lines: usize, timeout: Duration) -> Result<Vec<String>> {
    let what = format!("{} has {lines} lines", file.display());
    wait::until(&what, timeout, Duration::from_millis(100), || async {
        let found = read_lines(file);
        Ok((found.len() >= lines).then_some(found))
    })
    .await
}

// Deleting what an example or test made lives once, in the support crate.
pub use workbook_support::cleanup::Cleanup;

/// Fails with the connector list when `name` is still there after `timeout`
/// (DELETE is asynchronous).
pub async fn wait_deleted(client: &ConnectClient, name: &str, timeout: Duration) -> Result<()> {
    wait::until(
        &format!("connector {name} deleted"),
        timeout,
        Duration::from_millis(200),
        || async { Ok((!client.connectors().await?.iter().any(|c| c == name)).then_some(())) },
    )
    .await
}

/// The `plugin.path` of the local distributed worker (`cargo xtask up` wrote its properties file).
pub fn local_plugin_path() -> Result<String> {
    let file =
        workbook_support::env::workbook_dir().join("config").join("connect-distributed.properties");
    let text = std::fs::read_to_string(&file).with_context(|| {
        format!("reading {} (only the local backend has it; pass --plugin-path)", file.display())
    })?;
    match text.lines().find_map(|l| l.trim().strip_prefix("plugin.path=")) {
        Some(path) => Ok(path.trim().to_string()),
        None => bail!("{} has no plugin.path", file.display()),
    }
}
