//! Kafka brokers in KRaft mode: each node is broker and controller at once ("combined mode"),
//! formatted once with a shared cluster id, then started as `java … kafka.Kafka kafka-N.properties`.
//! The settings are the environment's description (`crate::description`), rendered as a
//! properties file; only the ports are this backend's own.

use std::path::{Path, PathBuf};
use std::process::Child;

use anyhow::{Context, Result, bail};

use super::jars::Runtime;
use super::java;
use crate::description::{self, Address, KafkaNode, Listener};
use crate::layout::Layout;
use crate::{ports, secrets};

/// Chooses ports for `count` nodes: node n gets 9090+2n (HOST), 9091+2n (CONTROLLER) and
/// 9190+2n (INTERNAL, the Connect worker's listener); `first_port` moves the first HOST port
/// and the others with it.
pub fn plan(count: u32, first_port: Option<u16>, taken: &mut Vec<u16>) -> Result<Vec<KafkaNode>> {
    let mut nodes = Vec::new();
    for index in 0..count {
        let offset = 2 * index as u16;
        let id = index + 1;
        let mut choose = |what: String, requested: Option<u16>, default: u16| -> Result<u16> {
            let port = ports::choose(&what, requested, default, taken)?;
            taken.push(port);
            Ok(port)
        };
        let host = choose(format!("Kafka broker {id}"), first_port.map(|p| p + offset), ports::KAFKA_PORT + offset)?;
        let controller = choose(
            format!("Kafka controller {id}"),
            first_port.map(|p| p + offset + 1),
            ports::CONTROLLER_PORT + offset,
        )?;
        // Not a port you ask for: a free one is fine when the default is taken.
        let internal = choose(
            format!("Kafka broker {id}'s Connect listener"),
            None,
            first_port.map_or(ports::INTERNAL_PORT, |p| p.saturating_add(100)) + offset,
        )?;
        nodes.push(node(id, host, internal, controller));
    }
    Ok(nodes)
}

/// A node on loopback: each listener binds and advertises 127.0.0.1 and its own port.
pub fn node(id: u32, host: u16, internal: u16, controller: u16) -> KafkaNode {
    let at = |port| Listener::at(Address::new(ports::HOST.to_string(), port));
    KafkaNode { id, host: at(host), internal: at(internal), controller: at(controller) }
}

/// Writes each node's properties under .workbook/config/.
pub fn write_configs(layout: &Layout, nodes: &[KafkaNode]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(layout.config()).with_context(|| format!("creating {}", layout.config().display()))?;
    nodes
        .iter()
        .map(|node| {
            let path = config_path(layout, node.id);
            let log_dir = layout.kafka_data(node.id).display().to_string();
            let title = format!(
                "Kafka {} node {} of the workbook's local backend (KRaft, broker + controller).
                 Written by `cargo xtask up` from xtask/src/description.rs; edits are overwritten.",
                crate::versions::KAFKA,
                node.id
            );
            let text = description::render_properties(&title, &description::broker_settings(node, nodes, &log_dir));
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(path)
        })
        .collect()
}

pub fn config_path(layout: &Layout, node_id: u32) -> PathBuf {
    layout.config().join(format!("kafka-{node_id}.properties"))
}

/// Formats the nodes' log directories with one cluster id, unless already formatted for this
/// many nodes. A directory formatted for another cluster size is wiped first (say so).
pub fn format_storage(java_bin: &Path, runtime: &Runtime, layout: &Layout, nodes: &[KafkaNode]) -> Result<()> {
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
            command.arg("format").arg("-t").arg(&cluster_id).arg("-c").arg(config_path(layout, node.id));
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

/// Starts node `node_id` in the background from its properties file (written by `up`); its
/// output goes to .workbook/logs/kafka-N.log. `cargo xtask broker start N` calls this too.
pub fn start(java_bin: &Path, runtime: &Runtime, layout: &Layout, node_id: u32) -> Result<(Child, PathBuf)> {
    let config = config_path(layout, node_id);
    if !config.is_file() {
        bail!("{} is missing: this environment has no Kafka node {node_id}", config.display());
    }
    let mut command = java::server(java_bin, runtime, "kafka.Kafka");
    command.arg(config);
    let log = layout.logs().join(format!("kafka-{node_id}.log"));
    Ok((crate::process::spawn_logged(command, &log)?, log))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_ports_per_node_none_twice() {
        let mut taken = Vec::new();
        let nodes = plan(3, None, &mut taken).unwrap();
        assert_eq!(nodes.iter().map(|n| n.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(taken.len(), 9);
        let mut unique = taken.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 9);
        assert!(nodes.iter().all(|n| n.host.bind == n.host.advertised && n.internal.bind.host == "127.0.0.1"));
    }

    #[test]
    fn configs_render_the_description_with_three_listeners() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout { root: dir.path().to_path_buf() };
        let nodes: Vec<KafkaNode> =
            (1..=3u16).map(|id| node(id as u32, 9090 + 2 * id, 9190 + 2 * id, 9091 + 2 * id)).collect();
        let paths = write_configs(&layout, &nodes).unwrap();
        let second = std::fs::read_to_string(&paths[1]).unwrap();
        assert!(second.contains("\nnode.id=2\n"));
        assert!(
            second.contains("listeners=HOST://127.0.0.1:9094,INTERNAL://127.0.0.1:9194,CONTROLLER://127.0.0.1:9095")
        );
        assert!(second.contains("advertised.listeners=HOST://127.0.0.1:9094,INTERNAL://127.0.0.1:9194\n"));
        assert!(second.contains("controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9095,3@127.0.0.1:9097"));
        assert!(second.contains("offsets.topic.replication.factor=3"));
        assert!(second.contains("min.insync.replicas=2"));
        assert!(second.contains(&format!("log.dirs={}", layout.kafka_data(2).display())));
        let single = write_configs(&layout, &nodes[..1]).unwrap();
        let first = std::fs::read_to_string(&single[0]).unwrap();
        assert!(first.contains("offsets.topic.replication.factor=1"));
        assert!(first.contains("controller.quorum.voters=1@127.0.0.1:9093\n"));
    }
}
