//! A Kafka Connect worker in distributed mode: its configuration, its connectors' configs,
//! offsets and statuses all live in Kafka topics, and it is driven through its REST API.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result};

use super::jars::Runtime;
use super::{java, template};
use crate::layout::Layout;
use crate::ports;

/// Writes .workbook/config/connect-distributed.properties.
pub fn write_config(layout: &Layout, runtime: &Runtime, bootstrap: &str, port: u16, brokers: u32) -> Result<PathBuf> {
    let plugin_path = runtime.plugin_path.as_ref().context("Connect needs its plugins")?;
    let path = layout.config().join("connect-distributed.properties");
    template::render_file(
        "connect-distributed.properties",
        &[
            ("bootstrap_servers", bootstrap.to_string()),
            ("rest_port", port.to_string()),
            ("rest_host", ports::HOST.to_string()),
            ("plugin_path", plugin_path.display().to_string()),
            ("replication_factor", brokers.min(3).to_string()),
        ],
        &path,
    )?;
    Ok(path)
}

/// Starts the worker in the background; its output goes to .workbook/logs/connect.log.
pub fn start(java_bin: &Path, runtime: &Runtime, layout: &Layout, config: &Path) -> Result<(Child, PathBuf)> {
    let mut command = java::server(java_bin, runtime, "org.apache.kafka.connect.cli.ConnectDistributed");
    command.arg(config);
    let log = layout.logs().join("connect.log");
    Ok((crate::process::spawn_logged(command, &log)?, log))
}
