//! Kafka's command-line tools, as `cargo xtask cli` offers them: one table, read by every backend.
//!
//! Kafka's `bin/kafka-topics.sh` is a one-line wrapper around `java … TopicCommand`. The local
//! backend runs the same main class from the same jars; the docker backend runs the script
//! itself inside a container.

/// A Kafka tool: its script name in `bin/`, its main class, and what it is for.
#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub main_class: &'static str,
    pub about: &'static str,
    /// Whether it talks to a broker (and so gets `--bootstrap-server` added when missing).
    pub needs_bootstrap: bool,
    /// Whether it runs where the Connect worker runs (its file arguments in Connect's view).
    pub runs_in_connect: bool,
}

pub const TOOLS: &[Tool] = &[
    broker_tool(
        "kafka-topics",
        "org.apache.kafka.tools.TopicCommand",
        "create, list, describe, alter and delete topics",
    ),
    broker_tool("kafka-console-producer", "org.apache.kafka.tools.ConsoleProducer", "send lines of stdin as records"),
    broker_tool("kafka-console-consumer", "org.apache.kafka.tools.consumer.ConsoleConsumer", "print records to stdout"),
    broker_tool(
        "kafka-consumer-groups",
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        "list groups, show offsets and lag, reset offsets",
    ),
    broker_tool(
        "kafka-metadata-quorum",
        "org.apache.kafka.tools.MetadataQuorumCommand",
        "the KRaft controller quorum: leader, voters, lag",
    ),
    broker_tool(
        "kafka-producer-perf-test",
        "org.apache.kafka.tools.ProducerPerformance",
        "measure producer throughput and latency",
    ),
    broker_tool(
        "kafka-consumer-perf-test",
        "org.apache.kafka.tools.ConsumerPerformance",
        "measure consumer throughput",
    ),
    broker_tool("kafka-configs", "kafka.admin.ConfigCommand", "show and change topic, broker and client configs"),
    broker_tool("kafka-acls", "org.apache.kafka.tools.AclCommand", "list, add and remove ACLs"),
    broker_tool("kafka-get-offsets", "org.apache.kafka.tools.GetOffsetShell", "earliest/latest offsets of partitions"),
    broker_tool(
        "kafka-delete-records",
        "org.apache.kafka.tools.DeleteRecordsCommand",
        "delete records below an offset (--offset-json-file)",
    ),
    broker_tool("kafka-transactions", "org.apache.kafka.tools.TransactionsCommand", "list and describe transactions"),
    broker_tool(
        "kafka-log-dirs",
        "org.apache.kafka.tools.LogDirsCommand",
        "where partitions live on the brokers' disks",
    ),
    broker_tool(
        "kafka-reassign-partitions",
        "org.apache.kafka.tools.reassign.ReassignPartitionsCommand",
        "move partition replicas between brokers and log dirs",
    ),
    broker_tool("kafka-cluster", "org.apache.kafka.tools.ClusterTool", "cluster id, unregister brokers"),
    broker_tool(
        "kafka-features",
        "org.apache.kafka.tools.FeatureCommand",
        "feature levels (metadata.version, ELR, ...)",
    ),
    offline_tool(
        "kafka-dump-log",
        "org.apache.kafka.tools.DumpLogSegments",
        "print the records inside a log segment file",
    ),
    offline_tool("kafka-storage", "kafka.tools.StorageTool", "format storage, make a cluster id (random-uuid)"),
    Tool {
        name: "connect-standalone",
        main_class: "org.apache.kafka.connect.cli.ConnectStandalone",
        about: "a single Connect worker configured by files",
        needs_bootstrap: false,
        runs_in_connect: true,
    },
];

/// A tool that talks to the brokers.
const fn broker_tool(name: &'static str, main_class: &'static str, about: &'static str) -> Tool {
    Tool { name, main_class, about, needs_bootstrap: true, runs_in_connect: false }
}

/// A tool that works on files, without a broker.
const fn offline_tool(name: &'static str, main_class: &'static str, about: &'static str) -> Tool {
    Tool { name, main_class, about, needs_bootstrap: false, runs_in_connect: false }
}

/// The tool named `name` exactly (`kafka-topics`).
pub fn named(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|tool| tool.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tool_is_listed_once_and_only_connect_standalone_runs_in_connect() {
        let mut names: Vec<&str> = TOOLS.iter().map(|t| t.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TOOLS.len(), "a tool is listed twice");
        let in_connect: Vec<&str> = TOOLS.iter().filter(|t| t.runs_in_connect).map(|t| t.name).collect();
        assert_eq!(in_connect, ["connect-standalone"]);
        assert!(named("kafka-cluster").unwrap().needs_bootstrap);
        assert!(!named("kafka-storage").unwrap().needs_bootstrap);
    }
}
