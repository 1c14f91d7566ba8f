//! Kafka's own command-line tools and broker, started from the jars `cargo xtask up` downloaded.
//!
//! `cargo xtask cli` runs the tools against the workbook's environment. This chapter also talks to
//! clusters of its own (three brokers, a SASL/SCRAM broker) and uses two tools `cargo xtask cli`
//! does not list (`kafka-reassign-partitions`, `kafka-acls`), so it starts them itself, the way
//! Kafka's `bin/*.sh` scripts do: `java -cp 'libs/*' <main class> <arguments>`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context, Result, bail};
use workbook_support::env;

/// The Kafka version whose jars `cargo xtask up` caches (xtask pins it in `xtask/src/versions.rs`).
const KAFKA_VERSION: &str = "4.3.1";

/// The main class behind each `bin/kafka-….sh` script this chapter runs.
pub const TOOLS: &[(&str, &str)] = &[
    ("kafka-topics", "org.apache.kafka.tools.TopicCommand"),
    ("kafka-configs", "kafka.admin.ConfigCommand"),
    ("kafka-consumer-groups", "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"),
    ("kafka-reassign-partitions", "org.apache.kafka.tools.reassign.ReassignPartitionsCommand"),
    ("kafka-acls", "org.apache.kafka.tools.AclCommand"),
    ("kafka-console-producer", "org.apache.kafka.tools.ConsoleProducer"),
    ("kafka-console-consumer", "org.apache.kafka.tools.consumer.ConsoleConsumer"),
    ("kafka-storage", "kafka.tools.StorageTool"),
];

/// A JVM and Kafka's jars.
#[derive(Debug, Clone)]
pub struct Kafka {
    java: PathBuf,
    libs: PathBuf,
}

impl Kafka {
    /// Finds `java` (`$JAVA_HOME/bin/java`, else on the PATH) and the jars (`$KAFKA_HOME/libs`,
    /// else the cache `cargo xtask up` fills).
    pub fn locate() -> Result<Kafka> {
        let java = match std::env::var_os("JAVA_HOME") {
            Some(home) => PathBuf::from(home).join("bin").join("java"),
            None => PathBuf::from("java"),
        };
        let libs = match std::env::var_os("KAFKA_HOME") {
            Some(home) => PathBuf::from(home).join("libs"),
            None => cache_dir().join(format!("kafka-{KAFKA_VERSION}")).join("libs"),
        };
        if !libs.join(format!("kafka-tools-{KAFKA_VERSION}.jar")).is_file() {
            bail!(
                "Kafka's jars are not in {} (this chapter starts Kafka's tools itself). \
                 `cargo xtask up` with the local backend downloads them once",
                libs.display()
            );
        }
        Ok(Kafka { java, libs })
    }

    /// `java … <main_class>`: a tool's JVM (small heap, warnings only, on stderr).
    pub fn java(&self, main_class: &str, log_config: &str) -> Command {
        let mut command = Command::new(&self.java);
        command
            .args([
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-Djava.awt.headless=true",
            ])
            .arg(format!("-Dlog4j2.configurationFile={}", runtime_file(log_config).display()))
            // A classpath wildcard: every jar in the folder, as the scripts put it.
            .arg("-cp")
            .arg(self.libs.join("*"))
            .arg(main_class)
            .stdin(Stdio::null());
        command
    }

    /// Runs `bin/<tool>.sh ARGS` and returns its output; prints the command line first.
    pub fn run(&self, tool: &str, args: &[&str]) -> Result<Output> {
        let class = TOOLS
            .iter()
            .find(|(name, _)| *name == tool)
            .with_context(|| format!("unknown tool {tool}"))?
            .1;
        println!("> {tool}.sh {}", args.join(" "));
        let output = self
            .java(class, "tools-log4j2.yaml")
            .args(args)
            .output()
            .with_context(|| format!("starting {tool} (is Java 17+ installed?)"))?;
        Ok(output)
    }

    /// Runs a tool that must succeed; prints its stdout as it printed it and returns it.
    pub fn run_ok(&self, tool: &str, args: &[&str]) -> Result<String> {
        let stdout = self.run_ok_quiet(tool, args)?;
        print!("{stdout}");
        Ok(stdout)
    }

    /// Runs a tool that must succeed and returns its stdout without printing it.
    pub fn run_ok_quiet(&self, tool: &str, args: &[&str]) -> Result<String> {
        let output = self.run(tool, args)?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            bail!(
                "{tool} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(stdout)
    }
}

/// A file of xtask's runtime templates (the log configurations xtask gives Kafka's JVMs).
pub fn runtime_file(name: &str) -> PathBuf {
    env::workspace_root().join("xtask").join("runtime").join(name)
}

/// The workbook's download cache, where `cargo xtask up` keeps Kafka's jars.
fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WORKBOOK_CACHE") {
        return PathBuf::from(dir);
    }
    let base = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from).unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join(".cache")
    });
    base.join("kafka-workbook")
}

/// Writes `text` to `dir/name` and returns the path (a tool's `--command-config` or JSON file).
pub fn write_file(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = dir.join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}
