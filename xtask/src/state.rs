//! `.workbook/state.json`: what `up` started, so `down` and `status` know what is ours.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::layout::Layout;

/// Which kind of environment runs. What each one does its own way (start, stop, one broker's
/// fate, running a Kafka tool) is dispatched in one place, `impl Backend` in `crate::backend`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// JVM and mariadbd child processes on this machine.
    Local,
    /// Containers through testcontainers.
    Docker,
    /// Your own cluster; nothing is started.
    External,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Local => "local",
            Backend::Docker => "docker",
            Backend::External => "external",
        })
    }
}

/// One running piece: a Kafka node, the Connect worker, MariaDB.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// `kafka-1`, `connect`, `mariadb`.
    pub name: String,
    /// Where clients reach it, e.g. `127.0.0.1:9092`.
    pub address: String,
    /// The process (local backend).
    pub pid: Option<u32>,
    /// The container id (docker backend).
    pub container: Option<String>,
    /// Its log file (local backend).
    pub log: Option<PathBuf>,
}

/// The environment `up` brought up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub backend: Backend,
    pub brokers: u32,
    pub connect: bool,
    /// A string in every process command line of ours (see `process::is_ours`).
    pub marker: String,
    pub components: Vec<Component>,
    /// When `up` finished (milliseconds since the Unix epoch): what happened in the environment
    /// since is this run's (the connector audit reads Connect's config topic from there).
    #[serde(default)]
    pub started_at_ms: u64,
}

impl State {
    /// The state of an environment that is ready now.
    pub fn new(backend: Backend, brokers: u32, connect: bool, layout: &Layout, components: Vec<Component>) -> State {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        State {
            backend,
            brokers,
            connect,
            marker: layout.root.display().to_string(),
            components,
            started_at_ms: now.as_millis() as u64,
        }
    }

    /// The component named `name` (`kafka-2`, `connect`, `mariadb`).
    pub fn component(&self, name: &str) -> Option<&Component> {
        self.components.iter().find(|c| c.name == name)
    }

    pub fn load(path: &Path) -> Result<Option<State>> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map(Some).with_context(|| format!("reading {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(self)?).with_context(|| format!("writing {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(State::load(&path).unwrap(), None);
        let layout = Layout { root: "/x/.workbook".into() };
        let component = Component {
            name: "kafka-1".into(),
            address: "127.0.0.1:9092".into(),
            pid: Some(42),
            container: None,
            log: None,
        };
        let state = State::new(Backend::Local, 1, true, &layout, vec![component]);
        assert!(state.started_at_ms > 1_700_000_000_000);
        state.save(&path).unwrap();
        assert_eq!(State::load(&path).unwrap(), Some(state.clone()));
        assert_eq!(state.component("kafka-1").and_then(|c| c.pid), Some(42));
    }

    #[test]
    fn a_state_written_before_started_at_existed_still_loads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, r#"{"backend":"local","brokers":1,"connect":false,"marker":"/m","components":[]}"#)
            .unwrap();
        assert_eq!(State::load(&path).unwrap().unwrap().started_at_ms, 0);
    }
}
