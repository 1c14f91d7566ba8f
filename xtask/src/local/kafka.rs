//! Kafka brokers in KRaft mode: each node is broker and controller at once ("combined mode"),
//! formatted once with a shared cluster id, then started as `java … kafka.Kafka server.properties`.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result, bail};

use super::jars::Runtime;
use super::java;
use super::template;
use crate::layout::Layout;
use crate::{ports, secrets};

/// One combined broker + controller node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub id: u32,
    /// Where clients connect (`PLAINTEXT` listener).
    pub broker_port: u16,
    /// Where the controllers talk Raft to each other (`CONTROLLER` listener).
    pub controller_port: u16,
}

impl Node {
    pub fn bootstrap(&self) -> String {
        format!("{}:{}", ports::HOST, self.broker_port)
    }
}

/// Chooses ports for `count` nodes: 9092/9093, 9094/9095, 9096/9097 by default, starting at
/// `first_port` if the user asked for one.
pub fn plan(count: u32, first_port: Option<u16>, taken: &mut Vec<u16>) -> Result<Vec<Node>> {
    let mut nodes = Vec::new();
    for index in 0..count {
        let offset = 2 * index as u16;
        let id = index + 1;
        let broker_port = ports::choose(
            &format!("Kafka broker {id}"),
            first_port.map(|p| p + offset),
            ports::KAFKA_PORT + offset,
            taken,
        )?;
        taken.push(broker_port);
        let controller_port = ports::choose(
            &format!("Kafka controller {id}"),
            first_port.map(|p| p + offset + 1),
            ports::CONTROLLER_PORT + offset,
            taken,
        )?;
        taken.push(controller_port);
        nodes.push(Node { id, broker_port, controller_port });
    }
    Ok(nodes)
}

/// `1@127.0.0.1:9093,2@127.0.0.1:9095,…`: every node knows every voter of the quorum.
pub fn quorum_voters(nodes: &[Node]) -> String {
    nodes.iter().map(|n| format!("{}@{}:{}", n.id, ports::HOST, n.controller_port)).collect::<Vec<_>>().join(",")
}

/// The broker list clients bootstrap from.
pub fn bootstrap_servers(nodes: &[Node]) -> String {
    nodes.iter().map(Node::bootstrap).collect::<Vec<_>>().join(",")
}

/// Writes each node's server.properties under .workbook/config/.
pub fn write_configs(layout: &Layout, nodes: &[Node]) -> Result<Vec<PathBuf>> {
    let voters = quorum_voters(nodes);
    // Internal topics (consumer offsets, transactions) get one replica per broker, up to 3;
    // with 3 brokers, writes with acks=all need 2 in-sync copies.
    let replication = nodes.len().min(3);
    let min_isr = if replication >= 3 { 2 } else { 1 };
    nodes
        .iter()
        .map(|node| {
            let path = config_path(layout, node);
            template::render_file(
                "server.properties",
                &[
                    ("node_id", node.id.to_string()),
                    ("broker_port", node.broker_port.to_string()),
                    ("controller_port", node.controller_port.to_string()),
                    ("log_dir", layout.kafka_data(node.id).display().to_string()),
                    ("quorum_voters", voters.clone()),
                    ("replication_factor", replication.to_string()),
                    ("min_isr", min_isr.to_string()),
                ],
                &path,
            )?;
            Ok(path)
        })
        .collect()
}

fn config_path(layout: &Layout, node: &Node) -> PathBuf {
    layout.config().join(format!("kafka-{}.properties", node.id))
}

/// Formats the nodes' log directories with one cluster id, unless already formatted for this
/// many nodes. A directory formatted for another cluster size is wiped first (say so).
pub fn format_storage(java_bin: &Path, runtime: &Runtime, layout: &Layout, nodes: &[Node]) -> Result<()> {
    let marker = layout.root.join("data").join("kafka-cluster");
    let expected = format!("nodes={}", nodes.len());
    let formatted = nodes.iter().all(|n| layout.kafka_data(n.id).join("meta.properties").exists());
    if formatted && std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() == expected) {
        return Ok(());
    }
    if formatted || nodes.iter().any(|n| layout.kafka_data(n.id).exists()) {
        println!("  Kafka data was made for another cluster size: starting with empty brokers");
    }
    for index in 1..=3 {
        let dir = layout.kafka_data(index);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    let cluster_id = secrets::kafka_cluster_id()?;
    println!("  formatting Kafka storage (cluster id {cluster_id})");
    let children: Vec<(u32, Child)> = nodes
        .iter()
        .map(|node| {
            // `kafka-storage format`: writes meta.properties (cluster id, node id) and the
            // bootstrap metadata a new KRaft cluster starts from.
            let mut command = java::tool(java_bin, runtime, "kafka.tools.StorageTool");
            command.arg("format").arg("-t").arg(&cluster_id).arg("-c").arg(config_path(layout, node));
            let log = layout.logs().join(format!("kafka-{}-format.log", node.id));
            Ok((node.id, crate::process::spawn_logged(command, &log)?))
        })
        .collect::<Result<_>>()?;
    for (id, mut child) in children {
        let status = child.wait()?;
        if !status.success() {
            let log = layout.logs().join(format!("kafka-{id}-format.log"));
            bail!("formatting Kafka node {id} failed ({status}):\n{}", crate::process::log_tail(&log, 20));
        }
    }
    std::fs::write(&marker, expected)?;
    Ok(())
}

/// Starts one node in the background; its output goes to .workbook/logs/kafka-N.log.
pub fn start(java_bin: &Path, runtime: &Runtime, layout: &Layout, node: &Node) -> Result<(Child, PathBuf)> {
    let mut command = java::server(java_bin, runtime, "kafka.Kafka");
    command.arg(config_path(layout, node));
    let log = layout.logs().join(format!("kafka-{}.log", node.id));
    Ok((crate::process::spawn_logged(command, &log)?, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(count: u32) -> Vec<Node> {
        (1..=count)
            .map(|id| Node { id, broker_port: 9090 + 2 * id as u16, controller_port: 9091 + 2 * id as u16 })
            .collect()
    }

    #[test]
    fn every_node_lists_every_voter() {
        assert_eq!(quorum_voters(&nodes(1)), "1@127.0.0.1:9093");
        assert_eq!(quorum_voters(&nodes(3)), "1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097");
    }

    #[test]
    fn bootstrap_lists_every_broker() {
        assert_eq!(bootstrap_servers(&nodes(3)), "127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096");
    }

    #[test]
    fn configs_render_without_placeholders_and_scale_replication() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().to_path_buf() };
        let paths = write_configs(&layout, &nodes(3)).unwrap();
        let second = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(second.contains("node.id=2"));
        assert!(second.contains("listeners=PLAINTEXT://127.0.0.1:9094,CONTROLLER://127.0.0.1:9095"));
        assert!(second.contains("offsets.topic.replication.factor=3"));
        assert!(second.contains("min.insync.replicas=2"));
        let single = write_configs(&layout, &nodes(1)).unwrap();
        let first = std::fs::read_to_string(&single[0]).unwrap();
        assert!(first.contains("offsets.topic.replication.factor=1"));
        assert!(first.contains("controller.quorum.voters=1@127.0.0.1:9093"));
    }
}
