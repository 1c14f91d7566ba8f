//! Connector trouble, said in one line: what the Connect worker logged while an exercise ran.
//!
//! A connector whose *task* failed still shows the connector as RUNNING, and a source that
//! writes to a topic the broker will not create (this broker has `auto.create.topics.enable=false`)
//! only retries with a WARN. A test then waits until its deadline; the worker's log says why.
//!
//! The worker is shared: other programs' connectors may fail at the same time. Only what names
//! the exercise's own connectors and topics counts, told apart by the test's process id, which
//! every name the workbook's tests make carries (`names::unique`: `ch07-ex-source-<s>-<pid>-<n>`).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::layout::Layout;
use crate::state::State;

/// The worker's log, and where it stood before the exercise ran.
pub enum ConnectLog {
    /// The local backend's log file (`.workbook/logs/connect.log`) and its length then.
    File { path: PathBuf, start: u64 },
    /// The docker backend's container, whose output is the worker's log, and the time then.
    Container { id: String, since: SystemTime },
    /// No worker of ours (no Connect, or the external backend's own).
    Unknown,
}

impl ConnectLog {
    /// Remembers where the running environment's Connect log stands now.
    pub fn mark() -> ConnectLog {
        let state = State::load(&Layout::current().state_file()).ok().flatten();
        let Some(connect) = state.as_ref().and_then(|s| s.component("connect")) else { return ConnectLog::Unknown };
        match (&connect.log, &connect.container) {
            (Some(path), _) => ConnectLog::of_file(path),
            (None, Some(id)) => ConnectLog::Container { id: id.clone(), since: SystemTime::now() },
            (None, None) => ConnectLog::Unknown,
        }
    }

    /// Remembers where the log file `path` ends now.
    pub fn of_file(path: &Path) -> ConnectLog {
        let start = std::fs::metadata(path).map_or(0, |m| m.len());
        ConnectLog::File { path: path.to_path_buf(), start }
    }

    /// What went wrong since `mark` with a connector of the test whose process id is `pid`, one
    /// line per finding.
    pub fn findings(&self, pid: u32) -> Vec<String> {
        findings(&self.since_mark().unwrap_or_default(), pid)
    }

    fn since_mark(&self) -> Option<String> {
        match self {
            ConnectLog::File { path, start } => {
                let mut file = std::fs::File::open(path).ok()?;
                file.seek(SeekFrom::Start(*start)).ok()?;
                let mut text = String::new();
                file.read_to_string(&mut text).ok()?;
                Some(text)
            }
            ConnectLog::Container { id, since } => {
                let since = since.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs_f64();
                // The worker logs to the container's output; `--since` takes a Unix time.
                let output = std::process::Command::new("docker")
                    .args(["logs", "--since", &format!("{since:.3}"), id])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .ok()?;
                Some(format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)))
            }
            ConnectLog::Unknown => None,
        }
    }
}

/// Reads worker log text: failed tasks (with their root cause) and topics that do not exist,
/// of the connectors and topics named by the process `pid`.
pub fn findings(log: &str, pid: u32) -> Vec<String> {
    let ours = |name: &str| name.contains(&format!("-{pid}-"));
    let mut found = Vec::new();
    let lines: Vec<&str> = log.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        if line.contains("Task threw an uncaught and unrecoverable exception")
            && let Some(task) = between(line, "{id=", "}")
            && ours(task)
        {
            let cause = root_cause(&lines[index..]).unwrap_or("see the connector's status for the trace");
            push_once(
                &mut found,
                format!(
                    "Connect: task {task} FAILED (the connector itself still says RUNNING): {cause}. \
                     Fix the connector's config; `GET /connectors/<name>/status` shows the whole trace."
                ),
            );
        }
        if line.contains("UNKNOWN_TOPIC_OR_PARTITION")
            && line.contains("clientId=connector-producer")
            && let Some(topic) = between(line, ": {", "=UNKNOWN_TOPIC_OR_PARTITION")
            && ours(topic)
        {
            push_once(
                &mut found,
                format!(
                    "Connect: a connector writes to topic `{topic}`, which does not exist, and this broker does not \
                     create topics on demand (auto.create.topics.enable=false). Create the topic first, or let the \
                     connector create it (topic.creation.default.partitions and .replication.factor)."
                ),
            );
        }
    }
    found
}

/// The last `Caused by:` line of the stack trace that starts at `lines[0]`, without its class.
fn root_cause<'a>(lines: &[&'a str]) -> Option<&'a str> {
    let trace = lines.iter().skip(1).take_while(|l| !l.starts_with('['));
    let cause = trace.filter_map(|l| l.strip_prefix("Caused by: ")).last()?;
    Some(cause.split_once(": ").map_or(cause, |(_, message)| message).trim())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let rest = &text[text.find(start)? + start.len()..];
    Some(&rest[..rest.find(end)?])
}

fn push_once(found: &mut Vec<String>, finding: String) {
    if !found.contains(&finding) {
        found.push(finding);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
[2026-12-02 05:10:53,484] ERROR WorkerSinkTask{id=users-1796212740-4227-0-sink-0} Task threw an uncaught and unrecoverable exception. Task is being killed and will not recover until manually restarted (org.apache.kafka.connect.runtime.WorkerTask)
org.apache.kafka.connect.errors.ConnectException: Exiting WorkerSinkTask due to unrecoverable exception.
\tat org.apache.kafka.connect.runtime.WorkerSinkTask.deliverMessages(WorkerSinkTask.java:658)
Caused by: org.apache.kafka.connect.errors.ConnectException: Error while checking and applying table changes
Caused by: java.sql.SQLException: Cannot alter table users because schema evolution is disabled
\t... 17 more
[2026-12-02 05:10:53,683] WARN [Producer clientId=connector-producer-lines-0] The metadata response from the cluster reported a recoverable issue with correlation id 46 : {lines-1796212740-4227-1=UNKNOWN_TOPIC_OR_PARTITION} (org.apache.kafka.clients.NetworkClient)
[2026-12-02 05:10:54,683] WARN [Producer clientId=connector-producer-lines-0] The metadata response from the cluster reported a recoverable issue with correlation id 47 : {lines-1796212740-4227-1=UNKNOWN_TOPIC_OR_PARTITION} (org.apache.kafka.clients.NetworkClient)
";

    #[test]
    fn names_the_failed_task_and_the_missing_topic_once() {
        let found = findings(LOG, 4227);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("Connect: task users-1796212740-4227-0-sink-0 FAILED"), "{}", found[0]);
        assert!(found[0].contains("Cannot alter table users because schema evolution is disabled"), "{}", found[0]);
        assert!(found[1].contains("topic `lines-1796212740-4227-1`, which does not exist"), "{}", found[1]);
        assert!(findings("[x] INFO all good\n", 4227).is_empty());
        assert!(findings(LOG, 4187).is_empty(), "another program's connectors are not this exercise's trouble");
    }

    #[test]
    fn reads_only_what_was_logged_after_the_mark() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        let path = dir.path().join("logs/connect.log");
        std::fs::write(&path, LOG).unwrap();
        let log = ConnectLog::of_file(&path);
        assert!(log.findings(4227).is_empty(), "what was there before does not count");
        std::fs::write(&path, format!("{LOG}{LOG}")).unwrap();
        assert_eq!(log.findings(4227).len(), 2);
    }
}
