//! A Kafka Connect worker in distributed mode: its configuration, its connectors' configs,
//! offsets and statuses all live in Kafka topics, and it is driven through its REST API.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result};

use super::jars::Runtime;
use super::java;
use crate::description::{self, Address, Worker};
use crate::layout::Layout;
use crate::ports;

/// The worker of this backend: the brokers' INTERNAL listeners, REST on loopback.
pub fn worker(internal_bootstrap: &str, port: u16, plugin_path: &Path, brokers: usize) -> Worker {
    Worker {
        bootstrap: internal_bootstrap.to_string(),
        rest: Address::new(ports::HOST.to_string(), port),
        rest_advertised_host: ports::HOST.to_string(),
        plugin_path: plugin_path.display().to_string(),
        brokers,
    }
}

/// Writes .workbook/config/connect-distributed.properties.
pub fn write_config(layout: &Layout, worker: &Worker) -> Result<PathBuf> {
    let path = layout.config().join("connect-distributed.properties");
    std::fs::create_dir_all(layout.config())?;
    let title = format!(
        "Kafka Connect {} distributed worker of the workbook's local backend.\n\
         Written by `cargo xtask up` from xtask/src/description.rs; edits are overwritten.",
        crate::versions::KAFKA
    );
    let text = description::render_properties(&title, &description::worker_settings(worker));
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// Starts the worker in the background; its output goes to .workbook/logs/connect.log.
pub fn start(java_bin: &Path, runtime: &Runtime, layout: &Layout, config: &Path) -> Result<(Child, PathBuf)> {
    let mut command = java::server(java_bin, runtime, "org.apache.kafka.connect.cli.ConnectDistributed");
    command.arg(config);
    let log = layout.logs().join("connect.log");
    Ok((crate::process::spawn_logged(command, &log)?, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worker_reaches_kafka_on_the_internal_listener() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().to_path_buf() };
        let path = write_config(&layout, &worker("127.0.0.1:9192", 8083, Path::new("/cache/plugins"), 1)).unwrap();
        let text = std::fs::read_to_string(path).unwrap();
        for line in [
            "bootstrap.servers=127.0.0.1:9192",
            "listeners=http://127.0.0.1:8083",
            "rest.advertised.host.name=127.0.0.1",
            "plugin.path=/cache/plugins",
            "group.id=workbook-connect",
            "config.storage.replication.factor=1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
        }
    }
}
